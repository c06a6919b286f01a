/**
 * A service of a multi-container run granted net.outbound is created on its run network (API
 * 1.41 attaches one network at create) and joins the egress network here, before it starts and
 * before the post-create check, which wants exactly those two networks. Only that service's
 * container joins: a sibling without the grant has no interface, and so no route, to any proxy.
 */
import { AegisError } from "../../shared/index.ts";
import type { EgressAttachment } from "../egress/session.ts";
import type { SandboxSpec } from "../types.ts";
import type { EngineClient } from "./engine-client.ts";

/** Connects `container` to the verified egress network (by id, so a look-alike of the same name is never joined); a no-op unless `spec` is a service granted egress. */
export async function joinEgressNetwork(engine: EngineClient, container: string, spec: SandboxSpec, egress: EgressAttachment | undefined): Promise<void> {
  if (spec.runNetwork === undefined || egress === undefined) return;
  if (spec.egress === undefined) throw new AegisError("internal", "an egress network was given for a service without egress");
  // No aliases: nothing on the egress network needs to find the service by name.
  await engine.request("POST", `/networks/${egress.networkId}/connect`, { body: { Container: container, EndpointConfig: { Aliases: [] } } });
}
