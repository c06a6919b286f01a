/** Shared helpers for benchmarks: hyperfine runs and markdown tables. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Timing {
  command: string;
  medianMs: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

/** Times shell commands with hyperfine (-N, no shell) and returns medians in ms. */
export function hyperfine(commands: Array<{ name: string; command: string }>, options: { runs: number; warmup?: number; env?: Record<string, string> }): Timing[] {
  const dir = mkdtempSync(join(tmpdir(), "aegis-bench-"));
  try {
    const out = join(dir, "out.json");
    const args = ["hyperfine", "-N", "--runs", String(options.runs), "--warmup", String(options.warmup ?? 2), "--export-json", out, "--style", "none"];
    for (const { name, command } of commands) args.push("-n", name, command);
    const proc = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...options.env } });
    if (proc.exitCode !== 0) throw new Error(`hyperfine failed: ${proc.stderr.toString()}`);
    const data = JSON.parse(readFileSync(out, "utf8")) as { results: Array<{ command: string; median: number; mean: number; min: number; max: number; times: number[] }> };
    return data.results.map((result) => ({
      command: result.command,
      medianMs: result.median * 1000,
      meanMs: result.mean * 1000,
      minMs: result.min * 1000,
      maxMs: result.max * 1000,
      runs: result.times.length,
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The `docker run` command line with AegisClaw's hardening (same limits as the defaults), the
 * baseline the run benchmarks compare against. `seccompPath` holds SECCOMP_PROFILE as JSON.
 */
export function hardenedDockerRun(seccompPath: string, runtimeFlag = ""): string {
  return [
    `docker run --rm ${runtimeFlag} --read-only --cap-drop ALL --security-opt no-new-privileges`,
    `--security-opt seccomp=${seccompPath} --user 65534:65534 --network none --ipc none`,
    "--pids-limit 128 --memory 256m --memory-swap 256m --cpus 1",
    "--tmpfs /tmp:rw,noexec,nosuid,nodev,size=64m aegisclaw/base:busybox true",
  ].join(" ");
}

/** Formats a number with a fixed number of decimals. */
export function fmt(value: number, digits = 1): string {
  return value.toFixed(digits);
}

/** Machine line for result files: what the numbers were measured on. */
export function machineLine(): string {
  const cpus = navigator.hardwareConcurrency;
  return `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus} cores, Bun ${Bun.version}.`;
}

/** Fails a benchmark's set-up step loudly with the command's stderr. */
export function must(proc: { exitCode: number | null; stderr?: Buffer | undefined }): void {
  if (proc.exitCode !== 0) throw new Error(`bench setup failed: ${proc.stderr?.toString() ?? ""}`);
}

/** Starts the hand-written part of a result file, which re-running its bench carries over unchanged. */
export const KEEP_MARKER = "<!-- hand-written below: kept when the bench re-runs (bench/lib.ts writeResult), not re-measured by it -->";

/**
 * Writes bench/results/<name>.md (assembled into RESULTS.md by bench/run.sh) and prints it.
 * Everything from the previous file's KEEP_MARKER line on (investigations, history) follows the
 * new measurements unchanged.
 */
export function writeResult(name: string, lines: string[]): void {
  const path = join(import.meta.dir, "results", `${name}.md`);
  const previous = existsSync(path) ? readFileSync(path, "utf8") : "";
  const at = previous.indexOf(KEEP_MARKER);
  const kept = at < 0 ? "" : `\n${previous.slice(at).trimEnd()}\n`;
  const text = lines.join("\n");
  writeFileSync(path, `${text}\n${kept}`);
  console.log(text);
}
