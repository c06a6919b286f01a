/**
 * Which IP addresses a sandbox may reach without naming them: only public unicast ones. Every
 * other range (the host itself, private networks, cloud metadata, ...) is where a DNS name an
 * attacker controls could be pointed to reach things inside the perimeter (DNS rebinding, SSRF).
 */
import { isIP } from "node:net";

/**
 * Why an address is not public; "public" is the only category reached without an IP grant.
 * "this-host" (a public address of this machine) is decided by the caller (vet.ts), which can
 * ask the kernel; the ranges here are pure.
 */
export type AddressCategory =
  | "public"
  | "unspecified"
  | "loopback"
  | "private"
  | "carrier-nat"
  | "link-local"
  | "metadata"
  | "multicast"
  | "reserved"
  | "this-host";

// Order matters: the first matching range wins, so the narrower metadata entries come before
// the ranges that contain them.
const IPV4_RANGES: ReadonlyArray<readonly [string, number, AddressCategory]> = [
  ["169.254.169.254", 32, "metadata"], // AWS, GCP, Azure, OpenStack instance metadata
  ["169.254.170.2", 32, "metadata"], // AWS ECS task metadata
  ["192.0.0.192", 32, "metadata"], // Oracle Cloud metadata
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "carrier-nat"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "reserved"],
  ["192.88.99.0", 24, "reserved"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "reserved"],
  ["198.51.100.0", 24, "reserved"],
  ["203.0.113.0", 24, "reserved"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

const IPV6_RANGES: ReadonlyArray<readonly [string, number, AddressCategory]> = [
  ["fd00:ec2::254", 128, "metadata"], // AWS instance metadata over IPv6
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["::", 96, "reserved"], // IPv4-compatible (deprecated)
  ["100::", 64, "reserved"], // discard-only
  ["2001::", 23, "reserved"], // IETF protocol assignments (Teredo, ORCHID, ...)
  ["2001:db8::", 32, "reserved"],
  ["fc00::", 7, "private"], // unique local
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "private"], // site-local (deprecated)
  ["ff00::", 8, "multicast"],
];

/**
 * Classifies an IP address (v4 dotted quad or v6, optionally with a `%zone`). IPv4-mapped,
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are judged by the IPv4 address they
 * reach. Anything that is not a valid address is "reserved", never "public".
 */
export function classifyAddress(address: string): AddressCategory {
  const plain = address.replace(/%.*$/, "");
  const family = isIP(plain);
  if (family === 4) return classifyV4(v4Bytes(plain));
  if (family !== 6) return "reserved";
  const bytes = v6Bytes(plain);
  if (bytes === undefined) return "reserved";
  const embedded = embeddedV4(bytes);
  if (embedded !== undefined) return classifyV4(embedded);
  for (const [base, bits, category] of IPV6_RANGES) {
    const prefix = v6Bytes(base);
    if (prefix && samePrefix(bytes, prefix, bits)) return category;
  }
  return "public";
}

function classifyV4(bytes: Uint8Array): AddressCategory {
  for (const [base, bits, category] of IPV4_RANGES) {
    if (samePrefix(bytes, v4Bytes(base), bits)) return category;
  }
  return "public";
}

/** The IPv4 address an IPv4-mapped, NAT64 or 6to4 IPv6 address leads to. */
function embeddedV4(bytes: Uint8Array): Uint8Array | undefined {
  const mapped = bytes.subarray(0, 12).every((byte, index) => byte === (index >= 10 ? 0xff : 0));
  const nat64 = samePrefix(bytes, v6Bytes("64:ff9b::") ?? new Uint8Array(16), 96);
  if (mapped || nat64) return bytes.subarray(12, 16);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.subarray(2, 6);
  return undefined;
}

function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
    if (((a[bit / 8] ?? 0) & mask) !== ((b[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

function v4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split(".").map(Number));
}

/** 16 bytes of a valid IPv6 text (isIP already said so), embedded dotted quad included. */
function v6Bytes(address: string): Uint8Array | undefined {
  let text = address;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = quad[1].split(".").map(Number);
    text = `${text.slice(0, -quad[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const groups = [...left, ...Array<string>(missing).fill("0"), ...right];
  const bytes = new Uint8Array(16);
  for (const [index, group] of groups.entries()) {
    const value = Number.parseInt(group, 16);
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  }
  return bytes;
}
