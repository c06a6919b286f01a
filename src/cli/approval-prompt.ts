import type { ApprovalRequest } from "../approvals/index.ts";
import type { App } from "../app.ts";
import type { EventEnvelope } from "../core/index.ts";
import { describeApproval } from "./approval-view.ts";
import type { CliContext } from "./context.ts";

/**
 * While `run` waits for a person: on a terminal it asks inline (y/N), racing any console or
 * `approvals approve` in another shell — whichever answers first wins, the queue takes one
 * answer only. Without a terminal it says how to answer from elsewhere. Returns a stop function.
 */
export function promptForApprovals(app: App, ctx: CliContext, who: string, interactive: boolean): () => void {
  let stopPrompt: (() => void) | undefined;
  const unsubscribe = app.bus.subscribe((event: EventEnvelope) => {
    if (event.type === "approval.requested") {
      const request = (event as EventEnvelope<"approval.requested">).data;
      if (request.pid !== process.pid) return;
      ctx.stderr(`aegisclaw: this run needs a person's approval\n${describeApproval(request).join("\n")}\n`);
      if (interactive) stopPrompt = ask(app, ctx, request, who);
      else ctx.stderr(`aegisclaw: waiting for an answer: \`aegisclaw approvals approve ${request.id}\` (or deny) from another shell, or the console (\`aegisclaw\`)\n`);
    } else if (event.type === "approval.resolved") {
      const resolution = (event as EventEnvelope<"approval.resolved">).data;
      stopPrompt?.();
      stopPrompt = undefined;
      ctx.stderr(`aegisclaw: ${resolution.outcome} by ${resolution.by} via ${resolution.via}\n`);
    }
  });
  return () => {
    unsubscribe();
    stopPrompt?.();
  };
}

/** Reads one line from the terminal; y or yes approves this request once, anything else denies. */
function ask(app: App, ctx: CliContext, request: ApprovalRequest, who: string): () => void {
  ctx.stderr("approve this run? [y/N] ");
  let line = "";
  const stop = () => {
    process.stdin.off("data", onData);
    process.stdin.pause();
  };
  const onData = (chunk: Buffer | string) => {
    line += chunk.toString();
    const newline = line.indexOf("\n");
    if (newline === -1) return;
    stop();
    const yes = /^\s*y(es)?\s*$/i.test(line.slice(0, newline));
    try {
      app.approvals.resolve(request.id, request.requestHash, yes ? "approve" : "deny", who, "tty");
    } catch {
      // Already answered elsewhere (console, another shell): that answer stands.
    }
  };
  process.stdin.on("data", onData);
  process.stdin.resume();
  return stop;
}
