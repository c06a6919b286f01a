import { AegisError } from "../shared/index.ts";

/** The bind and TLS options `serve` and the console's `--listen` share (docs/api.md). */
export interface ServerCliOptions {
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
  insecure: boolean;
  allowedOrigins: string[];
}

/** Parses --host/--port/--cert/--key/--insecure/--origin as cac delivers them. */
export function serverOptionsFrom(options: Record<string, unknown>, defaults: { host: string; port: number } = { host: "127.0.0.1", port: 7878 }): ServerCliOptions {
  const host = options.host === undefined ? defaults.host : String(options.host);
  const port = options.port === undefined ? defaults.port : portOf(options.port);
  const cert = options.cert === undefined ? undefined : String(options.cert);
  const key = options.key === undefined ? undefined : String(options.key);
  if ((cert === undefined) !== (key === undefined)) throw new AegisError("usage", "--cert and --key go together", { hint: "give both PEM files for HTTPS, or neither" });
  const origins = options.origin === undefined ? [] : (Array.isArray(options.origin) ? options.origin : [options.origin]).map(String);
  return {
    host,
    port,
    ...(cert !== undefined && key !== undefined ? { tls: { certFile: cert, keyFile: key } } : {}),
    insecure: options.insecure === true,
    allowedOrigins: origins,
  };
}

/** `--listen PORT` or `--listen HOST:PORT` (IPv6 as `[::1]:7878`). */
export function parseListen(value: unknown): { host: string; port: number } {
  const text = String(value);
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d+)$/.exec(text);
  if (!match) throw new AegisError("usage", `--listen ${text} is not PORT or HOST:PORT`, { hint: "e.g. --listen 7878 or --listen 127.0.0.1:7878" });
  return { host: (match[1] ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1"), port: portOf(match[2]) };
}

function portOf(value: unknown): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new AegisError("usage", `port ${String(value)} is not a port number`, { hint: "use 1-65535 (0 picks a free port)" });
  return port;
}
