import { EngineClient } from "../sandbox/docker/engine-client.ts";
import { EGRESS_NETWORK, egressReadiness } from "../sandbox/index.ts";
import type { Check } from "./checks.ts";

/**
 * egress: whether a run granted net.outbound could start. Optional (runs without network never
 * need it), so problems are warnings; an egress run itself refuses in the same situation.
 */
export async function checkEgress(socketPath: string, dockerUp: boolean): Promise<Check> {
  if (!dockerUp) return { id: "egress", status: "warn", message: "not checked: Docker is unreachable", fix: "start Docker first" };
  try {
    const { problems, fix } = await egressReadiness(new EngineClient(socketPath));
    if (problems.length > 0) return { id: "egress", status: "warn", message: `net.outbound runs are refused: ${problems.join("; ")}`, fix };
    return { id: "egress", status: "pass", message: `network ${EGRESS_NETWORK} fenced by the host firewall; net.outbound runs go through their own proxy` };
  } catch (error) {
    return { id: "egress", status: "warn", message: `cannot prepare the egress network: ${error instanceof Error ? error.message : String(error)}`, fix: "check Docker (aegisclaw doctor), then bash scripts/setup-egress.sh" };
  }
}
