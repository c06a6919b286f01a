/**
 * Egress for one run: checks the network and the fence, starts the run's own proxy on the
 * egress gateway, admits the run's sandbox once it has an address, and stops the proxy with
 * the run. Every failure before the sandbox exists refuses the run ("unavailable", exit 69):
 * a granted net.outbound scope is enforced through this proxy or the run does not happen.
 */
import { AegisError } from "../../shared/index.ts";
import { dockerError } from "../docker/docker-errors.ts";
import type { EngineClient } from "../docker/engine-client.ts";
import type { EgressAuditor, SandboxEgress } from "../types.ts";
import { FENCE_FIX, fenceProblems, readRules, wildcardListeners } from "./fence.ts";
import { EGRESS_PROXY_PORTS, ensureEgressNetwork, type EgressNetwork } from "./network.ts";
import { EgressProxy } from "./proxy.ts";
import type { Resolver } from "./vet.ts";

/** Where the sandbox connects: what the container definition needs. */
export interface EgressAttachment {
  /** The internal network's name and id; the container is on this network only. */
  network: string;
  networkId: string;
  /** The gateway address: the proxy's host and the sandbox's (unreachable) DNS server. */
  gateway: string;
  /** `http://<gateway>:<port>` of this run's proxy. */
  proxyUrl: string;
}

/** A run's open egress; close() must run when the run ends. */
export interface EgressSession {
  attachment: EgressAttachment;
  /** Serves connections from this address (the started sandbox's) and no other. */
  admit(address: string): void;
  /** Serves nobody: the sandbox's address could not be confirmed. */
  refuseAll(): void;
  close(): Promise<void>;
}

/** What opening egress needs from the runtime. */
export interface EgressContext {
  engine: EngineClient;
  socketPath: string;
  ociRuntime: string | undefined;
  audit: EgressAuditor | undefined;
  /** Replaces the system resolver (tests pointing names at their own servers). */
  resolve?: Resolver;
}

/** Opens egress for `runId`; throws unavailable (or bad-input) instead of running without it. */
export async function openEgressSession(ctx: EgressContext, runId: string, egress: SandboxEgress): Promise<EgressSession> {
  if (ctx.ociRuntime === "runsc") {
    throw new AegisError("unavailable", "net.outbound cannot be enforced under gVisor: runsc here runs with --network=none, so its sandboxes have no network at all", {
      hint: "use --runtime docker for runs that need net.outbound",
    });
  }
  const audit = ctx.audit;
  if (!audit) throw new AegisError("unavailable", "egress needs an audit sink for its decisions and this runtime has none", { hint: "run through the Gate (aegisclaw run)" });
  if (egress.allow.length === 0) throw new AegisError("bad-input", "egress was requested with an empty allowlist");
  const network = await ensureEgressNetwork(ctx.engine).catch((error: unknown) => {
    throw dockerError(error, ctx.socketPath, "preparing the egress network");
  });
  const problems = fenceAndPortProblems(network);
  if (problems.length > 0) throw new AegisError("unavailable", `egress refused: ${problems.join("; ")}`, { hint: problems.some((p) => p.startsWith("a program")) ? PORT_FIX : FENCE_FIX });
  const proxy = await EgressProxy.start({
    runId,
    host: network.gateway,
    ports: proxyPorts(),
    allow: egress.allow,
    record: (decision) => audit({ ...decision, actor: egress.actor, requestHash: egress.requestHash, ...(egress.service ? { service: egress.service } : {}) }),
    ...(ctx.resolve ? { resolve: ctx.resolve } : {}),
  }).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const full = message.includes("no free egress proxy port");
    throw new AegisError("unavailable", `egress proxy could not start on ${network.gateway}: ${message}`, {
      hint: full
        ? `at most ${EGRESS_PROXY_PORTS.last - EGRESS_PROXY_PORTS.first + 1} egress runs can be active at once on this host; wait for one to end`
        : `is the bridge ${network.bridge} up with ${network.gateway}? restart dockerd or rerun bash scripts/setup-egress.sh`,
    });
  });
  return {
    attachment: { network: network.name, networkId: network.id, gateway: network.gateway, proxyUrl: `http://${network.gateway}:${proxy.port}` },
    admit: (address) => proxy.admit(address),
    refuseAll: () => proxy.refuseAll(),
    close: () => proxy.close(),
  };
}

/** The range in a random rotation, so concurrent runs rarely race for the same port. */
function proxyPorts(): number[] {
  const count = EGRESS_PROXY_PORTS.last - EGRESS_PROXY_PORTS.first + 1;
  const start = Math.floor(Math.random() * count);
  return Array.from({ length: count }, (_, index) => EGRESS_PROXY_PORTS.first + ((start + index) % count));
}

const PORT_FIX = `stop it or bind it to one address; the proxy range ${EGRESS_PROXY_PORTS.first}-${EGRESS_PROXY_PORTS.last} must be free on 0.0.0.0 and ::`;

/**
 * Why egress cannot be opened safely right now (empty: it can): the host firewall does not
 * fence the egress bridge, or something listens on all addresses inside the proxy port range.
 * Checked before every egress run, and by `doctor`.
 */
export function fenceAndPortProblems(network: EgressNetwork): string[] {
  let fence: string[];
  try {
    fence = fenceProblems(network, readRules("iptables") ?? new Map(), readRules("ip6tables"));
  } catch (error) {
    fence = [`cannot read the host firewall: ${error instanceof Error ? error.message : String(error)}`];
  }
  const problems = fence.length > 0 ? [`the host is not fenced off from the egress network: ${fence.join("; ")}`] : [];
  const exposed = wildcardListeners();
  if (exposed.length > 0) problems.push(`a program listens on all addresses on port ${exposed.join(", ")}, inside the egress proxy range, so sandboxes could reach it`);
  return problems;
}

/** `doctor`'s view: prepares the egress network (idempotent) and reports what would refuse egress runs. */
export async function egressReadiness(engine: EngineClient): Promise<{ problems: string[]; fix: string }> {
  const network = await ensureEgressNetwork(engine);
  const problems = fenceAndPortProblems(network);
  return { problems, fix: problems.some((p) => p.startsWith("a program")) ? PORT_FIX : FENCE_FIX };
}
