/**
 * The user's own Rego in `$AEGISCLAW_HOME/policies/`. Each file declares
 * `package aegisclaw.user.<name>` with a complete rule `decision` in the templates' output
 * format; `policy build` compiles them to wasm with the real opa and records hashes in a
 * manifest. They join the decision as extra engines, so with deny > ask > allow a user policy
 * can only make AegisClaw stricter, never looser than the template. Fail closed: a source that
 * changed since the build, was never built, or a wasm that does not match its hash denies.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../shared/index.ts";
import type { Decision, PolicyEngine } from "./engine.ts";
import { createOpaEngineFromWasm } from "./opa/index.ts";

const PACKAGE = /^package\s+aegisclaw\.user\.([a-z][a-z0-9_]*)\s*$/m;
const BUILD_DIR = "build";
const MANIFEST = "manifest.json";

/** One compiled user policy as recorded by `policy build`. */
export interface UserPolicyEntry {
  file: string;
  name: string;
  entrypoint: string;
  sourceSha256: string;
  wasmSha256: string;
}

/**
 * The user policies as read from disk: each compiled module, or why it must deny. Plain data, so
 * the decision workers get exactly the policies this process loaded, not a later read of the files.
 */
export type UserPolicySource = { name: string; wasm: Uint8Array; entrypoint: string } | { name: string; denies: string };

/** The user policies' engines; a problem with any of them becomes a denying engine. */
export function loadUserPolicies(dir: string): PolicyEngine[] {
  return userPolicyEngines(readUserPolicies(dir));
}

/** Engines for sources read by {@link readUserPolicies}. */
export function userPolicyEngines(sources: readonly UserPolicySource[]): PolicyEngine[] {
  return sources.map((source) => ("denies" in source ? denying(source.name, source.denies) : createOpaEngineFromWasm(source.wasm, source.entrypoint, { name: source.name })));
}

/** Reads every user policy and checks it against the build manifest (source and wasm hashes). */
export function readUserPolicies(dir: string): UserPolicySource[] {
  const sources = regoFiles(dir);
  const manifest = readManifest(dir);
  if (sources.length === 0 && manifest.length === 0) return [];
  const read: UserPolicySource[] = [];
  for (const file of sources) {
    const entry = manifest.find((candidate) => candidate.file === file);
    if (!entry) {
      read.push({ name: `user:${file}`, denies: `${file} has never been built` });
      continue;
    }
    if (sha256(readFileSync(join(dir, file))) !== entry.sourceSha256) {
      read.push({ name: `user:${entry.name}`, denies: `${file} changed since the last \`aegisclaw policy build\`` });
      continue;
    }
    const wasmPath = join(dir, BUILD_DIR, `${entry.name}.wasm`);
    const wasm = existsSync(wasmPath) ? readFileSync(wasmPath) : undefined;
    if (!wasm || sha256(wasm) !== entry.wasmSha256) {
      read.push({ name: `user:${entry.name}`, denies: `${BUILD_DIR}/${entry.name}.wasm is missing or does not match the manifest` });
      continue;
    }
    read.push({ name: `user:${entry.name}`, wasm: new Uint8Array(wasm), entrypoint: entry.entrypoint });
  }
  for (const entry of manifest) {
    if (!sources.includes(entry.file)) read.push({ name: `user:${entry.name}`, denies: `${entry.file} was built but has been removed; run \`aegisclaw policy build\`` });
  }
  return read;
}

/**
 * Compiles every `*.rego` in `dir` with `opa build -t wasm` and writes build/ and the manifest.
 * Nothing is replaced unless every file builds (a failed build keeps the previous state).
 */
export function buildUserPolicies(dir: string, opa: string): UserPolicyEntry[] {
  const entries: UserPolicyEntry[] = [];
  const staging = mkdtempSync(join(tmpdir(), "aegisclaw-policy-build-"));
  try {
    for (const file of regoFiles(dir)) {
      const source = readFileSync(join(dir, file));
      const name = PACKAGE.exec(source.toString("utf8"))?.[1];
      if (!name) throw new Error(`${file}: declare \`package aegisclaw.user.<name>\` (lower-case name) with a \`decision\` rule`);
      if (entries.some((entry) => entry.name === name)) throw new Error(`${file}: package aegisclaw.user.${name} is declared twice`);
      const entrypoint = `aegisclaw/user/${name}/decision`;
      const bundle = join(staging, `${name}.tar.gz`);
      const build = Bun.spawnSync([opa, "build", "-t", "wasm", "-e", entrypoint, "-o", bundle, join(dir, file)], { stdout: "pipe", stderr: "pipe" });
      if (build.exitCode !== 0) throw new Error(`${file}: opa build failed:\n${build.stderr.toString().trim()}`);
      const unpack = Bun.spawnSync(["tar", "-xzf", bundle, "-C", staging, "/policy.wasm"], { stdout: "pipe", stderr: "pipe" });
      if (unpack.exitCode !== 0) throw new Error(`${file}: no policy.wasm in the bundle: ${unpack.stderr.toString().trim()}`);
      const wasm = readFileSync(join(staging, "policy.wasm"));
      rmSync(join(staging, "policy.wasm"));
      entries.push({ file, name, entrypoint, sourceSha256: sha256(source), wasmSha256: sha256(wasm) });
      writeFileSync(join(staging, `${name}.wasm`), wasm);
    }
    const buildDir = join(dir, BUILD_DIR);
    mkdirSync(buildDir, { recursive: true, mode: 0o700 });
    for (const entry of entries) writeFileAtomic(join(buildDir, `${entry.name}.wasm`), readFileSync(join(staging, `${entry.name}.wasm`)));
    writeFileAtomic(join(buildDir, MANIFEST), `${JSON.stringify(entries, null, 2)}\n`);
    return entries;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function regoFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(".rego") && !name.endsWith("_test.rego"))
      .sort();
  } catch {
    return [];
  }
}

function readManifest(dir: string): UserPolicyEntry[] {
  const path = join(dir, BUILD_DIR, MANIFEST);
  if (!existsSync(path)) return [];
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as unknown;
    // Names become file names: anything but the package-name form is ignored (and so denies).
    if (Array.isArray(parsed)) return (parsed as UserPolicyEntry[]).filter((entry) => typeof entry?.name === "string" && /^[a-z][a-z0-9_]*$/.test(entry.name));
  } catch {
    // a corrupted manifest is handled like a missing build: every source then denies
  }
  return [];
}

function denying(name: string, why: string): PolicyEngine {
  const decision: Decision = { kind: "deny", risk: "high", reasons: [{ rule: "policy.user-unbuilt", message: `user policy ${name}: ${why}; run \`aegisclaw policy build\`` }] };
  return { name, decide: async () => decision };
}

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}
