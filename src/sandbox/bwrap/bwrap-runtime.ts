/**
 * The bubblewrap backend of SandboxRuntime, for hosts without Docker. Loaded lazily (index.ts).
 * Runs are found through their cgroups (one per run under `aegisclaw/`), so killAll reaches the
 * sandboxes of every AegisClaw process on the host and never a reused pid.
 */
import { lstatSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AegisError, canonicalHash, ownerGone, writeFileAtomic } from "../../shared/index.ts";
import { SECCOMP_PROFILE } from "../docker/seccomp-profile.ts";
import type { RunningSandbox, RuntimeStatus, SandboxIo, SandboxResult, SandboxRuntime, SandboxSpec } from "../types.ts";
import { createdAt, detectCgroups, listRunCgroups, prepareCgroupParents, processCount, removeRunCgroups, type CgroupLayout } from "./cgroups.ts";
import { runBwrap, type BwrapContext } from "./run-bwrap.ts";
import { baseRootfsProblem, BWRAP_BASE_IMAGE, prepareBaseRootfs, type BaseRootfs } from "./rootfs.ts";
import { compileSeccomp } from "./seccomp-bpf.ts";

/** Where the runtime keeps its rootfs files and compiled filter. */
export interface BwrapRuntimeOptions {
  /** `$AEGISCLAW_HOME/state`; default a 0700 directory of this user under the temp dir. */
  stateDir?: string;
}

const INSTALL_HINT = "apt-get install -y bubblewrap (or run bash scripts/setup.sh)";
const PROBE_TIMEOUT_MS = 5000;

/** The bwrap runtime. Construct through createBwrapRuntime in index.ts. */
export class BwrapRuntime implements SandboxRuntime {
  readonly name = "bwrap";
  private readonly stateDir: string;
  private context: BwrapContext | undefined;

  constructor(options: BwrapRuntimeOptions = {}) {
    this.stateDir = options.stateDir ?? join(tmpdir(), `aegisclaw-bwrap-${process.getuid?.() ?? "user"}`);
  }

  async status(): Promise<RuntimeStatus> {
    try {
      const ctx = this.prepare();
      const version = firstLine(Bun.spawnSync([ctx.bwrap, "--version"], { stdout: "pipe", stderr: "ignore", timeout: PROBE_TIMEOUT_MS }).stdout.toString());
      const probe = probeUserNamespaces(ctx);
      if (probe) return { available: false, runtime: this.name, version, detail: `bwrap cannot create a sandbox here: ${probe}`, hint: "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)" };
      return { available: true, runtime: this.name, version, detail: `${version} at ${ctx.bwrap}, limits by cgroups (${ctx.layout.kind}), seccomp filter compiled from the AegisClaw profile` };
    } catch (error) {
      const aegis = error instanceof AegisError ? error : undefined;
      return { available: false, runtime: this.name, detail: aegis?.message ?? String(error), hint: aegis?.hint ?? INSTALL_HINT };
    }
  }

  async hasImage(image: string): Promise<boolean> {
    return image === BWRAP_BASE_IMAGE && baseRootfsProblem() === undefined;
  }

  async run(spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> {
    const ctx = this.prepare();
    await sweepOrphans(ctx.layout);
    return runBwrap(ctx, spec, io);
  }

  /** Kills every bwrap sandbox on the host (all AegisClaw processes) and removes its cgroups. */
  async killAll(): Promise<number> {
    const detected = detectCgroups();
    if (!detected.layout) return 0; // no cgroups, so no bwrap sandbox can have run
    const names = listRunCgroups(detected.layout);
    const failures: string[] = [];
    for (const name of names) {
      try {
        await removeRunCgroups(detected.layout, name);
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message}`);
      }
    }
    if (failures.length > 0) throw new AegisError("unavailable", `could not kill ${failures.length} of ${names.length} bwrap sandboxes: ${failures.join("; ")}`, { hint: "look for them with: ls /sys/fs/cgroup/unified/aegisclaw /sys/fs/cgroup/aegisclaw" });
    return names.length;
  }

  async listRunning(): Promise<RunningSandbox[]> {
    const detected = detectCgroups();
    if (!detected.layout) return [];
    const layout = detected.layout;
    return listRunCgroups(layout)
      .filter((name) => processCount(layout, name) > 0)
      .map((name) => ({ containerId: name, runId: name.split(".")[0] ?? "", startedAt: (createdAt(layout, name) ?? new Date(0)).toISOString() }));
  }

  /** Finds bwrap, the cgroups and the filter once per instance; throws `unavailable` with a fix. */
  private prepare(): BwrapContext {
    if (this.context) return this.context;
    if (process.platform !== "linux" || process.arch !== "x64") {
      throw new AegisError("unavailable", `the bwrap runtime supports Linux on x86_64 only (this is ${process.platform}/${process.arch}): its seccomp filter is compiled for x86_64`, { hint: "use --runtime docker" });
    }
    const bwrap = Bun.which("bwrap");
    if (!bwrap) throw new AegisError("unavailable", "bubblewrap (bwrap) is not installed", { hint: INSTALL_HINT });
    const root = process.getuid?.() === 0;
    const setpriv = root ? Bun.which("setpriv") : null;
    if (root && !setpriv) throw new AegisError("unavailable", "setpriv is missing: as root, AegisClaw needs it to start bwrap as uid 65534", { hint: "apt-get install -y util-linux" });
    const detected = detectCgroups();
    if (!detected.layout) throw new AegisError("unavailable", `bwrap sandboxes cannot be limited: ${detected.problem ?? "no usable cgroups"}`, { hint: "AegisClaw needs cgroup v2, or v1 pids/memory/cpu plus the unified hierarchy, writable by it (run as root)" });
    prepareCgroupParents(detected.layout);
    const seccomp = this.writeSeccompFilter();
    const stateDir = this.stateDir;
    let rootfs: BaseRootfs | undefined;
    this.context = {
      bwrap,
      setpriv: setpriv ?? undefined,
      bindFd: supportsBindFd(bwrap),
      layout: detected.layout,
      rootfs: () => (rootfs ??= prepareBaseRootfs(stateDir)),
      seccompFile: () => seccomp,
    };
    return this.context;
  }

  /** Compiles SECCOMP_PROFILE to `<stateDir>/bwrap/seccomp-<hash>.bpf` (atomic write, mode 0600). */
  private writeSeccompFilter(): string {
    ensurePrivateDir(this.stateDir);
    const dir = join(this.stateDir, "bwrap");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `seccomp-${canonicalHash(SECCOMP_PROFILE).slice(0, 16)}.bpf`);
    // Rewritten by every new runtime instance: the file is never trusted from an earlier process.
    writeFileAtomic(file, compileSeccomp(SECCOMP_PROFILE).program);
    return file;
  }
}

/** bubblewrap 0.10+ (and Debian 12's 0.8.0-2+deb12u1) can mount a pinned fd: --ro-bind-fd / --bind-fd. */
function supportsBindFd(bwrap: string): boolean {
  const help = Bun.spawnSync([bwrap, "--help"], { stdout: "pipe", stderr: "ignore", timeout: PROBE_TIMEOUT_MS });
  return help.stdout.toString().includes("--ro-bind-fd");
}

/**
 * A trivial sandbox with the same user and namespaces as a real one: proves bwrap can create
 * its namespaces here (user namespaces enabled, setpriv works). Undefined when it can.
 */
function probeUserNamespaces(ctx: BwrapContext): string | undefined {
  let rootfs: BaseRootfs;
  try {
    rootfs = ctx.rootfs();
  } catch {
    return undefined; // no busybox to probe with; the run itself reports the missing image
  }
  const command = [
    ...(ctx.setpriv ? [ctx.setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : []),
    ctx.bwrap, "--unshare-all", "--die-with-parent", "--uid", "65534", "--gid", "65534", "--ro-bind", rootfs.busybox, "/bin/busybox", "--", "/bin/busybox", "true",
  ];
  const probe = Bun.spawnSync(command, { stdout: "ignore", stderr: "pipe", timeout: PROBE_TIMEOUT_MS, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  return probe.exitCode === 0 ? undefined : probe.stderr.toString().trim() || `exit ${probe.exitCode}`;
}

/**
 * Removes run cgroups whose AegisClaw process is gone (killed with -9 mid-run): bwrap died with
 * it (--die-with-parent), and anything left in the cgroup is killed now.
 */
async function sweepOrphans(layout: CgroupLayout): Promise<void> {
  for (const name of listRunCgroups(layout)) {
    if (!ownerGone(Number(name.split(".")[1]))) continue;
    try {
      await removeRunCgroups(layout, name);
    } catch {
      // Best effort: killAll (lockdown) reports what it cannot remove.
    }
  }
}

/** The state directory must be ours and closed to others: it holds the filter bwrap loads. */
function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
    throw new AegisError("unavailable", `the bwrap state directory ${dir} is not a directory owned by this user and closed to others`, { hint: `remove it, or pass another stateDir` });
  }
}

function firstLine(text: string): string {
  return text.split("\n")[0]?.trim() || "bwrap (unknown version)";
}
