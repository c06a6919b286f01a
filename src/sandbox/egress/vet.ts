/**
 * The proxy's decision about one destination: granted? where does it resolve? may those
 * addresses be reached? The proxy resolves names itself and connects to exactly the addresses
 * vetted here, so a DNS answer that changes between check and connect (rebinding) cannot
 * redirect the connection.
 */
import { createSocket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { classifyAddress, type AddressCategory } from "./address.ts";
import type { Allowlist, Destination } from "./allowlist.ts";

/** Resolves a host name to every address it has (IPv4 and IPv6). */
export type Resolver = (host: string) => Promise<string[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), all addresses in its order. */
export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** How long a name may take to resolve before the connection is refused. */
export const RESOLVE_TIMEOUT_MS = 5000;
/** A name with more addresses than this is refused rather than half-checked. */
const MAX_ADDRESSES = 32;

/** Allowed with the vetted addresses to connect to, or denied with the rule and reason. */
export type Vetting =
  | { allowed: true; rule: "egress.allowed"; reason: string; grantedBy: string; addresses: string[] }
  | { allowed: false; rule: string; reason: string; addresses?: string[] };

/**
 * Decides whether `destination` may be reached. Denies when no grant covers it, when the name
 * does not resolve, and when ANY address it resolves to is not public (loopback, private,
 * carrier-grade NAT, link-local, cloud metadata, multicast, reserved, this host's own)
 * unless a grant names that IP address itself.
 */
export async function vetDestination(destination: Destination, allowlist: Allowlist, resolve: Resolver): Promise<Vetting> {
  const grantedBy = allowlist.grantFor(destination);
  if (grantedBy === undefined) {
    return { allowed: false, rule: "egress.not-granted", reason: `${destination.scope} is not granted to this run` };
  }
  let addresses: string[];
  if (destination.hostKind === "domain") {
    try {
      addresses = await withTimeout(resolve(destination.host), RESOLVE_TIMEOUT_MS);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return { allowed: false, rule: "egress.dns-failed", reason: `${destination.host} did not resolve: ${why.slice(0, 200)}` };
    }
    if (addresses.length === 0) return { allowed: false, rule: "egress.dns-failed", reason: `${destination.host} has no addresses` };
    if (addresses.length > MAX_ADDRESSES) return { allowed: false, rule: "egress.dns-failed", reason: `${destination.host} has more than ${MAX_ADDRESSES} addresses` };
  } else {
    addresses = [destination.host];
  }
  for (const address of addresses) {
    const category = await categoryOf(address);
    if (category === "public" || allowlist.addressGrant(address, destination.port) !== undefined) continue;
    const literal = address.includes(":") ? `[${address}]` : address;
    const via = destination.hostKind === "domain" ? `${destination.host} resolves to ${address}` : address;
    return {
      allowed: false,
      rule: "egress.address-refused",
      reason: `${via}, a ${category} address; only a grant of that address itself (net.outbound:${literal}:${destination.port}) allows it`,
      addresses,
    };
  }
  return { allowed: true, rule: "egress.allowed", reason: `${destination.scope} granted by ${grantedBy}`, grantedBy, addresses };
}

/** The address's range, or "this-host" for a public address of this machine. */
async function categoryOf(address: string): Promise<AddressCategory> {
  const category = classifyAddress(address);
  return category === "public" && (await ownedByHost(address)) ? "this-host" : category;
}

/**
 * True when this machine owns `address`: the kernel lets a socket bind to it (any interface,
 * up or down). A public address of the host would reach every service listening on all
 * addresses. With ip_nonlocal_bind on, every bind succeeds, so the answer is "owned" (refuse).
 */
async function ownedByHost(address: string): Promise<boolean> {
  const family = isIP(address) === 6 ? "ipv6" : "ipv4";
  if (nonlocalBind(family)) return true;
  const socket = createSocket(family === "ipv6" ? "udp6" : "udp4");
  return new Promise<boolean>((resolve) => {
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: address.replace(/%.*$/, ""), port: 0, exclusive: true }, () => {
      socket.close();
      resolve(true);
    });
  });
}

function nonlocalBind(family: "ipv4" | "ipv6"): boolean {
  try {
    return readFileSync(`/proc/sys/net/${family}/ip_nonlocal_bind`, "utf8").trim() !== "0";
  } catch {
    return false;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
