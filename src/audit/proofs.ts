import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { AegisError } from "../shared/index.ts";
import { type Checkpoint, checkCheckpoint, readCheckpoints } from "./checkpoints.ts";
import { keyIdOf, loadPublicKey } from "./keys.ts";
import { files, listSegments, peekSeqPrev, segmentPath } from "./layout.ts";
import { consistencyPath, type Hash, inclusionPath, leafHash, memoryReader, type NodeReader, subtreeHash, toHex, fromHex, verifyConsistency, verifyInclusion } from "./merkle.ts";
import { rawLines } from "./rebuild.ts";
import { readLastLine } from "./tail.ts";
import { nodesFor, TreeStore } from "./tree-store.ts";

/** Proof that entry `seq` is in the tree signed by `checkpoint` (docs/audit-format.md). */
export interface InclusionProof {
  type: "aegisclaw.audit.inclusion.v1";
  seq: number;
  /** 0-based leaf index = seq - 1. */
  leafIndex: number;
  treeSize: number;
  /** The stored line (UTF-8, no newline); leafHash = SHA-256(0x00 || line). */
  line: string;
  leafHash: string;
  rootHash: string;
  /** RFC 9162 audit path, leaf to root, hex. */
  auditPath: string[];
  checkpoint: Checkpoint;
  publicKey: string;
}

/** Proof that the tree of `oldSize` entries is a prefix of the signed tree of `newSize`. */
export interface ConsistencyProof {
  type: "aegisclaw.audit.consistency.v1";
  oldSize: number;
  newSize: number;
  oldRoot: string;
  newRoot: string;
  /** RFC 9162 consistency proof nodes, hex. */
  proof: string[];
  checkpoint: Checkpoint;
  /** The signed checkpoint of exactly oldSize entries, when one exists. */
  oldCheckpoint?: Checkpoint;
  publicKey: string;
}

/** The checkpoint public key, for third parties: `aegisclaw logs pubkey`. */
export function publicKeyInfo(dir: string): { algorithm: "ed25519"; publicKey: string; keyId: string } {
  const publicKey = loadPublicKey(dir);
  return { algorithm: "ed25519", publicKey: toHex(publicKey), keyId: keyIdOf(publicKey) };
}

/** Inclusion proof of entry `seq` against the latest signed checkpoint. */
export function inclusionProof(dir: string, seq: number): InclusionProof {
  const { checkpoint, publicKey } = latestCheckpoint(dir);
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > checkpoint.treeSize) {
    throw new AegisError("bad-input", `entry ${seq} is not covered by the latest checkpoint (${checkpoint.treeSize} entries)`, {
      hint: "write one with `aegisclaw logs checkpoint`",
    });
  }
  const line = findLine(dir, seq);
  const leaf = leafHash(line);
  const root = fromHex(checkpoint.rootHash);
  const path = withTree(dir, checkpoint.treeSize, (read) => {
    const candidate = inclusionPath(read, seq - 1, checkpoint.treeSize);
    return verifyInclusion(seq - 1, checkpoint.treeSize, leaf, candidate, root) ? candidate : undefined;
  });
  return {
    type: "aegisclaw.audit.inclusion.v1",
    seq,
    leafIndex: seq - 1,
    treeSize: checkpoint.treeSize,
    line: line.toString("utf8"),
    leafHash: toHex(leaf),
    rootHash: checkpoint.rootHash,
    auditPath: path.map(toHex),
    checkpoint,
    publicKey: toHex(publicKey),
  };
}

/** Consistency proof from the tree of `oldSize` entries to the latest signed checkpoint. */
export function consistencyProof(dir: string, oldSize: number): ConsistencyProof {
  const { checkpoint, publicKey, all } = latestCheckpoint(dir, true);
  const newSize = checkpoint.treeSize;
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize) {
    throw new AegisError("bad-input", `OLD_SIZE must be between 0 and ${newSize} (the latest checkpoint), got ${oldSize}`);
  }
  const newRoot = fromHex(checkpoint.rootHash);
  const result = withTree(dir, newSize, (read) => {
    const oldRoot = subtreeHash(read, 0, oldSize);
    const proof = consistencyPath(read, oldSize, newSize);
    return verifyConsistency(oldSize, newSize, proof, oldRoot, newRoot) ? { oldRoot, proof } : undefined;
  });
  const oldCheckpoint = all.find((c) => c.treeSize === oldSize);
  if (oldCheckpoint && oldCheckpoint.rootHash !== toHex(result.oldRoot)) {
    throw new AegisError("integrity", `the signed checkpoint for ${oldSize} entries does not match the log`, { hint: "run `aegisclaw logs verify`" });
  }
  return {
    type: "aegisclaw.audit.consistency.v1",
    oldSize,
    newSize,
    oldRoot: toHex(result.oldRoot),
    newRoot: checkpoint.rootHash,
    proof: result.proof.map(toHex),
    checkpoint,
    ...(oldCheckpoint ? { oldCheckpoint } : {}),
    publicKey: toHex(publicKey),
  };
}

/** The latest checkpoint, signature checked; `all` only when asked (reading just the last line keeps proofs under a millisecond). */
function latestCheckpoint(dir: string, withAll = false): { checkpoint: Checkpoint; publicKey: Uint8Array; all: Checkpoint[] } {
  const publicKey = loadPublicKey(dir);
  const all: Checkpoint[] = [];
  if (withAll) {
    for (const parsed of readCheckpoints(dir)) if ("checkpoint" in parsed) all.push(parsed.checkpoint);
  } else {
    const last = existsSync(join(dir, files.checkpoints)) ? readLastLine(join(dir, files.checkpoints)) : undefined;
    const parsed = last ? readCheckpoints(dir, `${last.toString("utf8")}\n`)[0] : undefined;
    if (parsed && "checkpoint" in parsed) all.push(parsed.checkpoint);
  }
  const checkpoint = all[all.length - 1];
  if (!checkpoint) throw new AegisError("unavailable", "the audit log has no checkpoint yet", { hint: "run `aegisclaw logs checkpoint`" });
  const problem = checkCheckpoint(checkpoint, publicKey, keyIdOf(publicKey));
  if (problem) throw new AegisError("integrity", `latest checkpoint: ${problem}`, { hint: "run `aegisclaw logs verify`" });
  return { checkpoint, publicKey, all };
}

/**
 * Runs `build` against tree.bin, and if that cache is short or disagrees with the signed root
 * (the self-check inside `build`), once more against a tree recomputed from the segments.
 */
function withTree<T>(dir: string, size: number, build: (read: NodeReader) => T | undefined): T {
  let tree: TreeStore | undefined;
  try {
    tree = TreeStore.open(join(dir, files.tree), true);
    if (tree.nodeCount() >= nodesFor(size)) {
      const result = build(tree.reader());
      if (result !== undefined) return result;
    }
  } catch {
    // fall through to the slow path
  } finally {
    tree?.close();
  }
  const leaves: Hash[] = [];
  for (const { bytes } of rawLines(dir)) {
    if (leaves.length === size) break;
    leaves.push(leafHash(bytes));
  }
  const result = leaves.length === size ? build(memoryReader(leaves)) : undefined;
  if (result === undefined) throw new AegisError("integrity", "the log does not match its latest signed checkpoint", { hint: "run `aegisclaw logs verify`" });
  return result;
}

/** The line of entry `seq`: binary search over segments, then over byte offsets (lines are in seq order). */
function findLine(dir: string, seq: number): Buffer {
  const segments = listSegments(dir);
  let chosen: number | undefined;
  for (let lo = 0, hi = segments.length - 1; lo <= hi; ) {
    const mid = (lo + hi) >> 1;
    const first = firstSeq(segmentPath(dir, segments[mid] as number));
    if (first !== undefined && first <= seq) {
      chosen = segments[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (chosen === undefined) throw notFound(seq);
  const fd = openSync(segmentPath(dir, chosen), "r");
  try {
    const size = fstatSync(fd).size;
    let lo = 0; // a line start whose seq is <= target
    let hi = size; // every line starting at or after hi has seq > target
    while (hi - lo > 4096) {
      const mid = Math.floor((lo + hi) / 2);
      const start = nextLineStart(fd, mid, hi);
      if (start === undefined) {
        hi = mid;
        continue;
      }
      const found = peekSeqPrev(readLine(fd, start, size))?.seq;
      if (found === undefined) throw notFound(seq);
      if (found <= seq) lo = start;
      else hi = start;
    }
    for (let start = lo; start < size; ) {
      const line = readLine(fd, start, size);
      if (peekSeqPrev(line)?.seq === seq) return line;
      start += line.length + 1;
    }
  } finally {
    closeSync(fd);
  }
  throw notFound(seq);
}

function notFound(seq: number): AegisError {
  return new AegisError("integrity", `entry ${seq} is covered by a checkpoint but cannot be found in the log`, { hint: "run `aegisclaw logs verify`" });
}

function firstSeq(path: string): number | undefined {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    return size === 0 ? undefined : peekSeqPrev(readLine(fd, 0, size))?.seq;
  } finally {
    closeSync(fd);
  }
}

/** Start of the first line that begins after position `from` - 1 and before `limit`. */
function nextLineStart(fd: number, from: number, limit: number): number | undefined {
  const buffer = Buffer.allocUnsafe(4096);
  for (let pos = from - 1; pos < limit; pos += buffer.length) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, limit - pos), pos);
    const at = buffer.subarray(0, n).indexOf(0x0a);
    if (at >= 0) return pos + at + 1 < limit ? pos + at + 1 : undefined;
    if (n === 0) break;
  }
  return undefined;
}

/** The line starting at `start` (without its newline). */
function readLine(fd: number, start: number, size: number): Buffer {
  let length = 1024;
  for (;;) {
    const buffer = Buffer.allocUnsafe(Math.min(length, size - start));
    const n = readSync(fd, buffer, 0, buffer.length, start);
    const at = buffer.subarray(0, n).indexOf(0x0a);
    if (at >= 0) return buffer.subarray(0, at);
    if (start + n >= size) return buffer.subarray(0, n);
    length *= 4;
  }
}
