/**
 * The output of a multi-container run's sidecars: each one attached before it starts, its
 * frames demultiplexed into the run's output limit of its own, and handed to io.service(name).
 * Past the limit its output is cut, with one line saying so; the sidecar is not killed (only
 * the main service's output limit ends a run).
 */
import type { SandboxIo } from "../types.ts";
import { dockerError } from "./docker-errors.ts";
import type { RunContext } from "./run-container.ts";
import { createOutputSink, pump, settleWithin } from "./run-container.ts";

/** A followed sidecar; `stop` waits briefly for output in flight, then detaches. */
export interface FollowedOutput {
  stop(): Promise<void>;
}

const NOT_FOLLOWED: FollowedOutput = { stop: async () => {} };
/** The sidecar still runs when it is detached (it is removed next): a moment for what it already wrote, not a cold run's full drain. */
const SIDECAR_DRAIN_MS = 200;

/** Attaches to `container` (created, not yet started) and forwards its output; a no-op without io.service. */
export async function followSidecarOutput(ctx: RunContext, container: string, name: string, limit: number, io: SandboxIo): Promise<FollowedOutput> {
  if (!io.service) return NOT_FOLLOWED;
  const sink = io.service(name);
  const output = createOutputSink(limit, sink, (why) => {
    if (why === "output") sink.stderr(new TextEncoder().encode(`\n(output of service ${name} cut at ${limit} bytes)\n`));
  });
  const attach = new AbortController();
  const response = await ctx.engine.request("POST", `/containers/${container}/attach`, { query: { stream: 1, stdout: 1, stderr: 1 }, signal: attach.signal }).catch((error: unknown) => {
    throw dockerError(error, ctx.socketPath, `attaching to service ${name}`);
  });
  const drained = pump(response, output.push);
  return {
    async stop() {
      await settleWithin(drained, SIDECAR_DRAIN_MS);
      output.close();
      attach.abort();
    },
  };
}
