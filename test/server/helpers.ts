import { join } from "node:path";
import { createApp, type App } from "../../src/app.ts";
import { initAuditDir } from "../../src/audit/index.ts";
import { Config, defaultGrants, ensureHomeDirectories, homeLayout, renderDefaultConfig, writeFileAtomic, type PolicyTemplate } from "../../src/core/index.ts";
import { startServer, TokenStore, tokensFile, type RunningServer, type ServerOptions } from "../../src/server/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

/** The identities of the auth matrix. */
export type Identity = "none" | "bad" | "viewer" | "operator" | "admin";
export const IDENTITIES: readonly Identity[] = ["none", "bad", "viewer", "operator", "admin"];

/** A well-formed token that the store does not know. */
export const BAD_TOKEN = `acw_${"0".repeat(12)}_${"f".repeat(64)}`;

export interface ServerFixture {
  home: string;
  app: App;
  server: RunningServer;
  url: string;
  tokens: Record<"viewer" | "operator" | "admin", string>;
  store: TokenStore;
  logs: string[];
  /** Stops the server (runs cancelled) and closes the app; call it in afterAll. */
  stop(): Promise<void>;
  /** fetch against the server with an identity's bearer token. */
  call(path: string, init?: RequestInit & { as?: Identity; json?: unknown }): Promise<Response>;
}

/** A fresh initialised home (template, short approval timeout, a checkpoint after every append). */
export async function tempHome(template: PolicyTemplate = "standard", approvalsTimeout = "60s"): Promise<{ home: string; config: Config }> {
  const home = join(tempDir(), "home");
  const layout = homeLayout(home);
  ensureHomeDirectories(layout);
  writeFileAtomic(layout.config, renderDefaultConfig(template));
  await initAuditDir(layout.audit);
  const config = Config.parse({ version: 1, policy: { template, grants: defaultGrants(template) }, approvals: { timeout: approvalsTimeout }, audit: { checkpointEvery: 1 } });
  return { home, config };
}

/**
 * Starts a real server on 127.0.0.1 (random port) for a temp home, with a token per role.
 * Call `stop()` in afterAll (hooks registered inside beforeAll run at once in bun test).
 */
export async function startFixture(options: { template?: PolicyTemplate; approvalsTimeout?: string; server?: ServerOptions; app?: (app: App) => void } = {}): Promise<ServerFixture> {
  const { home, config } = await tempHome(options.template, options.approvalsTimeout);
  const app = createApp(home, { config });
  options.app?.(app);
  const store = new TokenStore(tokensFile(app.layout.state));
  const tokens = {
    viewer: (await store.create("viewer", "vera")).token,
    operator: (await store.create("operator", "otto")).token,
    admin: (await store.create("admin", "ada")).token,
  };
  const logs: string[] = [];
  const server = await startServer(app, { port: 0, log: (line) => logs.push(line), ...options.server });
  const stop = async () => {
    await server.stop();
    await app.close();
  };
  const call = (path: string, init: RequestInit & { as?: Identity; json?: unknown } = {}) => {
    const { as = "none", json, ...rest } = init;
    const headers = new Headers(rest.headers);
    const token = as === "none" ? undefined : as === "bad" ? BAD_TOKEN : tokens[as];
    if (token && !headers.has("authorization")) headers.set("Authorization", `Bearer ${token}`);
    if (json !== undefined) headers.set("Content-Type", "application/json");
    return fetch(`${server.url}${path}`, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  };
  return { home, app, server, url: server.url, tokens, store, logs, call, stop };
}

/** Reads a JSON body (for assertions). */
export async function body(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** Waits until `check` returns a value (polling), or fails after `ms`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, ms = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await Bun.sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}
