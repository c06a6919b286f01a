import { expect, test } from "bun:test";
import { join } from "node:path";
import { AuditLog, initAuditDir, RecentTail } from "../../src/audit/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

const actor = { name: "tester", source: "cli" as const };

test("recent tail: sees appends made after it started, by any writer, and drops what left the window", async () => {
  const dir = join(tempDir(), "audit");
  await initAuditDir(dir);
  const first = await AuditLog.open(dir);
  await first.append({ type: "decision", actor, note: "one" });
  const tail = new RecentTail(dir, 60_000);
  expect(tail.entries().map((e) => e.note)).toEqual(["one"]);
  // Another writer (another process's log handle) appends; the tail reads only the new bytes.
  const second = await AuditLog.open(dir);
  await second.append({ type: "decision", actor, note: "two" });
  await first.append({ type: "decision", actor, note: "three" });
  expect(tail.entries().map((e) => e.note)).toEqual(["one", "two", "three"]);
  // Ten minutes later nothing is inside a one-minute window.
  expect(tail.entries(Date.now() + 600_000)).toEqual([]);
  await first.close();
  await second.close();
});

test("recent tail: per-actor history counts decisions and denials inside the window only", async () => {
  const dir = join(tempDir(), "audit");
  await initAuditDir(dir);
  const log = await AuditLog.open(dir);
  const other = { name: "other", source: "api" as const };
  await log.append({ type: "decision", actor, decision: { kind: "allow", reasons: [] } });
  await log.append({ type: "decision", actor, decision: { kind: "deny", reasons: [] } });
  await log.append({ type: "result", actor, runId: "r-x" });
  await log.append({ type: "decision", actor: other, decision: { kind: "deny", reasons: [] } });
  const tail = new RecentTail(dir, 60_000);
  expect(tail.history(actor)).toEqual({ decisions: 2, denies: 1 });
  expect(tail.history(other)).toEqual({ decisions: 1, denies: 1 });
  expect(tail.history({ name: "nobody", source: "cli" })).toEqual({ decisions: 0, denies: 0 });
  await log.append({ type: "decision", actor, decision: { kind: "ask", reasons: [] } });
  expect(tail.history(actor)).toEqual({ decisions: 3, denies: 1 });
  expect(tail.history(actor, Date.now() + 120_000)).toEqual({ decisions: 0, denies: 0 });
  await log.close();
});

test("recent tail: follows the log into the next segment", async () => {
  const dir = join(tempDir(), "audit");
  await initAuditDir(dir);
  const log = await AuditLog.open(dir, { segmentMaxBytes: 600 });
  const tail = new RecentTail(dir, 60_000);
  for (let i = 0; i < 6; i++) await log.append({ type: "decision", actor, decision: { kind: "allow", reasons: [] }, note: `n${i}` });
  expect(tail.history(actor).decisions).toBeGreaterThan(0);
  const before = tail.history(actor).decisions;
  for (let i = 6; i < 12; i++) await log.append({ type: "decision", actor, decision: { kind: "deny", reasons: [] }, note: `n${i}` });
  // Each entry is ~200 bytes, so the log rolled over at least once more; the newest entry is seen.
  expect(tail.entries().at(-1)?.note).toBe("n11");
  expect(tail.history(actor).denies).toBeGreaterThan(0);
  expect(tail.history(actor).decisions).toBeGreaterThanOrEqual(before);
  await log.close();
});
