/**
 * The egress proxy of one run: an HTTP forward proxy (CONNECT and absolute-form plain HTTP)
 * that only this run's sandbox may use, that only reaches the run's granted hosts, that
 * resolves names itself and connects to the vetted address, and that records every decision
 * before acting on it. node:net rather than Bun.listen: its pipe() gives back-pressure for
 * free, so a slow side never makes the proxy buffer without bound.
 */
import net from "node:net";
import type { EgressDecision } from "../types.ts";
import { Allowlist } from "./allowlist.ts";
import { headEnd, MAX_HEAD_BYTES, parseProxyRequest, type ProxyRequest } from "./http-head.ts";
import { MAX_CLIENT_HELLO_BYTES, readClientHello, type HelloResult } from "./sni.ts";
import { ReadError, SocketReader } from "./socket-reader.ts";
import { systemResolver, vetDestination, type Resolver } from "./vet.ts";

/** Ceilings of one run's proxy. */
export interface ProxyLimits {
  /** Time for the request head (and for the run's sandbox to be admitted). */
  headTimeoutMs: number;
  /** Time for the first bytes of a CONNECT tunnel (the TLS ClientHello). */
  helloTimeoutMs: number;
  connectTimeoutMs: number;
  /** A tunnel with no traffic either way for this long is closed. */
  idleTimeoutMs: number;
  /** Connections open at once; more are refused. */
  maxConcurrent: number;
  /** Decisions per run; past it connections are refused and only the first refusal is recorded, so a loop cannot flood the audit log. */
  maxDecisions: number;
}

/** Defaults: generous for real clients, small enough that a hostile sandbox cannot pin resources. */
export const DEFAULT_PROXY_LIMITS: ProxyLimits = {
  headTimeoutMs: 10_000,
  helloTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  maxConcurrent: 64,
  maxDecisions: 4096,
};

/** How to start a run's proxy. */
export interface EgressProxyOptions {
  runId: string;
  /** The address to listen on (the egress network's gateway). */
  host: string;
  /** Ports to try in order; the first free one is used. */
  ports: readonly number[];
  /** The run's granted net.outbound scope texts. */
  allow: readonly string[];
  /** Records a decision durably; the proxy waits for it, and an allow that fails to record is refused. */
  record: (decision: EgressDecision) => Promise<void>;
  resolve?: Resolver;
  limits?: Partial<ProxyLimits>;
}

/** Refusals of connections from other addresses that are recorded per run; later ones are only refused. */
const MAX_STRANGER_RECORDS = 16;

type Denial = { rule: string; reason: string; status: number; method?: string; host?: string; port?: number; addresses?: string[]; sni?: string };

/** One run's proxy; start() listens, admit() names the only client, close() ends everything. */
export class EgressProxy {
  private readonly sockets = new Set<net.Socket>();
  private readonly allowlist: Allowlist;
  private readonly limits: ProxyLimits;
  private readonly client: Promise<string | undefined>;
  private settleClient: (address: string | undefined) => void = () => undefined;
  private decisions = 0;
  private clients = 0;
  private strangers = 0;
  private floodRecorded = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly options: EgressProxyOptions,
  ) {
    this.allowlist = new Allowlist(options.allow);
    this.limits = { ...DEFAULT_PROXY_LIMITS, ...options.limits };
    this.client = new Promise((resolve) => (this.settleClient = resolve));
    server.on("connection", (socket) => void this.handle(socket));
  }

  /** Listens on the first free port of `ports`; throws when none is free. */
  static async start(options: EgressProxyOptions): Promise<EgressProxy> {
    new Allowlist(options.allow); // bad grants fail here, before anything listens
    for (const port of options.ports) {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
      const bound = await new Promise<boolean>((resolve, reject) => {
        server.once("error", (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? resolve(false) : reject(error)));
        server.listen({ host: options.host, port, exclusive: true }, () => resolve(true));
      });
      if (bound) return new EgressProxy(server, (server.address() as net.AddressInfo).port, options);
    }
    throw new Error(`no free egress proxy port on ${options.host} (tried ${options.ports.length})`);
  }

  /** The sandbox's address: from now on connections from it are served, all others refused. */
  admit(address: string): void {
    this.settleClient(address);
  }

  /** No client will ever be admitted (the sandbox's address could not be learnt). */
  refuseAll(): void {
    this.settleClient(undefined);
  }

  /** Stops listening and cuts every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.refuseAll();
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private async handle(socket: net.Socket): Promise<void> {
    this.track(socket);
    this.clients++;
    socket.on("close", () => this.clients--);
    const client = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    const reader = new SocketReader(socket);
    const deny = (denial: Denial) => this.deny(socket, client, denial);
    try {
      const admitted = await withTimeout(this.client, this.limits.headTimeoutMs);
      if (admitted !== client) {
        // Another sandbox probing this port: refused, and recorded only a few times so it cannot
        // use up this run's decision budget or flood the log.
        if (this.strangers++ >= MAX_STRANGER_RECORDS) return void socket.destroy();
        return await deny({ rule: "egress.unknown-client", reason: `connection from ${client}, which is not this run's sandbox`, status: 403 });
      }
      if (!this.takeBudget(client)) return void socket.destroy();
      const head = await reader.until((bytes) => (headEnd(bytes) === -1 ? undefined : headEnd(bytes)), MAX_HEAD_BYTES, this.limits.headTimeoutMs);
      let request: ProxyRequest;
      try {
        request = parseProxyRequest(reader.take(head));
      } catch (error) {
        return await deny({ rule: "egress.bad-request", reason: `bad proxy request: ${error instanceof Error ? error.message : String(error)}`, status: 400 });
      }
      const { destination, method } = request;
      const about = { method, host: destination.host, port: destination.port };
      const vetting = await vetDestination(destination, this.allowlist, this.options.resolve ?? systemResolver);
      if (!vetting.allowed) return await deny({ ...about, rule: vetting.rule, reason: vetting.reason, status: vetting.rule === "egress.dns-failed" ? 502 : 403, ...(vetting.addresses ? { addresses: vetting.addresses } : {}) });
      let sni: string | undefined;
      if (request.kind === "connect") {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        const hello = await this.readHello(reader);
        const refused = helloRefusal(hello, destination.host);
        if (hello.kind === "client-hello") sni = hello.serverName;
        if (refused) return await deny({ ...about, addresses: vetting.addresses, ...(sni ? { sni } : {}), ...refused, status: 0 });
      }
      const allowed: EgressDecision = { runId: this.options.runId, outcome: "allowed", rule: vetting.rule, reason: vetting.reason, client, grantedBy: vetting.grantedBy, addresses: vetting.addresses, ...about, ...(sni ? { sni } : {}) };
      try {
        await this.options.record(allowed);
      } catch {
        return void this.respond(socket, request.kind === "connect" ? 0 : 502, "the egress decision could not be recorded, so the connection is refused");
      }
      if (this.closing || socket.destroyed) return void socket.destroy();
      const upstream = await connectFirst(vetting.addresses, destination.port, this.limits.connectTimeoutMs);
      if (!upstream) return void this.respond(socket, request.kind === "connect" ? 0 : 502, `could not connect to ${destination.scope}`);
      // The run ended (or the client left) while connecting: nothing may outlive the proxy.
      if (this.closing || socket.destroyed) {
        upstream.destroy();
        return void socket.destroy();
      }
      this.splice(socket, upstream, reader, request.kind === "http" ? request.head : undefined);
    } catch (error) {
      if (error instanceof ReadError) return await deny({ rule: "egress.bad-request", reason: `incomplete proxy request: ${error.message}`, status: error.failure === "too-large" ? 400 : 408 });
      socket.destroy();
    }
  }

  /** Reads the tunnel's first bytes until they are a whole ClientHello or clearly not TLS. */
  private async readHello(reader: SocketReader): Promise<HelloResult> {
    try {
      // Room for the hello plus its record headers (one per 2^14 bytes at the least).
      return await reader.until((bytes) => {
        const result = readClientHello(bytes);
        return result.kind === "need-more" ? undefined : result;
      }, MAX_CLIENT_HELLO_BYTES + 64, this.limits.helloTimeoutMs);
    } catch (error) {
      const why = error instanceof ReadError ? error.message : "read failed";
      return { kind: "malformed", reason: `no complete first message in the tunnel: ${why}` };
    }
  }

  /** Pipes both ways (with back-pressure), first sending what was already read. */
  private splice(client: net.Socket, upstream: net.Socket, reader: SocketReader, head: Buffer | undefined): void {
    this.track(upstream);
    const first = reader.release();
    if (head) upstream.write(head);
    if (first.length > 0) upstream.write(first);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.setTimeout(this.limits.idleTimeoutMs, close);
      socket.on("error", close);
      socket.on("close", close);
    }
    if (reader.ended) upstream.end();
    else client.pipe(upstream);
    upstream.pipe(client);
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  }

  /** Counts a decision; past the ceilings records one refusal and then refuses silently. */
  private takeBudget(client: string): boolean {
    const tooMany = this.clients > this.limits.maxConcurrent;
    if (!tooMany && this.decisions < this.limits.maxDecisions) {
      this.decisions++;
      return true;
    }
    if (!this.floodRecorded) {
      this.floodRecorded = true;
      const reason = tooMany ? `more than ${this.limits.maxConcurrent} connections at once` : `more than ${this.limits.maxDecisions} connections in this run`;
      void this.options.record({ runId: this.options.runId, outcome: "denied", rule: "egress.limit", reason: `${reason}; further refusals are not recorded`, client }).catch(() => undefined);
    }
    return false;
  }

  private async deny(socket: net.Socket, client: string, denial: Denial): Promise<void> {
    const { status, ...rest } = denial;
    const decision: EgressDecision = { runId: this.options.runId, outcome: "denied", client, ...rest, reason: rest.reason.slice(0, 1000) };
    // A refusal stands whether or not it could be recorded.
    await this.options.record(decision).catch(() => undefined);
    this.respond(socket, status, decision.reason);
  }

  /** Answers with an HTTP error (status 0: inside a tunnel, where only closing is possible). */
  private respond(socket: net.Socket, status: number, reason: string): void {
    if (status === 0 || socket.destroyed) return void socket.destroy();
    const body = `aegisclaw egress: ${reason}\n`;
    const text = STATUS_TEXT[status] ?? "Error";
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    socket.setTimeout(1000, () => socket.destroy());
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: "Bad Request", 403: "Forbidden", 408: "Request Timeout", 502: "Bad Gateway" };

/** Why a tunnel's first message refuses it: a ClientHello for another name (domain fronting), ECH, or broken TLS. */
function helloRefusal(hello: HelloResult, host: string): { rule: string; reason: string } | undefined {
  if (hello.kind === "malformed") return { rule: "egress.tls-malformed", reason: `refused the tunnel to ${host}: ${hello.reason}` };
  if (hello.kind !== "client-hello") return undefined;
  if (hello.encryptedHello) return { rule: "egress.tls-ech", reason: `refused the tunnel to ${host}: encrypted ClientHello (ECH) hides the real server name` };
  if (hello.serverName !== undefined && hello.serverName !== host) {
    return { rule: "egress.sni-mismatch", reason: `refused the tunnel to ${host}: the TLS server name is ${hello.serverName}` };
  }
  return undefined;
}

/** Connects to the first address that answers, in order; undefined when none does. */
async function connectFirst(addresses: readonly string[], port: number, timeoutMs: number): Promise<net.Socket | undefined> {
  for (const address of addresses) {
    const socket = await new Promise<net.Socket | undefined>((resolve) => {
      const attempt = net.connect({ host: address, port, allowHalfOpen: true });
      const timer = setTimeout(() => fail(), timeoutMs);
      const fail = () => {
        clearTimeout(timer);
        attempt.destroy();
        resolve(undefined);
      };
      attempt.once("error", fail);
      attempt.once("connect", () => {
        clearTimeout(timer);
        attempt.off("error", fail);
        resolve(attempt);
      });
    });
    if (socket) return socket;
  }
  return undefined;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
