/**
 * The four read-only Docker API calls xray makes, typed with only the fields it reads. Every
 * field is optional or nullable here because the engine omits or nulls them depending on the
 * OCI runtime and the cgroup version; the mapping in report.ts decides what a gap means.
 */
import { EngineClient } from "../sandbox/docker/engine-client.ts";
import { LABEL_MANAGED } from "../sandbox/index.ts";

/** GET /containers/json, one entry. */
export interface ContainerListEntry {
  Id: string;
  Image?: string;
  State?: string;
  Labels?: Record<string, string> | null;
}

/** GET /containers/{id}/json, the parts xray reads. */
export interface ContainerInspect {
  Id: string;
  Config?: { User?: string; Cmd?: string[] | string | null; Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; StartedAt?: string; Pid?: number };
  Mounts?: Array<{ Type?: string; Source?: string; Destination?: string; RW?: boolean }> | null;
  HostConfig?: {
    ReadonlyRootfs?: boolean;
    CapDrop?: string[] | null;
    CapAdd?: string[] | null;
    SecurityOpt?: string[] | null;
    NetworkMode?: string;
    PidsLimit?: number | null;
    Memory?: number;
    Runtime?: string;
    Tmpfs?: Record<string, string> | null;
  };
}

/** GET /containers/{id}/top. */
export interface ContainerTop {
  Titles?: string[];
  Processes?: string[][] | null;
}

/** GET /containers/{id}/stats?stream=false, the parts xray reads (cgroup v1 and v2 shapes). */
export interface ContainerStats {
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats?: { current?: number };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
}

/** One CPU sample: the container's and the whole host's cumulative usage in nanoseconds. */
export interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** Read-only queries against one engine socket. */
export class XrayQueries {
  private readonly engine: EngineClient;

  constructor(readonly socketPath: string) {
    this.engine = new EngineClient(socketPath);
  }

  /** AegisClaw's containers only (by label); `all` includes created and exited ones. */
  listManaged(options: { all: boolean; signal?: AbortSignal }): Promise<ContainerListEntry[]> {
    const filters: Record<string, string[]> = { label: [`${LABEL_MANAGED}=true`] };
    if (!options.all) filters.status = ["running"];
    return this.engine.json<ContainerListEntry[]>("GET", "/containers/json", {
      query: { all: options.all, filters: JSON.stringify(filters) },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  inspect(id: string, signal?: AbortSignal): Promise<ContainerInspect> {
    return this.engine.json<ContainerInspect>("GET", `/containers/${encodeURIComponent(id)}/json`, signal ? { signal } : {});
  }

  top(id: string, signal?: AbortSignal): Promise<ContainerTop> {
    return this.engine.json<ContainerTop>("GET", `/containers/${encodeURIComponent(id)}/top`, signal ? { signal } : {});
  }

  /** One sample, without the engine's usual one-second wait for a second CPU reading (API 1.41). */
  stats(id: string, signal?: AbortSignal): Promise<ContainerStats> {
    return this.engine.json<ContainerStats>("GET", `/containers/${encodeURIComponent(id)}/stats`, {
      query: { stream: false, "one-shot": true },
      ...(signal ? { signal } : {}),
    });
  }
}
