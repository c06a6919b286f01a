import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { type Hash, type NodeReader, popcount } from "./merkle.ts";

/**
 * tree.bin: every node of every complete perfect subtree, 32 bytes each, in post-order (a
 * leaf, then the nodes it completes). Append-only, so a writer adds 1 + trailing-ones(n)
 * hashes per entry, and any node is one pread away, which makes proofs O(log² n) reads.
 *
 * It is a cache, never trusted for verification: verifyLog recomputes everything from the
 * segment bytes, proofs are checked against the signed root before they are printed, and a
 * writer that finds it inconsistent rebuilds it from the log.
 */
export class TreeStore {
  private constructor(private readonly fd: number) {}

  /** Opens (creating) the store read-write, or read-only. */
  static open(path: string, readOnly = false): TreeStore {
    // Not "a+": O_APPEND would make Linux ignore the positions given to write().
    return new TreeStore(openSync(path, readOnly ? constants.O_RDONLY : constants.O_RDWR | constants.O_CREAT, 0o600));
  }

  /** Number of hashes stored. */
  nodeCount(): number {
    return Math.floor(fstatSync(this.fd).size / 32);
  }

  /** Hash at post-order position `position`. */
  readPosition(position: number): Hash {
    const out = new Uint8Array(32);
    if (readSync(this.fd, out, 0, 32, position * 32) !== 32) throw new RangeError(`tree.bin has no node ${position}`);
    return out;
  }

  /** Node reader for proofs and roots. */
  reader(): NodeReader {
    return (level, index) => this.readPosition(nodePosition(level, index));
  }

  /** Writes `nodes` starting at post-order position `position` (idempotent, so re-writes are harmless). */
  write(position: number, nodes: Hash[]): void {
    if (nodes.length === 0) return;
    const buffer = Buffer.allocUnsafe(nodes.length * 32);
    nodes.forEach((node, i) => buffer.set(node, i * 32));
    writeSync(this.fd, buffer, 0, buffer.length, position * 32);
  }

  /** Cuts the store to `nodes` hashes. */
  truncate(nodes: number): void {
    ftruncateSync(this.fd, nodes * 32);
  }

  /** Peaks (largest perfect subtree first) of the tree of the first `size` leaves. */
  peaks(size: number): Hash[] {
    const peaks: Hash[] = [];
    let start = 0;
    for (let level = 52; level >= 0; level--) {
      const width = 2 ** level;
      if (Math.floor(size / width) % 2 === 1) {
        peaks.push(this.readPosition(nodePosition(level, start / width)));
        start += width;
      }
    }
    return peaks;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Hashes stored for a tree of `leaves` leaves: each leaf plus each completed interior node. */
export function nodesFor(leaves: number): number {
  return 2 * leaves - popcount(leaves);
}

/**
 * Post-order position of the perfect subtree at `level`, `index`. It is completed by leaf
 * m-1 with m = (index+1)·2^level, right after the nodesFor(m-1) earlier hashes, the leaf and
 * the `level - 1` lower nodes that leaf completes first.
 */
export function nodePosition(level: number, index: number): number {
  const m = (index + 1) * 2 ** level;
  return nodesFor(m - 1) + level;
}
