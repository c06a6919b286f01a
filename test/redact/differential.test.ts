/**
 * Differential tests for the automaton's root skip filter: the optimised `scan` must report
 * exactly the hits and final states of a plain one-step-per-byte scan (the implementation
 * before the filter), and a redactor using it must produce byte-identical output to one
 * whose automaton scans the plain way, for random inputs and random chunkings.
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

/** Runs `scan` over `data` cut at `cuts`; returns every (state, index) hit and the end states. */
function trace(scan: (bytes: Uint8Array, from: number, to: number, state: number, onHit: OnHit) => number, data: Uint8Array, cuts: number[]): number[] {
  const out: number[] = [];
  let state = 0;
  let last = 0;
  for (const cut of [...cuts, data.length]) {
    // Scan a copy of the chunk, as a stream would see it, at a non-zero offset.
    const chunk = new Uint8Array(cut - last + 3);
    chunk.set(data.subarray(last, cut), 3);
    state = scan(chunk, 3, chunk.length, state, (s, index) => out.push(s, last + index - 3));
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
});
