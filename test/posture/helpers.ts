/** Shared helpers of the posture tests: real initialised homes and a captured CLI context. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runInit } from "../../src/cli/commands/init.ts";
import type { CliContext } from "../../src/cli/context.ts";
import { homeLayout } from "../../src/core/index.ts";
import type { PostureCheck, PostureReport } from "../../src/posture/index.ts";
import { createSandboxRuntime, DEFAULT_LIMITS, type SandboxRuntimeName } from "../../src/sandbox/index.ts";
import { BASE_IMAGE } from "../helpers/docker.ts";
import { tempHome } from "../helpers/cli.ts";

/** A CLI context writing into strings. */
export function capture(home: string, json: boolean): CliContext & { out: () => string; err: () => string } {
  let stdout = "";
  let stderr = "";
  return {
    home,
    json,
    isTty: false,
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    out: () => stdout,
    err: () => stderr,
  };
}

/** A fresh home made by the real `init --yes` (config, audit log with its signing key). */
export async function initHome(template: "strict" | "standard" | "permissive" = "standard"): Promise<string> {
  const home = tempHome();
  await runInit({ yes: true, template }, capture(home, true));
  return home;
}

/** Rewrites one `key: value` line of config.yaml (the file init wrote keeps its layout). */
export function setConfigLine(home: string, key: string, value: string): void {
  const path = homeLayout(home).config;
  const text = readFileSync(path, "utf8");
  const pattern = new RegExp(`^(\\s*${key}:).*$`, "m");
  if (!pattern.test(text)) throw new Error(`config.yaml has no ${key} line`);
  writeFileSync(path, text.replace(pattern, `$1 ${value}`));
}

/**
 * Runs `true` on the named runtime with the home's state directory, so the runtime's real
 * isolation self-test runs first and records its pass in state/selftest.json.
 */
export async function selfTest(home: string, runtime: SandboxRuntimeName): Promise<void> {
  const sandbox = createSandboxRuntime(runtime, { stateDir: homeLayout(home).state, selfTestImage: BASE_IMAGE });
  const result = await sandbox.run(
    { runId: `posture-test-${process.pid}-${Date.now().toString(36)}`, image: BASE_IMAGE, argv: ["true"], timeoutMs: 30_000, limits: DEFAULT_LIMITS },
    { stdout: () => {}, stderr: () => {} },
  );
  if (result.exitCode !== 0) throw new Error(`self-test run on ${runtime} exited ${result.exitCode}`);
}

/** The check with this id (throws when absent, so a missing check fails the test loudly). */
export function checkOf(report: PostureReport, id: PostureCheck["id"]): PostureCheck {
  const check = report.checks.find((candidate) => candidate.id === id);
  if (!check) throw new Error(`no ${id} check in the report`);
  return check;
}

/** Path of the home's selftest.json. */
export function selfTestFile(home: string): string {
  return join(homeLayout(home).state, "selftest.json");
}
