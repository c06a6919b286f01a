/**
 * One sandboxed run on bubblewrap: check -> cgroups -> spawn -> stream -> wait -> clean up.
 *
 * The spawned process is a tiny /bin/sh wrapper that writes its own pid into the run's
 * cgroups and only then execs bwrap (via setpriv to uid 65534 when AegisClaw is root), so no
 * instruction of bwrap or the command ever runs outside the limits. If joining fails it
 * reports on fd 3 and exits before anything else runs. Every end of the run — exit, timeout,
 * abort, output flood, error — goes through cgroup.kill and removes the cgroups.
 */
import { closeSync, constants, openSync } from "node:fs";
import { AegisError } from "../../shared/index.ts";
import { validateLimits } from "../limits.ts";
import { pinMounts } from "../mount-pin.ts";
import { verifySecretDir } from "../secret-dir.ts";
import type { SandboxIo, SandboxResult, SandboxSpec } from "../types.ts";
import { bwrapInvocation, SANDBOX_ID } from "./bwrap-args.ts";
import { RunCgroups, type CgroupLayout } from "./cgroups.ts";
import { unreachableFor } from "./host-access.ts";
import { BWRAP_BASE_IMAGE, type BaseRootfs } from "./rootfs.ts";
import { createOutputLimit, emptyResult, EXIT_ABORTED, EXIT_KILLED, finalResult, type KillReason } from "../result.ts";

/** The wrapper's status when it could not join the run's cgroups (nothing ran). */
const EXIT_JOIN_FAILED = 125;

/** Runs in the wrapper: join every cgroup named before `--`, then exec the rest. */
const JOIN_SCRIPT = 'while [ "$1" != -- ]; do echo $$ > "$1" || { echo cgroup-join-failed >&3; exit 125; }; shift; done; shift; exec 3>&-; exec "$@"';
/** The sandbox's run id becomes a cgroup name: no dots (the name's separator) or slashes. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** What a run needs from the runtime that owns it. */
export interface BwrapContext {
  bwrap: string;
  /** `setpriv` to drop to uid 65534 when AegisClaw runs as root; undefined otherwise. */
  setpriv: string | undefined;
  /** Whether this bwrap has --ro-bind-fd/--bind-fd, the only way it is given granted paths. */
  bindFd: boolean;
  layout: CgroupLayout;
  rootfs: () => BaseRootfs;
  /** The compiled seccomp filter file (read-only, opened per run). */
  seccompFile: () => string;
}

/** Runs `spec` under bwrap; see SandboxRuntime.run. */
export async function runBwrap(ctx: BwrapContext, spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> {
  validateLimits(spec.limits);
  if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) {
    throw new AegisError("bad-input", `sandbox timeout must be a positive number of milliseconds, got ${String(spec.timeoutMs)}`);
  }
  if (!RUN_ID.test(spec.runId)) throw new AegisError("bad-input", `sandbox run id ${JSON.stringify(spec.runId)} is not valid for bwrap (letters, digits, _ and -)`);
  if (spec.egress) {
    throw new AegisError("unavailable", "the bwrap runtime cannot give a sandbox network egress: it has no path to the AegisClaw egress proxy, and AegisClaw never opens the host network instead", {
      hint: "run commands that need net.outbound with --runtime docker or --runtime gvisor",
    });
  }
  // Read structurally: these fields are newer than this runner, and anything it does not
  // implement must refuse the run rather than be dropped.
  if (spec.compose !== undefined || spec.runNetwork !== undefined) {
    throw new AegisError("unavailable", "the bwrap runtime cannot run multi-container (docker-compose) skills or join a run network", { hint: "run them with --runtime docker or --runtime gvisor" });
  }
  if (spec.image !== BWRAP_BASE_IMAGE) throw imageError(spec.image);
  const startedAt = performance.now();
  if (io.signal?.aborted) return { ...emptyResult(startedAt, ""), aborted: true, exitCode: EXIT_ABORTED };
  const rootfs = ctx.rootfs();
  const invocation = bwrapInvocation(spec, rootfs);
  verifySecretDir(spec.secrets);
  if ((spec.mounts ?? []).length > 0 && !ctx.bindFd) {
    throw new AegisError("unavailable", "this bwrap cannot mount a granted path race-free: it lacks --ro-bind-fd (bubblewrap 0.10 or later, or Debian 12's security update 0.8.0-2+deb12u1)", {
      hint: "upgrade bubblewrap, or use --runtime docker",
    });
  }
  if (ctx.setpriv) {
    for (const mount of spec.mounts ?? []) {
      const blocked = unreachableFor(mount.source, SANDBOX_ID);
      if (blocked) {
        throw new AegisError("unavailable", `the bwrap sandbox (uid ${SANDBOX_ID}) cannot reach granted path ${mount.source}: ${blocked} is not searchable by it`, {
          hint: `let uid ${SANDBOX_ID} traverse it (chmod o+x ${blocked}), or use --runtime docker`,
        });
      }
    }
  }
  const name = `${spec.runId}.${process.pid}.${Date.now().toString(36)}`;
  const fds: number[] = [];
  let cgroups: RunCgroups | undefined;
  try {
    fds.push(openSync(ctx.seccompFile(), constants.O_RDONLY | constants.O_NOFOLLOW));
    // The mounts' sources, re-checked and pinned: a path changed since the decision refuses the
    // run, and bwrap mounts these fds (bwrap-args.ts), not the paths.
    fds.push(...pinMounts(spec.mounts ?? []).map((pin) => pin.fd));
    // O_NOFOLLOW: secret files are checked by verifySecretDir; never follow something planted since.
    for (const file of invocation.dataFiles) fds.push(openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW));
    cgroups = RunCgroups.create(ctx.layout, name, spec.limits);
    const command = [
      "/bin/sh", "-c", JOIN_SCRIPT, "aegisclaw-bwrap", ...cgroups.procsFiles(), "--",
      ...(ctx.setpriv ? [ctx.setpriv, `--reuid=${SANDBOX_ID}`, `--regid=${SANDBOX_ID}`, "--clear-groups", "--"] : []),
      ctx.bwrap, ...invocation.args,
    ];
    return await execute(command, fds, cgroups, spec, io, startedAt, name);
  } finally {
    for (const fd of fds) closeSync(fd);
    await cgroups?.remove();
  }
}

async function execute(command: string[], fds: number[], cgroups: RunCgroups, spec: SandboxSpec, io: SandboxIo, startedAt: number, name: string): Promise<SandboxResult> {
  let reason: KillReason | undefined;
  const proc = Bun.spawn(command, {
    stdio: ["ignore", "pipe", "pipe", "pipe", ...fds],
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
  });
  // Called from timers and stream callbacks, so it never throws. cgroup.kill ends every process
  // of the run; SIGKILL to the wrapper covers the moment before it joined (it then never execs
  // bwrap), and anything that got further is in the cgroup, which remove() kills again.
  const kill = (why: KillReason) => {
    if (reason) return;
    reason = why;
    try {
      cgroups.kill();
    } catch {
      // Reported by remove() at the end of the run, which kills and retries until the cgroup is empty.
    }
    proc.kill("SIGKILL");
  };
  const output = createOutputLimit(spec.limits.outputBytes, io, kill);
  // Past the limit the chunks are dropped, but the pipes are still drained so bwrap never blocks.
  const forward = async (stream: ReadableStream<Uint8Array>, which: "stdout" | "stderr") => {
    for await (const chunk of stream) output.write(which, chunk);
  };
  const status = Bun.file(proc.stdio[3] as number)
    .text()
    .catch(() => "");
  const onAbort = () => kill("abort");
  io.signal?.addEventListener("abort", onAbort, { once: true });
  if (io.signal?.aborted) kill("abort");
  const timer = setTimeout(() => kill("timeout"), spec.timeoutMs);
  let exitCode: number;
  try {
    const pumps = Promise.all([forward(proc.stdout, "stdout"), forward(proc.stderr, "stderr")]);
    exitCode = await proc.exited;
    // The pipes close when the last process holding them is gone; cgroup.kill makes sure it is.
    cgroups.kill();
    await pumps;
  } finally {
    clearTimeout(timer);
    io.signal?.removeEventListener("abort", onAbort);
    proc.kill("SIGKILL");
  }
  if (output.consumerError !== undefined) throw output.consumerError;
  if (exitCode === EXIT_JOIN_FAILED && (await status).includes("cgroup-join-failed")) {
    throw new AegisError("unavailable", `bwrap sandbox ${name} could not be placed in its cgroups, so nothing was run`, { hint: "check the cgroup filesystem (mount | grep cgroup) and `aegisclaw doctor`" });
  }
  const signalled = proc.signalCode !== null;
  return finalResult(startedAt, name, reason, signalled ? EXIT_KILLED : exitCode, cgroups.oomKilled(), output);
}

function imageError(image: string): AegisError {
  return new AegisError("unavailable", `the bwrap runtime runs only the base image ${BWRAP_BASE_IMAGE}, not ${image}`, {
    hint: "skills with their own image need --runtime docker or --runtime gvisor",
  });
}
