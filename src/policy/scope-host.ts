import { domainToASCII } from "node:url";
import { endsInNumber, parseIPv4, parseIPv6 } from "./scope-ip.ts";
import { quoteForMessage, targetError, unsafeCharacter } from "./scope-text.ts";

/** Whether a target is a DNS name or an IP literal. */
export type HostKind = "domain" | "ipv4" | "ipv6";

/** A normalized `net.outbound` target. */
export interface NetTarget {
  /** Lower-case punycode without trailing dot, dotted-quad IPv4 or compressed IPv6; no `*.`. */
  host: string;
  hostKind: HostKind;
  /** `*.host`: any subdomain of host, never host itself. */
  wildcard: boolean;
  /** Undefined on a grant means the default ports (DEFAULT_PORTS); requests always have one. */
  port: number | undefined;
}

/**
 * The ports a `net.outbound` grant without a port covers: HTTPS and HTTP. Anything else must be
 * granted by number, so "allow example.com" never quietly opens SSH or a database port.
 */
export const DEFAULT_PORTS: readonly number[] = [443, 80];

const MAX_HOST_LENGTH = 253;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Second-level labels that registries under two-letter country codes sell names beneath
// (co.uk, com.au, ac.jp, ...). A heuristic, not the Public Suffix List: it refuses the common
// over-broad wildcards without shipping and updating that list.
const REGISTRY_LABELS: ReadonlySet<string> = new Set(["ac", "co", "com", "edu", "gob", "go", "gov", "ltd", "mil", "ne", "net", "nic", "nom", "or", "org", "plc", "sch"]);

/**
 * Parses `host`, `host:port`, `[ipv6]`, `[ipv6]:port` or `*.domain[:port]`. A grant may omit the
 * port; a request ("request" role) must name one and cannot be a wildcard. Throws bad-input with
 * the reason and fix.
 */
export function parseNetTarget(raw: string, role: "grant" | "request"): NetTarget {
  const unsafe = unsafeCharacter(raw);
  if (unsafe !== undefined) throw targetError(`host ${unsafe}`);
  const { hostText, portText, bracketed } = splitHostPort(raw);
  const port = parsePort(portText);
  if (role === "request" && port === undefined) {
    throw targetError("a requested connection must name its port", "write host:port, e.g. example.com:443");
  }
  const parsed = bracketed ? ipv6Target(hostText) : parseHost(hostText);
  if (role === "request" && parsed.wildcard) throw targetError("a requested connection names one host, not a wildcard");
  return { ...parsed, port };
}

/** The canonical text of a target: IPv6 always in brackets, the port only when given. */
export function formatNetTarget(target: NetTarget): string {
  const host = target.hostKind === "ipv6" ? `[${target.host}]` : `${target.wildcard ? "*." : ""}${target.host}`;
  return target.port === undefined ? host : `${host}:${target.port}`;
}

/** True when a granted target covers a requested one (exact host, or a strict subdomain of a wildcard). */
export function netTargetCovers(grant: NetTarget, request: NetTarget): boolean {
  if (request.wildcard || request.port === undefined) return false;
  const portCovered = grant.port === undefined ? DEFAULT_PORTS.includes(request.port) : grant.port === request.port;
  if (!portCovered) return false;
  if (grant.wildcard) return request.hostKind === "domain" && request.host.endsWith(`.${grant.host}`);
  return grant.hostKind === request.hostKind && grant.host === request.host;
}

function splitHostPort(raw: string): { hostText: string; portText: string | undefined; bracketed: boolean } {
  if (raw.startsWith("[")) {
    const end = raw.indexOf("]");
    if (end === -1) throw targetError(`${quoteForMessage(raw)} has no closing ]`, "write [2001:db8::1]:443");
    const rest = raw.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) throw targetError(`unexpected text after ] in ${quoteForMessage(raw)}`, "write [2001:db8::1]:443");
    return { hostText: raw.slice(1, end), portText: rest === "" ? undefined : rest.slice(1), bracketed: true };
  }
  const colons = raw.split(":").length - 1;
  // Two or more colons can only be a bare IPv6 address; its port would be ambiguous, so a port
  // needs the bracket form.
  if (colons > 1) return { hostText: raw, portText: undefined, bracketed: true };
  const colon = raw.indexOf(":");
  if (colon === -1) return { hostText: raw, portText: undefined, bracketed: false };
  return { hostText: raw.slice(0, colon), portText: raw.slice(colon + 1), bracketed: false };
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === "*") throw targetError("port * would allow every port", "grant each port separately, e.g. example.com:8080");
  const port = /^[1-9][0-9]{0,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port <= 65535)) throw targetError(`port ${quoteForMessage(text)} is not a number from 1 to 65535`);
  return port;
}

function ipv6Target(text: string): Omit<NetTarget, "port"> {
  const ip = parseIPv6(text);
  return { host: ip.address, hostKind: ip.family, wildcard: false };
}

function parseHost(text: string): Omit<NetTarget, "port"> {
  if (text === "*" || text === "*.") throw targetError("wildcard * would allow every host", "name the hosts, or use *.example.com for the subdomains of one domain");
  const wildcard = text.startsWith("*.");
  const rest = wildcard ? text.slice(2) : text;
  if (rest.includes("*")) throw targetError("only a leading *. label may be a wildcard", "write *.example.com");
  // UTS #46 mapping (case folding, full-width dots and digits, then punycode) only for non-ASCII
  // input: for ASCII it would also silently rewrite IPv4 spellings, which parseIPv4 does explicitly.
  const mapped = /^[\x20-\x7e]*$/.test(rest) ? rest.toLowerCase() : domainToASCII(rest);
  if (mapped === "") throw targetError(`${quoteForMessage(rest)} is not a valid host name`);
  const host = mapped.endsWith(".") ? mapped.slice(0, -1) : mapped;
  if (host === "") throw targetError("host is empty");
  if (endsInNumber(host)) {
    if (wildcard) throw targetError("wildcards never apply to IP addresses", "grant each address separately");
    const ip = parseIPv4(host);
    return { host: ip.address, hostKind: ip.family, wildcard: false };
  }
  checkDomain(host);
  if (wildcard) checkWildcardBase(host);
  return { host, hostKind: "domain", wildcard };
}

function checkDomain(host: string): void {
  const hint = "host names use letters, digits and hyphens in dot-separated labels of 1 to 63 characters";
  if (host.length > MAX_HOST_LENGTH) throw targetError(`host name is longer than ${MAX_HOST_LENGTH} characters`, hint);
  for (const label of host.split(".")) {
    if (label === "") throw targetError(`${quoteForMessage(host)} has an empty label`, hint);
    if (label.length > 63) throw targetError(`label ${quoteForMessage(label.slice(0, 20))}… is longer than 63 characters`, hint);
    if (!LABEL.test(label)) throw targetError(`label ${quoteForMessage(label)} is not a valid host name label`, hint);
  }
  // Catches malformed punycode (xn--...) that the label syntax alone lets through.
  if (domainToASCII(host) === "") throw targetError(`${quoteForMessage(host)} is not a valid internationalized host name`);
}

function checkWildcardBase(host: string): void {
  const labels = host.split(".");
  const hint = "name the domain you mean, e.g. *.example.com";
  if (labels.length < 2) throw targetError(`wildcard *.${host} is over-broad: it covers a whole top-level domain`, hint);
  const [second, top] = labels.slice(-2);
  if (labels.length === 2 && top !== undefined && top.length === 2 && second !== undefined && REGISTRY_LABELS.has(second)) {
    throw targetError(`wildcard *.${host} is over-broad: ${host} is a registry suffix shared by unrelated sites`, hint);
  }
}
