/**
 * Differential tests for the automaton's root skip filters (the stride-1 pair table and the
 * wide path: aligned 16-bit pair loads plus a trigram check): the optimised `scan` must report
 * exactly the hits and final states of a plain one-step-per-byte scan (the implementation
 * before the filters), whatever the buffer's alignment and whatever lies outside the scanned
 * range, and a redactor using it must produce byte-identical output to one whose automaton
 * scans the plain way, for random inputs, random chunkings and splits at every offset.
 */
import { describe, expect, test } from "bun:test";
import { Automaton } from "../../src/redact/automaton.ts";
import { secretVariants } from "../../src/redact/encodings.ts";
import { Redactor } from "../../src/redact/index.ts";
import { bytesOf, randomCuts, rng, streamChunks } from "./helpers.ts";

type OnHit = (state: number, index: number) => void;

/** The straightforward scan: one automaton step per byte, hit check after each. */
function referenceScan(automaton: Automaton, bytes: Uint8Array, from: number, to: number, state: number, onHit: OnHit): number {
  let s = state;
  for (let i = from; i < to; i++) {
    s = automaton.step(s, automaton.classOf[bytes[i]!]!);
    if (automaton.hit[s] !== 0) onHit(s, i);
  }
  return s;
}

/**
 * Runs `scan` over `data` cut at `cuts`; returns every (state, index) hit and the end states.
 * Each chunk is scanned as a stream would see it, from a copy: placed `shift` bytes into a
 * larger buffer (so the view's byteOffset, and the alignment of the 16-bit pair loads, vary),
 * at index 3 of the view, with `fill` bytes around it that the scan must not look at.
 */
function trace(
  scan: (bytes: Uint8Array, from: number, to: number, state: number, onHit: OnHit) => number,
  data: Uint8Array,
  cuts: number[],
  shift = 0,
  fill: Uint8Array = new Uint8Array(0),
): number[] {
  const out: number[] = [];
  let state = 0;
  let last = 0;
  for (const cut of [...cuts, data.length]) {
    const length = cut - last;
    const backing = new Uint8Array(shift + 3 + length + 8);
    for (let i = 0; i < backing.length && fill.length > 0; i++) backing[i] = fill[i % fill.length]!;
    const view = backing.subarray(shift);
    view.set(data.subarray(last, cut), 3);
    state = scan(view, 3, 3 + length, state, (s, index) => out.push(s, last + index - 3));
    out.push(-1, state);
    last = cut;
  }
  return out;
}

const TOKENS = [
  `ghp_${"Ab1".repeat(12)}`, "AKIAIOSFODNN7EXAMPLE", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", `sk-ant-${"x9Y".repeat(10)}`,
  "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIr\n-----END EC PRIVATE KEY-----", `xoxb-${"12ab".repeat(4)}`, `glpat-${"Zz9".repeat(8)}`,
  "sk-", "eyJ", "AKIA", "-----BEGIN ", "ü", "€", "😀", " ", "\n", "=", "%2F",
];

/** Random bytes dense in secret forms (whole and cut short), detector tokens, UTF-8 and junk. */
function corpus(random: () => number, forms: Uint8Array[], length: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  while (size < length) {
    const roll = random();
    let part: Uint8Array;
    if (roll < 0.2) part = forms[Math.floor(random() * forms.length)]!;
    else if (roll < 0.35) {
      const form = forms[Math.floor(random() * forms.length)]!;
      part = form.subarray(Math.floor(random() * form.length), Math.floor(random() * (form.length + 1)));
    } else if (roll < 0.5) part = bytesOf(TOKENS[Math.floor(random() * TOKENS.length)]!);
    else if (roll < 0.6) part = Uint8Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * 256));
    else part = bytesOf(Array.from({ length: 1 + Math.floor(random() * 12) }, () => "abcdefxyzABQ0129_-+/. \n"[Math.floor(random() * 23)]).join(""));
    parts.push(part);
    size += part.length;
  }
  return Buffer.concat(parts);
}

function randomSecret(random: () => number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-üé€";
  return Array.from({ length: 6 + Math.floor(random() * 30) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
}

describe("redactor differential", () => {
  test("automaton: the root skip filter reports the same hits and states as a plain scan (property)", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = rng(seed);
      // Short patterns too (1 and 2 bytes), which the filter must never step over.
      const alphabet = "abcab\u00ff-_";
      const word = (length: number) => Buffer.from(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join(""), "latin1");
      const exact = Array.from({ length: 1 + Math.floor(random() * 30) }, (_, id) => ({ bytes: word(1 + Math.floor(random() * 10)), id }));
      const all = Array.from({ length: Math.floor(random() * 5) }, (_, id) => ({ bytes: word(1 + Math.floor(random() * 4)), id }));
      const automaton = new Automaton(exact, all);
      const hay = Buffer.concat([word(3_000), Uint8Array.from({ length: 500 }, () => Math.floor(random() * 256))]);
      const cuts = randomCuts(random, hay.length, Math.floor(random() * 40));
      const got = trace((...args) => automaton.scan(...args), hay, cuts);
      const want = trace((...args) => referenceScan(automaton, ...args), hay, cuts);
      expect(got).toEqual(want);
    }
  });

  test("automaton: the wide root filter (16-bit pairs, trigrams) matches a plain scan at every alignment (property)", () => {
    for (let seed = 1; seed <= 80; seed++) {
      const random = rng(5_000 + seed);
      // Patterns of three bytes or more switch the wide path on; a small alphabet with a
      // non-ASCII byte makes pair and trigram collisions, shared prefixes and overlaps common.
      const alphabet = seed % 2 === 0 ? "abcab\u00ff-_" : "abcdefghij0123456789 =\u00e9\n";
      const word = (length: number) => Buffer.from(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join(""), "latin1");
      const exact = Array.from({ length: 1 + Math.floor(random() * 30) }, (_, id) => ({ bytes: word(3 + Math.floor(random() * 10)), id }));
      const all = Array.from({ length: Math.floor(random() * 5) }, (_, id) => ({ bytes: word(3 + Math.floor(random() * 3)), id }));
      const automaton = new Automaton(exact, all);
      expect(automaton.rootSkip2).toBeDefined();
      // Long stretches of filler (skipped in wide strides) with patterns, cut-off patterns and
      // random bytes planted in them, so matches and prefixes meet every pair alignment.
      const parts: Uint8Array[] = [];
      for (let size = 0; size < 4_000; ) {
        const roll = random();
        const pattern = exact[Math.floor(random() * exact.length)]!.bytes;
        const part =
          roll < 0.1 ? pattern :
          roll < 0.2 ? pattern.subarray(0, Math.floor(random() * pattern.length)) :
          roll < 0.3 ? Uint8Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.floor(random() * 256)) :
          roll < 0.5 ? word(1 + Math.floor(random() * 20)) :
          Buffer.from("x".repeat(Math.floor(random() * 200)).replace(/x/g, () => "klmnopqrstuvwKLMNOP.,;:/"[Math.floor(random() * 24)]!), "latin1");
        parts.push(part);
        size += part.length;
      }
      const hay = Buffer.concat(parts);
      const cuts = randomCuts(random, hay.length, Math.floor(random() * 60));
      const want = trace((...args) => referenceScan(automaton, ...args), hay, cuts);
      // Bytes around the range are pattern bytes: reading them would show up as wrong hits.
      const fill = Buffer.concat(exact.map((pattern) => pattern.bytes));
      for (const shift of [0, 1, 2, 3]) {
        expect(trace((...args) => automaton.scan(...args), hay, cuts, shift, fill)).toEqual(want);
      }
    }
  });

  test("automaton: the wide path stays off when a pattern is shorter than three bytes", () => {
    expect(new Automaton([{ bytes: Buffer.from("ab"), id: 0 }, { bytes: Buffer.from("abcdef"), id: 1 }], []).rootSkip2).toBeUndefined();
    expect(new Automaton([{ bytes: Buffer.from("abcdef"), id: 0 }], [{ bytes: Buffer.from("x"), id: 0 }]).rootSkip2).toBeUndefined();
    expect(new Automaton([{ bytes: Buffer.from("abcdef"), id: 0 }], [{ bytes: Buffer.from("sk-"), id: 0 }]).rootSkip2).toBeDefined();
  });

  test("redactor: output equals a redactor scanning one step per byte, for random inputs and chunkings (property)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = rng(1_000 + seed);
      const secrets = Array.from({ length: 1 + Math.floor(random() * 12) }, () => randomSecret(random));
      const build = (plain: boolean) => {
        const redactor = new Redactor({ highEntropy: seed % 3 === 0 });
        secrets.forEach((value, i) => redactor.addSecret(`S${i}`, value));
        redactor.holdBackLimit(); // compiles the automaton
        if (plain) {
          const automaton = (redactor as unknown as { current: { automaton: Automaton } }).current.automaton;
          automaton.scan = (bytes, from, to, state, onHit) => referenceScan(automaton, bytes, from, to, state, onHit);
        }
        return redactor;
      };
      const optimised = build(false);
      const plain = build(true);
      const data = corpus(random, secrets.flatMap((value) => secretVariants(value)), 2_000 + Math.floor(random() * 6_000));
      const want = streamChunks(plain.stream(), data, randomCuts(random, data.length, Math.floor(random() * 30)));
      const got = streamChunks(optimised.stream(), data, randomCuts(random, data.length, Math.floor(random() * 300)));
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
      expect(optimised.counts()).toEqual(plain.counts());
    }
  });

  test("redactor: splitting a small input at every offset, into two and three pushes, matches the plain scan (property)", () => {
    for (let seed = 1; seed <= 8; seed++) {
      const random = rng(2_000 + seed);
      const secrets = Array.from({ length: 1 + Math.floor(random() * 10) }, () => randomSecret(random));
      const build = (plain: boolean) => {
        const redactor = new Redactor({ highEntropy: seed % 4 === 0, detectors: seed % 3 !== 0 });
        secrets.forEach((value, i) => redactor.addSecret(`S${i}`, value));
        redactor.holdBackLimit();
        const automaton = (redactor as unknown as { current: { automaton: Automaton } }).current.automaton;
        expect(automaton.rootSkip2).toBeDefined();
        if (plain) automaton.scan = (bytes, from, to, state, onHit) => referenceScan(automaton, bytes, from, to, state, onHit);
        return redactor;
      };
      const optimised = build(false);
      const plain = build(true);
      // Sparse: long plain stretches (wide strides) around a few forms, tokens and UTF-8.
      const forms = secrets.flatMap((value) => secretVariants(value));
      const parts: Uint8Array[] = [];
      for (let size = 0; size < 300; ) {
        const roll = random();
        const part =
          roll < 0.15 ? forms[Math.floor(random() * forms.length)]! :
          roll < 0.25 ? bytesOf(TOKENS[Math.floor(random() * TOKENS.length)]!) :
          bytesOf(Array.from({ length: 10 + Math.floor(random() * 60) }, () => "lmnopqrstuvw ;:,.()[]LMNO|üé"[Math.floor(random() * 28)]).join(""));
        parts.push(part);
        size += part.length;
      }
      const data = Buffer.concat(parts);
      const want = Buffer.from(streamChunks(plain.stream(), data, []));
      for (let a = 0; a <= data.length; a++) {
        const got = Buffer.from(streamChunks(optimised.stream(), data, [a]));
        if (!got.equals(want)) throw new Error(`split at ${a} changed the output (seed ${seed})`);
        const b = a + Math.floor(random() * (data.length - a + 1));
        const three = Buffer.from(streamChunks(optimised.stream(), data, [a, b]));
        if (!three.equals(want)) throw new Error(`split at ${a}, ${b} changed the output (seed ${seed})`);
      }
      for (const form of forms) expect(want.includes(Buffer.from(form))).toBe(false);
    }
  });
});
