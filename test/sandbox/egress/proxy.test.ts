/** The egress proxy in process, on loopback: requests, refusals, SNI, records and limits. */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import tls from "node:tls";
import { EgressProxy, type EgressProxyOptions } from "../../../src/sandbox/egress/proxy.ts";
import { readClientHello } from "../../../src/sandbox/egress/sni.ts";
import type { Resolver } from "../../../src/sandbox/egress/vet.ts";
import type { EgressDecision } from "../../../src/sandbox/types.ts";

/** A plain HTTP server, and a raw TCP server that keeps the first bytes each connection sends. */
let http: ReturnType<typeof Bun.serve>;
let raw: net.Server;
let rawPort = 0;
const rawFirstBytes: Buffer[] = [];
const proxies: EgressProxy[] = [];

beforeAll(async () => {
  http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => new Response(`hello from ${new URL(request.url).pathname} host=${request.headers.get("host")}\n`) });
  raw = net.createServer((socket) => socket.once("data", (chunk: Buffer) => rawFirstBytes.push(chunk)));
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", () => resolve()));
  rawPort = (raw.address() as net.AddressInfo).port;
});
afterAll(() => {
  http.stop(true);
  raw.close();
});
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
  rawFirstBytes.length = 0;
});

const resolver: Resolver = async (host) => {
  if (host === "app.test" || host === "tunnel.test") return ["127.0.0.1"];
  throw new Error("NXDOMAIN");
};

/** A proxy admitting 127.0.0.1, on a free port, recording into the returned list. */
async function proxy(allow: string[], overrides: Partial<EgressProxyOptions> = {}) {
  const records: EgressDecision[] = [];
  const started = await EgressProxy.start({ runId: "r-test", host: "127.0.0.1", ports: [0], allow, resolve: resolver, record: async (decision) => void records.push(decision), ...overrides });
  proxies.push(started);
  if (overrides.record === undefined) started.admit("127.0.0.1");
  return { proxy: started, records, port: started.port === 0 ? 0 : started.port };
}

/** Sends `text` on a fresh connection and returns everything the proxy answered until it closed. */
async function exchange(port: number, text: string | Buffer, options: { halfClose?: boolean } = {}): Promise<string> {
  const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  if (options.halfClose) socket.end(text);
  else socket.write(text);
  await new Promise<void>((resolve) => {
    socket.on("close", () => resolve());
    socket.on("end", () => socket.end());
    socket.on("error", () => resolve());
  });
  return Buffer.concat(chunks).toString("latin1");
}

const port = (p: EgressProxy) => p.port;

describe("egress proxy", () => {
  test("proxy: listens on the first free port of its list", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const taken = (blocker.address() as net.AddressInfo).port;
    const { proxy: p } = await proxy([], { ports: [taken, 0] });
    expect(port(p)).not.toBe(taken);
    blocker.close();
    await expect(EgressProxy.start({ runId: "r", host: "127.0.0.1", ports: [port(p)], allow: [], record: async () => undefined })).rejects.toThrow("no free egress proxy port");
  });

  test("proxy: plain HTTP to a granted IP literal is forwarded in origin-form and recorded as allowed", async () => {
    const target = `127.0.0.1:${http.port}`;
    const { proxy: p, records } = await proxy([`net.outbound:${target}`]);
    const answer = await exchange(port(p), `GET http://${target}/path HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    expect(answer).toStartWith("HTTP/1.1 200");
    expect(answer).toContain(`hello from /path host=${target}`);
    expect(records).toEqual([
      { runId: "r-test", outcome: "allowed", rule: "egress.allowed", reason: `net.outbound:${target} granted by net.outbound:${target}`, client: "127.0.0.1", grantedBy: `net.outbound:${target}`, addresses: ["127.0.0.1"], method: "GET", host: "127.0.0.1", port: http.port },
    ]);
  });

  test("proxy: Bun's own fetch works through it (a real proxy client)", async () => {
    const target = `127.0.0.1:${http.port}`;
    const { proxy: p } = await proxy([`net.outbound:${target}`]);
    const response = await fetch(`http://${target}/fetched`, { proxy: `http://127.0.0.1:${port(p)}` });
    expect(await response.text()).toContain("hello from /fetched");
  });

  test("proxy: a client that half-closes after its request still gets the whole answer", async () => {
    const target = `127.0.0.1:${http.port}`;
    const { proxy: p } = await proxy([`net.outbound:${target}`]);
    expect(await exchange(port(p), `GET http://${target}/x HTTP/1.0\r\nHost: ${target}\r\n\r\n`, { halfClose: true })).toContain("hello from /x");
  });

  test("proxy: a host not on the list is refused with 403 and recorded", async () => {
    const { proxy: p, records } = await proxy(["net.outbound:example.com"]);
    const answer = await exchange(port(p), "GET http://other.example/ HTTP/1.1\r\nHost: other.example\r\n\r\n");
    expect(answer).toStartWith("HTTP/1.1 403 Forbidden");
    expect(answer).toContain("net.outbound:other.example:80 is not granted");
    expect(records).toMatchObject([{ outcome: "denied", rule: "egress.not-granted", host: "other.example", port: 80, method: "GET" }]);
  });

  test("proxy: a granted name resolving to loopback is refused until its address is granted", async () => {
    const { proxy: refused, records } = await proxy([`net.outbound:app.test:${http.port}`]);
    const denied = await exchange(port(refused), `GET http://app.test:${http.port}/ HTTP/1.1\r\nHost: app.test:${http.port}\r\n\r\n`);
    expect(denied).toStartWith("HTTP/1.1 403");
    expect(records).toMatchObject([{ outcome: "denied", rule: "egress.address-refused", addresses: ["127.0.0.1"] }]);
    const { proxy: allowed } = await proxy([`net.outbound:app.test:${http.port}`, `net.outbound:127.0.0.1:${http.port}`]);
    expect(await exchange(port(allowed), `GET http://app.test:${http.port}/ok HTTP/1.1\r\nHost: app.test:${http.port}\r\n\r\n`)).toContain("hello from /ok host=app.test");
  });

  test("proxy: a name that does not resolve is a 502, recorded", async () => {
    const { proxy: p, records } = await proxy(["net.outbound:gone.test"]);
    expect(await exchange(port(p), "GET http://gone.test/ HTTP/1.1\r\nHost: gone.test\r\n\r\n")).toStartWith("HTTP/1.1 502");
    expect(records[0]).toMatchObject({ outcome: "denied", rule: "egress.dns-failed" });
  });

  test("proxy: CONNECT with a matching SNI tunnels, and the server gets the ClientHello first", async () => {
    const { proxy: p, records } = await proxy([`net.outbound:tunnel.test:${rawPort}`, `net.outbound:127.0.0.1:${rawPort}`]);
    const socket = await connectThrough(port(p), `tunnel.test:${rawPort}`);
    const client = tls.connect({ socket, servername: "tunnel.test", rejectUnauthorized: false });
    client.on("error", () => undefined);
    await waitFor(() => rawFirstBytes.length > 0);
    const hello = readClientHello(rawFirstBytes[0] ?? Buffer.alloc(0));
    expect(hello).toMatchObject({ kind: "client-hello", serverName: "tunnel.test" });
    expect(records).toMatchObject([{ outcome: "allowed", method: "CONNECT", host: "tunnel.test", sni: "tunnel.test" }]);
    client.destroy();
  });

  test("proxy: CONNECT with another SNI (domain fronting) is cut before any byte reaches the server", async () => {
    const { proxy: p, records } = await proxy([`net.outbound:tunnel.test:${rawPort}`, `net.outbound:127.0.0.1:${rawPort}`]);
    const socket = await connectThrough(port(p), `tunnel.test:${rawPort}`);
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    const client = tls.connect({ socket, servername: "evil.example", rejectUnauthorized: false });
    client.on("error", () => undefined);
    await closed;
    expect(records).toMatchObject([{ outcome: "denied", rule: "egress.sni-mismatch", host: "tunnel.test", sni: "evil.example" }]);
    await Bun.sleep(100);
    expect(rawFirstBytes).toEqual([]);
  });

  test("proxy: a malformed ClientHello in a tunnel is refused", async () => {
    const { proxy: p, records } = await proxy([`net.outbound:127.0.0.1:${rawPort}`]);
    const answer = await exchange(port(p), Buffer.concat([Buffer.from(`CONNECT 127.0.0.1:${rawPort} HTTP/1.1\r\n\r\n`), Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0])]));
    expect(answer).toBe("HTTP/1.1 200 Connection Established\r\n\r\n");
    expect(records).toMatchObject([{ outcome: "denied", rule: "egress.tls-malformed" }]);
    expect(rawFirstBytes).toEqual([]);
  });

  test("proxy: a non-TLS tunnel to a granted port passes, with no SNI recorded", async () => {
    const { proxy: p, records } = await proxy([`net.outbound:127.0.0.1:${rawPort}`]);
    const socket = await connectThrough(port(p), `127.0.0.1:${rawPort}`);
    socket.write("SSH-2.0-test\r\n");
    await waitFor(() => rawFirstBytes.length > 0);
    expect(rawFirstBytes[0]?.toString()).toBe("SSH-2.0-test\r\n");
    expect(records).toMatchObject([{ outcome: "allowed", method: "CONNECT" }]);
    expect(records[0]?.sni).toBeUndefined();
    socket.destroy();
  });

  test("proxy: connections from any address but the admitted sandbox are refused", async () => {
    const records: EgressDecision[] = [];
    const p = await EgressProxy.start({ runId: "r-x", host: "127.0.0.1", ports: [0], allow: [`net.outbound:127.0.0.1:${http.port}`], record: async (d) => void records.push(d) });
    proxies.push(p);
    p.admit("10.9.9.9");
    expect(await exchange(p.port, `GET http://127.0.0.1:${http.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${http.port}\r\n\r\n`)).toStartWith("HTTP/1.1 403");
    expect(records).toMatchObject([{ outcome: "denied", rule: "egress.unknown-client", client: "127.0.0.1" }]);
  });

  test("proxy: before admission a connection waits; refuseAll denies it", async () => {
    const records: EgressDecision[] = [];
    const p = await EgressProxy.start({ runId: "r-y", host: "127.0.0.1", ports: [0], allow: [`net.outbound:127.0.0.1:${http.port}`], record: async (d) => void records.push(d) });
    proxies.push(p);
    const pending = exchange(p.port, `GET http://127.0.0.1:${http.port}/late HTTP/1.1\r\nHost: 127.0.0.1:${http.port}\r\n\r\n`);
    await Bun.sleep(100);
    p.admit("127.0.0.1");
    expect(await pending).toContain("hello from /late");
    const never = await EgressProxy.start({ runId: "r-w", host: "127.0.0.1", ports: [0], allow: [], record: async (d) => void records.push(d) });
    proxies.push(never);
    const waiting = exchange(never.port, "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n");
    never.refuseAll();
    expect(await waiting).toStartWith("HTTP/1.1 403");
    expect(records.at(-1)).toMatchObject({ runId: "r-w", rule: "egress.unknown-client" });
  });

  test("proxy: an allow that cannot be recorded is refused (fail closed)", async () => {
    const target = `127.0.0.1:${http.port}`;
    const p = await EgressProxy.start({ runId: "r-z", host: "127.0.0.1", ports: [0], allow: [`net.outbound:${target}`], record: async () => Promise.reject(new Error("disk full")) });
    proxies.push(p);
    p.admit("127.0.0.1");
    const answer = await exchange(p.port, `GET http://${target}/ HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    expect(answer).toStartWith("HTTP/1.1 502");
    expect(answer).toContain("could not be recorded");
  });

  test("proxy: an oversized head and a silent client are refused and recorded", async () => {
    const { proxy: p, records } = await proxy([], { limits: { headTimeoutMs: 300 } });
    expect(await exchange(port(p), `GET http://x.example/ HTTP/1.1\r\nX: ${"a".repeat(9000)}`)).toStartWith("HTTP/1.1 400");
    expect(await exchange(port(p), "GET http://x.example/")).toStartWith("HTTP/1.1 408");
    expect(records.map((r) => r.rule)).toEqual(["egress.bad-request", "egress.bad-request"]);
  });

  test("proxy: past the decision ceiling connections are refused and only one refusal is recorded", async () => {
    const { proxy: p, records } = await proxy(["net.outbound:example.com"], { limits: { maxDecisions: 2 } });
    for (let i = 0; i < 5; i++) await exchange(port(p), "GET http://nope.example/ HTTP/1.1\r\nHost: nope.example\r\n\r\n");
    expect(records.map((r) => r.rule)).toEqual(["egress.not-granted", "egress.not-granted", "egress.limit"]);
  });

  test("proxy: close() cuts open tunnels and stops listening", async () => {
    const { proxy: p } = await proxy([`net.outbound:127.0.0.1:${rawPort}`]);
    const socket = await connectThrough(port(p), `127.0.0.1:${rawPort}`);
    socket.write("hi");
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    await p.close();
    await closed;
    const refused = net.connect({ host: "127.0.0.1", port: port(p) });
    expect(await new Promise((resolve) => refused.once("error", (error: NodeJS.ErrnoException) => resolve(error.code)))).toBe("ECONNREFUSED");
  });
});

/** Opens a CONNECT tunnel and resolves once the proxy said 200. */
async function connectThrough(proxyPort: number, authority: string): Promise<net.Socket> {
  const socket = net.connect({ host: "127.0.0.1", port: proxyPort });
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const answer = await new Promise<string>((resolve) => socket.once("data", (chunk: Buffer) => resolve(chunk.toString("latin1"))));
  expect(answer).toBe("HTTP/1.1 200 Connection Established\r\n\r\n");
  return socket;
}

async function waitFor(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}
