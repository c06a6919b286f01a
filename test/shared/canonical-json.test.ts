import { expect, test } from "bun:test";
import { canonicalJson } from "../../src/shared/index.ts";

/** The reference serializer, written for clarity: canonicalJson's fast path must give its bytes. */
function reference(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("canonical JSON: non-finite number");
      return JSON.stringify(value);
    case "string":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((item) => reference(item === undefined ? null : item)).join(",")}]`;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${reference(record[key])}`).join(",")}}`;
    }
    default:
      throw new TypeError(`canonical JSON: unsupported type ${typeof value}`);
  }
}

function outcome(serialize: (value: unknown) => string, value: unknown): string {
  try {
    return serialize(value);
  } catch (error) {
    return `throws ${(error as Error).message}`;
  }
}

test("canonical json: the same bytes as the reference for awkward values", () => {
  const awkward: unknown[] = [
    null,
    -0,
    1e21,
    1e-7,
    "quote \" backslash \\ newline \n control \u0001 separator \u2028 lone \ud800 surrogate",
    [1, undefined, "x"],
    { b: 1, a: 2, "10": 3, "9": 4, "01": 5 },
    { z: { y: [{ b: undefined, a: null }] }, é: 1, Z: 2, "": 3, "\ud83d\ude00": 4, "\uff00": 5 },
    new Date(0),
    { at: new Date(0), bytes: new Uint8Array([3, 1]) },
    Object.assign(Object.create(null), { b: 1, a: 2 }),
    JSON.parse('{"__proto__": {"x": 1}, "a": 1}'),
    // A hole on purpose: the reference joins it as nothing, the fast path must not differ.
    [1, , 3],
    { toJSON: "not a function" },
    Number.NaN,
    { nested: Number.POSITIVE_INFINITY },
    { big: 1n },
  ];
  for (const value of awkward) expect(outcome(canonicalJson, value)).toBe(outcome(reference, value));
});

test("canonical json: the same bytes as the reference for random JSON values (property)", () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const text = () => String.fromCharCode(...Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * 0xffff)));
  const value = (depth: number): unknown => {
    const pick = random();
    if (depth > 3 || pick < 0.35) return [null, true, false, random() * 1e6 - 5e5, Math.floor(random() * 100), text()][Math.floor(random() * 6)];
    if (pick < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [random() < 0.1 ? String(Math.floor(random() * 20)) : text(), value(depth + 1)]));
  };
  for (let i = 0; i < 5000; i++) {
    const sample = value(0);
    expect(canonicalJson(sample)).toBe(reference(sample));
  }
});
