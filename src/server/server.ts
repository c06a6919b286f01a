import { readFileSync } from "node:fs";
import pkg from "../../package.json" with { type: "json" };
import type { App } from "../app.ts";
import { startOpenClawAdapter, type OpenClawAdapterDeps } from "../adapters/openclaw/index.ts";
import { DEFAULT_APPROVAL_TIMEOUT_MS, defaultDecisionWorkers, parseDuration, startAssessPool, type AssessPool, type EventEnvelope } from "../core/index.ts";
import { AegisError } from "../shared/index.ts";
import { ApprovalsView } from "./approvals-view.ts";
import type { AuthDeps } from "./auth.ts";
import type { ServerContext } from "./context.ts";
import { PAGE_CSP, responseForError, withSecurityHeaders } from "./http.ts";
import { ServerMetrics } from "./metrics.ts";
import { buildOpenApi } from "./openapi.ts";
import { FailureLimiter, type FailureLimit } from "./rate-limit.ts";
import { Router } from "./router.ts";
import { ROUTES } from "./routes/index.ts";
import { RunRegistry } from "./run-registry.ts";
import { SessionStore } from "./sessions.ts";
import { TokenStore, tokensFile } from "./tokens.ts";
import { webAsset } from "./web.ts";
import { WsHub, type WsData } from "./ws-hub.ts";

/** How to serve. Every default is the safe one: loopback, small bodies, short idle time. */
export interface ServerOptions {
  /** Address to bind (default 127.0.0.1). Anything but loopback needs `tls` or `insecure`. */
  host?: string;
  /** Port (default 7878; 0 picks a free one). */
  port?: number;
  /** PEM files for HTTPS. */
  tls?: { certFile: string; keyFile: string };
  /** Serve plain HTTP on a non-loopback address anyway (tokens then cross the network in clear). */
  insecure?: boolean;
  /** Extra exact origins (scheme://host[:port]) whose pages may call the API, e.g. behind a proxy. No wildcards. */
  allowedOrigins?: string[];
  /** Largest request body in bytes (default 256 KiB); larger ones get 413. */
  maxBodyBytes?: number;
  /** Seconds a connection may sit idle (default 30); slow or stalled clients are closed. */
  idleTimeoutSeconds?: number;
  /** Failed authentications per address before 429 (default 10 per minute). */
  authFailures?: FailureLimit;
  /** WebSocket and SSE heartbeat interval (default 15 s). */
  heartbeatMs?: number;
  /** Runs kept in memory and output bytes kept per run for late readers. */
  runs?: { maxRuns: number; maxOutputBytes: number };
  /** Where diagnostics go (default stderr). */
  log?: (line: string) => void;
  /**
   * Threads that validate and decide run requests next to the one serving HTTP (default: one
   * per core beyond the first, at most 4; 0 decides on the main thread). See src/core/assess-pool.ts.
   */
  decisionWorkers?: number;
  /** OpenClaw adapter overrides (tests): config instead of adapters/openclaw.yaml, probe interval. */
  openclaw?: Partial<Pick<OpenClawAdapterDeps, "config" | "token" | "probeIntervalMs">>;
}

/** A started server. */
export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:7878 */
  url: string;
  port: number;
  /** Origins whose browser pages may call the API. */
  allowedOrigins: ReadonlySet<string>;
  /** Decision worker threads beside the HTTP one (0: it decides itself). */
  decisionWorkers: number;
  /** Cancels this server's runs (each records its result), closes every client and stops listening. */
  stop(): Promise<void>;
}

/** How long stop() waits for cancelled runs to record their results (a stuck engine must not hang shutdown). */
const STOP_RUNS_TIMEOUT_MS = 30_000;

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1|\[::1\])$/;

/**
 * Starts the authenticated HTTP + WebSocket API for `app`. The server's Gate asks
 * `app.approvals` (exposed to other processes through the control socket); approvals of other
 * processes are followed through theirs. The caller keeps owning `app` (and closes it).
 */
export async function startServer(app: App, options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const tls = options.tls ? readTls(options.tls) : undefined;
  if (!LOOPBACK.test(host) && !tls && !options.insecure) {
    throw new AegisError("usage", `binding to ${host} needs TLS (--cert and --key) or --insecure`, { hint: "tokens would cross the network in clear text; use the default 127.0.0.1 behind a TLS proxy, or give --cert/--key" });
  }
  const extraOrigins = (options.allowedOrigins ?? []).map(checkedOrigin);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;

  const workers = options.decisionWorkers ?? defaultDecisionWorkers();
  const pool: AssessPool | undefined = workers > 0 ? await startAssessPool({ size: workers, home: app.layout.root, config: app.config, userPolicies: app.userPolicies, history: app.history, log }) : undefined;
  const gate = await app.gate(pool ? { assessor: pool } : {}).catch(async (error: unknown) => {
    await pool?.close();
    throw error;
  });
  app.startControl();
  const tokens = new TokenStore(tokensFile(app.layout.state));
  const sessions = new SessionStore();
  const auth: AuthDeps = { tokens, sessions, limiter: new FailureLimiter(options.authFailures ?? { limit: 10, windowMs: 60_000 }) };
  const hub = new WsHub({ heartbeatMs, maxBufferedBytes: 1024 * 1024, stillValid: (identity) => tokenStillValid(tokens, identity.tokenId) });
  let approvals: ApprovalsView | undefined;
  const metrics = new ServerMetrics({ auditDir: app.layout.audit, lockdownActive: () => app.lockdown.read().active, pendingApprovals: () => approvals?.count() ?? app.approvals.list().length });
  const observe = (event: EventEnvelope) => {
    metrics.observe(event);
    hub.publish(event);
  };
  const unsubscribe = app.bus.subscribe(observe);
  approvals = await ApprovalsView.start(app.approvals, app.layout.run, observe);
  const runs = new RunRegistry(gate, app.bus, options.runs ?? { maxRuns: 500, maxOutputBytes: 1024 * 1024 });
  // The OpenClaw gateway connection, its health and the approval bridge into app.approvals.
  const openclaw = startOpenClawAdapter({
    ...options.openclaw,
    home: app.layout.root,
    bus: app.bus,
    approvals: app.approvals,
    lockdown: app.lockdown,
    openAudit: app.openAudit,
    approvalTimeoutMs: parseDuration(app.config.approvals.timeout) ?? DEFAULT_APPROVAL_TIMEOUT_MS,
    log,
  });
  const router = new Router(ROUTES);
  const allowedOrigins = new Set<string>(extraOrigins);

  let server: Bun.Server<WsData> | undefined;
  const ctx: ServerContext = {
    app,
    gate,
    tokens,
    sessions,
    auth,
    runs,
    approvals,
    metrics,
    hub,
    openclaw,
    server: () => {
      if (!server) throw new AegisError("internal", "server not started");
      return server;
    },
    tls: Boolean(tls),
    version: pkg.version,
    openapi: buildOpenApi(ROUTES, pkg.version),
    sse: { heartbeatMs, maxQueuedBytes: 1024 * 1024 },
    log,
  };
  const dispatch = { auth, allowedOrigins, maxBodyBytes };
  try {
    server = Bun.serve<WsData>({
      hostname: host,
      port: options.port ?? 7878,
      ...(tls ? { tls } : {}),
      maxRequestBodySize: maxBodyBytes,
      idleTimeout: options.idleTimeoutSeconds ?? 30,
      // Never Bun's developer error page: it would show stack traces to callers.
      development: false,
      async fetch(request, bunServer) {
        const address = bunServer.requestIP(request)?.address ?? "unknown";
        try {
          // The dashboard's static files (public, no data); everything else is the API's.
          const asset = webAsset(request, new URL(request.url).pathname);
          if (asset) return withSecurityHeaders(asset, ctx.tls, PAGE_CSP);
          const response = await router.dispatch(request, address, ctx, dispatch);
          return response && withSecurityHeaders(response, ctx.tls);
        } catch (error) {
          return withSecurityHeaders(responseForError(error, log), ctx.tls);
        }
      },
      error(error) {
        return withSecurityHeaders(responseForError(error, log), ctx.tls);
      },
      websocket: hub.websocket,
    });
  } catch (error) {
    await openclaw.stop();
    unsubscribe();
    hub.close();
    approvals.close();
    await runs.stopAll();
    await pool?.close();
    throw new AegisError("unavailable", `cannot listen on ${host}:${options.port ?? 7878}: ${(error as Error).message}`, { hint: "pick another --port, or stop what is using it", cause: error });
  }
  const port = server.port ?? 0;
  for (const origin of ownOrigins(host, port, Boolean(tls))) allowedOrigins.add(origin);
  if (!LOOPBACK.test(host) && !tls) log(`aegisclaw serve: WARNING: serving plain HTTP on ${host}: API tokens and everything else cross the network UNENCRYPTED (--insecure). Use --cert/--key.`);

  let stopping: Promise<void> | undefined;
  return {
    url: `${tls ? "https" : "http"}://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`,
    port,
    allowedOrigins,
    decisionWorkers: pool?.size ?? 0,
    stop() {
      stopping ??= (async () => {
        // Refuse new connections first, so no run can start while the others are being stopped.
        const closed = server?.stop(false);
        const settled = await within(runs.stopAll(), STOP_RUNS_TIMEOUT_MS);
        if (!settled) log("aegisclaw serve: some runs did not record their results in time; `aegisclaw logs` shows what was recorded");
        await openclaw.stop();
        unsubscribe();
        hub.close();
        approvals.close();
        await server?.stop(true);
        await closed;
        await pool?.close();
      })();
      return stopping;
    },
  };
}

/** The server's own origins: the bound address, and for loopback every loopback spelling. */
function ownOrigins(host: string, port: number, tls: boolean): string[] {
  const scheme = tls ? "https" : "http";
  const hosts = LOOPBACK.test(host) ? ["127.0.0.1", "localhost", "[::1]", host.includes(":") && !host.startsWith("[") ? `[${host}]` : host] : [host];
  return [...new Set(hosts)].map((name) => `${scheme}://${name}:${port}`);
}

/** An allowed origin must be exactly an origin: no wildcard, no path, no "null". */
function checkedOrigin(origin: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  if (!parsed || origin.includes("*") || parsed.origin !== origin || !/^https?:$/.test(parsed.protocol)) {
    throw new AegisError("usage", `--origin ${origin} is not an exact origin`, { hint: "give scheme://host[:port], e.g. https://aegis.example.com (wildcards are refused)" });
  }
  return origin;
}

function readTls(files: { certFile: string; keyFile: string }): { cert: string; key: string } {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new AegisError("bad-input", `cannot read the TLS ${what} ${path}: ${(error as Error).message}`);
    }
  };
  return { cert: read(files.certFile, "certificate"), key: read(files.keyFile, "key") };
}

function tokenStillValid(tokens: TokenStore, id: string): boolean {
  try {
    return tokens.active(id) !== undefined;
  } catch {
    // An unreadable store fails closed here too.
    return false;
  }
}

/** True when `promise` settles within `ms`; the timer never outlives it (it would keep the process alive). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
