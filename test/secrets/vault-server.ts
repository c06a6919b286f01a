import { existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/temp-home.ts";

const ROOT = join(import.meta.dir, "..", "..");

/**
 * The Vault-API server the tests run: `.tools/bin/vault`, built by scripts/build-vault.sh
 * (setup.sh runs it). AEGISCLAW_VAULT_BIN points at another binary with the same CLI (an
 * OpenBao `bao`). A missing binary fails the tests; it never skips them.
 */
export const VAULT_BIN = process.env.AEGISCLAW_VAULT_BIN ?? join(ROOT, ".tools", "bin", "vault");

/** A dev-mode server on loopback: in-memory, unsealed, with a known root token. */
export interface VaultDevServer {
  address: string;
  rootToken: string;
  /** With `tls`: the PEM CA certificate the dev server generated. */
  ca?: string;
  /** Calls the API with the root token; throws on a status >= 400 (unless `allow` lists it). */
  api(method: string, path: string, body?: unknown, allow?: number[]): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Creates a token with the given policies; returns its client token. */
  token(policies: string[]): Promise<string>;
  /** Writes an ACL policy. */
  policy(name: string, hcl: string): Promise<void>;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the OS picks it; it is released before use). */
export function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = probe.port ?? 0;
  probe.stop(true);
  return port;
}

/** Starts `vault server -dev` on 127.0.0.1 (with `tls`: https and a generated CA) and waits until it answers. */
export async function startVaultDev(options: { tls?: boolean } = {}): Promise<VaultDevServer> {
  if (!existsSync(VAULT_BIN)) {
    throw new Error(`the Vault test server ${VAULT_BIN} is missing: run scripts/build-vault.sh (scripts/setup.sh does) or set AEGISCLAW_VAULT_BIN`);
  }
  const rootToken = `root-${crypto.randomUUID()}`;
  const port = freePort();
  const address = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
  const home = tempDir("aegisclaw-vault-");
  const tlsFlags = options.tls ? ["-dev-tls", `-dev-tls-cert-dir=${home}`] : [];
  // The server is stopped when our end of its stdin closes, so a test process that dies
  // without running afterAll does not leave a Vault listening: the watcher sees EOF and kills it.
  // (fd 3: a non-interactive sh gives background jobs /dev/null as stdin.)
  const proc = Bun.spawn(
    [
      "sh",
      "-c",
      'exec 3<&0; "$@" </dev/null & pid=$!; (cat <&3 >/dev/null; kill "$pid" 2>/dev/null) & wait "$pid"',
      "vault-dev",
      VAULT_BIN,
      "server",
      "-dev",
      ...tlsFlags,
      `-dev-root-token-id=${rootToken}`,
      `-dev-listen-address=127.0.0.1:${port}`,
      "-dev-no-store-token",
      "-log-level=warn",
    ],
    { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home }, stdin: "pipe", stdout: "ignore", stderr: "pipe" },
  );
  const stderr = new Response(proc.stderr).text();
  const deadline = Date.now() + 30_000;
  let ca: string | undefined;
  const tls = () => (ca === undefined ? {} : { tls: { ca } });
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`vault server -dev exited with ${proc.exitCode}: ${await stderr}`);
    try {
      if (options.tls) ca = await Bun.file(join(home, "vault-ca.pem")).text();
      const health = await fetch(`${address}/v1/sys/health`, { signal: AbortSignal.timeout(1_000), ...tls() });
      if (health.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.stdin.end();
      throw new Error(`vault server -dev did not become healthy within 30 s: ${await stderr}`);
    }
    await Bun.sleep(100);
  }

  const api: VaultDevServer["api"] = async (method, path, body, allow = []) => {
    const response = await fetch(`${address}/v1/${path}`, {
      method,
      headers: { "x-vault-token": rootToken, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      ...tls(),
    });
    const text = await response.text();
    const parsed = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (response.status >= 400 && !allow.includes(response.status)) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return { status: response.status, body: parsed };
  };
  return {
    address,
    rootToken,
    ca,
    api,
    async token(policies) {
      const created = await api("POST", "auth/token/create", { policies, no_default_policy: false, ttl: "1h" });
      return String((created.body.auth as Record<string, unknown>).client_token);
    },
    async policy(name, hcl) {
      await api("PUT", `sys/policies/acl/${name}`, { policy: hcl });
    },
    async stop() {
      proc.stdin.end();
      await proc.exited;
    },
  };
}

/** Policy HCL granting what the backend needs under `mount/path` (see docs/secrets.md). */
export function backendPolicy(mount: string, path: string): string {
  return `
path "${mount}/data/${path}/*" { capabilities = ["create", "read", "update"] }
path "${mount}/metadata/${path}/*" { capabilities = ["read", "list", "delete"] }
path "${mount}/metadata/${path}" { capabilities = ["list"] }
`;
}
