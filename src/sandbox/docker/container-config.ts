/**
 * The hardened container definition, and the check that the engine really applied it.
 * Both sides live together so a setting cannot be added to one without the other.
 */
import type { ContainerCreateOptions, ContainerInspectInfo, MountSettings } from "dockerode";
import { AegisError } from "../../shared/index.ts";
import type { EgressAttachment } from "../egress/session.ts";
import { LABEL_MANAGED, LABEL_PID, LABEL_RUN, SECRETS_TARGET, type SandboxMount, type SandboxSecrets, type SandboxSpec } from "../types.ts";
import { networkProblems, networkSettings, PROXY_ENV_NAMES } from "./egress-config.ts";
import { SECCOMP_PROFILE_JSON } from "./seccomp-profile.ts";

/** nobody:nogroup. Never root, even though root in a container has no capabilities left. */
export const SANDBOX_USER = "65534:65534";
const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const NO_NEW_PRIVILEGES = "no-new-privileges";
const SECCOMP_OPTION = `seccomp=${SECCOMP_PROFILE_JSON}`;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NORMALIZED_ABSOLUTE = /^\/$|^(\/[^/\0]+)+$/;

/**
 * Under gVisor the host's pids cgroup also counts the sentry's own threads: about 8 per guest
 * task plus about 50 (runsc 2022-12, ptrace platform, measured with sleeping children), so a
 * cgroup limit of `pids` killed a sandbox at about a dozen processes. There the process limit
 * is RLIMIT_NPROC inside the guest, which gVisor's kernel enforces per sandbox (its users are
 * its own), and the cgroup only bounds host threads at a multiple of it (with headroom: a fork
 * bomb churning processes makes the sentry briefly hold more threads per task).
 */
const GVISOR_HOST_THREADS_PER_TASK = 16;
const GVISOR_HOST_THREADS_BASE = 128;

/** The pids cgroup limit and, under gVisor, the in-guest process limit for `pids`. */
export function pidsSettings(pids: number, ociRuntime: string | undefined): { PidsLimit: number; Ulimits: Array<{ Name: string; Soft: number; Hard: number }> } {
  if (ociRuntime !== "runsc") return { PidsLimit: pids, Ulimits: [] };
  return { PidsLimit: GVISOR_HOST_THREADS_BASE + GVISOR_HOST_THREADS_PER_TASK * pids, Ulimits: [{ Name: "nproc", Soft: pids, Hard: pids }] };
}

/** The tmpfs mount options for /tmp: writable scratch space that cannot hold executables. */
export function tmpfsOptions(bytes: number): string {
  return `rw,noexec,nosuid,nodev,size=${bytes}`;
}

/**
 * Builds the create request. Throws bad-input for values that cannot be passed safely. A spec
 * with `egress` needs the run's `egress` attachment (network and proxy); without, no network.
 */
export function containerOptions(spec: SandboxSpec, ociRuntime: string | undefined, egress?: EgressAttachment): ContainerCreateOptions {
  if (spec.argv.length === 0) throw new AegisError("bad-input", "sandbox argv is empty; give the command to run");
  const network = networkSettings(spec, egress);
  const env: string[] = [];
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    // A name with "=" would smuggle a second variable; PATH and the proxy variables are ours.
    if (!ENV_NAME.test(name) || name === "PATH" || PROXY_ENV_NAMES.includes(name)) throw new AegisError("bad-input", `sandbox env name "${name}" is not allowed`);
    env.push(`${name}=${value}`);
  }
  env.push(...network.env, `PATH=${SANDBOX_PATH}`);
  const { limits } = spec;
  const mounts = [...bindMounts(spec.mounts ?? []), ...secretsMount(spec.secrets)];
  return {
    Image: spec.image,
    Cmd: spec.argv,
    // Entrypoint is reset so the image cannot wrap our argv in its own program.
    Entrypoint: [],
    Env: env,
    User: SANDBOX_USER,
    WorkingDir: "/tmp",
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: network.networkDisabled,
    Labels: {
      ...spec.labels,
      [LABEL_MANAGED]: "true",
      [LABEL_RUN]: spec.runId,
      [LABEL_PID]: String(process.pid),
    },
    HostConfig: {
      AutoRemove: false,
      Privileged: false,
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      CapAdd: [],
      SecurityOpt: [NO_NEW_PRIVILEGES, SECCOMP_OPTION],
      IpcMode: "private",
      ...pidsSettings(limits.pids, ociRuntime),
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      Tmpfs: { "/tmp": tmpfsOptions(limits.tmpfsBytes) },
      // Mounts, not Binds: Binds would create a missing source directory as root on the host.
      Binds: [],
      Mounts: mounts,
      Devices: [],
      RestartPolicy: { Name: "no" },
      LogConfig: { Type: "none", Config: {} },
      ...(ociRuntime ? { Runtime: ociRuntime } : {}),
      ...network.host,
    },
    ...(network.networking ? { NetworkingConfig: network.networking } : {}),
  };
}

/**
 * Compares what the engine stored with what we asked for. Returns the list of differences;
 * empty means every hardening setting landed. Any difference means the run must not start.
 */
export function hardeningProblems(spec: SandboxSpec, info: ContainerInspectInfo, ociRuntime: string | undefined, egress?: EgressAttachment): string[] {
  const host = info.HostConfig;
  const { limits } = spec;
  const problems: string[] = [];
  const expect = (what: string, ok: boolean, actual: unknown) => {
    if (!ok) problems.push(`${what} (engine has ${JSON.stringify(actual)})`);
  };
  const security: string[] = host.SecurityOpt ?? [];
  expect("user 65534:65534", info.Config.User === SANDBOX_USER, info.Config.User);
  // The image must not wrap our argv in an entrypoint of its own.
  expect("no image entrypoint", toList(info.Config.Entrypoint).length === 0, info.Config.Entrypoint);
  expect("argv as given", JSON.stringify(toList(info.Config.Cmd)) === JSON.stringify(spec.argv), info.Config.Cmd);
  expect("read-only root filesystem", host.ReadonlyRootfs === true, host.ReadonlyRootfs);
  expect("not privileged", host.Privileged === false, host.Privileged);
  expect("all capabilities dropped", sameList(host.CapDrop, ["ALL"]), host.CapDrop);
  expect("no capabilities added", (host.CapAdd ?? []).length === 0, host.CapAdd);
  expect("no-new-privileges", security.includes(NO_NEW_PRIVILEGES), security.filter((o) => !o.startsWith("seccomp=")));
  expect("AegisClaw seccomp profile", security.includes(SECCOMP_OPTION) && security.filter((o) => o.startsWith("seccomp=")).length === 1, "a different seccomp setting");
  problems.push(...networkProblems(spec, info, egress));
  expect("private IPC", host.IpcMode === "private" || host.IpcMode === "none", host.IpcMode);
  expect("private PID namespace", !host.PidMode, host.PidMode);
  expect("private UTS namespace", !host.UTSMode, host.UTSMode);
  expect("no host user namespace", !host.UsernsMode, host.UsernsMode);
  const pids = pidsSettings(limits.pids, ociRuntime);
  expect(`pids limit ${pids.PidsLimit}`, host.PidsLimit === pids.PidsLimit, host.PidsLimit);
  const ulimits = (host.Ulimits ?? []).map((u) => ({ Name: u.Name, Soft: u.Soft, Hard: u.Hard }));
  expect(`process limits ${JSON.stringify(pids.Ulimits)}`, JSON.stringify(ulimits) === JSON.stringify(pids.Ulimits), host.Ulimits);
  expect(`memory limit ${limits.memoryBytes}`, host.Memory === limits.memoryBytes, host.Memory);
  expect("no swap", host.MemorySwap === limits.memoryBytes, host.MemorySwap);
  expect(`cpu limit ${limits.cpus}`, host.NanoCpus === Math.round(limits.cpus * 1e9), host.NanoCpus);
  expect("noexec tmpfs /tmp only", sameTmpfs(host.Tmpfs, limits.tmpfsBytes), host.Tmpfs);
  expect("no bind mounts", (host.Binds ?? []).length === 0, host.Binds);
  const wanted = [...(spec.mounts ?? []), ...secretsAsMounts(spec.secrets)].map(describeMount).sort();
  const label = wanted.length === 0 ? "no mounts" : `exactly the granted mounts ${wanted.join(", ")}`;
  expect(`${label} (create request)`, sameSorted(requestedMounts(host.Mounts), wanted), host.Mounts);
  expect(`${label} (mounted)`, sameSorted(appliedMounts(info), wanted), info.Mounts);
  expect("no devices", (host.Devices ?? []).length === 0, host.Devices);
  expect("no volumes from other containers", (host.VolumesFrom ?? []).length === 0, host.VolumesFrom);
  expect(`OCI runtime ${ociRuntime ?? "runc"}`, host.Runtime === (ociRuntime ?? "runc"), host.Runtime);
  const labels = info.Config.Labels ?? {};
  expect("AegisClaw labels", labels[LABEL_MANAGED] === "true" && labels[LABEL_RUN] === spec.runId, labels);
  return problems;
}

/**
 * The create request's bind mounts. Targets must be unique and may not replace / or our /tmp
 * tmpfs; paths must be absolute and normalized (compileMounts makes them so; this guards
 * hand-built specs). rprivate: mounts made later on the host never propagate into the sandbox.
 */
export function bindMounts(mounts: readonly SandboxMount[]): MountSettings[] {
  const targets = new Set<string>();
  return mounts.map((mount) => {
    for (const path of [mount.source, mount.target]) {
      if (!NORMALIZED_ABSOLUTE.test(path) || path.split("/").some((part) => part === "." || part === "..")) {
        throw new AegisError("bad-input", `sandbox mount path "${path}" must be absolute and normalized`);
      }
    }
    if (mount.target === "/" || mount.target === "/tmp") throw new AegisError("bad-input", `sandbox mount target ${mount.target} would replace the sandbox's own ${mount.target}`);
    if (mount.target === SECRETS_TARGET || mount.target.startsWith(`${SECRETS_TARGET}/`)) throw new AegisError("bad-input", `sandbox mount target ${mount.target} is reserved for granted secrets`);
    if (targets.has(mount.target)) throw new AegisError("bad-input", `sandbox mount target ${mount.target} is given twice`);
    targets.add(mount.target);
    return { Type: "bind", Source: mount.source, Target: mount.target, ReadOnly: mount.readOnly, BindOptions: { Propagation: "rprivate" } };
  });
}

/**
 * The granted secrets' directory, read-only at SECRETS_TARGET (rprivate like every bind). Its
 * source holds values only on tmpfs; the create request carries the path, never a value.
 */
export function secretsMount(secrets: SandboxSecrets | undefined): MountSettings[] {
  return secretsAsMounts(secrets).map((mount) => ({ Type: "bind", Source: mount.source, Target: mount.target, ReadOnly: true, BindOptions: { Propagation: "rprivate" } }));
}

function secretsAsMounts(secrets: SandboxSecrets | undefined): SandboxMount[] {
  if (!secrets || secrets.names.length === 0) return [];
  const source = secrets.source;
  if (source === undefined) throw new AegisError("internal", "secrets were granted but their directory was not prepared before the sandbox");
  if (!NORMALIZED_ABSOLUTE.test(source) || source.split("/").some((part) => part === "." || part === "..")) {
    throw new AegisError("internal", `secret directory "${source}" must be absolute and normalized`);
  }
  return [{ source, target: SECRETS_TARGET, readOnly: true }];
}

/** One mount as `bind:<source>-><target>:<ro|rw>`, the unit hardeningProblems compares. */
function describeMount(mount: SandboxMount): string {
  return `bind:${mount.source}->${mount.target}:${mount.readOnly ? "ro" : "rw"}`;
}

/** What the engine stored from our request (HostConfig.Mounts); anything but an rprivate bind is flagged as is. */
function requestedMounts(mounts: MountSettings[] | undefined): string[] {
  return (mounts ?? []).map((mount) => {
    const bind = mount.Type === "bind" && mount.BindOptions?.Propagation === "rprivate";
    return bind ? describeMount({ source: mount.Source, target: mount.Target, readOnly: mount.ReadOnly === true }) : `${mount.Type}:${mount.Source}->${mount.Target}`;
  });
}

/**
 * What is really mounted besides our /tmp tmpfs (which the engine does not list here): our
 * binds, plus anything else, e.g. anonymous volumes an image's VOLUME would add.
 */
function appliedMounts(info: ContainerInspectInfo): string[] {
  return (info.Mounts ?? []).map((mount) => {
    const bind = mount.Type === "bind" && mount.Propagation === "rprivate";
    return bind ? describeMount({ source: mount.Source, target: mount.Destination, readOnly: !mount.RW }) : `${mount.Type}:${mount.Source}->${mount.Destination}`;
  });
}

function toList(value: string | string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}

function sameTmpfs(tmpfs: unknown, bytes: number): boolean {
  if (typeof tmpfs !== "object" || tmpfs === null) return false;
  const entries = Object.entries(tmpfs);
  return entries.length === 1 && entries[0]?.[0] === "/tmp" && entries[0]?.[1] === tmpfsOptions(bytes);
}

function sameList(actual: string[] | undefined, wanted: string[]): boolean {
  return (actual ?? []).length === wanted.length && wanted.every((value) => actual?.includes(value));
}

function sameSorted(actual: string[], wanted: string[]): boolean {
  return JSON.stringify([...actual].sort()) === JSON.stringify(wanted);
}
