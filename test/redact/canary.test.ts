import { describe, expect, test } from "bun:test";
import { Redactor } from "../../src/redact/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { bytesOf, streamChunks, text } from "./helpers.ts";

const CANARY = "cAnArY-s3cr3t/v4lue+ü€😀";

function encodings(value: string): Record<string, string> {
  const raw = Buffer.from(value);
  return {
    raw: value,
    base64: raw.toString("base64"),
    base64Unpadded: raw.toString("base64").replace(/=+$/, ""),
    base64url: raw.toString("base64url"),
    base64urlPadded: `${raw.toString("base64url")}${"=".repeat((4 - (raw.toString("base64url").length % 4)) % 4)}`,
    hex: raw.toString("hex"),
    hexUpper: raw.toString("hex").toUpperCase(),
    url: encodeURIComponent(value),
  };
}

function redactor(): Redactor {
  const redactor = new Redactor();
  redactor.addSecret("CANARY", CANARY);
  return redactor;
}

describe("redactor canaries", () => {
  for (const [form, encoded] of Object.entries(encodings(CANARY))) {
    test(`redactor: the ${form} form never appears in output`, () => {
      const output = redactor().redactText(`before ${encoded} after\n${encoded}${encoded}`);
      expect(output).not.toContain(encoded);
      expect(output).toContain("[REDACTED:secret:CANARY]");
      expect(output.startsWith("before [REDACTED:secret:CANARY] after\n")).toBe(true);
    });
  }

  test("redactor: base64 of the secret inside longer base64 is caught at every alignment", () => {
    const r = redactor();
    for (const prefix of ["", "u", "us", "use", "user:"]) {
      const encoded = Buffer.from(`${prefix}${CANARY}:tail`).toString("base64");
      const output = r.redactText(`Authorization: Basic ${encoded}`);
      expect(output).toContain("[REDACTED:secret:CANARY]");
      // No run of 8+ base64 characters that encode only secret bits may survive.
      const core = Buffer.from(CANARY).toString("base64").slice(0, 8);
      expect(output).not.toContain(core);
    }
  });

  test("redactor: a secret split at every byte boundary, including inside multi-byte characters, never leaks", () => {
    const data = bytesOf(`日本語${CANARY}ü\n`);
    for (let cut = 0; cut <= data.length; cut++) {
      for (const second of [cut, Math.min(data.length, cut + 1), Math.min(data.length, cut + 3)]) {
        const output = text(streamChunks(redactor().stream(), data, [cut, second]));
        expect(output).toBe("日本語[REDACTED:secret:CANARY]ü\n");
      }
    }
  });

  test("redactor: a secret written one byte per push is redacted", () => {
    const data = bytesOf(`x ${Buffer.from(CANARY).toString("hex")} y`);
    const cuts = Array.from({ length: data.length }, (_, i) => i);
    expect(text(streamChunks(redactor().stream(), data, cuts))).toBe("x [REDACTED:secret:CANARY] y");
  });

  test("redactor: a secret inside a 1 MB line without newlines is redacted", () => {
    const filler = "a".repeat(512 * 1024);
    const output = redactor().redactText(`${filler}${CANARY}${filler}`);
    expect(output).toBe(`${filler}[REDACTED:secret:CANARY]${filler}`);
  });

  test("redactor: overlapping secrets are merged so no fragment of either survives", () => {
    const r = new Redactor({ detectors: false });
    r.addSecret("A", "abcdefgh");
    r.addSecret("B", "efghijkl");
    r.addSecret("C", "cdef12");
    expect(r.redactText("<abcdefghijkl>")).toBe("<[REDACTED:secret:A]>");
    expect(r.redactText("<efghijkl|abcdefgh>")).toBe("<[REDACTED:secret:B]|[REDACTED:secret:A]>");
    // The earliest match labels a merged span; adjacent (non-overlapping) matches stay separate.
    expect(r.redactText("abcdefghabcdefgh")).toBe("[REDACTED:secret:A][REDACTED:secret:A]");
    expect(r.counts().byKind).toEqual({ "secret:A": 4, "secret:B": 1 });
  });

  test("redactor: the longest match at the earliest position wins", () => {
    const r = new Redactor({ detectors: false });
    r.addSecret("SHORT", "token1");
    r.addSecret("LONG", "token1-extended");
    expect(r.redactText("x token1-extended y token1 z")).toBe("x [REDACTED:secret:LONG] y [REDACTED:secret:SHORT] z");
  });

  test("redactor: invalid UTF-8 passes through byte for byte, except for redactions", () => {
    const r = redactor();
    const junk = Uint8Array.from([0xff, 0xfe, 0xc3, 0x28, 0x80, 0xe2, 0x82]);
    const input = Buffer.concat([junk, bytesOf(CANARY), junk, Uint8Array.from([0xf0, 0x9f])]);
    const expected = Buffer.concat([junk, bytesOf("[REDACTED:secret:CANARY]"), junk, Uint8Array.from([0xf0, 0x9f])]);
    expect(Buffer.from(r.redactBytes(input)).equals(expected)).toBe(true);
    const plain = crypto.getRandomValues(new Uint8Array(4096)).map((byte) => (byte === 0x2d ? 0 : byte));
    expect(Buffer.from(new Redactor({ detectors: false }).redactBytes(plain)).equals(Buffer.from(plain))).toBe(true);
  });

  test("redactor: counts are by kind, across streams, and never contain values", () => {
    const r = redactor();
    const out = r.stream();
    const err = r.stream();
    out.push(`${CANARY} and ghp_${"a1".repeat(18)}`);
    out.flush();
    err.push(Buffer.from(CANARY).toString("hex"));
    err.flush();
    r.redactText("AKIAABCDEFGHIJKLMNOP");
    expect(r.counts()).toEqual({ total: 4, byKind: { "secret:CANARY": 2, "github-token": 1, "aws-access-key": 1 } });
    expect(JSON.stringify(r.counts())).not.toContain(CANARY);
  });

  test("redactor: a custom replacement is used", () => {
    const r = new Redactor({ replacement: (kind) => `***${kind.length}***` });
    r.addSecret("X", "xyzzy-plugh");
    expect(r.redactText("a xyzzy-plugh b")).toBe("a ***8*** b");
  });

  test("redactor: secrets added after a stream opened apply from its next push", () => {
    const r = new Redactor({ detectors: false });
    const stream = r.stream();
    const first = text(stream.push("early text "));
    r.addSecret("LATE", "late-secret-1");
    const rest = text(stream.push("late-secret-1 end")) + text(stream.flush());
    expect(first + rest).toBe("early text [REDACTED:secret:LATE] end");
  });

  test("redactor: very short secrets are rejected with a clear error that does not echo the value", () => {
    const r = new Redactor();
    for (const value of ["", "abc", "12345", "ü€😀ab"]) {
      let error: unknown;
      try {
        r.addSecret("PIN", value);
      } catch (caught) {
        error = caught;
      }
      expect(isAegisError(error, "bad-input")).toBe(true);
      expect((error as Error).message).toBe("secret PIN is too short to redact safely (minimum 6 characters)");
    }
    expect(() => r.addSecret("bad name!", "long enough value")).toThrow("secret name must be");
    r.addSecret("OK", "123456");
    expect(r.redactText("pin 123456.")).toBe("pin [REDACTED:secret:OK].");
  });

  test("redactor: a flushed stream refuses more input", () => {
    const stream = redactor().stream();
    stream.flush();
    expect(() => stream.push("x")).toThrow("already flushed");
  });
});
