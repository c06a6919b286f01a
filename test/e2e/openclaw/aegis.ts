/**
 * AegisClaw for the OpenClaw e2e tests, run from source (`bun src/main.ts`): a temp home,
 * API tokens (operator for the plugin, admin for lockdown), and `aegisclaw serve` on a fixed
 * loopback port, so it can be stopped (fail-closed test) and restarted with another template
 * while the OpenClaw plugin keeps pointing at the same endpoint.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonLines } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/temp-home.ts";
import { ROOT } from "./gateway.ts";
import { freePort, startBackground, waitFor, type Background } from "./processes.ts";

export const MAIN = join(ROOT, "src", "main.ts");
export type Template = "strict" | "standard" | "permissive";

export interface AuditEntry {
  seq: number;
  type: string;
  runId?: string;
  requestHash?: string;
  actor?: { name: string; source: string };
  request?: Record<string, unknown> & { argv?: string[] };
  decision?: { kind: string; reasons: Array<{ rule: string; message: string }> };
  result?: Record<string, unknown>;
  approval?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Aegis {
  home: string;
  port: number;
  url: string;
  /** The plugin's API token file (mode 0600). */
  tokenFile: string;
  adminToken: string;
  env: Record<string, string>;
  /** Runs the CLI against the home. */
  cli(args: string[], stdin?: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** `logs --json`. */
  logs(): Promise<AuditEntry[]>;
  /** fetch against the API with the admin token. */
  api(path: string, init?: { method?: string; json?: unknown }): Promise<Response>;
  /** Rewrites config.yaml (template, approvals.timeout) for the next start. */
  configure(template: Template, approvalsTimeout?: string): void;
  /** Starts `serve` on the fixed port (stopping a running one first). */
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
  output(): string;
}

async function run(argv: string[], env: Record<string, string>, stdin?: string) {
  const proc = Bun.spawn(argv, { env, stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/**
 * An initialised home: `template`, no grants in config.yaml (so OpenClaw's calls get only the
 * adapter's grants), and `adapters/openclaw.yaml` with `adapterConfig`.
 */
export async function createAegis(template: Template, adapterConfig: Record<string, unknown>, approvalsTimeout = "60s"): Promise<Aegis> {
  const home = join(tempDir("aegisclaw-oc-home-"), "home");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home, NO_PROXY: "127.0.0.1,localhost" };
  const cli = (args: string[], stdin?: string) => run([process.execPath, MAIN, ...args], env, stdin);
  const check = (what: string, result: { exitCode: number; stderr: string }) => {
    if (result.exitCode !== 0) throw new Error(`aegisclaw ${what} failed (${result.exitCode}): ${result.stderr}`);
  };
  check("init", await cli(["init", "--yes", "--template", template]));
  const configPath = join(home, "config.yaml");
  const configure = (next: Template, timeout = approvalsTimeout) => {
    const text = readFileSync(configPath, "utf8")
      .replace(/template: \w+/, `template: ${next}`)
      .replace(/grants: \[.*\]/, "grants: []")
      .replace(/(approvals:\n(?:\s*#.*\n)*\s*timeout: )\S+/, `$1${timeout}`);
    writeFileSync(configPath, text);
  };
  configure(template);
  mkdirSync(join(home, "adapters"), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, "adapters", "openclaw.yaml"), `${JSON.stringify(adapterConfig, null, 2)}\n`);
  const operator = await cli(["token", "create", "--role", "operator", "--name", "openclaw-plugin"]);
  check("token create", operator);
  const admin = await cli(["token", "create", "--role", "admin", "--name", "e2e-admin"]);
  check("token create", admin);
  const tokenFile = join(home, "..", "plugin-token");
  writeFileSync(tokenFile, `${operator.stdout.trim()}\n`, { mode: 0o600 });
  const adminToken = admin.stdout.trim();
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  let serve: Background | undefined;
  const stop = async () => {
    await serve?.stop(10_000);
    serve = undefined;
  };
  const start = async () => {
    await stop();
    const proc = startBackground([process.execPath, MAIN, "serve", "--port", String(port)], env, ROOT);
    serve = proc;
    let exited = false;
    void proc.exited.then(() => (exited = true));
    await waitFor(
      "aegisclaw serve",
      async () => {
        if (exited) throw new Error(`aegisclaw serve exited:\n${proc.output()}`);
        const response = await fetch(`${url}/api/v1/health`).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      },
      30_000,
      () => proc.output(),
    );
  };
  const api = (path: string, init: { method?: string; json?: unknown } = {}) =>
    fetch(`${url}${path}`, {
      method: init.method ?? (init.json === undefined ? "GET" : "POST"),
      headers: { Authorization: `Bearer ${adminToken}`, ...(init.json === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
  return {
    home,
    port,
    url,
    tokenFile,
    adminToken,
    env,
    cli,
    async logs() {
      const result = await cli(["logs", "--json"]);
      check("logs --json", result);
      return jsonLines(result.stdout) as AuditEntry[];
    },
    api,
    configure,
    start,
    stop,
    running: () => serve !== undefined,
    output: () => serve?.output() ?? "",
  };
}

/** The adapter's openclaw.yaml for a test (the bridge off unless asked for). */
export function adapterConfig(workspace: string, grants: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { enabled: false, workspace, grants, mcp_server: "aegisclaw", ...extra };
}
