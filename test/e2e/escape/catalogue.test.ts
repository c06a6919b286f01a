/** CATALOGUE.md stays the complete list: every batched attempt has a row, each row is unique. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const DIR = import.meta.dir;

describe("escape catalogue", () => {
  const catalogue = readFileSync(join(DIR, "CATALOGUE.md"), "utf8");
  const rows = [...catalogue.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((match) => match[1] ?? "");

  test("catalogue: lists at least 30 distinct attempts, none twice", () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(rows.filter((id, index) => rows.indexOf(id) !== index)).toEqual([]);
  });

  test("catalogue: every attempt id in the tests has a row", () => {
    const ids = readdirSync(DIR)
      .filter((name) => name.endsWith("-escape.test.ts"))
      .flatMap((name) => [...readFileSync(join(DIR, name), "utf8").matchAll(/\bid: "([a-z0-9-]+)"/g)].map((match) => match[1] ?? ""));
    expect(ids.length).toBeGreaterThanOrEqual(60);
    expect(ids.filter((id) => !rows.includes(id))).toEqual([]);
  });
});
