import cac from "cac";
import { AegisError, exitCodeFor, isAegisError } from "../shared/index.ts";
import type { CliContext } from "./context.ts";
import { reportError } from "./report-error.ts";
import { rewriteRunSandbox } from "./run-sandbox-args.ts";

type Options = Record<string, unknown>;

/**
 * Builds the command tree and runs one command. Every handler returns its exit code; failures
 * are AegisErrors mapped through one table (DESIGN.md exit codes). Handlers import their
 * modules lazily so that help and simple commands never load the Docker client.
 */
export async function runCli(rawArgv: string[], version: string): Promise<number> {
  const { resolveHome } = await import("../core/home.ts");
  const argv = rewriteRunSandbox(rawArgv);
  const dashDash = argv.indexOf("--");
  const json = (dashDash === -1 ? argv : argv.slice(0, dashDash)).includes("--json");
  const ctx: CliContext = {
    home: "",
    json,
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    isTty: Boolean(process.stdout.isTTY),
  };
  let exitCode = 0;
  const cli = cac("aegisclaw");
  const handle = (fn: (ctx: CliContext) => Promise<number>) => async () => {
    ctx.home = resolveHome();
    exitCode = await fn(ctx);
  };

  cli.option("--json", "Machine-readable output on stdout");

  cli
    .command("init", "Create the AegisClaw home: config, audit signing key, state (wizard on a TTY)")
    .option("--template <name>", "Policy template: strict | standard | permissive")
    .option("--yes", "Accept defaults without asking (for scripts)")
    .option("--force", "Rewrite config.yaml of an existing home (the audit log and its key are kept)")
    .action((options: Options) => handle(async (c) => (await import("./commands/init.ts")).runInit(options, c))());

  cli
    .command("doctor", "Check Docker, the base image, runtimes, home, config, audit log, disk and lockdown")
    .action(() => handle(async (c) => (await import("./commands/doctor.ts")).runDoctor(c))());

  cli
    .command("run [...command]", "Run a command in a hardened sandbox through the Gate: run [options] -- CMD...")
    .option("--scope <scope>", "Grant a scope to this run (repeatable), e.g. shell.exec or shell.exec:echo")
    .option("--image <image>", "Sandbox image (default from config: aegisclaw/base:busybox)")
    .option("--timeout <duration>", "Kill the run after this long, e.g. 30s, 5m (exit 124)")
    .option("--runtime <name>", "Sandbox runtime: docker | gvisor | bwrap | another OCI runtime registered with Docker (default from config; no fallback when unavailable)")
    .action((positional: string[], options: Options) => handle(async (c) => (await import("./commands/run.ts")).runRun(positional, options, c))());

  cli
    .command("simulate [...command]", "Show what `run` (or `simulate skill NAME [COMMAND] [ARGS]`: `skills run`) would decide and the sandbox it would get; executes and records nothing")
    .option("--scope <scope>", "Grant a scope (repeatable), as for run")
    .option("--path <name=dir>", "With `simulate skill`: bind a path parameter of the skill (repeatable)")
    .option("--image <image>", "Sandbox image")
    .option("--timeout <duration>", "Wall-clock limit")
    .option("--runtime <name>", "Sandbox runtime: docker | gvisor | bwrap | a registered OCI runtime")
    .action((positional: string[], options: Options) => handle(async (c) => (await import("./commands/simulate.ts")).runSimulate(positional, options, c))());

  cli
    .command("sandbox <action> [...args]", "sandbox run-sandbox IMAGE CMD...: run CMD in IMAGE (same Gate as `run`)")
    .action((action: string) => {
      throw new AegisError("usage", `unknown sandbox action "${action}"`, { hint: "use: aegisclaw sandbox run-sandbox IMAGE CMD..." });
    });

  cli
    .command("logs [action] [...args]", "Audit log: logs | logs verify | logs explain ID | logs proof ID | logs consistency SIZE | logs checkpoint | logs pubkey")
    .option("--follow", "Keep printing new entries")
    .option("--since <when>", "Only entries since an ISO time or a duration ago (10m, 2h)")
    .option("--decision <kind>", "Only decisions of this kind: allow | deny | ask")
    .option("--pubkey <hex>", "With verify: check checkpoint signatures against this pinned public key (from `logs pubkey`)")
    .action((action: string | undefined, args: string[], options: Options) =>
      handle(async (c) => (await import("./commands/logs.ts")).runLogs(action, args, options, c))(),
    );

  cli
    .command("policy [action] [...args]", "Policy: policy list | show NAME | use NAME | eval --input FILE [--explain] | test | build (your own Rego in $AEGISCLAW_HOME/policies)")
    .option("--input <file>", "With eval: a policy input document (JSON)")
    .option("--explain", "With eval: each engine's decision and reasons")
    .action((action: string | undefined, args: string[], options: Options) =>
      handle(async (c) => (await import("./commands/policy.ts")).runPolicy(action, args, options, c))(),
    );

  cli
    .command("secrets [action] [...args]", "Secrets: secrets init [--passphrase] | set NAME | list | rm NAME | rotate (values from stdin or a hidden prompt, never printed)")
    .option("--passphrase", "With init: seal the identity with a passphrase (asked twice on a terminal, else AEGISCLAW_SECRETS_PASSPHRASE)")
    .option("--value <value>", "With set: the value as an argument (discouraged: it lands in shell history and the process list)")
    .action((action: string | undefined, args: string[], options: Options) =>
      handle(async (c) => (await import("./commands/secrets.ts")).runSecrets(action, args, options, c))(),
    );

  cli
    .command("approvals [action] [...args]", "Requests waiting for a person: approvals list | approve ID [--hash H] | deny ID")
    .option("--hash <sha256>", "With approve: the request hash you reviewed; refused if the request differs")
    .action((action: string | undefined, args: string[], options: Options) =>
      handle(async (c) => (await import("./commands/approvals.ts")).runApprovals(action, args, options, c))(),
    );

  cli
    .command("skills [action] [...args]", "Skills: skills list | add DIR [--yes] | sign DIR --key FILE | verify NAME|DIR | run NAME [COMMAND] [ARGS] [--path NAME=DIR] | trust add KEYFILE --name N | trust list | trust rm ID | keygen FILE")
    .option("--key <file>", "With sign: the publisher's private key (PEM, mode 0600)")
    .option("--name <name>", "With trust add: who the key belongs to")
    .option("--path <name=dir>", "With run: bind a path parameter of the skill to a host directory (repeatable)")
    .option("--yes", "With add: accept an upgrade that adds scopes or loses its trusted signature")
    .option("--timeout <duration>", "With run: wall-clock limit (default: the skill's resources.timeout within sandbox.timeout)")
    .option("--runtime <name>", "With run: sandbox runtime: docker | gvisor | bwrap | a registered OCI runtime")
    .action((action: string | undefined, args: string[], options: Options) =>
      handle(async (c) => (await import("./commands/skills.ts")).runSkills(action, args, options, c))(),
    );

  cli
    .command("lockdown", "Panic: kill every running sandbox and refuse new runs until `unlock`")
    .option("--reason <text>", "Why (recorded in the audit log)")
    .action((options: Options) => handle(async (c) => (await import("./commands/lockdown.ts")).runLockdown(options, c))());

  cli
    .command("unlock", "Lift lockdown (audited)")
    .action(() => handle(async (c) => (await import("./commands/lockdown.ts")).runUnlock(c))());

  cli
    .command("", "With no command on a terminal: the full-screen console (without a terminal: this help)")
    .option("--listen <[host:]port>", "Also serve the API (as `serve`) from the console's process, e.g. --listen 7878")
    .option("--cert <file>", "With --listen: TLS certificate (PEM), with --key")
    .option("--key <file>", "With --listen: TLS private key (PEM)")
    .option("--insecure", "With --listen: allow plain HTTP on a non-loopback address")
    .action((options: Options) =>
    handle(async (c) => {
      // A full-screen UI on a pipe would wait forever for terminal answers (notes/stack.md §7).
      if (!process.stdin.isTTY || !process.stdout.isTTY) {
        cli.outputHelp();
        return 0;
      }
      return (await import("./commands/console.ts")).runConsoleCommand(options, c);
    })(),
  );

  cli
    .command("posture", "Security posture: grade A–F, the breakdown, and the fix for every lost point")
    .action(() => handle(async (c) => (await import("./commands/posture.ts")).runPosture({}, c))());

  cli
    .command("xray [action] [...args]", "Live view of running sandboxes from the Docker API: xray list | xray inspect ID")
    .action((action: string | undefined, args: string[], options: Options) =>
      handle(async (c) => (await import("./commands/xray.ts")).runXray(action, args, options, c))(),
    );

  cli
    .command("serve", "Authenticated HTTP + WebSocket API (docs/api.md) on 127.0.0.1:7878 until Ctrl-C")
    .option("--host <address>", "Address to bind (default 127.0.0.1); anything else needs --cert/--key or --insecure")
    .option("--port <port>", "Port (default 7878; 0 picks a free one)")
    .option("--cert <file>", "TLS certificate (PEM), with --key")
    .option("--key <file>", "TLS private key (PEM), with --cert")
    .option("--insecure", "Allow plain HTTP on a non-loopback address (tokens cross the network unencrypted)")
    .option("--origin <origin>", "Also allow browser pages of this exact origin (repeatable; no wildcards)")
    .option("--decision-workers <n>", "Threads that validate and decide requests beside the HTTP one (default: one per core beyond the first, at most 4; 0 = none)")
    .action((options: Options) => handle(async (c) => (await import("./commands/serve.ts")).runServe(options, c))());

  cli
    .command("token [action] [...args]", "API tokens: token create --role admin|operator|viewer [--name N] | list | revoke ID")
    .option("--role <role>", "With create: admin | operator | viewer")
    .option("--name <name>", "With create: a name recorded as the actor and approver (default <role>-<id>)")
    .action((action: string | undefined, args: string[], options: Options) =>
      handle(async (c) => (await import("./commands/token.ts")).runToken(action, args, options, c))(),
    );

  cli
    .command("openclaw [action] [...args]", "OpenClaw: openclaw setup [--config PATH] [--dry-run] [--endpoint URL] (plugin, MCP server, hardening into openclaw.json) | status (adapter health)")
    .option("--config <path>", "With setup: openclaw.json (default $OPENCLAW_CONFIG_PATH, else ~/.openclaw/openclaw.json)")
    .option("--dry-run", "With setup: print the diff, write nothing")
    .option("--endpoint <url>", "With setup: AegisClaw's API URL the plugin calls (default http://127.0.0.1:7878)")
    .action((action: string | undefined, args: string[], options: Options) =>
      handle(async (c) => (await import("./commands/openclaw.ts")).runOpenClaw(action, args, options, c))(),
    );

  cli
    .command("mcp-server", "MCP server on stdio (docs/mcp.md): agents run commands in the sandbox through the Gate")
    .action(() => handle(async (c) => (await import("./commands/mcp-server.ts")).runMcpServer(c))());

  cli.help();
  cli.version(version, "-v, --version");

  try {
    let pending: unknown;
    try {
      cli.parse(["bun", "aegisclaw", ...argv], { run: false });
      if (cli.options.help || cli.options.version) return 0;
      if (!cli.matchedCommand || (cli.matchedCommand.name === "" && cli.args.length > 0)) {
        throw new AegisError("usage", `unknown command "${cli.args[0] ?? ""}"`, { hint: "see `aegisclaw --help`" });
      }
      // cac validates options and arguments synchronously, before any handler starts.
      pending = cli.runMatchedCommand();
    } catch (error) {
      throw isAegisError(error) ? error : new AegisError("usage", error instanceof Error ? error.message : String(error), { hint: "see `aegisclaw --help`" });
    }
    await pending;
    return exitCode;
  } catch (error) {
    const normalized = isAegisError(error) ? error : internalError(error);
    reportError(normalized, ctx);
    return exitCodeFor[normalized.code];
  }
}

/** Anything unexpected from a handler: reported, exit 1. */
function internalError(error: unknown): AegisError {
  return new AegisError("internal", error instanceof Error ? error.message : String(error), { cause: error });
}
