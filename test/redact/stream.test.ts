import { describe, expect, test } from "bun:test";
import { Automaton } from "../../src/redact/automaton.ts";
import { secretVariants } from "../../src/redact/encodings.ts";
import { Redactor } from "../../src/redact/index.ts";
import { bytesOf, randomCuts, rng, streamChunks } from "./helpers.ts";

const PIECES = [
  "a", "b", "sk-", "ghp_", "AKIA", "eyJ", ".", "-", "_", " ", "\n", "=", "ü", "€", "😀",
  "-----BEGIN ", "PRIVATE KEY-----", "-----END ", "RSA ", "0", "9", "Z", "x",
];
const INVALID = [Uint8Array.of(0xff), Uint8Array.of(0xc3), Uint8Array.of(0xe2, 0x82), Uint8Array.of(0x80)];

/** Random bytes that are dense in secrets, encodings, detector prefixes and odd UTF-8. */
function corpus(random: () => number, secrets: string[], length: number): Uint8Array {
  const forms = secrets.flatMap((secret) => secretVariants(secret));
  const tokens = [
    bytesOf(`ghp_${"Ab1".repeat(12)}`),
    bytesOf("AKIAIOSFODNN7EXAMPLE"),
    bytesOf("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"),
    bytesOf("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIr\n-----END EC PRIVATE KEY-----"),
    bytesOf(`sk-ant-${"x9Y".repeat(10)}`),
  ];
  const parts: Uint8Array[] = [];
  let size = 0;
  while (size < length) {
    const roll = random();
    const part =
      roll < 0.15 ? forms[Math.floor(random() * forms.length)]! :
      roll < 0.2 ? tokens[Math.floor(random() * tokens.length)]! :
      roll < 0.25 ? INVALID[Math.floor(random() * INVALID.length)]! :
      roll < 0.3 ? Buffer.from(Array.from({ length: 40 }, () => Math.floor(random() * 256))).toString("base64").slice(0, 10 + Math.floor(random() * 30)) :
      PIECES[Math.floor(random() * PIECES.length)]!;
    const bytes = typeof part === "string" ? bytesOf(part) : part;
    parts.push(bytes);
    size += bytes.length;
  }
  return Buffer.concat(parts);
}

/** Reference semantics for exact secrets: every occurrence of every form, overlaps merged. */
function reference(data: Uint8Array, secrets: Array<[string, string]>): Uint8Array {
  const hay = Buffer.from(data);
  const found: Array<{ start: number; end: number; kind: string; order: number }> = [];
  secrets.forEach(([name, value]) => {
    for (const form of secretVariants(value)) {
      for (let at = hay.indexOf(form); at >= 0; at = hay.indexOf(form, at + 1)) found.push({ start: at, end: at + form.length, kind: `secret:${name}`, order: found.length });
    }
  });
  found.sort((a, b) => a.start - b.start || b.end - a.end || a.order - b.order);
  const out: Uint8Array[] = [];
  let spanEnd = 0;
  for (const match of found) {
    if (match.start < spanEnd) {
      spanEnd = Math.max(spanEnd, match.end);
      continue;
    }
    out.push(hay.subarray(spanEnd, match.start), bytesOf(`[REDACTED:${match.kind}]`));
    spanEnd = match.end;
  }
  out.push(hay.subarray(spanEnd));
  return Buffer.concat(out);
}

describe("redaction stream", () => {
  test("stream: output is byte-identical to one-shot redaction for random chunkings (property)", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = rng(seed);
      const secrets = ["s3cr3t-ab", "ab-s3cr3t", "pässwörd😀", `x${seed}yz-token`, "aaaaaaaa"];
      const redactor = new Redactor({ highEntropy: seed % 2 === 0 });
      secrets.forEach((secret, i) => redactor.addSecret(`S${i}`, secret));
      const data = corpus(random, secrets, 2_000 + Math.floor(random() * 6_000));
      const expected = Buffer.from(redactor.redactBytes(data));
      for (let round = 0; round < 6; round++) {
        const count = round === 0 ? data.length : Math.floor(random() * 200);
        const cuts = round === 0 ? Array.from({ length: data.length }, (_, i) => i) : randomCuts(random, data.length, count);
        const got = Buffer.from(streamChunks(redactor.stream(), data, cuts));
        if (!got.equals(expected)) throw new Error(`chunking changed the output (seed ${seed}, round ${round})`);
      }
      for (const secret of secrets) expect(expected.includes(Buffer.from(secret))).toBe(false);
    }
  });

  test("stream: exact-secret redaction matches a brute-force reference", () => {
    for (let seed = 100; seed < 140; seed++) {
      const random = rng(seed);
      const secrets: Array<[string, string]> = [["A", "s3cr3t-ab"], ["B", "ab-s3cr3t"], ["C", "aaaaaaaa"], ["D", "ü€😀-key"], ["E", `k${seed}-abcdef`]];
      const redactor = new Redactor({ detectors: false });
      for (const [name, value] of secrets) redactor.addSecret(name, value);
      const data = corpus(random, secrets.map(([, value]) => value), 3_000);
      expect(Buffer.from(redactor.redactBytes(data)).equals(reference(data, secrets))).toBe(true);
    }
  });

  test("stream: 50 MB in small chunks never holds back more than the documented bound", () => {
    const redactor = new Redactor({ highEntropy: true });
    for (let i = 0; i < 200; i++) redactor.addSecret(`K${i}`, Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64"));
    const limit = redactor.holdBackLimit();
    expect(limit).toBe(8192);
    // Adversarial filler: unterminated PEM headers, endless JWT-like and base64 runs, prefixes.
    const block = bytesOf(
      `${"-----BEGIN RSA PRIVATE KEY-----\n" + "QUJD".repeat(600)}\nlog line ${"eyJ".repeat(900)} sk-${"a1".repeat(300)} ${"x".repeat(5000)}\n`,
    );
    const total = 50 * 1024 * 1024;
    const stream = redactor.stream();
    let emitted = 0;
    let peak = 0;
    for (let sent = 0, i = 0; sent < total; i++) {
      const size = 1 + ((i * 7919) % 4096);
      const start = sent % block.length;
      const chunk = block.subarray(start, Math.min(block.length, start + size));
      emitted += stream.push(chunk).length;
      sent += chunk.length;
      peak = Math.max(peak, stream.heldBytes);
      if (stream.heldBytes > limit) throw new Error(`held ${stream.heldBytes} bytes > ${limit}`);
    }
    emitted += stream.flush().length;
    expect(peak).toBeLessThanOrEqual(limit);
    expect(peak).toBeGreaterThan(1024);
    expect(emitted).toBeGreaterThan(0);
  });

  test("stream: without detectors the hold-back is the longest form minus one", () => {
    const redactor = new Redactor({ detectors: false });
    redactor.addSecret("S", "0123456789abcdef");
    expect(redactor.holdBackLimit()).toBe(Buffer.from("0123456789abcdef").toString("hex").length - 1);
    const stream = redactor.stream();
    expect(stream.push("no secret prefix here ")).toHaveLength(22);
    expect(stream.heldBytes).toBe(0);
    stream.push("01234");
    expect(stream.heldBytes).toBe(5);
  });
});

describe("aho-corasick automaton", () => {
  test("automaton: reports the longest pattern ending at every position, like a brute-force scan", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = rng(seed);
      const alphabet = "abcab\u00ff";
      const word = (length: number) => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      const patterns = Array.from({ length: 1 + Math.floor(random() * 40) }, () => Buffer.from(word(1 + Math.floor(random() * 8)), "latin1"));
      const automaton = new Automaton(patterns.map((bytes, id) => ({ bytes, id })), []);
      const hay = Buffer.from(word(2_000), "latin1");
      const got: number[] = new Array(hay.length).fill(0);
      automaton.scan(hay, 0, hay.length, 0, (state, index) => {
        got[index] = automaton.longestLength[state]!;
      });
      const want = Array.from({ length: hay.length }, (_, index) => Math.max(0, ...patterns.filter((p) => p.length <= index + 1 && hay.subarray(index + 1 - p.length, index + 1).equals(p)).map((p) => p.length)));
      expect(got).toEqual(want);
    }
  });
});
