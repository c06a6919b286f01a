import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { AuditLog, type AuditRecord, explain, followEntries, initAuditDir, readEntries, verifyLog } from "../../src/audit/index.ts";
import { leafHash, toHex } from "../../src/audit/merkle.ts";
import { FileLock, isAegisError } from "../../src/shared/index.ts";
import { buildLog, decisionRecord, emptyAuditDir, freshDir, useTempRoot } from "./helpers.ts";

useTempRoot();

const segmentFiles = (dir: string) => readdirSync(dir).filter((f) => f.startsWith("segment-")).sort();
const checkpointLines = (dir: string) => readFileSync(join(dir, "checkpoints.jsonl"), "utf8").trimEnd().split("\n");

describe("audit log", () => {
  test("audit: an empty initialised log verifies", async () => {
    const dir = await emptyAuditDir();
    expect(await verifyLog(dir)).toMatchObject({ ok: true, entries: 0, checkpoints: 1 });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "signing.key")).mode & 0o777).toBe(0o600);
  });

  test("audit: init refuses to replace a key and open without a key says to run init", async () => {
    const dir = await emptyAuditDir();
    await expect(initAuditDir(dir)).rejects.toThrow(/already exists/);
    const missing = join(freshDir(), "audit");
    await expect(AuditLog.open(missing)).rejects.toThrow(/aegisclaw init/);
    try {
      await AuditLog.open(missing);
    } catch (error) {
      expect(isAegisError(error, "unavailable")).toBe(true);
    }
  });

  test("audit: append returns the stored entry, whose hash is the leaf hash of its line", async () => {
    const dir = await emptyAuditDir();
    const log = await AuditLog.open(dir);
    const first = await log.append(decisionRecord(1));
    const second = await log.append(decisionRecord(2));
    await log.close();
    expect(first).toMatchObject({ seq: 1, prev: "0".repeat(64), runId: "run-1" });
    expect(second.prev).toBe(first.hash);
    const line = readFileSync(join(dir, "segment-000001.jsonl"), "utf8").split("\n")[0] as string;
    expect(first.hash).toBe(toHex(leafHash(Buffer.from(line))));
    expect(line).not.toContain('"hash"');
  });

  test("audit: schema-invalid records are rejected with bad-input and nothing is written", async () => {
    const dir = await emptyAuditDir();
    const log = await AuditLog.open(dir);
    const bad: unknown[] = [
      { type: "nope", actor: { name: "x", source: "cli" } },
      { type: "decision", actor: { name: "", source: "cli" } },
      { type: "decision", actor: { name: "x", source: "smtp" } },
      { ...decisionRecord(1), secret: "hunter2" },
      { ...decisionRecord(1), requestHash: "xyz" },
      { ...decisionRecord(1), request: { n: Number.NaN } },
      { ...decisionRecord(1), request: { big: "x".repeat(2 * 1024 * 1024) } },
    ];
    for (const record of bad) {
      const error = await log.append(record as AuditRecord).catch((e: unknown) => e);
      expect(isAegisError(error, "bad-input"), String(error)).toBe(true);
    }
    await log.close();
    expect(readFileSync(join(dir, "segment-000001.jsonl"), "utf8")).toBe("");
    expect((await verifyLog(dir)).entries).toBe(0);
  });

  test("audit: a record that cannot be written fails alone in its batch; the others take consecutive seqs", async () => {
    const dir = await emptyAuditDir();
    const log = await AuditLog.open(dir);
    const records = Array.from({ length: 12 }, (_, i) => (i % 4 === 1 ? { ...decisionRecord(i), request: i % 8 === 1 ? { n: Number.POSITIVE_INFINITY } : { big: "x".repeat(1024 * 1024) } } : decisionRecord(i)));
    const outcomes = await Promise.allSettled(records.map((record) => log.append(record)));
    await log.close();
    const refused = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [i] : []));
    expect(refused).toEqual([1, 5, 9]);
    for (const i of refused) expect(isAegisError((outcomes[i] as PromiseRejectedResult).reason, "bad-input")).toBe(true);
    const written = outcomes.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
    expect(written.map((entry) => entry.seq)).toEqual(Array.from({ length: 9 }, (_, i) => i + 1));
    expect(written.map((entry) => entry.runId)).toEqual(records.filter((_, i) => !refused.includes(i)).map((record) => record.runId));
    expect(await verifyLog(dir)).toMatchObject({ ok: true, entries: 9 });
  });

  test("audit: concurrent appends in one process are group-committed in order", async () => {
    const dir = await emptyAuditDir();
    const log = await AuditLog.open(dir);
    const entries = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(decisionRecord(i))));
    await log.close();
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await verifyLog(dir)).toMatchObject({ ok: true, entries: 200 });
  });

  test("audit: a checkpoint asked for during a burst waits for the batch holding the lock", async () => {
    const dir = await emptyAuditDir();
    const log = await AuditLog.open(dir);
    const appends = Array.from({ length: 100 }, (_, i) => log.append(decisionRecord(i)));
    const checkpoints = Array.from({ length: 3 }, () => log.checkpoint());
    const more = Array.from({ length: 100 }, (_, i) => log.append(decisionRecord(100 + i)));
    await Promise.all([...appends, ...checkpoints, ...more]);
    await log.close();
    expect(await verifyLog(dir)).toMatchObject({ ok: true, entries: 200 });
  });

  test("audit: segments rotate by size and the chain continues across them", async () => {
    const dir = await buildLog(40, { segmentMaxBytes: 2048, checkpointEvery: 1000 });
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(statSync(join(dir, file)).size).toBeLessThanOrEqual(2048);
    expect(await verifyLog(dir)).toMatchObject({ ok: true, entries: 40, segments: files.length });
    // Reopening continues in the last segment.
    const log = await AuditLog.open(dir, { segmentMaxBytes: 2048 });
    expect((await log.append(decisionRecord(41))).seq).toBe(41);
    await log.close();
    expect((await verifyLog(dir)).ok).toBe(true);
  });

  test("audit: checkpoints every N entries, on demand and on close", async () => {
    const dir = await emptyAuditDir();
    const log = await AuditLog.open(dir, { checkpointEvery: 5 });
    for (let i = 1; i <= 12; i++) await log.append(decisionRecord(i));
    expect(checkpointLines(dir).map((l) => JSON.parse(l).treeSize)).toEqual([0, 5, 10]);
    const now = await log.checkpoint();
    expect(now.treeSize).toBe(12);
    await log.append(decisionRecord(13));
    await log.close();
    expect(checkpointLines(dir).map((l) => JSON.parse(l).treeSize)).toEqual([0, 5, 10, 12, 13]);
    const again = await AuditLog.open(dir);
    await again.close(); // nothing new: no extra checkpoint
    expect(checkpointLines(dir).length).toBe(5);
    expect(await verifyLog(dir)).toMatchObject({ ok: true, checkpoints: 5 });
  });

  test("audit: a torn final line is cut, recorded in a recovery entry, and the log verifies", async () => {
    const dir = await buildLog(5);
    const segment = join(dir, "segment-000001.jsonl");
    appendFileSync(segment, '{"actor":{"name":"half-writ');
    appendFileSync(join(dir, "checkpoints.jsonl"), '{"v":1,"treeSi');
    expect((await verifyLog(dir)).failure?.reason).toMatch(/incomplete last line/);
    const log = await AuditLog.open(dir);
    await log.close();
    const entries = [...readEntries(dir)];
    expect(entries.length).toBe(7);
    expect(entries[5]).toMatchObject({ seq: 6, type: "recovery", recovery: { segment: "segment-000001.jsonl", droppedBytes: 27 } });
    expect(entries[6]).toMatchObject({ seq: 7, type: "recovery", recovery: { segment: "checkpoints.jsonl", droppedBytes: 14 } });
    expect(await verifyLog(dir)).toMatchObject({ ok: true, entries: 7 });
  });

  test("audit: a stale or missing tree cache is rebuilt from the segments", async () => {
    const dir = await buildLog(9, { checkpointEvery: 4 });
    truncateSync(join(dir, "tree.bin"), 32 * 5); // as if a writer died before updating it
    let log = await AuditLog.open(dir);
    await log.append(decisionRecord(10));
    await log.close();
    expect(statSync(join(dir, "tree.bin")).size).toBe(32 * (2 * 10 - 2));
    expect((await verifyLog(dir)).ok).toBe(true);
    Bun.spawnSync(["rm", join(dir, "tree.bin")]);
    log = await AuditLog.open(dir);
    await log.close();
    expect(existsSync(join(dir, "tree.bin"))).toBe(true);
    expect((await verifyLog(dir)).ok).toBe(true);
  });

  test("audit: entries are filtered, followed and explained", async () => {
    const dir = await emptyAuditDir();
    const log = await AuditLog.open(dir);
    await log.append({ ...decisionRecord(1), runId: "run-x", decision: { kind: "allow", reasons: [{ rule: "scope-grant", message: "granted", scope: "shell.exec" }], approvedBy: "alice" } });
    await log.append({ type: "result", actor: { name: "agent", source: "cli" }, runId: "run-x", result: { exitCode: 3, durationMs: 12, timedOut: false, stdoutBytes: 5, stderrBytes: 0 } });
    await log.append({ ...decisionRecord(5), runId: "run-y" });
    expect([...readEntries(dir, { decision: "deny" })].map((e) => e.runId)).toEqual(["run-y"]);
    expect([...readEntries(dir, { type: "result" })].length).toBe(1);
    expect([...readEntries(dir, { since: new Date(Date.now() + 60_000) })].length).toBe(0);

    const byRun = explain(dir, "run-x");
    expect(byRun.decision?.seq).toBe(1);
    expect(byRun.result?.seq).toBe(2);
    expect(byRun.summary.join("\n")).toMatch(/ALLOW[\s\S]*scope-grant[\s\S]*approved by alice[\s\S]*exit 3/);
    expect(explain(dir, "2").decision?.seq).toBe(1);
    expect(() => explain(dir, "99")).toThrow(/no audit entry/);

    const controller = new AbortController();
    const seen: number[] = [];
    const following = (async () => {
      for await (const entry of followEntries(dir, { intervalMs: 20, signal: controller.signal })) {
        seen.push(entry.seq);
        if (seen.length === 2) controller.abort();
      }
    })();
    await Bun.sleep(50);
    await log.append(decisionRecord(7));
    await log.append(decisionRecord(8));
    await following;
    await log.close();
    expect(seen).toEqual([4, 5]);
  });

  test("audit: appends waiting for a lock another process holds fail after the timeout (never hang), and later ones succeed", async () => {
    const dir = await emptyAuditDir();
    const log = await AuditLog.open(dir, { lockTimeoutMs: 300 });
    // Another open file description of the lock file behaves as another process's flock.
    const holder = await FileLock.open(join(dir, "lock"));
    await holder.acquire();
    const started = performance.now();
    const outcomes = await Promise.allSettled([log.append(decisionRecord(1)), log.append(decisionRecord(2))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(performance.now() - started).toBeLessThan(10_000);
    holder.close();
    expect((await log.append(decisionRecord(3))).seq).toBe(1);
    await log.close();
    expect(await verifyLog(dir)).toMatchObject({ ok: true, entries: 1 });
  });
});
