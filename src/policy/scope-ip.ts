import { isIP } from "node:net";
import { targetError } from "./scope-text.ts";

/** An IP literal in its one canonical spelling. */
export interface IpAddress {
  family: "ipv4" | "ipv6";
  /** Dotted quad, or RFC 5952 compressed lower-case IPv6 without brackets. */
  address: string;
}

// The last label decides, as in the WHATWG URL host parser: `example.123` or `1.2.3.999` is not
// a host name that happens to end in digits, it is a broken IPv4 address, and resolvers disagree
// on what to do with it. Refusing it keeps "which machine is this?" unambiguous.
const NUMERIC_LABEL = /^(?:0[xX][0-9a-fA-F]*|[0-9]+)$/;

/** True when a host must be read as IPv4 because its last label is a number. */
export function endsInNumber(host: string): boolean {
  const last = host.split(".").at(-1) ?? "";
  return NUMERIC_LABEL.test(last);
}

/**
 * Parses every spelling inet_aton(3) and browsers accept for IPv4 — `2130706433`, `0177.0.0.1`,
 * `0x7f.0.0.1`, `127.1` — into a dotted quad, so a grant or request cannot name 127.0.0.1 in a
 * spelling the matcher does not recognise. Throws bad-input when it is not a valid address.
 */
export function parseIPv4(host: string): IpAddress {
  const parts = host.split(".");
  const invalid = (): Error => targetError(`"${host}" ends in a number but is not a valid IPv4 address`, "write a dotted quad such as 192.0.2.10, or a host name");
  if (parts.length > 4) throw invalid();
  const numbers = parts.map(parseNumber);
  let value = 0;
  for (const [index, number] of numbers.entries()) {
    if (number === undefined) throw invalid();
    const isLast = index === numbers.length - 1;
    // The last part fills all remaining bytes (`127.1` is 127.0.0.1); the others are one byte each.
    const limit = isLast ? 256 ** (5 - numbers.length) : 256;
    if (number >= limit) throw invalid();
    value += isLast ? number : number * 256 ** (3 - index);
  }
  const address = [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
  return { family: "ipv4", address };
}

function parseNumber(part: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(part)) return Number.parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return Number.parseInt(part.slice(1), 8);
  if (/^(?:0|[1-9][0-9]*)$/.test(part)) return Number.parseInt(part, 10);
  return undefined;
}

/**
 * Parses an IPv6 literal (without brackets) into its compressed form. An IPv4-mapped address
 * (`::ffff:127.0.0.1`, `::ffff:7f00:1`) is returned as the IPv4 address it reaches, since a
 * dual-stack socket connects to exactly that host. Zone ids (`%eth0`) are refused: a scope names
 * a host, not an interface.
 */
export function parseIPv6(text: string): IpAddress {
  const invalid = targetError(`"${text}" is not a valid IPv6 address`, "write it like [2001:db8::1] or [2001:db8::1]:443");
  // Only hex, colons and dots (embedded IPv4) reach the URL parser, so it cannot percent-decode
  // or otherwise reinterpret the text; it is used only for its exact RFC 5952 serializer.
  if (!/^[0-9a-fA-F:.]+$/.test(text)) throw invalid;
  let hostname: string;
  try {
    hostname = new URL(`http://[${text}]/`).hostname;
  } catch {
    throw invalid;
  }
  const address = hostname.slice(1, -1);
  if (isIP(address) !== 6) throw invalid;
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
  if (mapped) {
    const high = Number.parseInt(mapped[1] ?? "0", 16);
    const low = Number.parseInt(mapped[2] ?? "0", 16);
    return { family: "ipv4", address: [high >> 8, high & 255, low >> 8, low & 255].join(".") };
  }
  return { family: "ipv6", address };
}
