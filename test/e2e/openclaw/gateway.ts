/**
 * The real OpenClaw gateway (installed by scripts/setup-openclaw.sh into .tools/openclaw) in an
 * isolated home under a temp dir: its own HOME, state dir and openclaw.json, loopback only,
 * token auth, a fake model. Nothing touches the real ~/.openclaw.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../helpers/temp-home.ts";
import { freePort, startBackground, waitFor, type Background } from "./processes.ts";

export const ROOT = join(import.meta.dir, "..", "..", "..");
export const OPENCLAW_DIR = join(ROOT, ".tools", "openclaw");
export const NODE24 = join(OPENCLAW_DIR, "node", "bin", "node");
export const OPENCLAW_CLI = join(OPENCLAW_DIR, "node_modules", ".bin", "openclaw");
/** The plugin shipped in this repo. */
export const PLUGIN_DIR = join(ROOT, "adapters", "openclaw", "plugin");

/** Throws with the fix when the test install is missing (CI runs scripts/setup.sh first). */
export function requireOpenClaw(): void {
  if (!existsSync(NODE24) || !existsSync(OPENCLAW_CLI)) throw new Error(`OpenClaw test install missing in ${OPENCLAW_DIR}; run: bash scripts/setup-openclaw.sh`);
}

export interface OpenClawHome {
  dir: string;
  home: string;
  stateDir: string;
  configPath: string;
  workspace: string;
  port: number;
  token: string;
  env: Record<string, string>;
}

/** A fresh isolated OpenClaw home (nothing written yet but the directories). */
export function openClawHome(): OpenClawHome {
  const dir = tempDir("aegisclaw-openclaw-");
  const home = join(dir, "home");
  const stateDir = join(home, ".openclaw");
  const workspace = join(home, "workspace");
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(workspace, { recursive: true });
  const configPath = join(stateDir, "openclaw.json");
  const token = `oc-e2e-${crypto.getRandomValues(new Uint8Array(12)).toHex()}`;
  const env = {
    PATH: `${join(OPENCLAW_DIR, "node", "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: home,
    LANG: "C.UTF-8",
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_CONFIG_PATH: configPath,
    OPENCLAW_NO_AUTO_UPDATE: "1",
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
  };
  return { dir, home, stateDir, configPath, workspace, port: freePort(), token, env };
}

export interface GatewayConfigOptions {
  modelBaseUrl: string;
  /** plugins.entries.aegisclaw.config; no plugin when undefined. */
  plugin?: { endpoint: string; tokenFile: string; timeoutMs: number };
  /** mcp.servers.aegisclaw (stdio). */
  mcp?: { command: string; args: string[]; env: Record<string, string>; cwd: string };
  execMode?: "full" | "ask" | "deny" | "allowlist";
}

/** openclaw.json for the test: loopback gateway, token auth, the fake provider, the plugin, MCP. */
export function gatewayConfig(oc: OpenClawHome, options: GatewayConfigOptions): Record<string, unknown> {
  const hookTimeout = options.plugin ? Math.min(600_000, options.plugin.timeoutMs + 5000) : undefined;
  return {
    gateway: { mode: "local", port: oc.port, bind: "loopback", auth: { mode: "token", token: oc.token } },
    agents: { defaults: { model: { primary: "fake/fake-model" }, workspace: oc.workspace } },
    models: {
      mode: "merge",
      providers: {
        fake: {
          baseUrl: options.modelBaseUrl,
          apiKey: "fake-local",
          api: "openai-completions",
          models: [{ id: "fake-model", name: "Fake Model", reasoning: false, input: ["text"], cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, contextWindow: 128000, maxTokens: 4096 }],
        },
      },
    },
    tools: { exec: { mode: options.execMode ?? "full", host: "gateway" }, toolSearch: false },
    // Inside the temp dir (the default is /tmp/openclaw/), so a test can read every log it wrote.
    logging: { file: join(oc.dir, "logs", "openclaw.log") },
    // Offline: no update check against telemetry.openclaw.ai.
    update: { checkOnStart: false },
    ...(options.plugin
      ? {
          plugins: {
            allow: ["aegisclaw"],
            load: { paths: [PLUGIN_DIR] },
            entries: { aegisclaw: { enabled: true, config: options.plugin, hooks: { timeoutMs: hookTimeout } } },
          },
        }
      : {}),
    ...(options.mcp ? { mcp: { servers: { aegisclaw: options.mcp } } } : {}),
  };
}

export function writeGatewayConfig(oc: OpenClawHome, config: Record<string, unknown>): void {
  writeFileSync(oc.configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

export interface Gateway {
  process: Background;
  url: string;
  /** Milliseconds from spawn to /readyz 200. */
  startupMs: number;
  stop(): Promise<void>;
}

/** Starts `openclaw gateway run` and waits until /readyz answers 200. */
export async function startGateway(oc: OpenClawHome): Promise<Gateway> {
  const started = performance.now();
  const proc = startBackground([NODE24, OPENCLAW_CLI, "gateway", "run", "--verbose"], oc.env, oc.home);
  const url = `http://127.0.0.1:${oc.port}`;
  try {
    await waitFor(
      "the OpenClaw gateway's /readyz",
      async () => {
        const code = await Promise.race([proc.exited.then((c) => `exited ${c}`), Bun.sleep(0).then(() => undefined)]);
        if (code) throw new Error(`openclaw gateway ${code}:\n${proc.output().slice(-4000)}`);
        const response = await fetch(`${url}/readyz`).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      },
      90_000,
      () => proc.output().slice(-4000),
    );
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { process: proc, url, startupMs: Math.round(performance.now() - started), stop: () => proc.stop(10_000) };
}
