#!/usr/bin/env bun
/**
 * Entry point of the `aegisclaw` binary. `--version` answers before anything else loads so
 * one-liners start fast; every command loads its heavy modules (Docker client, console) lazily.
 */
import pkg from "../package.json" with { type: "json" };

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  process.stdout.write(`aegisclaw ${pkg.version}\n`);
} else {
  const { runCli } = await import("./cli/program.ts");
  process.exitCode = await runCli(argv, pkg.version);
}
