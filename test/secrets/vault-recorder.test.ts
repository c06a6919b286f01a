import { afterEach, describe, expect, test } from "bun:test";
import { VaultAppRoleAuth, VaultSecretBackend, VaultTokenAuth } from "../../src/secrets/index.ts";
import { expectNoLeak, rejectionOf } from "../conformance/secret-backend.ts";

// (Bun 1.4.5: toMatchObject with asymmetric matchers overwrites the received fields, so errors
// checked again later are matched as copies: `expect({ ...error })`.)
// What the backend puts on the wire, seen by a tiny loopback recorder: headers the dev-mode
// server cannot show us (namespaces are an Enterprise feature in Vault; see docs/secrets.md),
// redirects and servers that never answer. Behaviour against a real server is tested in
// vault-backend.test.ts and the conformance suite.

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

const servers: Array<{ stop: (force?: boolean) => void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.stop(true);
});

function recorder(respond: (request: Seen) => Response | Promise<Response>): { address: string; seen: Seen[] } {
  const seen: Seen[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const entry: Seen = { method: request.method, path: `${url.pathname}${url.search}`, headers: Object.fromEntries(request.headers), body: await request.text() };
      seen.push(entry);
      return respond(entry);
    },
  });
  servers.push(server);
  return { address: `http://127.0.0.1:${server.port}`, seen };
}

/** Answers like KV v2 holding one secret, and like AppRole login. */
function fakeVault(request: Seen): Response {
  if (request.path === "/v1/auth/approle/login") return Response.json({ auth: { client_token: "hvs.from-login", lease_duration: 3600, renewable: true } });
  if (request.path.startsWith("/v1/sys/internal/ui/mounts/")) return Response.json({ data: { type: "kv", options: { version: "2" } } });
  if (request.path.startsWith("/v1/team-kv/data/")) return Response.json({ data: { data: { value: "namespaced value" }, metadata: { version: 1 } } });
  return Response.json({ errors: [] }, { status: 404 });
}

describe("vault backend on the wire", () => {
  test("vault backend: the namespace header goes with every request, including the AppRole login", async () => {
    const { address, seen } = recorder(fakeVault);
    const vault = new VaultSecretBackend({
      address,
      namespace: "team-a/agents",
      mount: "team-kv",
      path: "apps/bot",
      auth: new VaultAppRoleAuth({ roleId: "role-123", secretId: async () => "secret-id-456" }),
    });
    expect(await vault.get("API_KEY")).toBe("namespaced value");
    expect(seen.map((request) => `${request.method} ${request.path}`)).toEqual([
      "POST /v1/auth/approle/login",
      "GET /v1/sys/internal/ui/mounts/team-kv",
      "GET /v1/team-kv/data/apps/bot/API_KEY",
    ]);
    for (const request of seen) expect(request.headers["x-vault-namespace"]).toBe("team-a/agents");
    expect(seen[0]?.headers["x-vault-token"]).toBeUndefined();
    expect(JSON.parse(seen[0]?.body ?? "{}")).toEqual({ role_id: "role-123", secret_id: "secret-id-456" });
    expect(seen[2]?.headers["x-vault-token"]).toBe("hvs.from-login");
  });

  test("vault backend: without a namespace no namespace header is sent", async () => {
    const { address, seen } = recorder(fakeVault);
    const vault = new VaultSecretBackend({ address, mount: "team-kv", auth: new VaultTokenAuth(async () => "hvs.static") });
    await vault.get("API_KEY");
    for (const request of seen) expect(request.headers["x-vault-namespace"]).toBeUndefined();
    expect(seen.at(-1)?.path).toBe("/v1/team-kv/data/aegisclaw/API_KEY");
  });

  test("vault backend: a redirect is reported, and the token is not sent to its target", async () => {
    const target = recorder(() => Response.json({ data: { data: { value: "stolen" } } }));
    const { address } = recorder(() => new Response(null, { status: 307, headers: { location: `${target.address}/v1/secret/data/aegisclaw/X` } }));
    const error = await rejectionOf(new VaultSecretBackend({ address, auth: new VaultTokenAuth(async () => "hvs.redirect-canary") }).get("X"));
    expect({ ...error }).toMatchObject({ code: "unavailable", message: expect.stringContaining("answered with a redirect (307)") });
    expect(target.seen).toEqual([]);
    expectNoLeak(error, ["hvs.redirect-canary"]);
  });

  test("vault backend: a server that never answers times out as unavailable", async () => {
    const { address } = recorder(() => new Promise<Response>(() => {}));
    const vault = new VaultSecretBackend({ address, timeoutMs: 300, auth: new VaultTokenAuth(async () => "hvs.slow-canary") });
    const error = await rejectionOf(vault.list());
    expect(error).toMatchObject({ code: "unavailable", message: `Vault at ${address} did not answer within 300 ms` });
    expectNoLeak(error, ["hvs.slow-canary"]);
  });

  test("vault backend: Vault's own error text reaches the message with credentials cut out", async () => {
    const { address } = recorder((request) =>
      request.path.startsWith("/v1/sys/") ? Response.json({}, { status: 404 }) : Response.json({ errors: [`internal failure near hvs.echo-canary and value-echo-canary`] }, { status: 500 }),
    );
    const vault = new VaultSecretBackend({ address, auth: new VaultTokenAuth(async () => "hvs.echo-canary") });
    const error = await rejectionOf(vault.set("ECHO", "value-echo-canary"));
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("internal failure near [redacted] and [redacted]");
    expectNoLeak(error, ["hvs.echo-canary", "value-echo-canary"]);
  });

  test("vault backend: bad addresses, mounts and paths throw at construction", () => {
    const auth = new VaultTokenAuth(async () => "t");
    const bad: Array<[Record<string, string>, string]> = [
      [{ address: "http://vault.example.com:8200" }, "plain http"],
      [{ address: "https://user:pw@vault.example.com" }, "scheme, host and port only"],
      [{ address: "https://vault.example.com/v1" }, "scheme, host and port only"],
      [{ address: "ftp://vault.example.com" }, "must be http(s)"],
      [{ address: "not a url" }, "not a URL"],
      [{ address: "https://vault.example.com", mount: "../sys" }, "secrets.vault.mount"],
      [{ address: "https://vault.example.com", path: "a/../b" }, "secrets.vault.path"],
      [{ address: "https://vault.example.com", namespace: "ns with space" }, "secrets.vault.namespace"],
    ];
    for (const [options, expected] of bad) {
      expect(() => new VaultSecretBackend({ ...options, address: options.address ?? "", auth })).toThrow(expected);
    }
    for (const address of ["https://vault.example.com:8200", "http://127.0.0.1:8200", "http://localhost:8200", "http://[::1]:8200"]) {
      expect(() => new VaultSecretBackend({ address, auth })).not.toThrow();
    }
  });
});
