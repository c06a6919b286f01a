import { statfsSync, statSync } from "node:fs";
import { verifyLog } from "../audit/index.ts";
import { exists, loadConfig, LockdownStore, type Config, type HomeLayout } from "../core/index.ts";
import { BWRAP_BASE_IMAGE } from "../sandbox/bwrap/index.ts";
import { createSandboxRuntime, type SandboxRuntime } from "../sandbox/index.ts";
import { dockerRuntimeRegistrations, type RuntimeRegistration } from "./engine-info.ts";

/** One line of the doctor report. */
export interface Check {
  id: string;
  status: "pass" | "warn" | "fail";
  message: string;
  fix?: string;
}

const GIB = 1024 ** 3;

export function checkHome(layout: HomeLayout): Check {
  if (!exists(layout.root)) return { id: "home", status: "fail", message: `${layout.root} does not exist`, fix: "run `aegisclaw init`" };
  const stat = statSync(layout.root);
  const mode = stat.mode & 0o777;
  if (mode & 0o077) {
    return { id: "home", status: "fail", message: `${layout.root} is mode ${mode.toString(8)}; others can read it`, fix: `chmod 700 ${layout.root}` };
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    return { id: "home", status: "fail", message: `${layout.root} is owned by uid ${stat.uid}, not you (${uid})`, fix: `chown -R ${uid} ${layout.root}` };
  }
  return { id: "home", status: "pass", message: `${layout.root} (mode 700)` };
}

export function checkConfig(layout: HomeLayout): { check: Check; config?: Config } {
  if (!exists(layout.config)) return { check: { id: "config", status: "fail", message: "not initialised", fix: "run `aegisclaw init`" } };
  try {
    const config = loadConfig(layout.config);
    return { check: { id: "config", status: "pass", message: `valid (policy template ${config.policy.template})` }, config };
  } catch (error) {
    return { check: { id: "config", status: "fail", message: (error as Error).message, fix: "edit config.yaml, or `aegisclaw init --force` to rewrite it" } };
  }
}

export async function checkDocker(runtime: SandboxRuntime): Promise<Check> {
  const status = await runtime.status();
  if (!status.available) return { id: "docker", status: "fail", message: status.detail, ...(status.hint ? { fix: status.hint } : {}) };
  return { id: "docker", status: "pass", message: `${status.detail}${status.version ? ` (engine ${status.version})` : ""}` };
}

export async function checkBaseImage(runtime: SandboxRuntime, image: string): Promise<Check> {
  try {
    if (await runtime.hasImage(image)) return { id: "base-image", status: "pass", message: `${image} present` };
    return { id: "base-image", status: "fail", message: `${image} is missing`, fix: "build it: bash scripts/build-base-image.sh (install.sh does this)" };
  } catch (error) {
    return { id: "base-image", status: "fail", message: `cannot check ${image}: ${(error as Error).message}`, fix: "start Docker first" };
  }
}

const GVISOR_FIX = "bash scripts/setup-gvisor.sh (as root): installs runsc and registers it with --network=none --oci-seccomp";

/**
 * gVisor is usable only when runsc is registered with both runtimeArgs: without
 * --oci-seccomp runsc silently ignores the seccomp profile (a fail, whatever the config says),
 * without --network=none every start fails on this kind of host. A missing runsc is only a
 * warning unless config selects gvisor, because then every run is refused.
 */
export async function checkGvisor(socketPath: string, configured: string): Promise<Check> {
  const registrations = await dockerRuntimeRegistrations(socketPath);
  if (registrations === undefined) return { id: "gvisor", status: "warn", message: "cannot ask Docker for its runtimes", fix: "start Docker first" };
  return judgeGvisor(registrations, configured);
}

/** The gvisor check's verdict on the engine's registered runtimes (see checkGvisor). */
export function judgeGvisor(registrations: Record<string, RuntimeRegistration>, configured: string): Check {
  const runsc = registrations.runsc;
  const selected = configured === "gvisor";
  if (!runsc) {
    const names = Object.keys(registrations).join(", ");
    const message = `gVisor (runsc) is not registered with Docker (runtimes: ${names})${selected ? "; sandbox.runtime is gvisor, so every run is refused" : "; optional (sandbox.runtime gvisor or --runtime gvisor)"}`;
    return { id: "gvisor", status: selected ? "fail" : "warn", message, fix: GVISOR_FIX };
  }
  const args = runsc.runtimeArgs;
  if (!args.includes("--oci-seccomp")) {
    return {
      id: "gvisor",
      status: "fail",
      message: `runsc is registered without --oci-seccomp (args: ${args.join(" ") || "none"}): it silently ignores the seccomp profile, so gVisor runs are refused by the self-test`,
      fix: GVISOR_FIX,
    };
  }
  if (!args.includes("--network=none")) {
    return { id: "gvisor", status: selected ? "fail" : "warn", message: `runsc is registered without --network=none (args: ${args.join(" ")}): gVisor sandboxes cannot start on this host`, fix: GVISOR_FIX };
  }
  return { id: "gvisor", status: "pass", message: `runsc registered with --network=none --oci-seccomp (${runsc.path || "runsc"})` };
}

/**
 * bubblewrap: whether `--runtime bwrap` can run here (bwrap, setpriv as root, writable cgroups,
 * user namespaces). Optional unless config.yaml selects it.
 */
export async function checkBubblewrap(selected: boolean): Promise<Check> {
  const status = await createSandboxRuntime("bwrap", { selfTestImage: BWRAP_BASE_IMAGE }).status();
  if (status.available) return { id: "bubblewrap", status: "pass", message: `usable with --runtime bwrap: ${status.detail}` };
  const message = `${status.detail}${selected ? "; sandbox.runtime is bwrap, so every run is refused" : "; optional (--runtime bwrap, for hosts without Docker)"}`;
  return { id: "bubblewrap", status: selected ? "fail" : "warn", message, fix: status.hint ?? "apt-get install -y bubblewrap" };
}

export async function checkAudit(layout: HomeLayout): Promise<Check> {
  if (!exists(layout.audit)) return { id: "audit", status: "fail", message: "no audit log", fix: "run `aegisclaw init`" };
  try {
    const report = await verifyLog(layout.audit);
    if (report.ok) return { id: "audit", status: "pass", message: `${report.entries} entries verified (hash chain, Merkle root, signed checkpoint)` };
    const failure = report.failure;
    const where = failure ? `${failure.seq !== undefined ? `entry ${failure.seq}` : failure.segment}: ${failure.reason}` : "unknown failure";
    return { id: "audit", status: "fail", message: `audit log does not verify: ${where}`, fix: "inspect with `aegisclaw logs verify`; do not delete the log, it is evidence" };
  } catch (error) {
    return { id: "audit", status: "fail", message: `cannot verify the audit log: ${(error as Error).message}`, fix: "run `aegisclaw logs verify` for details" };
  }
}

export function checkDisk(layout: HomeLayout): Check {
  try {
    const stats = statfsSync(exists(layout.root) ? layout.root : "/");
    const free = Number(stats.bavail) * Number(stats.bsize);
    const text = `${(free / GIB).toFixed(1)} GiB free`;
    if (free < 0.1 * GIB) return { id: "disk", status: "fail", message: `${text}: the audit log may fail to write (runs are then refused)`, fix: "free disk space" };
    if (free < GIB) return { id: "disk", status: "warn", message: text, fix: "free disk space" };
    return { id: "disk", status: "pass", message: text };
  } catch (error) {
    return { id: "disk", status: "warn", message: `cannot read free space: ${(error as Error).message}` };
  }
}

export function checkLockdown(layout: HomeLayout): Check {
  const state = new LockdownStore(layout.lockdownFile).read();
  if (!state.active) return { id: "lockdown", status: "pass", message: "not active" };
  return {
    id: "lockdown",
    status: "warn",
    message: `ACTIVE${state.since ? ` since ${state.since}` : ""}${state.reason ? `: ${state.reason}` : ""}; every run is refused`,
    fix: "`aegisclaw unlock` once the cause is understood",
  };
}

export async function checkPolicy(config: Config | undefined): Promise<Check> {
  if (!config) return { id: "policy", status: "fail", message: "not checked: config is unusable", fix: "fix config.yaml first" };
  const template = config.policy.template;
  try {
    const { createOpaEngine } = await import("../policy/opa/index.ts");
    await createOpaEngine(template).load();
    return { id: "policy", status: "pass", message: `template ${template} loads (Rego compiled to wasm) with the built-in scope check` };
  } catch (error) {
    return { id: "policy", status: "fail", message: `template ${template} does not load: ${(error as Error).message}; every action would be denied`, fix: "reinstall AegisClaw (the template wasm is part of the binary)" };
  }
}
