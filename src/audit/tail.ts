import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { AegisError, fsyncDir } from "../shared/index.ts";
import { files, listSegments, segmentName, segmentPath } from "./layout.ts";
import { leafHash, toHex } from "./merkle.ts";
import { GENESIS_PREV } from "./constants.ts";

/** What a crash left behind and recovery cut off. */
export interface Recovery {
  segment: string;
  droppedBytes: number;
}

/** Where the log ends, as found on disk under the lock. */
export interface TailState {
  /** Index of the last segment (the one appended to). */
  segment: number;
  /** Bytes of complete lines in that segment. */
  offset: number;
  /** Number of entries = seq of the last entry. */
  count: number;
  /** Hex hash of the last entry (GENESIS_PREV when empty). */
  lastHash: string;
  recoveries: Recovery[];
}

const CHUNK = 64 * 1024;

/**
 * Finds the end of the log, cutting off a torn final line first. Called with the exclusive
 * lock held, so nobody is mid-write: a final line without a newline, or one that is not JSON,
 * can only be a write that a crash interrupted. Such a write was never acknowledged (append
 * resolves after fsync of the whole line), so dropping it loses nothing that was promised.
 */
export function loadTail(dir: string): TailState {
  let segments = listSegments(dir);
  if (segments.length === 0) {
    closeSync(openSync(segmentPath(dir, 1), "a", 0o600));
    fsyncDir(dir);
    segments = [1];
  }
  const last = segments[segments.length - 1] as number;
  const recoveries: Recovery[] = [];
  const dropped = cutTornTail(segmentPath(dir, last), true);
  if (dropped > 0) recoveries.push({ segment: segmentName(last), droppedBytes: dropped });
  const checkpointsPath = join(dir, files.checkpoints);
  if (existsSync(checkpointsPath)) {
    const droppedCheckpoint = cutTornTail(checkpointsPath, false);
    if (droppedCheckpoint > 0) recoveries.push({ segment: files.checkpoints, droppedBytes: droppedCheckpoint });
  }

  const offset = fileSize(segmentPath(dir, last));
  for (let i = segments.length - 1; i >= 0; i--) {
    const index = segments[i] as number;
    const line = readLastLine(segmentPath(dir, index));
    if (!line) continue;
    const seq = seqOf(line);
    if (seq === undefined) throw new AegisError("integrity", `the last entry of ${segmentName(index)} is not a valid audit entry`, { hint: "run `aegisclaw logs verify`" });
    return { segment: last, offset, count: seq, lastHash: toHex(leafHash(line)), recoveries };
  }
  return { segment: last, offset, count: 0, lastHash: GENESIS_PREV, recoveries };
}

/** `seq` of an entry line, or undefined when the line is not an entry. */
export function seqOf(line: Uint8Array): number | undefined {
  try {
    const value = JSON.parse(Buffer.from(line).toString("utf8")) as { seq?: unknown };
    return typeof value.seq === "number" && Number.isSafeInteger(value.seq) && value.seq > 0 ? value.seq : undefined;
  } catch {
    return undefined;
  }
}

/** Size of a file in bytes. */
export function fileSize(path: string): number {
  const fd = openSync(path, "r");
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

/** The last newline-terminated line of a file (without the newline), or undefined if it has none. */
export function readLastLine(path: string): Buffer | undefined {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const end = size - 1; // position of the final newline
    const start = lastNewlineBefore(fd, end) + 1;
    const line = Buffer.allocUnsafe(end - start);
    readSync(fd, line, 0, line.length, start);
    return line;
  } finally {
    closeSync(fd);
  }
}

/** Position of the last "\n" strictly before `limit`, or -1. */
function lastNewlineBefore(fd: number, limit: number): number {
  const buffer = Buffer.allocUnsafe(CHUNK);
  let end = limit;
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    readSync(fd, buffer, 0, end - start, start);
    const at = buffer.subarray(0, end - start).lastIndexOf(0x0a);
    if (at >= 0) return start + at;
    end = start;
  }
  return -1;
}

/** Truncates bytes after the last newline and, for segments, a final line that is not an entry. */
function cutTornTail(path: string, isSegment: boolean): number {
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return 0;
    let cut = lastNewlineBefore(fd, size) + 1;
    if (cut > 0) {
      const lineStart = lastNewlineBefore(fd, cut - 1) + 1;
      const line = Buffer.allocUnsafe(cut - 1 - lineStart);
      readSync(fd, line, 0, line.length, lineStart);
      if (!isWellFormed(line, isSegment)) cut = lineStart;
    }
    if (cut === size) return 0;
    ftruncateSync(fd, cut);
    fsyncSync(fd);
    return size - cut;
  } finally {
    closeSync(fd);
  }
}

function isWellFormed(line: Buffer, isSegment: boolean): boolean {
  if (isSegment) return seqOf(line) !== undefined;
  try {
    JSON.parse(line.toString("utf8"));
    return true;
  } catch {
    return false;
  }
}
