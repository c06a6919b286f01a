import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

// The browser code needs the DOM library, which the server's project must not see; so it has
// its own tsconfig (ui/web/tsconfig.json), excluded from the root one and checked here.
test("web ui: the browser sources type-check (tsc -p ui/web)", () => {
  const tsc = Bun.spawnSync([join(ROOT, "node_modules", ".bin", "tsc"), "--noEmit", "-p", join(ROOT, "ui", "web")], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  expect(tsc.stdout.toString() + tsc.stderr.toString()).toBe("");
  expect(tsc.exitCode).toBe(0);
}, 60_000);
