/** Posture checks of the sandbox: which runtime, whether seccomp is proven in force, and network. */
import type { Config } from "../core/index.ts";
import { parseScope } from "../policy/index.ts";
import { BWRAP_BASE_IMAGE, bwrapSelfTestReport } from "../sandbox/bwrap/index.ts";
import { ociRuntimeOf as ociRuntimeOfName, type RuntimeStatus, type SelfTestEntry } from "../sandbox/index.ts";
import { type EngineFacts, judgeSelfTest, type SelfTestVerdict } from "./engine-evidence.ts";
import type { CheckResult } from "./score.ts";

const GVISOR_SETUP = "bash scripts/setup-gvisor.sh (as root)";
/** runc with AegisClaw's hardening still shares the host kernel; gVisor adds a user-space one. */
const RUNC_POINTS = 14;
const UNCONFIRMED_SECCOMP_POINTS = 5;
const SPECIFIC_NET_GRANT_POINTS = 5;

/** The OCI runtime a configured runtime name runs on. */
export function ociRuntimeOf(config: Config): string {
  return ociRuntimeOfName(config.sandbox.runtime);
}

/** runtime (20): gVisor available earns all; runc (hardened) 14; an unavailable runtime refuses every run. */
export function runtimeCheck(config: Config, status: RuntimeStatus, facts: EngineFacts | undefined): CheckResult {
  const name = config.sandbox.runtime;
  if (!status.available) {
    return { earned: 0, detail: `sandbox.runtime is ${name}, which is not available: ${status.detail} (every run is refused)`, fix: status.hint ?? "run `aegisclaw doctor`" };
  }
  if (name === "gvisor") return { earned: 20, detail: "gvisor (runsc): each sandbox runs on a user-space kernel, not the host's" };
  const runscRegistered = facts?.runtimes.runsc !== undefined;
  const fix = runscRegistered ? "set `sandbox.runtime: gvisor` in config.yaml (runsc is registered on this engine)" : `register gVisor with ${GVISOR_SETUP}, then set \`sandbox.runtime: gvisor\` in config.yaml`;
  const detail =
    name === "docker"
      ? "docker (runc): hardened container, but it shares the host kernel"
      : name === "bwrap"
        ? "bwrap (bubblewrap): namespaces, no capabilities, the AegisClaw seccomp filter and cgroup limits, but it shares the host kernel"
        : // kata or firecracker may well isolate more than runc, but nothing here can prove it.
          `${name} (an OCI runtime registered with Docker): hardened container whose self-test passes; AegisClaw cannot confirm its kernel isolation, so it scores like runc`;
  return { earned: RUNC_POINTS, detail, fix };
}

/**
 * seccomp (10): every sandbox is created with the AegisClaw profile and checked after create,
 * but only the runtime self-test proves the OCI runtime enforces it (gVisor without
 * --oci-seccomp silently does not). A current recorded pass earns all; none earns half.
 */
export function seccompCheck(config: Config, facts: EngineFacts | undefined, entry: SelfTestEntry | undefined, now: number): CheckResult {
  if (!facts) {
    return { earned: 0, status: "unknown", detail: `the Docker engine at ${config.sandbox.dockerSocket} did not answer, so seccomp support cannot be checked`, fix: "start Docker (e.g. bash scripts/start-docker.sh) and check `aegisclaw doctor`" };
  }
  if (!facts.seccomp) {
    return { earned: 0, detail: "the Docker engine reports no seccomp support, so no sandbox can get the AegisClaw profile", fix: "use a kernel and dockerd built with seccomp (CONFIG_SECCOMP, libseccomp)" };
  }
  const oci = ociRuntimeOf(config);
  if (oci === "runsc" && !(facts.runtimes.runsc?.runtimeArgs ?? []).includes("--oci-seccomp")) {
    return { earned: 0, detail: "runsc is registered without --oci-seccomp, so gVisor ignores the seccomp profile (its self-test refuses every run)", fix: `re-register gVisor with ${GVISOR_SETUP}` };
  }
  const verdict: SelfTestVerdict = judgeSelfTest(entry, facts, oci, now);
  if (verdict.kind === "confirmed") {
    const proof = oci === "runc" ? "seccomp filter mode 2, and `unshare` answered ENOSYS as only the AegisClaw profile does" : "seccomp filter mode 2 under gVisor (runsc --oci-seccomp)";
    return { earned: 10, detail: `the ${config.sandbox.runtime} self-test at ${verdict.entry.passedAt} saw ${proof}` };
  }
  const why = verdict.kind === "missing" ? "no self-test of this runtime is recorded in state/selftest.json" : `the recorded self-test no longer counts: ${verdict.why}`;
  return {
    earned: UNCONFIRMED_SECCOMP_POINTS,
    detail: `the engine supports seccomp and every sandbox is created with the AegisClaw profile, but enforcement is not confirmed: ${why}`,
    fix: "run one command through AegisClaw (e.g. `aegisclaw run -- true`): the runtime self-tests before it and records a pass for 24 h",
  };
}

/**
 * network (10): sandboxes get network mode "none" (only lo) unless a run itself asks for a host
 * (`--scope net.outbound:…`, then only through its own audited egress proxy). What weakens that
 * is a `net.outbound` grant in config.yaml: it pre-approves the host for every run, so policy
 * no longer has to ask. A specific host costs half; a wildcard or an unparseable one costs all.
 */
export function networkCheck(config: Config): CheckResult {
  const netGrants = config.policy.grants.filter((grant) => grant.trim().startsWith("net.outbound"));
  if (netGrants.length === 0) return { earned: 10, detail: "sandboxes get no network (mode none, only lo) unless a run asks for a host, and policy.grants pre-approves none" };
  const broad = netGrants.filter(isBroadNetGrant);
  const listed = netGrants.map((grant) => `\`${grant}\``).join(", ");
  const today = "any run may reach it through the egress proxy without policy asking a person";
  const fix = `remove ${listed} from policy.grants in config.yaml; let each run ask for its host with --scope net.outbound:HOST[:PORT]`;
  if (broad.length > 0) return { earned: 0, detail: `policy.grants in config.yaml pre-approves broad network access (${broad.join(", ")}); ${today}`, fix };
  return { earned: SPECIFIC_NET_GRANT_POINTS, detail: `policy.grants in config.yaml pre-approves network access (${netGrants.join(", ")}); ${today}`, fix };
}

/** A wildcard host, or anything the scope grammar refuses (`net.outbound:*`, a bare kind). */
function isBroadNetGrant(grant: string): boolean {
  try {
    return parseScope(grant.trim()).wildcard === true;
  } catch {
    return true;
  }
}

/**
 * seccomp (10) under bwrap: its pass is kept per process, not on disk, and a bwrap self-test
 * takes milliseconds, so posture runs it now and scores what the sandbox reports.
 */
export async function bwrapSeccompCheck(stateDir: string, status: RuntimeStatus): Promise<CheckResult> {
  const fix = "run `aegisclaw doctor` and fix what the bubblewrap line says";
  if (!status.available) return { earned: 0, detail: `bwrap is not available, so no sandbox gets the AegisClaw filter (every run is refused): ${status.detail}`, fix };
  try {
    const report = await bwrapSelfTestReport({ stateDir, selfTestImage: BWRAP_BASE_IMAGE });
    return { earned: 10, detail: `a bwrap self-test just now saw seccomp filter mode ${report.seccomp}, and \`unshare\` answered ENOSYS as only the AegisClaw filter does` };
  } catch (error) {
    return { earned: 0, detail: `the bwrap self-test fails, so every run is refused: ${error instanceof Error ? error.message : String(error)}`, fix };
  }
}
