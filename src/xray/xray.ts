/**
 * Live view of AegisClaw's sandboxes from the Docker API: what is running, and for one
 * sandbox its processes, resource use, mounts and the isolation the engine holds. Read-only:
 * nothing here creates, changes or stops a container, and containers without AegisClaw's
 * label are never looked at (xray must not become a window onto the rest of the engine).
 */
import { dockerError, statusCodeOf } from "../sandbox/docker/docker-errors.ts";
import { LABEL_RUN } from "../sandbox/index.ts";
import { AegisError } from "../shared/index.ts";
import { type ContainerListEntry, XrayQueries } from "./docker-queries.ts";
import { mountsOf, processesOf, securityOf, summaryOf, usageOf } from "./report.ts";
import type { XrayReport, XrayRunSummary } from "./types.ts";

/** Where the engine is; defaults to config's default socket. */
export interface XrayOptions {
  /** The engine socket (`sandbox.dockerSocket`); default /var/run/docker.sock. */
  socketPath?: string;
}

const DEFAULT_SOCKET = "/var/run/docker.sock";
/** Per call: a console polling xray must not hang on an engine that accepts but never answers. */
const CALL_TIMEOUT_MS = 10_000;
const CONTAINER_ID_PREFIX = /^[0-9a-f]{1,64}$/;
const LIST_HINT = "run `aegisclaw xray list` to see the running sandboxes";

/**
 * The running AegisClaw sandboxes, oldest first. Throws AegisError "unavailable" when the
 * engine cannot be reached. A sandbox that ends between listing and inspecting is left out.
 */
export async function listSandboxes(options: XrayOptions = {}): Promise<XrayRunSummary[]> {
  const queries = new XrayQueries(options.socketPath ?? DEFAULT_SOCKET);
  const entries = await call(queries, "listing sandboxes", (signal) => queries.listManaged({ all: false, signal }));
  const summaries = await Promise.all(
    entries.map(async (entry) => {
      const info = await call(queries, `inspecting ${entry.Id.slice(0, 12)}`, (signal) => queries.inspect(entry.Id, signal)).catch(goneAsUndefined);
      return info ? summaryOf(info, entry.Image) : undefined;
    }),
  );
  return summaries
    .filter((summary): summary is XrayRunSummary => summary !== undefined && summary.state === "running")
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId));
}

/**
 * Everything the engine can tell about one sandbox now. `id` is a run id (the
 * `io.aegisclaw.run` label) or a prefix of the container id. An unknown or ambiguous id is
 * "bad-input"; an unreachable engine "unavailable". Parts the engine cannot give (processes
 * under gVisor, stats of a stopping container) come back empty or null with a note.
 */
export async function inspectSandbox(id: string, options: XrayOptions = {}): Promise<XrayReport> {
  const wanted = id.trim();
  if (wanted === "") throw new AegisError("bad-input", "no sandbox id given", { hint: LIST_HINT });
  const queries = new XrayQueries(options.socketPath ?? DEFAULT_SOCKET);
  const entry = resolve(wanted, await call(queries, "listing sandboxes", (signal) => queries.listManaged({ all: true, signal })));
  const info = await call(queries, `inspecting ${entry.Id.slice(0, 12)}`, (signal) => queries.inspect(entry.Id, signal)).catch(goneAsUndefined);
  if (!info) throw new AegisError("bad-input", `sandbox ${wanted} ended while it was being inspected`, { hint: LIST_HINT });
  const sampledAt = new Date().toISOString();
  const [top, stats] = await Promise.allSettled([
    call(queries, "listing processes", (signal) => queries.top(entry.Id, signal)),
    call(queries, "reading resource usage", (signal) => queries.stats(entry.Id, signal)),
  ]);
  const notes: string[] = [];
  let processes: XrayReport["processes"] = [];
  if (top.status === "fulfilled") {
    const listed = processesOf(top.value, info);
    processes = listed.processes;
    if (listed.note) notes.push(listed.note);
  } else notes.push(`processes not available: ${reason(top.reason)}`);
  let usage: ReturnType<typeof usageOf> = { cpuPercent: null, memoryBytes: null, memoryLimitBytes: null, pids: null, network: null };
  if (stats.status === "fulfilled") usage = usageOf(stats.value);
  else notes.push(`resource usage not available: ${reason(stats.reason)}`);
  if (stats.status === "fulfilled" && usage.cpuPercent === null) notes.push("cpu percent needs two samples; a one-shot sample has none to compare with");
  return {
    ...summaryOf(info, entry.Image),
    processes,
    ...usage,
    mounts: mountsOf(info),
    security: securityOf(info),
    sampledAt,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** Picks the one managed container `wanted` names: its run id exactly, else a unique id prefix. */
function resolve(wanted: string, entries: ContainerListEntry[]): ContainerListEntry {
  const byRun = entries.filter((entry) => entry.Labels?.[LABEL_RUN] === wanted);
  if (byRun.length === 1 && byRun[0]) return byRun[0];
  if (byRun.length > 1) {
    throw new AegisError("bad-input", `run id ${wanted} matches ${byRun.length} sandboxes`, { hint: "give a container id prefix instead (`aegisclaw xray list`)" });
  }
  const prefix = wanted.toLowerCase();
  const byId = CONTAINER_ID_PREFIX.test(prefix) ? entries.filter((entry) => entry.Id.startsWith(prefix)) : [];
  if (byId.length === 1 && byId[0]) return byId[0];
  if (byId.length > 1) throw new AegisError("bad-input", `container id prefix ${wanted} matches ${byId.length} sandboxes`, { hint: "give more characters of the id" });
  throw new AegisError("bad-input", `no AegisClaw sandbox matches "${wanted}" (a run id or container id prefix)`, { hint: LIST_HINT });
}

/** One engine call with its own deadline; failures become AegisErrors that say how to fix them. */
async function call<T>(queries: XrayQueries, doing: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  try {
    return await fn(AbortSignal.timeout(CALL_TIMEOUT_MS));
  } catch (error) {
    // A 404 keeps its status so callers can treat "gone" as a race, not an outage.
    if (statusCodeOf(error) === 404) throw error;
    throw dockerError(error, queries.socketPath, doing);
  }
}

/** A container removed between two calls is simply not there any more. */
function goneAsUndefined(error: unknown): undefined {
  if (statusCodeOf(error) === 404) return undefined;
  throw error;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
