import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AegisError } from "../shared/index.ts";
import { type Checkpoint, checkCheckpoint, readCheckpoints } from "./checkpoints.ts";
import { FileLock } from "../shared/index.ts";
import { keyIdOf, loadPublicKey, loadSigningKey } from "./keys.ts";
import { files, listSegments, peekSeqPrev, prevText, segmentName, segmentPath, splitLines } from "./layout.ts";
import { equalBytes, Frontier, type Hash, fromHex, hexInto, leafHash, toHex } from "./merkle.ts";
import { GENESIS_PREV } from "./constants.ts";
import { fileSize } from "./tail.ts";
import { nodePosition, TreeStore } from "./tree-store.ts";

/** The first thing found wrong, and where. */
export interface VerifyFailure {
  /** The entry at fault, when one can be named. */
  seq?: number;
  /** File name inside the audit directory (a segment, checkpoints.jsonl, signing.pub). */
  segment: string;
  /** 1-based line in that file. */
  line?: number;
  reason: string;
}

/** Outcome of {@link verifyLog}. */
export interface VerifyReport {
  ok: boolean;
  entries: number;
  segments: number;
  checkpoints: number;
  latestCheckpoint?: Omit<Checkpoint, "signature" | "v">;
  /** Root hash of all entries read (hex). */
  rootHash: string;
  failure?: VerifyFailure;
}

/** Options for {@link verifyLog}. */
export interface VerifyOptions {
  /**
   * The public key (hex) to trust. Without it the key in signing.pub is used, which only
   * proves anything if that file is trustworthy: pin the key from an independent copy
   * (`aegisclaw logs pubkey` output stored elsewhere) to defeat a full-directory rewrite.
   */
  publicKey?: string;
}

class Failed extends Error {
  constructor(readonly failure: VerifyFailure) {
    super(failure.reason);
  }
}

/**
 * Recomputes every entry hash from the raw line bytes, checks seq continuity and prev links
 * across segments, recomputes the Merkle root at every checkpointed size and compares it
 * with the signed checkpoint, and checks every checkpoint signature. Stops at the first fault.
 */
export async function verifyLog(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (!existsSync(dir)) throw new AegisError("unavailable", `no audit log at ${dir}`, { hint: "run `aegisclaw init`" });
  const snapshot = await takeSnapshot(dir);
  const report: VerifyReport = { ok: false, entries: 0, segments: snapshot.segments.length, checkpoints: 0, rootHash: toHex(new Frontier().root()) };
  try {
    const checkpoints = checkSignatures(dir, snapshot.checkpointsText, options.publicKey);
    report.checkpoints = checkpoints.length;
    const latest = checkpoints[checkpoints.length - 1];
    if (latest) report.latestCheckpoint = { treeSize: latest.treeSize, rootHash: latest.rootHash, time: latest.time, keyId: latest.keyId };
    const frontier = checkEntries(dir, snapshot.segments, checkpoints, report);
    report.rootHash = toHex(frontier.root());
    report.ok = true;
  } catch (error) {
    if (!(error instanceof Failed)) throw error;
    report.failure = error.failure;
  }
  return report;
}

interface Snapshot {
  checkpointsText: string;
  segments: Array<{ index: number; size: number }>;
}

/**
 * Sizes and checkpoints read under a shared lock, so a writer's half-done batch is never
 * mistaken for a torn line and checkpoints never refer to entries we did not read.
 */
async function takeSnapshot(dir: string): Promise<Snapshot> {
  let lock: FileLock | undefined;
  try {
    lock = await FileLock.open(join(dir, files.lock));
    await lock.acquire({ shared: true, timeoutMs: 30_000 });
  } catch (error) {
    if (error instanceof AegisError && error.code === "unavailable" && lock) {
      lock.close();
      throw error;
    }
    lock = undefined; // read-only copy of a log: verify without the lock
  }
  try {
    let checkpointsText = "";
    try {
      checkpointsText = readFileSync(join(dir, files.checkpoints), "utf8");
    } catch {
      // reported below as "no signed checkpoint"
    }
    const segments = listSegments(dir).map((index) => ({ index, size: fileSize(segmentPath(dir, index)) }));
    return { checkpointsText, segments };
  } finally {
    lock?.close();
  }
}

function checkSignatures(dir: string, text: string, pinned: string | undefined): Checkpoint[] {
  let publicKey: Uint8Array;
  try {
    publicKey = pinned === undefined ? loadPublicKey(dir) : fromHex(pinned);
  } catch (error) {
    throw new Failed({ segment: files.publicKey, reason: (error as Error).message });
  }
  if (publicKey.length !== 32) throw new Failed({ segment: files.publicKey, reason: "public key is not 32 bytes" });
  if (existsSync(join(dir, files.privateKey))) {
    let derived: Uint8Array | undefined;
    try {
      derived = loadSigningKey(dir).publicKey;
    } catch {
      // unreadable private key (other user, read-only copy): nothing to compare
    }
    if (derived && !equalBytes(derived, publicKey)) {
      throw new Failed({ segment: files.publicKey, reason: "public key does not belong to this log's signing key (replaced?)" });
    }
  }
  const keyId = keyIdOf(publicKey);
  const out: Checkpoint[] = [];
  for (const parsed of readCheckpoints(dir, text)) {
    if ("error" in parsed) throw new Failed({ segment: files.checkpoints, line: parsed.line, reason: parsed.error });
    const problem = checkCheckpoint(parsed.checkpoint, publicKey, keyId);
    if (problem) throw new Failed({ segment: files.checkpoints, line: parsed.line, reason: `checkpoint for size ${parsed.checkpoint.treeSize}: ${problem}` });
    const previous = out[out.length - 1];
    if (previous && parsed.checkpoint.treeSize < previous.treeSize) {
      throw new Failed({ segment: files.checkpoints, line: parsed.line, reason: `checkpoint sizes go backwards (${previous.treeSize} then ${parsed.checkpoint.treeSize})` });
    }
    out.push(parsed.checkpoint);
  }
  if (out.length === 0) throw new Failed({ segment: files.checkpoints, reason: "no signed checkpoint (checkpoints.jsonl missing or emptied)" });
  return out;
}

function checkEntries(dir: string, segments: Snapshot["segments"], checkpoints: Checkpoint[], report: VerifyReport): Frontier {
  const frontier = new Frontier();
  const hints = new LeafHints(dir);
  const covered = checkpoints[checkpoints.length - 1]?.treeSize ?? 0;
  let nextCheckpoint = 0;
  let sinceCheckpoint: Hash[] = [];
  // The same value as ASCII bytes, compared in place against each line's prev field.
  const prevAscii = new TextEncoder().encode(GENESIS_PREV);
  let prevWhere = { segment: segmentName(1), line: 0 };
  const fail = (failure: VerifyFailure): never => {
    report.entries = frontier.size;
    throw new Failed(failure);
  };
  const checkRoots = (segment: string, line: number): void => {
    for (let c = checkpoints[nextCheckpoint]; c && c.treeSize === frontier.size; c = checkpoints[++nextCheckpoint]) {
      if (toHex(frontier.root()) === c.rootHash) continue;
      const start = frontier.size - sinceCheckpoint.length;
      const seq = hints.firstMismatch(start, sinceCheckpoint) ?? start + 1;
      fail({ seq, segment, line, reason: `Merkle root over entries 1..${c.treeSize} does not match the signed checkpoint: entries after ${start} were rewritten` });
    }
    if (checkpoints[nextCheckpoint - 1]?.treeSize === frontier.size) sinceCheckpoint = [];
  };
  checkRoots(segmentName(1), 0);

  segments.forEach(({ index, size }, position) => {
    const name = segmentName(index);
    if (index !== position + 1) fail({ seq: frontier.size + 1, segment: segmentName(position + 1), reason: "segment file is missing" });
    const bytes = readFileSync(segmentPath(dir, index)).subarray(0, size);
    const { lines, tornBytes } = splitLines(bytes);
    let lineNo = 0;
    for (const [start, end] of lines) {
      lineNo += 1;
      const expected = frontier.size + 1;
      const line = bytes.subarray(start, end);
      const fields = peekSeqPrev(line);
      if (!fields || (frontier.size >= covered && !parsesAs(line, fields))) fail({ seq: expected, segment: name, line: lineNo, reason: "line is not a valid audit entry (edited or corrupted)" });
      const { seq, prevAt } = fields as { seq: number; prevAt: number };
      const linked = sameBytes(line, prevAt, prevAscii);
      const prev = linked ? "" : prevText(line, prevAt);
      if ((seq !== expected || !linked) && expected > 1 && !hints.leafIs(expected - 2, Buffer.from(prevAscii).toString("latin1")) && hints.known(expected - 2)) {
        // The previous entry passed its own checks but is not what was appended there.
        fail({ seq: expected - 1, ...prevWhere, reason: `entry ${expected - 1} is not the entry appended at that position (inserted or modified)` });
      }
      if (seq !== expected) {
        const what = seq < expected ? `entry ${seq} appears again` : `entries ${expected}..${seq - 1} are missing`;
        fail({ seq: expected, segment: name, line: lineNo, reason: `found seq ${seq} where ${expected} was expected: ${what} (deleted, duplicated, reordered or inserted lines)` });
      }
      if (!linked) {
        const edited = seq > 1 && hints.leafIs(seq - 2, prev);
        fail(
          edited
            ? { seq: seq - 1, ...prevWhere, reason: `entry ${seq - 1} was modified: its hash no longer matches the link stored in entry ${seq}` }
            : { seq, segment: name, line: lineNo, reason: `prev link does not match the hash of entry ${seq - 1} (this entry or its predecessor was modified)` },
        );
      }
      const hash = leafHash(line);
      hexInto(hash, prevAscii);
      prevWhere = { segment: name, line: lineNo };
      frontier.push(hash);
      sinceCheckpoint.push(hash);
      checkRoots(name, lineNo);
    }
    if (tornBytes > 0) {
      const last = position === segments.length - 1;
      fail({
        seq: frontier.size + 1,
        segment: name,
        line: lineNo + 1,
        reason: last ? "incomplete final line: a crash interrupted a write (opening the log for writing recovers it)" : "segment ends in the middle of a line",
      });
    }
  });
  hints.close();
  report.entries = frontier.size;
  const missing = checkpoints[nextCheckpoint];
  if (missing) {
    const lastSegment = segments[segments.length - 1];
    fail({
      seq: frontier.size + 1,
      segment: lastSegment ? segmentName(lastSegment.index) : segmentName(1),
      reason: `log ends at entry ${frontier.size} but a signed checkpoint covers ${missing.treeSize} entries: entries were removed from the end or a segment was deleted`,
    });
  }
  return frontier;
}

function sameBytes(line: Buffer, at: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (line[at + i] !== expected[i]) return false;
  return true;
}

/** Full JSON check for entries no checkpoint signs yet (cheap field peeking is enough for signed ones). */
function parsesAs(line: Buffer, fields: { seq: number; prevAt: number }): boolean {
  try {
    const value = JSON.parse(Buffer.from(line).toString("utf8")) as { seq?: unknown; prev?: unknown; time?: unknown; type?: unknown };
    return value.seq === fields.seq && value.prev === prevText(line, fields.prevAt) && typeof value.time === "string" && typeof value.type === "string";
  } catch {
    return false;
  }
}

/**
 * Leaf hashes that writers recorded in tree.bin at append time. Untrusted (an attacker can
 * rewrite it too) and used only to say *which* entry changed once a fault is already proven.
 */
class LeafHints {
  private tree: TreeStore | undefined;

  constructor(dir: string) {
    try {
      this.tree = TreeStore.open(join(dir, files.tree), true);
    } catch {
      this.tree = undefined;
    }
  }

  known(index: number): boolean {
    return this.leaf(index) !== undefined;
  }

  leafIs(index: number, hex: string): boolean {
    const leaf = this.leaf(index);
    return leaf !== undefined && toHex(leaf) === hex;
  }

  /** Seq of the first of `leaves` (leaf index `start` onwards) that differs from the recorded hash. */
  firstMismatch(start: number, leaves: Hash[]): number | undefined {
    for (let i = 0; i < leaves.length; i++) {
      const recorded = this.leaf(start + i);
      if (!recorded) return undefined;
      if (!equalBytes(recorded, leaves[i] as Hash)) return start + i + 1;
    }
    return undefined;
  }

  private leaf(index: number): Hash | undefined {
    try {
      return this.tree?.readPosition(nodePosition(0, index));
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.tree?.close();
  }
}
