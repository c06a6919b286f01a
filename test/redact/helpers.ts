/** Shared fixtures for redactor tests: a seeded PRNG and chunked streaming. */
import type { RedactionStream } from "../../src/redact/index.ts";

/** Deterministic PRNG (mulberry32) so failures reproduce from the printed seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pushes `data` through `stream` cut at `cuts` (sorted offsets) and returns all output. */
export function streamChunks(stream: RedactionStream, data: Uint8Array, cuts: number[]): Uint8Array {
  const pieces: Uint8Array[] = [];
  let last = 0;
  for (const cut of [...cuts, data.length]) {
    pieces.push(stream.push(data.subarray(last, cut)));
    last = cut;
  }
  pieces.push(stream.flush());
  return Buffer.concat(pieces);
}

/** Random sorted cut points in [0, length]. */
export function randomCuts(random: () => number, length: number, count: number): number[] {
  return Array.from({ length: count }, () => Math.floor(random() * (length + 1))).sort((a, b) => a - b);
}

export const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("utf8");
export const bytesOf = (value: string): Uint8Array => new TextEncoder().encode(value);
