/**
 * The private network of one multi-container run: a Docker bridge network made for the run and
 * removed with it. `internal` leaves it without a route out, and `inhibit_ipv4` keeps the host
 * from holding an address on it: an internal network alone still lets its containers reach every
 * service listening on the host (through the bridge's gateway address or the host's other
 * addresses), which inhibit_ipv4 removes. Only the run's own containers join it.
 */
import { AegisError, processAlive } from "../../shared/index.ts";
import { LABEL_MANAGED, LABEL_PID, LABEL_RUN, LABEL_RUN_NETWORK } from "../types.ts";
import { dockerError, statusCodeOf } from "./docker-errors.ts";
import type { EngineClient } from "./engine-client.ts";

/** Driver options every run network is created with and checked for. */
const RUN_NETWORK_OPTIONS: Readonly<Record<string, string>> = {
  "com.docker.network.bridge.inhibit_ipv4": "true",
  "com.docker.network.bridge.enable_icc": "true",
  "com.docker.network.bridge.enable_ip_masquerade": "false",
};

/** A created and verified run network. */
export interface RunNetwork {
  name: string;
  id: string;
  /** The subnet's gateway address, which nobody holds (see above). */
  gateway: string;
}

interface NetworkInspect {
  Id: string;
  Name: string;
  Created?: string;
  Driver?: string;
  Internal?: boolean;
  EnableIPv6?: boolean;
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> };
}

/** The run network's name: unique per run, recognisable on the engine. */
export function runNetworkName(runId: string): string {
  return `aegisclaw-run-${runId}`;
}

/** Creates the run's network and refuses it (removing it) unless the engine applied every setting. */
export async function createRunNetwork(engine: EngineClient, socketPath: string, runId: string): Promise<RunNetwork> {
  const name = runNetworkName(runId);
  const created = await engine
    .json<{ Id?: unknown }>("POST", "/networks/create", {
      body: {
        Name: name,
        CheckDuplicate: true,
        Driver: "bridge",
        Internal: true,
        Attachable: false,
        EnableIPv6: false,
        Options: RUN_NETWORK_OPTIONS,
        Labels: { [LABEL_MANAGED]: "true", [LABEL_RUN_NETWORK]: "true", [LABEL_RUN]: runId, [LABEL_PID]: String(process.pid) },
      },
    })
    .catch((error: unknown) => {
      throw dockerError(error, socketPath, "creating the run's network");
    });
  if (typeof created.Id !== "string") throw new AegisError("internal", "Docker network create returned no id");
  const id = created.Id;
  try {
    const info = await engine.json<NetworkInspect>("GET", `/networks/${id}`);
    const problems = runNetworkProblems(info, name, runId);
    const gateway = info.IPAM?.Config?.[0]?.Gateway;
    if (!gateway) problems.push("it has no gateway address to point DNS at");
    if (problems.length > 0 || !gateway) {
      throw new AegisError("unavailable", `run network refused: ${problems.join("; ")}`, { hint: "the Docker engine must support internal bridge networks with inhibit_ipv4 (Docker 20.10 or later)" });
    }
    return { name, id, gateway };
  } catch (error) {
    await removeRunNetwork(engine, id).catch(() => undefined); // the original failure is the one to report
    throw dockerError(error, socketPath, "inspecting the run's network");
  }
}

/** What differs between the network the engine made and the one asked for. */
export function runNetworkProblems(info: NetworkInspect, name: string, runId: string): string[] {
  const problems: string[] = [];
  if (info.Name !== name) problems.push(`its name is ${info.Name}`);
  if (info.Driver !== "bridge") problems.push(`its driver is ${String(info.Driver)}`);
  if (info.Internal !== true) problems.push("it is not internal");
  if (info.EnableIPv6 === true) problems.push("it has IPv6");
  for (const [key, value] of Object.entries(RUN_NETWORK_OPTIONS)) {
    if (info.Options?.[key] !== value) problems.push(`option ${key} is ${JSON.stringify(info.Options?.[key] ?? null)}, not "${value}"`);
  }
  if (info.Labels?.[LABEL_RUN_NETWORK] !== "true" || info.Labels?.[LABEL_RUN] !== runId) problems.push("its labels are not the run's");
  return problems;
}

/** Removes a run network; already gone is fine. Retries briefly while the engine still detaches removed containers. */
export async function removeRunNetwork(engine: EngineClient, id: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await engine.request("DELETE", `/networks/${id}`);
      return;
    } catch (error) {
      const status = statusCodeOf(error);
      if (status === 404) return;
      if (status !== 403 && status !== 409) throw error;
      if (attempt >= 20) throw error;
      await Bun.sleep(100);
    }
  }
}

/** A leftover must be at least this old: a process in another PID namespace may look dead from here. */
export const LEFTOVER_MIN_AGE_MS = 10 * 60_000;

/**
 * Removes run networks. `all` (lockdown's killAll, after every sandbox is gone): every run
 * network on the engine. Otherwise only those older than `minAgeMs` whose creating process (on
 * this host) is gone: what a killed AegisClaw process left behind. A network that still has
 * containers stays (the engine refuses to remove it).
 */
export async function removeRunNetworks(engine: EngineClient, all: boolean, minAgeMs = LEFTOVER_MIN_AGE_MS): Promise<number> {
  const networks = await engine.json<NetworkInspect[]>("GET", "/networks", { query: { filters: JSON.stringify({ label: [`${LABEL_RUN_NETWORK}=true`] }) } });
  let removed = 0;
  for (const network of networks) {
    if (!all) {
      const created = Date.parse(network.Created ?? "");
      if (!Number.isFinite(created) || Date.now() - created < minAgeMs) continue;
      if (processAlive(Number(network.Labels?.[LABEL_PID]))) continue;
    }
    try {
      await engine.request("DELETE", `/networks/${network.Id}`);
      removed++;
    } catch {
      // Still in use (a run of another process) or already gone: not ours to force.
    }
  }
  return removed;
}
