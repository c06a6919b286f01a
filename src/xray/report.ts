/**
 * Pure mapping from Docker API answers to xray's views. Kept apart from the I/O so each rule
 * (what a missing field means, when a number is not trustworthy) is testable on its own.
 */
import { LABEL_RUN, LABEL_STAGED_SOURCES, SECCOMP_PROFILE } from "../sandbox/index.ts";
import { canonicalHash } from "../shared/index.ts";
import type { ContainerInspect, ContainerStats, ContainerTop } from "./docker-queries.ts";
import type { XrayReport, XrayRunSummary } from "./types.ts";

/** Docker's "never" timestamp (a created container that has not started). */
const ZERO_TIME = "0001-01-01T00:00:00Z";
const PROFILE_HASH = canonicalHash(SECCOMP_PROFILE);

/** The list view of one container, from its inspect answer. */
export function summaryOf(info: ContainerInspect, listedImage?: string): XrayRunSummary {
  const started = info.State?.StartedAt ?? "";
  return {
    runId: info.Config?.Labels?.[LABEL_RUN] ?? "",
    containerId: info.Id,
    image: info.Config?.Image ?? listedImage ?? "",
    // The engine stores "runc" even when the default runtime was implied.
    runtime: info.HostConfig?.Runtime || "runc",
    state: info.State?.Status ?? "unknown",
    startedAt: started === ZERO_TIME ? "" : started,
    argv: toList(info.Config?.Cmd),
  };
}

/** The isolation settings the engine holds for the container (what it applies, not what we asked). */
export function securityOf(info: ContainerInspect): XrayReport["security"] {
  const host = info.HostConfig ?? {};
  const options = host.SecurityOpt ?? [];
  return {
    user: info.Config?.User ?? "",
    readOnlyRootfs: host.ReadonlyRootfs === true,
    capDrop: host.CapDrop ?? [],
    capAdd: host.CapAdd ?? [],
    seccomp: seccompOf(options),
    noNewPrivileges: options.some((option) => /^no-new-privileges([:=]true)?$/.test(option)),
    networkMode: host.NetworkMode ?? "",
    pidsLimit: positive(host.PidsLimit),
    memoryLimitBytes: positive(host.Memory),
  };
}

/**
 * Names the seccomp profile in force: "aegisclaw" when it is exactly our profile, else
 * "unconfined", "engine default" (no option: Docker's built-in profile) or a hash of the custom
 * one. The full JSON is tens of kilobytes and tells a person nothing.
 */
export function seccompOf(options: readonly string[]): string {
  const settings = options.filter((option) => option.startsWith("seccomp=") || option.startsWith("seccomp:"));
  if (settings.length === 0) return "engine default";
  if (settings.length > 1) return `${settings.length} conflicting seccomp options`;
  const value = (settings[0] ?? "").slice("seccomp=".length);
  if (value === "unconfined") return "unconfined";
  try {
    const hash = canonicalHash(JSON.parse(value));
    return hash === PROFILE_HASH ? "aegisclaw" : `custom (sha256 ${hash.slice(0, 12)})`;
  } catch {
    return `custom (${value.slice(0, 40)})`;
  }
}

/**
 * Bind mounts and volumes the engine reports, plus the tmpfs mounts (which it lists only in
 * HostConfig). A staged mount (src/sandbox/mount-stage.ts) shows the granted host path its label
 * names, not the staging path the engine saw.
 */
export function mountsOf(info: ContainerInspect): XrayReport["mounts"] {
  const granted = stagedSources(info.Config?.Labels?.[LABEL_STAGED_SOURCES]);
  const mounts = (info.Mounts ?? []).map((mount) => ({ source: granted[mount.Source ?? ""] ?? mount.Source ?? "", target: mount.Destination ?? "", readOnly: mount.RW !== true }));
  for (const [target, options] of Object.entries(info.HostConfig?.Tmpfs ?? {})) {
    mounts.push({ source: "tmpfs", target, readOnly: options.split(",").includes("ro") });
  }
  return mounts;
}

/**
 * The process list, or none with a note when it cannot be trusted. The engine's `top` asks the
 * OCI runtime for the container's PIDs and then picks those PIDs out of the HOST's `ps`. Under
 * gVisor the PIDs are the sandbox kernel's own (1, 2, ...), so `top` shows unrelated host
 * processes (observed: the host's PID 1). The container's init (State.Pid, a host PID) must be
 * in a trustworthy list, which rules that case out whatever the runtime.
 */
export function processesOf(top: ContainerTop, info: ContainerInspect): { processes: XrayReport["processes"]; note?: string } {
  const titles = top.Titles ?? [];
  const column = (...names: string[]) => titles.findIndex((title) => names.includes(title.toUpperCase()));
  const [pid, user, command] = [column("PID"), column("UID", "USER"), column("CMD", "COMMAND")];
  if (pid < 0 || command < 0) return { processes: [], note: `the engine's process list has unexpected columns (${titles.join(", ")})` };
  const processes = (top.Processes ?? []).map((row) => ({ pid: row[pid] ?? "", user: user < 0 ? "" : (row[user] ?? ""), command: row[command] ?? "" }));
  const init = info.State?.Pid;
  if (init && !processes.some((entry) => entry.pid === String(init))) {
    const runtime = info.HostConfig?.Runtime ?? "runc";
    const why =
      runtime === "runsc"
        ? "gVisor keeps the sandbox's processes inside its own kernel, and the engine's `top` would list unrelated host processes instead"
        : `the engine's process list does not contain the container's init (host PID ${init}), so it is not shown`;
    return { processes: [], note: `processes not available: ${why}` };
  }
  return { processes };
}

/** Usage figures from one stats sample; anything the sample does not carry is null. */
export function usageOf(stats: ContainerStats): Pick<XrayReport, "cpuPercent" | "memoryBytes" | "memoryLimitBytes" | "pids" | "network"> {
  return {
    cpuPercent: cpuPercent(stats),
    memoryBytes: memoryBytes(stats),
    memoryLimitBytes: positive(stats.memory_stats?.limit),
    pids: typeof stats.pids_stats?.current === "number" ? stats.pids_stats.current : null,
    network: networkOf(stats),
  };
}

/**
 * CPU use between the previous sample and this one, as `docker stats` computes it: the
 * container's share of the host's CPU time, scaled by the number of CPUs (so 200% = two cores).
 * A one-shot sample has no previous reading (precpu is zero or absent): null, not 0%.
 */
export function cpuPercent(stats: ContainerStats): number | null {
  const now = stats.cpu_stats;
  const before = stats.precpu_stats;
  const total = now?.cpu_usage?.total_usage;
  const system = now?.system_cpu_usage;
  const totalBefore = before?.cpu_usage?.total_usage;
  const systemBefore = before?.system_cpu_usage;
  if (total === undefined || system === undefined || totalBefore === undefined || !systemBefore) return null;
  const cpuDelta = total - totalBefore;
  const systemDelta = system - systemBefore;
  const cpus = now?.online_cpus || now?.cpu_usage?.percpu_usage?.length || 0;
  if (systemDelta <= 0 || cpuDelta < 0 || cpus === 0) return null;
  return Math.round((cpuDelta / systemDelta) * cpus * 100 * 100) / 100;
}

/**
 * Memory in use without the reclaimable page cache, as `docker stats` shows it: cgroup v1
 * reports `total_inactive_file`, v2 `inactive_file`.
 */
export function memoryBytes(stats: ContainerStats): number | null {
  const usage = stats.memory_stats?.usage;
  if (typeof usage !== "number") return null;
  const detail = stats.memory_stats?.stats ?? {};
  const inactive = detail.total_inactive_file ?? detail.inactive_file;
  return typeof inactive === "number" && inactive < usage ? usage - inactive : usage;
}

/** Bytes over every interface; null when the sandbox has none (network "none" reports no networks). */
export function networkOf(stats: ContainerStats): XrayReport["network"] {
  const interfaces = Object.values(stats.networks ?? {});
  if (interfaces.length === 0) return null;
  return {
    rxBytes: interfaces.reduce((sum, entry) => sum + (entry.rx_bytes ?? 0), 0),
    txBytes: interfaces.reduce((sum, entry) => sum + (entry.tx_bytes ?? 0), 0),
  };
}

function positive(value: number | null | undefined): number | null {
  return typeof value === "number" && value > 0 ? value : null;
}

function toList(value: string[] | string | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}

/** The staging label's map; anything else (missing, malformed) maps nothing. */
function stagedSources(label: string | undefined): Record<string, string> {
  if (!label) return {};
  try {
    const parsed: unknown = JSON.parse(label);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
  } catch {
    return {};
  }
}
