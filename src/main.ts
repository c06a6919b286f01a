#!/usr/bin/env bun
/**
 * Entry point of the `aegisclaw` binary. `--version` answers before anything else loads so
 * one-liners start fast; every command loads its heavy modules lazily. No top-level await:
 * the compiled binary is built with --bytecode, which needs a plain module body.
 */
import pkg from "../package.json" with { type: "json" };

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  process.stdout.write(`aegisclaw ${pkg.version}\n`);
} else {
  import("./cli/program.ts")
    .then(({ runCli }) => runCli(argv, pkg.version))
    .then((code) => {
      process.exitCode = code;
    })
    .catch((error: unknown) => {
      process.stderr.write(`aegisclaw: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
}
