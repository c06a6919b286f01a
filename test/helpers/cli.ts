import { beforeAll } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp-home.ts";

const ROOT = join(import.meta.dir, "..", "..");
/** The compiled binary: the CLI smoke suites test what users run, not only the sources. */
export const BINARY = join(ROOT, "dist", "aegisclaw");

let built = false;
/** Compiles dist/aegisclaw once per test process (fresh from the current sources). */
export function useCompiledBinary(): void {
  beforeAll(() => {
    if (built) return;
    const build = Bun.spawnSync(["bash", join(ROOT, "scripts", "build.sh")], { stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`build failed:\n${build.stderr.toString()}`);
    built = true;
  }, 120_000);
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A temporary AEGISCLAW_HOME path (not yet created) inside an auto-cleaned directory. */
export function tempHome(): string {
  return join(tempDir(), "home");
}

/** Runs the compiled binary with its own home and no stdin. */
export async function aegis(home: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const proc = Bun.spawn([BINARY, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** Parses `logs --json` output (one JSON object per line). */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** An initialised home with `template`, whose approvals expire after `approvalTimeout`. */
export async function initHomeWith(template: "strict" | "standard" | "permissive", approvalTimeout = "60s"): Promise<string> {
  const home = tempHome();
  const init = await aegis(home, ["init", "--yes", "--template", template]);
  if (init.exitCode !== 0) throw new Error(`init failed: ${init.stderr}`);
  const config = join(home, "config.yaml");
  writeFileSync(config, readFileSync(config, "utf8").replace("timeout: 120s", `timeout: ${approvalTimeout}`));
  return home;
}

/** Starts the compiled binary in the background with no stdin, like a script in another shell. */
export function backgroundAegis(home: string, args: string[]): { proc: ReturnType<typeof Bun.spawn>; done: Promise<CliResult> } {
  const proc = Bun.spawn([BINARY, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const done = Promise.all([new Response(proc.stdout as ReadableStream).text(), new Response(proc.stderr as ReadableStream).text(), proc.exited]).then(([stdout, stderr, exitCode]) => ({ stdout, stderr, exitCode }));
  return { proc, done };
}

/** The first line a process prints on stdout (e.g. `serve --json`'s `{url, port}`), without waiting for the rest. */
export async function firstLine(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.split("\n")[0] ?? "";
}
