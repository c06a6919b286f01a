import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { stringify } from "yaml";
import { DEFAULT_APPROVAL_TIMEOUT_MS, homeLayout, loadConfig, parseDuration, requireInitialisedHome, writeFileAtomic } from "../../core/index.ts";
// tokens.ts directly: server/index.ts starts the server, which imports this adapter.
import { TokenStore, tokensFile } from "../../server/tokens.ts";
import { AegisError } from "../../shared/index.ts";
import { loadOpenClawAdapterConfig, openClawConfigPath } from "./config.ts";
import { gatewayEndpointOf, mergeOpenClawConfig, parseOpenClawJson, workspaceOf, type SetupPlan } from "./setup-merge.ts";
import { unifiedDiff } from "./unified-diff.ts";

export interface SetupOptions {
  /** `$AEGISCLAW_HOME`. */
  home: string;
  /** openclaw.json (default `$OPENCLAW_CONFIG_PATH`, else ~/.openclaw/openclaw.json). */
  configPath?: string;
  dryRun?: boolean;
  /** AegisClaw's API URL for the plugin (default http://127.0.0.1:7878, `aegisclaw serve`'s default). */
  endpoint?: string;
  env?: Record<string, string | undefined>;
  /** Overrides where the plugin directory is looked for (tests). */
  pluginDir?: string;
  /** Overrides how OpenClaw starts `aegisclaw mcp-server` (tests). */
  mcpCommand?: { command: string; args: string[] };
}

/** What `openclaw setup` did (or, with --dry-run, would do). */
export interface SetupReport {
  configPath: string;
  dryRun: boolean;
  /** openclaw.json changes (empty when it already holds everything: idempotent). */
  changed: boolean;
  diff: string;
  backup?: string;
  pluginDir: string;
  tokenFile: string;
  /** created | kept | would-create */
  token: "created" | "kept" | "would-create";
  adapterConfig: { path: string; action: "written" | "kept" | "would-write" };
}

const TOKEN_NAME = "openclaw-plugin";

/**
 * Merges the AegisClaw plugin, MCP server and hardening into openclaw.json. Everything is
 * validated before anything is written; then the plugin's API token file (0600), the adapter
 * config (only when absent), a backup of openclaw.json and the new file (atomically).
 */
export async function openClawSetup(options: SetupOptions): Promise<SetupReport> {
  const env = options.env ?? process.env;
  const layout = homeLayout(options.home);
  requireInitialisedHome(layout);
  const configPath = resolve(options.configPath ?? env.OPENCLAW_CONFIG_PATH ?? join(env.HOME ?? homedir(), ".openclaw", "openclaw.json"));
  const exists = existsSync(configPath);
  const original = exists ? readText(configPath) : "";
  const parsed = parseOpenClawJson(original, configPath);
  const adapter = loadOpenClawAdapterConfig(layout.root);
  const approvalMs = parseDuration(loadConfig(layout.config).approvals.timeout) ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  // Without --endpoint an earlier choice stands, so a plain re-run changes nothing.
  const endpoint = checkedEndpoint(options.endpoint ?? existingEndpoint(parsed) ?? "http://127.0.0.1:7878");
  const pluginDir = options.pluginDir ?? findPluginDir();
  const tokenFile = join(layout.root, "adapters", "openclaw-plugin.token");
  const plan: SetupPlan = {
    pluginDir,
    endpoint,
    tokenFile,
    // The plugin waits for the decision, a person's answer included, plus a margin.
    timeoutMs: Math.min(595_000, approvalMs + 10_000),
    mcpServer: adapter.mcp_server,
    mcpCommand: { ...(options.mcpCommand ?? aegisclawCommand()), env: { AEGISCLAW_HOME: layout.root } },
  };
  const merged = mergeOpenClawConfig(parsed, plan, configPath);
  const before = exists ? `${JSON.stringify(parsed, null, 2)}\n` : "";
  const after = `${JSON.stringify(merged, null, 2)}\n`;
  const diff = unifiedDiff(before, after, { from: exists ? configPath : "/dev/null", to: configPath });
  const adapterPath = openClawConfigPath(layout.root);
  const adapterExists = existsSync(adapterPath);
  const tokenValid = await tokenFileValid(tokenFile, layout.state);
  const report: SetupReport = {
    configPath,
    dryRun: options.dryRun === true,
    changed: diff !== "",
    diff,
    pluginDir,
    tokenFile,
    token: tokenValid ? "kept" : "would-create",
    adapterConfig: { path: adapterPath, action: adapterExists ? "kept" : "would-write" },
  };
  if (options.dryRun) return report;

  mkdirSync(join(layout.root, "adapters"), { recursive: true, mode: 0o700 });
  if (!tokenValid) {
    await createPluginToken(tokenFile, layout.state);
    report.token = "created";
  }
  if (!adapterExists) {
    const workspace = workspaceOf(parsed, env.HOME ?? homedir());
    const yaml = stringify({ enabled: true, endpoint: gatewayEndpointOf(parsed), ...(workspace ? { workspace } : {}) });
    writeFileAtomic(adapterPath, `# Written by \`aegisclaw openclaw setup\` (docs/openclaw.md). The gateway token is NOT here:\n# store it with \`aegisclaw secrets set ${adapter.api_key_secret}\`.\n${yaml}`);
    report.adapterConfig.action = "written";
  }
  if (report.changed) {
    mkdirSync(dirname(configPath), { recursive: true, mode: 0o700 });
    if (exists) {
      report.backup = `${configPath}.bak-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      copyFileSync(configPath, report.backup);
      // It may hold the gateway token: readable by the owner only, whatever the original's mode.
      chmodSync(report.backup, 0o600);
    }
    writeFileAtomic(configPath, after);
  }
  return report;
}

/**
 * Where the plugin shipped with this AegisClaw is: the source tree (bun src/main.ts), or next to
 * the installed binary (install.sh copies it to <prefix>/share/aegisclaw/adapters/openclaw/plugin).
 */
export function findPluginDir(): string {
  const exe = dirname(process.execPath);
  const candidates = [
    process.env.AEGISCLAW_OPENCLAW_PLUGIN_DIR,
    compiled() ? undefined : resolve(import.meta.dir, "..", "..", "..", "adapters", "openclaw", "plugin"),
    resolve(exe, "..", "share", "aegisclaw", "adapters", "openclaw", "plugin"),
    resolve(exe, "adapters", "openclaw", "plugin"),
    // dist/aegisclaw built in a checkout.
    resolve(exe, "..", "adapters", "openclaw", "plugin"),
  ].filter((dir): dir is string => dir !== undefined);
  const found = candidates.find((dir) => existsSync(join(dir, "openclaw.plugin.json")));
  if (!found) throw new AegisError("unavailable", `the AegisClaw OpenClaw plugin is not installed (looked in ${candidates.join(", ")})`, { hint: "reinstall with ./install.sh (it copies adapters/openclaw/plugin), or set AEGISCLAW_OPENCLAW_PLUGIN_DIR" });
  return found;
}

/** How OpenClaw starts this AegisClaw's MCP server: the binary itself, or bun with src/main.ts. */
function aegisclawCommand(): { command: string; args: string[] } {
  if (compiled()) return { command: process.execPath, args: ["mcp-server"] };
  return { command: process.execPath, args: [resolve(import.meta.dir, "..", "..", "main.ts"), "mcp-server"] };
}

/** True inside the single-file binary (its modules live under Bun's virtual /$bunfs). */
function compiled(): boolean {
  return import.meta.dir.includes("$bunfs") || import.meta.dir.startsWith("B:\\~BUN");
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new AegisError("bad-input", `cannot read ${path}: ${(error as Error).message}`);
  }
}

function existingEndpoint(config: Record<string, unknown>): string | undefined {
  const plugins = config.plugins as { entries?: Record<string, { config?: { endpoint?: unknown } }> } | undefined;
  const endpoint = plugins?.entries?.aegisclaw?.config?.endpoint;
  return typeof endpoint === "string" && /^https?:\/\//.test(endpoint) ? endpoint : undefined;
}

function checkedEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new AegisError("usage", `--endpoint ${endpoint.slice(0, 200)} is not a URL`, { hint: "give AegisClaw's API base URL, e.g. http://127.0.0.1:7878" });
  }
  if (!/^https?:$/.test(url.protocol)) throw new AegisError("usage", `--endpoint must be http(s), not ${url.protocol}`, { hint: "e.g. http://127.0.0.1:7878" });
  return url.origin;
}

/** The token file exists and holds a token the store still accepts. */
async function tokenFileValid(file: string, stateDir: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  const id = /^acw_([0-9a-f]{12})_/.exec(readFileSync(file, "utf8").trim())?.[1];
  return id !== undefined && new TokenStore(tokensFile(stateDir)).active(id) !== undefined;
}

/** A fresh operator token for the plugin, in a 0600 file; an older one of the same name is revoked (its secret is lost). */
async function createPluginToken(file: string, stateDir: string): Promise<void> {
  const store = new TokenStore(tokensFile(stateDir));
  for (const old of store.list()) if (old.name === TOKEN_NAME && !old.revokedAt) await store.revoke(old.id);
  const { token } = await store.create("operator", TOKEN_NAME);
  writeFileAtomic(file, `${token}\n`, 0o600);
}
