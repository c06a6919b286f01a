import { readFileSync } from "node:fs";
import { AegisError } from "../shared/index.ts";
import { listSegments, segmentName, segmentPath, splitLines } from "./layout.ts";
import { Frontier, type Hash, leafHash } from "./merkle.ts";
import type { TreeStore } from "./tree-store.ts";

/** One line of the log as raw bytes, with where it lives. */
export interface RawLine {
  bytes: Buffer;
  segment: number;
  /** 1-based line number inside the segment. */
  line: number;
}

/**
 * Every complete line of every segment in order (a torn remainder is skipped: it is not an
 * entry). Whole segments are read at once: they are bounded by segmentMaxBytes.
 */
export function* rawLines(dir: string): Generator<RawLine> {
  for (const segment of listSegments(dir)) {
    const bytes = readFileSync(segmentPath(dir, segment));
    const { lines } = splitLines(bytes);
    let line = 0;
    for (const [start, end] of lines) yield { bytes: bytes.subarray(start, end), segment, line: ++line };
  }
}

/**
 * Recomputes tree.bin from the segment bytes (after it was found stale, e.g. a writer died
 * between fsyncing its entry and updating the cache) and returns the frontier at `count`.
 */
export function rebuildTree(dir: string, tree: TreeStore, count: number): Frontier {
  const frontier = new Frontier();
  tree.truncate(0);
  let batch: Hash[] = [];
  let position = 0;
  for (const { bytes, segment } of rawLines(dir)) {
    if (frontier.size === count) {
      throw new AegisError("integrity", `${segmentName(segment)} holds more entries than the end of the log says`, { hint: "run `aegisclaw logs verify`" });
    }
    batch.push(...frontier.push(leafHash(bytes)));
    if (batch.length >= 65_536) {
      tree.write(position, batch);
      position += batch.length;
      batch = [];
    }
  }
  tree.write(position, batch);
  if (frontier.size !== count) {
    throw new AegisError("integrity", `the log holds ${frontier.size} entries but its last entry has seq ${count}`, { hint: "run `aegisclaw logs verify`" });
  }
  return frontier;
}
