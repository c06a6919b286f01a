/**
 * The one HTTP message the proxy reads itself: the request head a client sends a forward
 * proxy (RFC 9110 §9.3.6 CONNECT, RFC 9112 §3.2.2 absolute-form). Strict on purpose: whatever
 * it cannot read unambiguously is refused, so the proxy and the upstream server can never
 * disagree about which host a request is for.
 */
import { AegisError } from "../../shared/index.ts";
import { parseDestination, type Destination } from "./allowlist.ts";

/** The largest request head accepted (request line and headers). */
export const MAX_HEAD_BYTES = 8 * 1024;
const MAX_HEADERS = 64;
const METHOD = /^[A-Z]{1,20}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const VISIBLE = /^[\x21-\x7e]+$/;
// Hop-by-hop and proxy-only headers (RFC 9110 §7.6.1): they are for this proxy, not the server.
const DROPPED = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "upgrade"]);

/** What the client asked the proxy for. */
export type ProxyRequest =
  | { kind: "connect"; method: "CONNECT"; destination: Destination }
  /** Plain HTTP; `head` is the request to send upstream (origin-form, `Connection: close`). */
  | { kind: "http"; method: string; destination: Destination; head: Buffer };

/** Index just past the `\r\n\r\n` that ends the head, or -1 while it has not arrived. */
export function headEnd(buffer: Uint8Array): number {
  const at = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength).indexOf("\r\n\r\n");
  return at === -1 ? -1 : at + 4;
}

/** Parses a complete head (through its blank line). Throws bad-input naming what is wrong. */
export function parseProxyRequest(head: Uint8Array): ProxyRequest {
  const text = Buffer.from(head).toString("latin1");
  if (!text.endsWith("\r\n\r\n")) throw bad("request head does not end with a blank line");
  const lines = text.slice(0, -4).split("\r\n");
  const [method = "", target = "", version = "", ...extra] = (lines[0] ?? "").split(" ");
  if (!METHOD.test(method) || extra.length > 0 || !VISIBLE.test(target)) throw bad("malformed request line");
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") throw bad(`unsupported HTTP version ${JSON.stringify(version.slice(0, 20))}`);
  const headers = parseHeaders(lines.slice(1));
  const hosts = headers.filter(([name]) => name.toLowerCase() === "host");
  if (hosts.length > 1) throw bad("more than one Host header");
  if (method === "CONNECT") {
    const destination = destinationOf(target);
    // A Host header on CONNECT is optional; when present it must name the same authority.
    if (hosts[0] && destinationOf(withPort(hosts[0][1], destination.port)).scope !== destination.scope) throw bad("Host header does not match the CONNECT target");
    return { kind: "connect", method, destination };
  }
  const absolute = /^http:\/\/([^/?#]*)([^#]*)$/i.exec(target);
  if (!absolute) throw bad("a proxy request must be CONNECT host:port or use an absolute http:// URL (https goes through CONNECT)");
  const authority = absolute[1] ?? "";
  if (authority.includes("@")) throw bad("user info in the URL is not accepted");
  const destination = destinationOf(withPort(authority, 80));
  if (version === "HTTP/1.1" && !hosts[0]) throw bad("HTTP/1.1 request without a Host header");
  if (hosts[0] && destinationOf(withPort(hosts[0][1], 80)).scope !== destination.scope) throw bad("Host header does not match the URL's host");
  const path = absolute[2] ?? "";
  const originForm = path === "" ? "/" : path.startsWith("/") ? path : `/${path}`;
  const kept = headers.filter(([name]) => !DROPPED.has(name.toLowerCase()));
  const out = [`${method} ${originForm} ${version}`, ...kept.map(([name, value]) => `${name}: ${value}`), "Connection: close", "", ""].join("\r\n");
  return { kind: "http", method, destination, head: Buffer.from(out, "latin1") };
}

function parseHeaders(lines: string[]): Array<[string, string]> {
  if (lines.length > MAX_HEADERS) throw bad(`more than ${MAX_HEADERS} headers`);
  return lines.map((line) => {
    const colon = line.indexOf(":");
    const name = colon === -1 ? "" : line.slice(0, colon);
    // No obs-fold, no bare CR/LF/NUL: each is a known request-smuggling vector.
    if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(line)) throw bad("malformed header line");
    return [name, line.slice(colon + 1).trim()];
  });
}

function destinationOf(authority: string): Destination {
  try {
    return parseDestination(authority);
  } catch (error) {
    throw bad(error instanceof Error ? error.message : "bad host");
  }
}

/** `authority` with `port` appended when it names none (an IPv6 literal ends in `]`). */
function withPort(authority: string, port: number): string {
  const hasPort = authority.startsWith("[") ? /\]:[^\]]*$/.test(authority) : authority.includes(":");
  return hasPort ? authority : `${authority}:${port}`;
}

function bad(message: string): AegisError {
  return new AegisError("bad-input", message);
}
