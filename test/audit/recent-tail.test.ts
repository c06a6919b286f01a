import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AuditLog, RecentTail, type WrittenLines } from "../../src/audit/index.ts";
import { emptyAuditDir, useTempRoot } from "./helpers.ts";

useTempRoot();

const actor = { name: "tester", source: "cli" as const };
// The tests below look at the files on every call (probe window 0); the last two use a window.

test("recent tail: sees appends made after it started, by any writer, and drops what left the window", async () => {
  const dir = await emptyAuditDir();
  const first = await AuditLog.open(dir);
  await first.append({ type: "decision", actor, note: "one" });
  const tail = new RecentTail(dir, 60_000, 0);
  expect(tail.history(actor).decisions).toBe(1);
  // Another writer (another process's log handle) appends; the tail reads only the new bytes.
  const second = await AuditLog.open(dir);
  await second.append({ type: "decision", actor, note: "two" });
  await first.append({ type: "decision", actor, note: "three" });
  expect(tail.history(actor).decisions).toBe(3);
  // Ten minutes later nothing is inside a one-minute window.
  expect(tail.history(actor, Date.now() + 600_000).decisions).toBe(0);
  await first.close();
  await second.close();
});

test("recent tail: lines its own process announced are counted from the announcement, not read back", async () => {
  const dir = await emptyAuditDir();
  const log = await AuditLog.open(dir);
  const tail = new RecentTail(dir, 60_000, 0);
  expect(tail.history(actor).decisions).toBe(0);
  const announced: WrittenLines[] = [];
  log.onWritten((lines) => {
    announced.push(lines);
    tail.noteWritten(lines);
  });
  await log.append({ type: "decision", actor, decision: { kind: "deny", reasons: [] } });
  // Blank the line on disk (same length): read back, it would count nothing.
  const [lines] = announced;
  const path = join(dir, "segment-000001.jsonl");
  const bytes = readFileSync(path);
  bytes.fill(0x20, lines?.start, (lines?.end ?? 1) - 1);
  writeFileSync(path, bytes);
  expect(tail.history(actor)).toEqual({ decisions: 1, denies: 1 });
  await log.close();
});

test("recent tail: an announcement of lines already read, and a writer that does not announce, are each counted once", async () => {
  const dir = await emptyAuditDir();
  const announcing = await AuditLog.open(dir);
  const silent = await AuditLog.open(dir);
  const tail = new RecentTail(dir, 60_000, 0);
  expect(tail.history(actor).decisions).toBe(0);
  let late: WrittenLines | undefined;
  const stop = announcing.onWritten((lines) => (late = lines));
  await announcing.append({ type: "decision", actor, note: "read before its announcement" });
  expect(tail.history(actor).decisions).toBe(1);
  if (late) tail.noteWritten(late);
  expect(tail.history(actor).decisions).toBe(1);
  stop();
  announcing.onWritten((lines) => tail.noteWritten(lines));
  for (let i = 0; i < 6; i++) await (i % 2 ? silent : announcing).append({ type: "decision", actor, decision: { kind: i % 3 ? "allow" : "deny", reasons: [] } });
  expect(tail.history(actor)).toEqual({ decisions: 7, denies: 2 });
  await announcing.close();
  await silent.close();
});

test("recent tail: per-actor history counts decisions and denials inside the window only", async () => {
  const dir = await emptyAuditDir();
  const log = await AuditLog.open(dir);
  const other = { name: "other", source: "api" as const };
  await log.append({ type: "decision", actor, decision: { kind: "allow", reasons: [] } });
  await log.append({ type: "decision", actor, decision: { kind: "deny", reasons: [] } });
  await log.append({ type: "result", actor, runId: "r-x" });
  await log.append({ type: "decision", actor: other, decision: { kind: "deny", reasons: [] } });
  const tail = new RecentTail(dir, 60_000, 0);
  expect(tail.history(actor)).toEqual({ decisions: 2, denies: 1 });
  expect(tail.history(other)).toEqual({ decisions: 1, denies: 1 });
  expect(tail.history({ name: "nobody", source: "cli" })).toEqual({ decisions: 0, denies: 0 });
  await log.append({ type: "decision", actor, decision: { kind: "ask", reasons: [] } });
  expect(tail.history(actor)).toEqual({ decisions: 3, denies: 1 });
  expect(tail.history(actor, Date.now() + 120_000)).toEqual({ decisions: 0, denies: 0 });
  await log.close();
});

test("recent tail: follows the log into the next segments and keeps every count of the window", async () => {
  const dir = await emptyAuditDir();
  const log = await AuditLog.open(dir, { segmentMaxBytes: 600 });
  const tail = new RecentTail(dir, 60_000, 0);
  expect(tail.history(actor).decisions).toBe(0);
  // Each entry is ~200 bytes: the log rolls over every few appends, several times between calls.
  // Another writer's roll-over is noticed once its old segment stops growing, a segment per call.
  const caughtUp = () => {
    for (let call = 0; call < 9; call++) tail.history(actor);
    return tail.history(actor);
  };
  for (let i = 0; i < 6; i++) await log.append({ type: "decision", actor, decision: { kind: "allow", reasons: [] }, note: `n${i}` });
  expect(caughtUp()).toEqual({ decisions: 6, denies: 0 });
  for (let i = 6; i < 12; i++) await log.append({ type: "decision", actor, decision: { kind: "deny", reasons: [] }, note: `n${i}` });
  expect(caughtUp()).toEqual({ decisions: 12, denies: 6 });
  // Lines this process announces are counted at once, across its own roll-overs too.
  log.onWritten((lines) => tail.noteWritten(lines));
  for (let i = 0; i < 6; i++) {
    await log.append({ type: "decision", actor, decision: { kind: "deny", reasons: [] } });
    expect(tail.history(actor)).toEqual({ decisions: 13 + i, denies: 7 + i });
  }
  await log.close();
});

test("recent tail: within the probe window another writer's lines wait, the lines announced here count at once", async () => {
  const dir = await emptyAuditDir();
  const own = await AuditLog.open(dir);
  const other = await AuditLog.open(dir);
  const tail = new RecentTail(dir, 60_000, 60_000);
  own.onWritten((lines) => tail.noteWritten(lines));
  await own.append({ type: "decision", actor, decision: { kind: "allow", reasons: [] } });
  // The first call looks at the files and starts the window.
  expect(tail.history(actor).decisions).toBe(1);
  await other.append({ type: "decision", actor, decision: { kind: "deny", reasons: [] } });
  expect(tail.history(actor)).toEqual({ decisions: 1, denies: 0 });
  // An announced range that starts where the other writer's line does is not reached without a look.
  await own.append({ type: "decision", actor, decision: { kind: "allow", reasons: [] } });
  expect(tail.history(actor).decisions).toBe(1);
  const windowless = new RecentTail(dir, 60_000, 0);
  expect(windowless.history(actor)).toEqual({ decisions: 3, denies: 1 });
  await own.close();
  await other.close();
});

test("recent tail: lines announced where the tail stands count without looking at the files", async () => {
  const dir = await emptyAuditDir();
  const log = await AuditLog.open(dir);
  const tail = new RecentTail(dir, 60_000, 60_000);
  expect(tail.history(actor).decisions).toBe(0);
  log.onWritten((lines) => tail.noteWritten(lines));
  for (let i = 1; i <= 3; i++) {
    await log.append({ type: "decision", actor, decision: { kind: i === 2 ? "deny" : "allow", reasons: [] } });
    expect(tail.history(actor)).toEqual({ decisions: i, denies: i >= 2 ? 1 : 0 });
  }
  await log.close();
});
