import { beforeAll, describe, expect, test } from "bun:test";
import * as ed from "@noble/ed25519";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { verifyLog } from "../../src/audit/index.ts";
import { checkpointMessage } from "../../src/audit/checkpoints.ts";
import { keyIdOf } from "../../src/audit/keys.ts";
import { Frontier, leafHash, toHex } from "../../src/audit/merkle.ts";
import { canonicalJson } from "../../src/shared/index.ts";
import { allLines, buildLog, copyLog, writeLines, useTempRoot } from "./helpers.ts";

useTempRoot();

const COUNT = 30;
let pristine: string;
let segments: string[];

beforeAll(async () => {
  // ~700-byte entries in 3 KiB segments: 8 segments, checkpoints at 10, 20, 30 (and 30 again on close is skipped).
  pristine = await buildLog(COUNT, { checkpointEvery: 10, segmentMaxBytes: 3 * 1024 });
  segments = readdirSync(pristine).filter((f) => f.startsWith("segment-")).sort();
});

/** Copy of the pristine log with `edit` applied to the flat list of lines (grouped back per segment). */
function edited(edit: (lines: string[]) => string[]): string {
  const dir = copyLog(pristine);
  const lines = allLines(dir, segments);
  const texts = edit(lines.map((l) => l.text));
  // Keep the segment boundaries of the original; extra or missing lines land in the last segment touched.
  let cursor = 0;
  segments.forEach((file, s) => {
    const original = lines.filter((l) => l.file === file).length;
    const take = s === segments.length - 1 ? texts.length - cursor : original;
    writeLines(dir, file, texts.slice(cursor, cursor + take));
    cursor += take;
  });
  return dir;
}

describe("audit tamper detection", () => {
  test("audit: an untouched log verifies", async () => {
    expect(segments.length).toBeGreaterThan(3);
    const report = await verifyLog(pristine);
    expect(report).toMatchObject({ ok: true, entries: COUNT, segments: segments.length });
    expect(report.checkpoints).toBeGreaterThanOrEqual(4);
    expect(report.latestCheckpoint?.treeSize).toBe(COUNT);
  });

  test("audit: a flipped byte in an entry names that entry", async () => {
    for (const seq of [1, 7, 15, COUNT]) {
      const dir = edited((lines) => lines.map((text, i) => (i === seq - 1 ? text.replace("entry number", "entry Number") : text)));
      const report = await verifyLog(dir);
      expect(report.ok).toBe(false);
      expect(report.failure?.seq).toBe(seq);
    }
  });

  test("audit: a deleted line is reported as missing", async () => {
    const report = await verifyLog(edited((lines) => lines.filter((_, i) => i !== 11)));
    expect(report.failure).toMatchObject({ seq: 12 });
    expect(report.failure?.reason).toMatch(/missing/);
  });

  test("audit: a duplicated line is reported where it reappears", async () => {
    const report = await verifyLog(edited((lines) => [...lines.slice(0, 9), lines[8] as string, ...lines.slice(9)]));
    expect(report.failure).toMatchObject({ seq: 10 });
    expect(report.failure?.reason).toMatch(/appears again/);
  });

  test("audit: two reordered lines are detected at the first", async () => {
    const report = await verifyLog(edited((lines) => lines.map((text, i) => (i === 4 ? (lines[5] as string) : i === 5 ? (lines[4] as string) : text))));
    expect(report.failure).toMatchObject({ seq: 5 });
  });

  test("audit: an inserted forged line with a valid seq and prev is named", async () => {
    const report = await verifyLog(
      edited((lines) => {
        const previous = lines[12] as string;
        const forged = canonicalJson({ ...JSON.parse(lines[13] as string), note: "forged", prev: toHex(leafHash(Buffer.from(previous))) });
        return [...lines.slice(0, 13), forged, ...lines.slice(13)];
      }),
    );
    expect(report.failure).toMatchObject({ seq: 14 });
  });

  test("audit: truncating the tail by one or many entries contradicts the checkpoint", async () => {
    for (const drop of [1, 7]) {
      const report = await verifyLog(edited((lines) => lines.slice(0, COUNT - drop)));
      expect(report.failure).toMatchObject({ seq: COUNT - drop + 1 });
      expect(report.failure?.reason).toMatch(/removed from the end/);
    }
  });

  test("audit: an entry rewritten with the whole chain and tree recomputed fails at the signed root", async () => {
    for (const rewriteCache of [false, true]) {
      const dir = edited((lines) => {
        let prev = "0".repeat(64);
        return lines.map((text, i) => {
          const body = JSON.parse(text) as Record<string, unknown>;
          const line = canonicalJson({ ...body, prev, ...(i === 14 ? { note: "nothing to see" } : {}) });
          prev = toHex(leafHash(Buffer.from(line)));
          return line;
        });
      });
      if (rewriteCache) {
        // The attacker also rebuilds tree.bin, so nothing recorded at append time survives.
        const frontier = new Frontier();
        const nodes = allLines(dir, segments).flatMap((l) => frontier.push(leafHash(Buffer.from(l.text))));
        writeFileSync(join(dir, "tree.bin"), Buffer.concat(nodes));
      }
      const report = await verifyLog(dir);
      expect(report.ok).toBe(false);
      expect(report.failure?.reason).toMatch(/does not match the signed checkpoint/);
      // With the append-time cache the exact entry is named; without it, the first unsigned-for entry.
      expect(report.failure?.seq).toBe(rewriteCache ? 11 : 15);
    }
  });

  test("audit: a tampered checkpoint signature or root is detected", async () => {
    const file = (dir: string) => join(dir, "checkpoints.jsonl");
    for (const field of ["signature", "rootHash"] as const) {
      const dir = copyLog(pristine);
      const lines = readFileSync(file(dir), "utf8").trimEnd().split("\n");
      const last = JSON.parse(lines[lines.length - 1] as string) as Record<string, string>;
      const value = last[field] as string;
      last[field] = (value[0] === "a" ? "b" : "a") + value.slice(1);
      lines[lines.length - 1] = JSON.stringify(last);
      writeFileSync(file(dir), `${lines.join("\n")}\n`);
      const report = await verifyLog(dir);
      expect(report.failure).toMatchObject({ segment: "checkpoints.jsonl", line: lines.length });
      expect(report.failure?.reason).toMatch(/signature does not verify/);
    }
  });

  test("audit: re-signing with an attacker's key is caught by the key check or a pinned key", async () => {
    const dir = copyLog(pristine);
    const secret = ed.utils.randomSecretKey();
    const publicKey = ed.getPublicKey(secret);
    const keyId = keyIdOf(publicKey);
    const lines = readFileSync(join(dir, "checkpoints.jsonl"), "utf8").trimEnd().split("\n");
    const resigned = lines.map((text) => {
      const c = { ...(JSON.parse(text) as { treeSize: number; rootHash: string; time: string }), keyId };
      return JSON.stringify({ ...c, signature: toHex(ed.sign(checkpointMessage(c), secret)) });
    });
    writeFileSync(join(dir, "checkpoints.jsonl"), `${resigned.join("\n")}\n`);
    writeFileSync(join(dir, "signing.pub"), `${toHex(publicKey)}\n`);
    expect((await verifyLog(dir)).failure?.reason).toMatch(/does not belong to this log's signing key/);
    rmSync(join(dir, "signing.key"));
    const original = readFileSync(join(pristine, "signing.pub"), "utf8").trim();
    expect((await verifyLog(dir)).ok).toBe(true); // without a pin the swapped key is self-consistent...
    expect((await verifyLog(dir, { publicKey: original })).failure?.reason).toMatch(/signed by key/); // ...a pinned key is not fooled
  });

  test("audit: a replaced or deleted segment is detected", async () => {
    const other = await buildLog(COUNT, { checkpointEvery: 10, segmentMaxBytes: 3 * 1024 });
    const dir = copyLog(pristine);
    const target = segments[2] as string;
    writeFileSync(join(dir, target), readFileSync(join(other, target)));
    const firstSeq = (JSON.parse(readFileSync(join(pristine, target), "utf8").split("\n")[0] as string) as { seq: number }).seq;
    const report = await verifyLog(dir);
    expect(report.failure).toMatchObject({ seq: firstSeq, segment: target });

    const deleted = copyLog(pristine);
    rmSync(join(deleted, target));
    expect((await verifyLog(deleted)).failure).toMatchObject({ seq: firstSeq, segment: target, reason: "segment file is missing" });

    const lastDeleted = copyLog(pristine);
    rmSync(join(lastDeleted, segments[segments.length - 1] as string));
    expect((await verifyLog(lastDeleted)).failure?.reason).toMatch(/removed from the end/);
  });

  test("audit: deleting checkpoints.jsonl is detected", async () => {
    const dir = copyLog(pristine);
    rmSync(join(dir, "checkpoints.jsonl"));
    expect((await verifyLog(dir)).failure?.reason).toMatch(/no signed checkpoint/);
  });

  test("audit: property: any single-byte change in any segment is detected and located", async () => {
    const lines = allLines(pristine, segments);
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let trial = 0; trial < 150; trial++) {
      const target = lines[random(lines.length)] as (typeof lines)[number];
      const bytes = readFileSync(join(pristine, target.file));
      const lineStart = allLines(pristine, [target.file]).slice(0, target.index).reduce((sum, l) => sum + Buffer.byteLength(l.text) + 1, 0);
      const offset = lineStart + random(Buffer.byteLength(target.text) + 1); // the newline belongs to the line
      const dir = copyLog(pristine);
      const changed = Buffer.from(bytes);
      changed[offset] = ((changed[offset] as number) ^ (1 + random(255))) & 0xff;
      writeFileSync(join(dir, target.file), changed);
      const report = await verifyLog(dir);
      const seq = (JSON.parse(target.text) as { seq: number }).seq;
      expect(report.ok, `trial ${trial}: byte ${offset} of ${target.file}`).toBe(false);
      expect(report.failure?.seq, `trial ${trial}: byte ${offset} of ${target.file}: ${report.failure?.reason}`).toBe(seq);
    }
  });
});
