/** Shared pieces of the Docker egress tests: servers on the host, a recording runtime, hello bytes for printf. */
import { afterAll, beforeAll } from "bun:test";
import net from "node:net";
import { createDockerRuntime, DEFAULT_LIMITS, type EgressEvent, type SandboxResult, type SandboxRuntime } from "../../../src/sandbox/index.ts";
import type { Resolver } from "../../../src/sandbox/egress/vet.ts";
import { BASE_IMAGE } from "../../helpers/docker.ts";

/**
 * Two HTTP servers on loopback for a test file, started before its tests and stopped after:
 * `web` answers `web says <path>` and records each path in `hits`; `other` is never granted.
 */
export function hostServers(): { readonly web: ReturnType<typeof Bun.serve>; readonly other: ReturnType<typeof Bun.serve>; hits: string[] } {
  let web: ReturnType<typeof Bun.serve> | undefined;
  let other: ReturnType<typeof Bun.serve> | undefined;
  const hits: string[] = [];
  beforeAll(() => {
    web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => (hits.push(new URL(request.url).pathname), new Response(`web says ${new URL(request.url).pathname}\n`)) });
    other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("other server\n") });
  });
  afterAll(() => {
    web?.stop(true);
    other?.stop(true);
  });
  const started = <T>(server: T | undefined): T => {
    if (server === undefined) throw new Error("host servers are used before beforeAll started them");
    return server;
  };
  return {
    get web() {
      return started(web);
    },
    get other() {
      return started(other);
    },
    hits,
  };
}

/** What an egress run printed, how it ended, and what its proxy recorded. */
export interface EgressRun extends SandboxResult {
  stdout: string;
  stderr: string;
  events: EgressEvent[];
}

/** A Docker runtime whose egress decisions land in `events`; names resolve through `resolve` when given. */
export function recordingRuntime(events: EgressEvent[], resolve?: Resolver, ociRuntime?: string): SandboxRuntime {
  return createDockerRuntime({ egressAudit: async (event) => void events.push(event), ...(resolve ? { egressResolve: resolve } : {}), ...(ociRuntime ? { ociRuntime } : {}) });
}

let counter = 0;

/** Runs `sh -c script` granted `allow` (no egress when undefined), collecting output and decisions. */
export async function egressRun(allow: string[] | undefined, script: string, options: { resolve?: Resolver; timeoutMs?: number; runtime?: SandboxRuntime; events?: EgressEvent[] } = {}): Promise<EgressRun> {
  const events = options.events ?? [];
  const runtime = options.runtime ?? recordingRuntime(events, options.resolve);
  const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const out = { stdout: "", stderr: "" };
  const runId = `egress-test-${process.pid}-${++counter}`;
  const result = await runtime.run(
    {
      runId,
      image: BASE_IMAGE,
      argv: ["sh", "-c", script],
      timeoutMs: options.timeoutMs ?? 30_000,
      limits: DEFAULT_LIMITS,
      ...(allow ? { egress: { allow, actor: { name: "egress-test", source: "cli" }, requestHash: "a".repeat(64) } } : {}),
    },
    { stdout: (chunk) => void (out.stdout += decoder.stdout.decode(chunk, { stream: true })), stderr: (chunk) => void (out.stderr += decoder.stderr.decode(chunk, { stream: true })) },
  );
  return { ...result, ...out, events: events.filter((event) => event.runId === runId) };
}

/** Shell lines setting $GW and $PORT from the run's HTTP_PROXY. */
export const PROXY_PARTS = 'p=${HTTP_PROXY#http://}; GW=${p%:*}; PORT=${p##*:}';

/** `bytes` as a printf format of \\xHH escapes (busybox printf understands them). */
export function printfEscape(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => `\\x${byte.toString(16).padStart(2, "0")}`).join("");
}

/** A TCP server keeping the first bytes of every connection (and counting connections). */
export async function rawServer(host = "127.0.0.1"): Promise<{ port: number; connections: () => number; firstBytes: Buffer[]; close(): void }> {
  const firstBytes: Buffer[] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.on("error", () => undefined);
    socket.once("data", (chunk: Buffer) => firstBytes.push(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return { port: (server.address() as net.AddressInfo).port, connections: () => connections, firstBytes, close: () => server.close() };
}
