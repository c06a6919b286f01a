import { join } from "node:path";
import { pendingApprovals, resolveApproval, type ApprovalChoice } from "../../approvals/index.ts";
import { AegisError } from "../../shared/index.ts";
import { localActor } from "../actor.ts";
import { describeApproval } from "../approval-view.ts";
import type { CliContext } from "../context.ts";

const ACTIONS = "list | approve ID [--hash H] | deny ID";

/**
 * `approvals list | approve ID | deny ID`: answers requests waiting in any AegisClaw process of
 * this home (a `run` in another shell, the console's, the API's). `--hash` pins the exact
 * request that was reviewed: if it changed, the approval is refused.
 */
export async function runApprovals(action: string | undefined, args: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const runDir = join(ctx.home, "run");
  const me = localActor().name;
  switch (action) {
    case undefined:
    case "list": {
      const pending = await pendingApprovals(runDir, `cli:${me}`);
      if (ctx.json) ctx.stdout(`${JSON.stringify({ pending })}\n`);
      else if (pending.length === 0) ctx.stdout("no pending approvals\n");
      else ctx.stdout(`${pending.flatMap((request) => [...describeApproval(request), ""]).join("\n")}`);
      return 0;
    }
    case "approve":
    case "deny": {
      const id = args[0];
      if (!id) throw new AegisError("usage", `approvals ${action} needs the request ID`, { hint: "see pending ones with `aegisclaw approvals list`" });
      const hash = options.hash === undefined ? undefined : String(options.hash);
      if (hash !== undefined && !/^[0-9a-f]{64}$/.test(hash)) throw new AegisError("usage", "--hash must be the 64 hex characters shown by `approvals list`");
      const choice: ApprovalChoice = action === "approve" ? "approve" : "deny";
      const { resolution } = await resolveApproval(runDir, id, choice, me, "cli", hash);
      if (ctx.json) ctx.stdout(`${JSON.stringify({ resolution })}\n`);
      else ctx.stdout(`${resolution.outcome} ${id} (request ${resolution.requestHash.slice(0, 12)}…)\n`);
      return 0;
    }
    default:
      throw new AegisError("usage", `unknown approvals action "${action}"`, { hint: `use: aegisclaw approvals ${ACTIONS}` });
  }
}
