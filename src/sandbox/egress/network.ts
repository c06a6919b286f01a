/**
 * The internal Docker network egress sandboxes sit on. `--internal` means Docker drops every
 * packet leaving it (DOCKER-ISOLATION); its only exit is the host itself, through the gateway
 * address, where the firewall (fence.ts) admits the proxy ports and nothing else. scripts/
 * setup-egress.sh creates the same network with the same settings; either may go first.
 */
import { AegisError } from "../../shared/index.ts";
import { statusCodeOf } from "../docker/docker-errors.ts";
import type { EngineClient } from "../docker/engine-client.ts";

/** The network's name, its Linux bridge, and the subnet it gets when AegisClaw creates it. */
export const EGRESS_NETWORK = "aegisclaw-egress";
export const EGRESS_BRIDGE = "aegis-egress0";
export const EGRESS_SUBNET = "10.213.37.0/24";
export const EGRESS_GATEWAY = "10.213.37.1";
/**
 * The ports proxies may listen on (one per running egress run), below the kernel's ephemeral
 * range so an outgoing connection never holds one. The firewall admits exactly these.
 */
export const EGRESS_PROXY_PORTS = { first: 28700, last: 28763 } as const;

/** The network as verified: its id, gateway (the proxy's address) and subnet. */
export interface EgressNetwork {
  id: string;
  name: string;
  bridge: string;
  gateway: string;
  subnet: string;
}

interface NetworkInspect {
  Id?: string;
  Driver?: string;
  Internal?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> };
  Options?: Record<string, string>;
}

const OPTIONS = {
  "com.docker.network.bridge.name": EGRESS_BRIDGE,
  // Sandboxes of different runs must not reach each other: the proxy is the only peer.
  "com.docker.network.bridge.enable_icc": "false",
  "com.docker.network.bridge.enable_ip_masquerade": "false",
} as const;

/**
 * Returns the egress network, creating it when missing, and refuses (unavailable) one whose
 * settings differ: an existing network of that name that is not internal, lets sandboxes talk
 * to each other or uses another bridge would silently weaken every egress run.
 */
export async function ensureEgressNetwork(engine: EngineClient): Promise<EgressNetwork> {
  let info = await inspect(engine);
  if (info === undefined) {
    await create(engine);
    info = await inspect(engine);
  }
  if (info === undefined) throw new AegisError("unavailable", `Docker network ${EGRESS_NETWORK} vanished right after it was created`, { hint: "retry; check `docker network ls`" });
  const problems = networkProblems(info);
  const config = info.IPAM?.Config?.[0];
  if (problems.length > 0 || !info.Id || !config?.Gateway || !config.Subnet) {
    throw new AegisError("unavailable", `Docker network ${EGRESS_NETWORK} is not the egress network AegisClaw needs: ${problems.join("; ") || "it has no id, subnet or gateway"}`, {
      hint: `remove it (docker network rm ${EGRESS_NETWORK}) and run bash scripts/setup-egress.sh as root`,
    });
  }
  return { id: info.Id, name: EGRESS_NETWORK, bridge: EGRESS_BRIDGE, gateway: config.Gateway, subnet: config.Subnet };
}

/** Every way `info` differs from the egress network's required settings. */
export function networkProblems(info: NetworkInspect): string[] {
  const problems: string[] = [];
  if (info.Driver !== "bridge") problems.push(`driver is ${String(info.Driver)}, not bridge`);
  if (info.Internal !== true) problems.push("it is not --internal");
  if (info.EnableIPv6 === true) problems.push("IPv6 is enabled");
  for (const [key, value] of Object.entries(OPTIONS)) {
    if (info.Options?.[key] !== value) problems.push(`option ${key} is ${JSON.stringify(info.Options?.[key] ?? null)}, not "${value}"`);
  }
  const configs = info.IPAM?.Config ?? [];
  if (configs.length !== 1) problems.push(`it has ${configs.length} IPAM subnets, not 1`);
  return problems;
}

async function inspect(engine: EngineClient): Promise<NetworkInspect | undefined> {
  try {
    return await engine.json<NetworkInspect>("GET", `/networks/${EGRESS_NETWORK}`);
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined;
    throw error;
  }
}

async function create(engine: EngineClient): Promise<void> {
  try {
    await engine.json("POST", "/networks/create", {
      body: {
        Name: EGRESS_NETWORK,
        CheckDuplicate: true,
        Driver: "bridge",
        Internal: true,
        Attachable: false,
        EnableIPv6: false,
        IPAM: { Driver: "default", Config: [{ Subnet: EGRESS_SUBNET, Gateway: EGRESS_GATEWAY }] },
        Options: OPTIONS,
        Labels: { "io.aegisclaw.egress": "true" },
      },
    });
  } catch (error) {
    // Another AegisClaw process created it first: fine, it is inspected next.
    if (statusCodeOf(error) !== 409) throw error;
  }
}
