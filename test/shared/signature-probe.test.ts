import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignatureProbe } from "../../src/shared/index.ts";

const file = () => {
  const path = join(mkdtempSync(join(tmpdir(), "aegis-probe-")), "watched");
  writeFileSync(path, "one");
  return path;
};

test("signature probe: one stat answers within its window; a change is seen once the window passed", async () => {
  const path = file();
  const long = new SignatureProbe([path], 60_000);
  const short = new SignatureProbe([path], 20);
  const before = long.read().key;
  expect(short.read().key).toBe(before);
  writeFileSync(path, "two, longer");
  // Within the window the earlier stat answers (that is the point: no syscall per call).
  expect(long.read().key).toBe(before);
  await Bun.sleep(30);
  expect(short.read().key).not.toBe(before);
});

test("signature probe: a window of 0 stats on every read", () => {
  const path = file();
  const probe = new SignatureProbe([path], 0);
  const before = probe.read().key;
  writeFileSync(path, "two, longer");
  expect(probe.read().key).not.toBe(before);
});
