import { readdirSync } from "node:fs";
import { join } from "node:path";

/** File names inside the audit directory (documented in docs/audit-format.md). */
export const files = {
  privateKey: "signing.key",
  publicKey: "signing.pub",
  checkpoints: "checkpoints.jsonl",
  tree: "tree.bin",
  lock: "lock",
} as const;

const SEGMENT = /^segment-(\d{6,})\.jsonl$/;

/** `segment-000001.jsonl` for 1. */
export function segmentName(index: number): string {
  return `segment-${String(index).padStart(6, "0")}.jsonl`;
}

/** Segment indexes present in `dir`, ascending. Gaps are the verifier's business, not ours. */
export function listSegments(dir: string): number[] {
  const indexes: number[] = [];
  for (const name of readdirSync(dir)) {
    const match = SEGMENT.exec(name);
    if (match?.[1]) indexes.push(Number(match[1]));
  }
  return indexes.sort((a, b) => a - b);
}

/** Absolute path of segment `index`. */
export function segmentPath(dir: string, index: number): string {
  return join(dir, segmentName(index));
}

const NEWLINE = 0x0a;
const SEQ_KEY = Buffer.from(',"seq":');
const PREV_KEY = Buffer.from('"prev":"');

/** Byte ranges [start, end) of the complete lines in `bytes` (without newlines) plus the torn remainder length. */
export function splitLines(bytes: Uint8Array): { lines: Array<[number, number]>; tornBytes: number } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lines: Array<[number, number]> = [];
  let start = 0;
  for (let end = buffer.indexOf(NEWLINE, start); end !== -1; end = buffer.indexOf(NEWLINE, start)) {
    lines.push([start, end]);
    start = end + 1;
  }
  return { lines, tornBytes: bytes.length - start };
}

/**
 * Reads `seq` and `prev` of a canonical entry line without a full JSON parse (verification of
 * a million entries is dominated by JSON.parse otherwise). Canonical JSON sorts keys, only
 * `time` and `type` (strings, whose quotes are escaped) follow `seq`, so the last `,"seq":` is
 * the top-level one; `prev` follows only `actor`, `decision` and `note`, none of which may hold
 * a `prev` key, so the first `"prev":"` is the top-level one. Anything odd returns undefined
 * and the caller reports the line as malformed; the Merkle root over raw bytes is what proves
 * integrity, this only checks links and locates failures. `prevAt` is the offset of the 64
 * hex characters of `prev` inside `line`.
 */
export function peekSeqPrev(line: Buffer): { seq: number; prevAt: number } | undefined {
  const seqAt = line.lastIndexOf(SEQ_KEY);
  const prevAt = line.indexOf(PREV_KEY);
  if (seqAt < 0 || prevAt < 0 || line[0] !== 0x7b) return undefined;
  let seq = 0;
  let i = seqAt + SEQ_KEY.length;
  const digitsStart = i;
  for (; i < line.length; i++) {
    const c = line[i] as number;
    if (c < 0x30 || c > 0x39) break;
    seq = seq * 10 + (c - 0x30);
  }
  if (i === digitsStart || (line[i] !== 0x2c && line[i] !== 0x7d)) return undefined;
  const start = prevAt + PREV_KEY.length;
  if (line[start + 64] !== 0x22) return undefined;
  return { seq, prevAt: start };
}

/** The `prev` hex string of a line, given {@link peekSeqPrev}'s offset. */
export function prevText(line: Buffer, prevAt: number): string {
  return line.toString("latin1", prevAt, prevAt + 64);
}
