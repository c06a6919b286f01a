/**
 * A separate process that holds one pending approval on its control socket, like a `run`
 * waiting in another shell: prints the request as JSON, then its resolution, then exits.
 * Usage: bun holder.ts RUN_DIR [EXPIRES_MS]
 */
import { ApprovalQueue, startControlServer } from "../../src/approvals/index.ts";
import { EventBus } from "../../src/core/index.ts";
import { approvalRequest } from "./fixtures.ts";

const [runDir, expires] = process.argv.slice(2);
if (!runDir) throw new Error("usage: holder.ts RUN_DIR [EXPIRES_MS]");
const bus = new EventBus();
const queue = new ApprovalQueue(bus);
const server = startControlServer(runDir, bus, queue);
const request = approvalRequest({}, Number(expires ?? 30_000));
const waiting = queue.request(request);
console.log(JSON.stringify(request));
waiting.then((resolution) => {
  console.log(JSON.stringify(resolution));
  server.close();
});
