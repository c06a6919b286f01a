import { afterAll, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = join(import.meta.dir, "../..");
if (!existsSync(join(repo, ".tools/bin/opa"))) throw new Error(".tools/bin/opa is missing: run scripts/build-opa.sh (the OPA tests never skip)");

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

function run(root: string, args: string[] = []) {
  const proc = Bun.spawnSync(["bash", join(root, "scripts/build-policies.sh"), ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode, stderr: proc.stderr.toString() };
}

/** A throwaway copy of what build-policies.sh reads, so a test can break it safely. */
function copyOfRepo(): string {
  const root = mkdtempSync(join(tmpdir(), "aegis-opa-build-"));
  copies.push(root);
  mkdirSync(join(root, "scripts"));
  cpSync(join(repo, "scripts/build-policies.sh"), join(root, "scripts/build-policies.sh"));
  cpSync(join(repo, "policies"), join(root, "policies"), { recursive: true });
  cpSync(join(repo, "src/policy/opa/wasm"), join(root, "src/policy/opa/wasm"), { recursive: true });
  symlinkSync(join(repo, ".tools"), join(root, ".tools"));
  symlinkSync(join(repo, "node_modules"), join(root, "node_modules"));
  return root;
}

test("opa build: the committed wasm matches a fresh, reproducible build of policies/", () => {
  const result = run(repo, ["--check"]);
  expect(result.stderr).toContain("committed wasm matches policies/");
  expect(result.code).toBe(0);
});

test("opa build: --check names a committed wasm that differs and says how to fix it", () => {
  const root = copyOfRepo();
  const file = join(root, "src/policy/opa/wasm/standard.wasm");
  const bytes = readFileSync(file);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
  writeFileSync(file, bytes);
  const result = run(root, ["--check"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("src/policy/opa/wasm/standard.wasm differ from a fresh build of policies/; run scripts/build-policies.sh");
});

test("opa build: templates whose common blocks drifted apart are refused", () => {
  const root = copyOfRepo();
  const file = join(root, "policies/permissive.rego");
  writeFileSync(file, readFileSync(file, "utf8").replace('"files.read": "medium"', '"files.read": "low"'));
  const result = run(root, ["--check"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("the common block of policies/permissive.rego differs from policies/strict.rego");
});
