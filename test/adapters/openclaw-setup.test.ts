import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DENIED_NATIVE_TOOLS, openClawSetup, parseOpenClawAdapterConfig } from "../../src/adapters/openclaw/index.ts";
import { unifiedDiff } from "../../src/adapters/openclaw/unified-diff.ts";
import { TokenStore, tokensFile } from "../../src/server/index.ts";
import { NODE24, OPENCLAW_CLI, PLUGIN_DIR } from "../e2e/openclaw/gateway.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { tempHome } from "../server/helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");

/** A home plus an OpenClaw dir whose openclaw.json is `text` (JSON5, with comments). */
async function fixture(text?: string) {
  const { home } = await tempHome();
  const dir = tempDir("aegisclaw-ocsetup-");
  const configPath = join(dir, ".openclaw", "openclaw.json");
  mkdirSync(join(dir, ".openclaw"), { recursive: true });
  if (text !== undefined) writeFileSync(configPath, text, { mode: 0o644 });
  const env = { HOME: dir };
  const options = { home, configPath, env, mcpCommand: { command: "/usr/local/bin/aegisclaw", args: ["mcp-server"] } };
  return { home, dir, configPath, env, options };
}

const SAMPLE = `// the user's own config, JSON5
{
  gateway: { port: 18900, bind: "loopback", auth: { mode: "token", token: "gw-secret" } },
  agents: { defaults: { workspace: "~/work" } },
  tools: { deny: ["browser"], exec: { host: "gateway" } },
  plugins: { allow: ["other"], load: { paths: ["/opt/other-plugin"] } },
}
`;

async function cli(args: string[], env: Record<string, string>): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, join(ROOT, "src", "main.ts"), ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

describe("openclaw setup", () => {
  test("openclaw setup: --dry-run prints the diff and writes nothing", async () => {
    const f = await fixture(SAMPLE);
    const report = await openClawSetup({ ...f.options, dryRun: true });
    expect(report.changed).toBe(true);
    expect(report.diff).toContain(`+        "${PLUGIN_DIR}"\n`);
    expect(report.diff).toContain('+    "toolSearch": false');
    expect(report.token).toBe("would-create");
    expect(report.adapterConfig.action).toBe("would-write");
    expect(readFileSync(f.configPath, "utf8")).toBe(SAMPLE);
    expect(readdirSync(join(f.dir, ".openclaw"))).toEqual(["openclaw.json"]);
    expect(existsSync(join(f.home, "adapters"))).toBe(false);
  });

  test("openclaw setup: merges plugin, MCP server and hardening, keeps the user's settings, backs up, token file 0600", async () => {
    const f = await fixture(SAMPLE);
    const report = await openClawSetup(f.options);
    const merged = JSON.parse(readFileSync(f.configPath, "utf8"));
    expect(merged.gateway.auth.token).toBe("gw-secret");
    expect(merged.plugins.allow).toEqual(["other", "aegisclaw"]);
    expect(merged.plugins.load.paths).toEqual(["/opt/other-plugin", PLUGIN_DIR]);
    const entry = merged.plugins.entries.aegisclaw;
    expect(entry.enabled).toBe(true);
    expect(entry.config).toEqual({ endpoint: "http://127.0.0.1:7878", tokenFile: join(f.home, "adapters", "openclaw-plugin.token"), timeoutMs: 130_000 });
    expect(entry.hooks.timeoutMs).toBe(135_000);
    expect(merged.mcp.servers.aegisclaw).toEqual({ command: "/usr/local/bin/aegisclaw", args: ["mcp-server"], env: { AEGISCLAW_HOME: f.home } });
    expect(merged.tools.toolSearch).toBe(false);
    expect(merged.tools.deny).toEqual(["browser", ...DENIED_NATIVE_TOOLS]);
    expect(merged.tools.exec).toEqual({ host: "gateway", mode: "ask" });
    // Backup: the original bytes (comments included), owner-only.
    expect(report.backup).toBeDefined();
    expect(readFileSync(report.backup!, "utf8")).toBe(SAMPLE);
    expect(statSync(report.backup!).mode & 0o777).toBe(0o600);
    // The plugin's token: an active operator token, in a 0600 file.
    expect(statSync(report.tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(report.tokenFile, "utf8").trim();
    const id = /^acw_([0-9a-f]{12})_/.exec(token)?.[1] ?? "";
    const record = new TokenStore(tokensFile(join(f.home, "state"))).active(id);
    expect(record?.role).toBe("operator");
    expect(record?.name).toBe("openclaw-plugin");
    // The adapter config: the gateway from gateway.port, the workspace with ~ expanded, no token.
    const adapter = parseOpenClawAdapterConfig(readFileSync(join(f.home, "adapters", "openclaw.yaml"), "utf8"));
    expect(adapter).toMatchObject({ enabled: true, endpoint: "http://127.0.0.1:18900", workspace: join(f.dir, "work") });
    expect(readFileSync(join(f.home, "adapters", "openclaw.yaml"), "utf8")).not.toContain("gw-secret");
  });

  test("openclaw setup: a second run changes nothing (no diff, no backup, same token)", async () => {
    const f = await fixture(SAMPLE);
    const first = await openClawSetup(f.options);
    const token = readFileSync(first.tokenFile, "utf8");
    const written = readFileSync(f.configPath, "utf8");
    const second = await openClawSetup(f.options);
    expect(second.changed).toBe(false);
    expect(second.diff).toBe("");
    expect(second.backup).toBeUndefined();
    expect(second.token).toBe("kept");
    expect(second.adapterConfig.action).toBe("kept");
    expect(readFileSync(f.configPath, "utf8")).toBe(written);
    expect(readFileSync(first.tokenFile, "utf8")).toBe(token);
    expect(readdirSync(join(f.dir, ".openclaw")).filter((name) => name.includes(".bak-"))).toHaveLength(1);
  });

  test("openclaw setup: a revoked plugin token is replaced on the next run", async () => {
    const f = await fixture(SAMPLE);
    const first = await openClawSetup(f.options);
    const store = new TokenStore(tokensFile(join(f.home, "state")));
    const old = store.list().find((t) => t.name === "openclaw-plugin")!;
    await store.revoke(old.id);
    const second = await openClawSetup(f.options);
    expect(second.token).toBe("created");
    expect(readFileSync(first.tokenFile, "utf8")).not.toContain(old.id);
  });

  test("openclaw setup: no openclaw.json yet creates one; an existing adapters/openclaw.yaml is kept", async () => {
    const f = await fixture();
    mkdirSync(join(f.home, "adapters"), { recursive: true });
    writeFileSync(join(f.home, "adapters", "openclaw.yaml"), "enabled: false\n");
    const report = await openClawSetup(f.options);
    expect(report.backup).toBeUndefined();
    expect(report.adapterConfig.action).toBe("kept");
    expect(readFileSync(join(f.home, "adapters", "openclaw.yaml"), "utf8")).toBe("enabled: false\n");
    expect(JSON.parse(readFileSync(f.configPath, "utf8")).plugins.allow).toEqual(["aegisclaw"]);
  });

  test("openclaw setup: bad JSON5 exits 65 and writes nothing", async () => {
    const f = await fixture("{ gateway: { port: 1 }, oops }\n");
    const result = await cli(["openclaw", "setup", "--config", f.configPath], { AEGISCLAW_HOME: f.home, HOME: f.dir });
    expect(result.exitCode).toBe(65);
    expect(result.stderr).toContain(`${f.configPath}: not valid JSON5`);
    expect(result.stderr).toContain("fix:");
    expect(readFileSync(f.configPath, "utf8")).toBe("{ gateway: { port: 1 }, oops }\n");
    expect(readdirSync(join(f.dir, ".openclaw"))).toEqual(["openclaw.json"]);
    expect(existsSync(join(f.home, "adapters"))).toBe(false);
  });

  test("openclaw setup: a field of the wrong type is bad input, nothing written", async () => {
    const f = await fixture('{ plugins: { load: { paths: "/one/path" } } }');
    await expect(openClawSetup(f.options)).rejects.toThrow("plugins.load.paths must be a list");
    expect(existsSync(join(f.home, "adapters"))).toBe(false);
    const top = await fixture("[1, 2]");
    await expect(openClawSetup(top.options)).rejects.toThrow("the top level must be an object");
  });

  test("openclaw setup: the CLI prints the diff on stdout (--dry-run), the summary on stderr, --json a report", async () => {
    const f = await fixture(SAMPLE);
    const env = { AEGISCLAW_HOME: f.home, HOME: f.dir, OPENCLAW_CONFIG_PATH: f.configPath };
    const dry = await cli(["openclaw", "setup", "--dry-run"], env);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout.startsWith(`--- ${f.configPath}\n+++ ${f.configPath}\n@@ `)).toBe(true);
    expect(dry.stderr).toContain("dry run; nothing was written");
    expect(readFileSync(f.configPath, "utf8")).toBe(SAMPLE);
    const applied = await cli(["openclaw", "setup", "--json", "--endpoint", "http://127.0.0.1:7999"], env);
    expect(applied.exitCode).toBe(0);
    const report = JSON.parse(applied.stdout);
    expect(report).toMatchObject({ configPath: f.configPath, changed: true, dryRun: false, token: "created" });
    expect(JSON.parse(readFileSync(f.configPath, "utf8")).plugins.entries.aegisclaw.config.endpoint).toBe("http://127.0.0.1:7999");
    const again = await cli(["openclaw", "setup"], env);
    expect(again.stdout).toBe("");
    expect(again.stderr).toContain("nothing to change");
    const usage = await cli(["openclaw", "setup", "--endpoint", "ftp://x"], env);
    expect(usage.exitCode).toBe(64);
    expect((await cli(["openclaw", "frobnicate"], env)).exitCode).toBe(64);
  });

  test.skipIf(!existsSync(OPENCLAW_CLI))("openclaw setup: the real `openclaw config validate` accepts the merged file", async () => {
    const f = await fixture(SAMPLE);
    await openClawSetup(f.options);
    const proc = Bun.spawn([NODE24, OPENCLAW_CLI, "config", "validate"], { env: { PATH: `${join(NODE24, "..")}:/usr/bin:/bin`, HOME: f.dir, OPENCLAW_STATE_DIR: join(f.dir, ".openclaw"), OPENCLAW_CONFIG_PATH: f.configPath }, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(`${code} ${stdout}`).toContain("0 ");
    expect(stdout + stderr).toContain("Config valid");
  }, 60_000);
});

describe("openclaw adapter config", () => {
  test("adapter config: defaults are disabled, endpoint loopback 18789, bridge on", () => {
    expect(parseOpenClawAdapterConfig("")).toMatchObject({ enabled: false, endpoint: "http://127.0.0.1:18789", approval_bridge: true, api_key_secret: "OPENCLAW_GATEWAY_TOKEN", timeout_ms: 5000, mcp_server: "aegisclaw", grants: [] });
  });

  test("adapter config: bad YAML, unknown fields and bad values name the line and field", () => {
    expect(() => parseOpenClawAdapterConfig("enabled: true\nendpoint: [\n")).toThrow(/adapters\/openclaw\.yaml:\d+: invalid YAML/);
    expect(() => parseOpenClawAdapterConfig("enabled: true\ntoken: abc\n")).toThrow("Unrecognized key");
    expect(() => parseOpenClawAdapterConfig("enabled: true\nendpoint: ftp://x\n")).toThrow("adapters/openclaw.yaml:2: endpoint");
    expect(() => parseOpenClawAdapterConfig("timeout_ms: 5\n")).toThrow("timeout_ms");
    expect(() => parseOpenClawAdapterConfig("workspace: relative/dir\n")).toThrow("workspace");
  });
});

describe("unified diff", () => {
  test("unified diff: hunks with context; equal texts give nothing", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", { from: "x", to: "y" })).toBe("");
    const diff = unifiedDiff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n", { from: "old", to: "new" });
    expect(diff).toBe("--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
    expect(unifiedDiff("", "a\n", { from: "/dev/null", to: "f" })).toBe("--- /dev/null\n+++ f\n@@ -0,0 +1,1 @@\n+a\n");
  });
});
