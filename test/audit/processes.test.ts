import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AuditLog, readEntries, verifyLog } from "../../src/audit/index.ts";
import { emptyAuditDir, useTempRoot } from "./helpers.ts";

useTempRoot();

const CHILD = join(import.meta.dir, "fixtures", "append-child.ts");

function spawnChild(args: string[]) {
  return Bun.spawn([process.execPath, CHILD, ...args], { stdout: "pipe", stderr: "pipe" });
}

/** Acknowledged appends a child printed: "seq writer i" per line (a partial last line is ignored). */
function acknowledged(stdout: string): Array<{ seq: number; runId: string }> {
  return stdout
    .split("\n")
    .filter((line) => /^\d+ \S+ \d+$/.test(line))
    .map((line) => {
      const [seq, writer, i] = line.split(" ");
      return { seq: Number(seq), runId: `${writer}-${i}` };
    });
}

describe("audit across processes", () => {
  test("audit: 20 kill -9 crashes during appends lose no acknowledged entry", async () => {
    const dir = await emptyAuditDir();
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const acked: Array<{ seq: number; runId: string }> = [];
    let killedMidRun = 0;
    for (let trial = 0; trial < 20; trial++) {
      const child = spawnChild([dir, "100000", `t${trial}`, String(1 + random(8)), "25"]);
      await Bun.sleep(60 + random(250));
      child.kill(9);
      await child.exited;
      if (child.signalCode === "SIGKILL") killedMidRun += 1;
      acked.push(...acknowledged(await new Response(child.stdout).text()));
      // Reopening (recovery under the lock) then verifying must succeed after every crash.
      const log = await AuditLog.open(dir, { checkpointEvery: 25, segmentMaxBytes: 16 * 1024 });
      await log.close();
      const report = await verifyLog(dir);
      expect(report.failure, `trial ${trial}`).toBeUndefined();
      expect(report.ok).toBe(true);
    }
    expect(killedMidRun).toBe(20);
    expect(acked.length).toBeGreaterThan(20);
    const bySeq = new Map([...readEntries(dir)].map((e) => [e.seq, e]));
    for (const { seq, runId } of acked) expect(bySeq.get(seq)?.runId, `acknowledged seq ${seq}`).toBe(runId);
  }, 60_000);

  test("audit: 4 writer processes x 500 appends make one contiguous, valid chain", async () => {
    const dir = await emptyAuditDir();
    const children = ["a", "b", "c", "d"].map((w) => spawnChild([dir, "500", w, "1", "100"]));
    const outputs = await Promise.all(
      children.map(async (child) => {
        const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
        expect(await child.exited, stderr).toBe(0);
        return acknowledged(stdout);
      }),
    );
    expect(outputs.flat().length).toBe(2000);
    const entries = [...readEntries(dir)];
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    const runIds = new Set(entries.map((e) => e.runId));
    for (const { seq, runId } of outputs.flat()) expect(entries[seq - 1]?.runId).toBe(runId);
    expect(runIds.size).toBe(2000);
    const report = await verifyLog(dir);
    expect(report).toMatchObject({ ok: true, entries: 2000 });
    expect(report.latestCheckpoint?.treeSize).toBe(2000);
  }, 60_000);
});
