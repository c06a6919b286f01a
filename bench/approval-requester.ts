/**
 * Child process of bench/console.ts: an AegisClaw process that queues approval requests on its
 * control socket, like a `run` waiting in another shell. Each request's argv carries the
 * wall-clock instant (ms) it was queued; the next one is queued after the
 * previous was answered. Usage: bun approval-requester.ts HOME COUNT
 */
import { createApp } from "../src/app.ts";
import { approvalRequest } from "../test/approvals/fixtures.ts";

const [home, count] = process.argv.slice(2);
if (!home || !count) throw new Error("usage: approval-requester.ts HOME COUNT");
const app = createApp(home);
app.startControl();
// The wall clock is the one clock both processes share (1 ms resolution); per-process
// timeOrigin and hrtime origins differ between processes.
const now = () => Date.now();
for (let i = 0; i < Number(count); i++) {
  const queued = now();
  await app.approvals.request(approvalRequest({ id: `r-bench-${process.pid}-${i}`, argv: ["bench-marker", String(queued)] }, 30_000));
}
await app.close();
