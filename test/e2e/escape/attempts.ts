/**
 * Batched escape attempts: each attempt is one shell command whose exit status and output
 * (stdout and stderr together, on one line) are printed as `id=<status>|<output>`, so many
 * attempts share one sandbox start and each still gets its own precise assertion.
 */
import { expect } from "bun:test";

/** What one runtime must answer to an attempt: its exit status and a piece of its output. */
export interface Expected {
  exit: number;
  /** Matched against the attempt's output (the kernel's error as the tool prints it). */
  output?: RegExp;
}

/** One attempt: what it tries, the command, and the failure each runtime must produce. */
export interface Attempt {
  id: string;
  tries: string;
  command: string;
  docker: Expected;
  gvisor?: Expected;
}

/** The `sh -c` script running every attempt in turn, one `id=status|output` line each. */
export function batchScript(attempts: readonly Attempt[]): string {
  const lines = attempts.map((attempt) => `out=$( { ${attempt.command} ; } 2>&1 ); echo "${attempt.id}=$?|$(echo $out | tr -d '\\r')"`);
  return lines.join("\n");
}

/** The `id -> {exit, output}` the batch printed. */
export function batchResults(stdout: string): Map<string, { exit: number; output: string }> {
  const results = new Map<string, { exit: number; output: string }>();
  for (const line of stdout.split("\n")) {
    const match = /^([a-z0-9-]+)=(\d+)\|(.*)$/.exec(line);
    if (match?.[1] !== undefined) results.set(match[1], { exit: Number(match[2]), output: match[3] ?? "" });
  }
  return results;
}

/** Asserts attempt `id` failed exactly as `expected` says (never just "non-zero"). */
export function expectFailed(results: Map<string, { exit: number; output: string }>, id: string, expected: Expected): void {
  const result = results.get(id);
  expect(result, `${id} printed no outcome line`).toBeDefined();
  // Exit 0 means the attempt worked: an escape, never an accepted outcome here.
  expect(`${id}: exit ${result?.exit}`).toBe(`${id}: exit ${expected.exit}`);
  if (expected.output) expect(result?.output ?? "").toMatch(expected.output);
}
