/**
 * Optional high-entropy detector (off by default). It flags runs of base64/base64url
 * characters that look random: at least {@link ENTROPY_MIN_LENGTH} long, containing a
 * digit, an upper- and a lower-case letter, with Shannon entropy of at least
 * {@link ENTROPY_THRESHOLD} bits per character.
 *
 * False positives: long mixed-case identifiers with digits, base64 data that is not secret
 * (hashes in lock files, inline images, cache keys). False negatives: low-entropy or
 * short secrets, and hex-only tokens. Hex-only and UUID-like runs (`[0-9a-fA-F-]`) are
 * deliberately never flagged: in process output they are overwhelmingly git SHAs, sha256
 * sums, container and request ids. Hex secrets are caught by registering them (`addSecret`).
 */
import { byteSet } from "./detectors.ts";

/** Shortest run considered. */
export const ENTROPY_MIN_LENGTH = 32;
/** Runs longer than this are judged in consecutive pieces of this size (bounds hold-back). */
export const ENTROPY_MAX_LENGTH = 1024;
/** Bits per character; random base64 of 32+ characters scores about 4.4–5.5, English-like identifiers 3.5–4.0. */
export const ENTROPY_THRESHOLD = 4.2;

// "=" is left out so `key=value` does not join the run; base64 padding simply stays visible.
const ALPHABET = byteSet("A-Za-z0-9+/_-");
const HEX_LIKE = byteSet("0-9a-fA-F-");
const DIGIT = byteSet("0-9");
const UPPER = byteSet("A-Z");
const LOWER = byteSet("a-z");

/** True when `run` (all alphabet bytes) should be redacted as high-entropy. */
export function isHighEntropy(run: Uint8Array): boolean {
  if (run.length < ENTROPY_MIN_LENGTH) return false;
  const counts = new Uint32Array(256);
  let hexOnly = true;
  let digit = false;
  let upper = false;
  let lower = false;
  for (const byte of run) {
    counts[byte]!++;
    if (HEX_LIKE[byte] === 0) hexOnly = false;
    if (DIGIT[byte] === 1) digit = true;
    else if (UPPER[byte] === 1) upper = true;
    else if (LOWER[byte] === 1) lower = true;
  }
  if (hexOnly || !digit || !upper || !lower) return false;
  let entropy = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / run.length;
    entropy -= p * Math.log2(p);
  }
  return entropy >= ENTROPY_THRESHOLD;
}

/**
 * Tracks maximal alphabet runs across chunks. A run's start depends only on earlier bytes
 * and its end on the first non-alphabet byte (or the length cap), so runs — and verdicts —
 * are the same however the stream is chunked.
 */
export class EntropyScanner {
  /** Absolute offset where the open run began, or -1. */
  runStart = -1;

  /**
   * Scans `buf[from, to)` (absolute offset of `buf[0]` is `base`) and reports flagged runs.
   * The caller keeps every byte from `runStart` on in `buf`.
   */
  scan(buf: Uint8Array, base: number, from: number, to: number, onMatch: (start: number, end: number) => void): void {
    let start = this.runStart;
    for (let i = from; i < to; i++) {
      if (ALPHABET[buf[i]!] === 1) {
        if (start < 0) start = base + i;
        else if (base + i - start === ENTROPY_MAX_LENGTH) {
          this.judge(buf, base, start, base + i, onMatch);
          start = base + i;
        }
      } else if (start >= 0) {
        this.judge(buf, base, start, base + i, onMatch);
        start = -1;
      }
    }
    this.runStart = start;
  }

  /** End of stream: judges the open run, if any. */
  finish(buf: Uint8Array, base: number, end: number, onMatch: (start: number, end: number) => void): void {
    if (this.runStart >= 0) this.judge(buf, base, this.runStart, end, onMatch);
    this.runStart = -1;
  }

  private judge(buf: Uint8Array, base: number, start: number, end: number, onMatch: (start: number, end: number) => void): void {
    if (end - start >= ENTROPY_MIN_LENGTH && isHighEntropy(buf.subarray(start - base, end - base))) onMatch(start, end);
  }
}
