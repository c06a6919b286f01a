import { expect, test } from "bun:test";
import { parseDuration, parseSize } from "../../src/core/index.ts";

test("units: durations in ms, s, m, h; bare numbers are seconds", () => {
  expect(parseDuration("250ms")).toBe(250);
  expect(parseDuration("30s")).toBe(30_000);
  expect(parseDuration("5m")).toBe(300_000);
  expect(parseDuration("1h")).toBe(3_600_000);
  expect(parseDuration("2")).toBe(2000);
  for (const bad of ["", "0s", "-1s", "5 minutes", "1d", "NaN"]) expect(parseDuration(bad)).toBeUndefined();
});

test("units: sizes in b, k, m, g (binary)", () => {
  expect(parseSize("512k")).toBe(512 * 1024);
  expect(parseSize("64m")).toBe(64 * 1024 ** 2);
  expect(parseSize("1G")).toBe(1024 ** 3);
  expect(parseSize("100")).toBe(100);
  for (const bad of ["", "0", "lots", "-5m", "5t"]) expect(parseSize(bad)).toBeUndefined();
});
