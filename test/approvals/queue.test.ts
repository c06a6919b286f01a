import { describe, expect, test } from "bun:test";
import { ApprovalQueue, ApprovalSession } from "../../src/approvals/index.ts";
import { EventBus, type EventEnvelope } from "../../src/core/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { approvalRequest } from "./fixtures.ts";

function queue() {
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe((event) => events.push(event));
  return { queue: new ApprovalQueue(bus), events };
}

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isAegisError(error) ? error.code : String(error);
  }
  return "no error";
}

describe("approval queue", () => {
  test("approval queue: an approval naming the pending request's hash resolves it, once", async () => {
    const { queue: q, events } = queue();
    const request = approvalRequest();
    const waiting = q.request(request);
    expect(q.list().map((r) => r.id)).toEqual([request.id]);
    const resolution = q.resolve(request.id, request.requestHash, "approve", "alice", "console");
    expect(await waiting).toEqual(resolution);
    expect(resolution).toMatchObject({ outcome: "approved", by: "alice", via: "console", scope: "once", requestHash: request.requestHash });
    expect(q.list()).toEqual([]);
    expect(errorCode(() => q.resolve(request.id, request.requestHash, "deny", "bob", "cli"))).toBe("bad-input");
    expect(events.map((e) => e.type)).toEqual(["approval.requested", "approval.resolved"]);
  });

  test("approval queue: a request modified after it was queued cannot use the earlier approval (hash binding)", async () => {
    const { queue: q } = queue();
    const original = approvalRequest();
    const modified = { ...original, argv: ["rm", "-rf", "/"], requestHash: crypto.getRandomValues(new Uint8Array(32)).toHex() };
    const waiting = q.request(modified);
    // The approver reviewed the original; its hash does not open the modified request.
    expect(errorCode(() => q.resolve(modified.id, original.requestHash, "approve", "alice", "console"))).toBe("denied");
    expect(errorCode(() => q.resolve(modified.id, "not-a-hash", "approve", "alice", "console"))).toBe("denied");
    expect(q.list()).toHaveLength(1);
    q.resolve(modified.id, modified.requestHash, "deny", "alice", "console");
    expect((await waiting).outcome).toBe("denied");
  });

  test("approval queue: an unanswered request expires and is reported as such", async () => {
    const { queue: q, events } = queue();
    const resolution = await q.request(approvalRequest({}, 30));
    expect(resolution).toMatchObject({ outcome: "expired", via: "timeout" });
    expect(q.list()).toEqual([]);
    expect(events.at(-1)?.type).toBe("approval.resolved");
  });

  test("approval queue: withdrawing (lockdown, cancelled requester) denies with the reason", async () => {
    const { queue: q } = queue();
    const withdraw = new AbortController();
    const waiting = q.request(approvalRequest(), withdraw.signal);
    withdraw.abort("lockdown");
    expect(await waiting).toMatchObject({ outcome: "denied", by: "lockdown", via: "system" });
    const already = new AbortController();
    already.abort("gone");
    expect((await q.request(approvalRequest(), already.signal)).outcome).toBe("denied");
  });

  test("approval queue: approve-for-session is recorded as such, and withdrawAll denies the rest", async () => {
    const { queue: q } = queue();
    const first = approvalRequest();
    const second = approvalRequest();
    const a = q.request(first);
    const b = q.request(second);
    q.resolve(first.id, first.requestHash, "approve-session", "alice", "console");
    q.withdrawAll("shutting down");
    expect((await a).scope).toBe("session");
    expect(await b).toMatchObject({ outcome: "denied", by: "shutting down" });
  });

  test("approval session: covers only requests with the identical hash", () => {
    const session = new ApprovalSession();
    const request = approvalRequest();
    session.remember(request.requestHash);
    expect(session.covers(request)).toBe(true);
    expect(session.covers({ ...request, id: "other-run" })).toBe(true);
    expect(session.covers(approvalRequest({ argv: request.argv }))).toBe(false);
  });
});
