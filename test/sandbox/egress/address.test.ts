/** Address classification, the allowlist (policy's own matcher) and the proxy request head parser. */
import { describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { classifyAddress, type AddressCategory } from "../../../src/sandbox/egress/address.ts";
import { Allowlist, parseDestination } from "../../../src/sandbox/egress/allowlist.ts";
import { parseProxyRequest } from "../../../src/sandbox/egress/http-head.ts";
import { vetDestination, type Resolver } from "../../../src/sandbox/egress/vet.ts";

const cases: Array<[string, AddressCategory]> = [
  ["8.8.8.8", "public"],
  ["93.184.216.34", "public"],
  ["2606:4700:4700::1111", "public"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["::", "unspecified"],
  ["127.0.0.1", "loopback"],
  ["127.255.0.9", "loopback"],
  ["::1", "loopback"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["10.1.2.3", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["172.32.0.1", "public"],
  ["192.168.1.1", "private"],
  ["fc00::1", "private"],
  ["fd12:3456::1", "private"],
  ["100.64.0.1", "carrier-nat"],
  ["100.127.255.254", "carrier-nat"],
  ["100.128.0.1", "public"],
  ["169.254.1.1", "link-local"],
  ["fe80::1", "link-local"],
  ["fe80::1%eth0", "link-local"],
  ["169.254.169.254", "metadata"],
  ["::ffff:169.254.169.254", "metadata"],
  ["fd00:ec2::254", "metadata"],
  ["192.0.0.192", "metadata"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["ff02::1", "multicast"],
  ["255.255.255.255", "reserved"],
  ["240.0.0.1", "reserved"],
  ["198.18.0.1", "reserved"],
  ["2001:db8::1", "reserved"],
  ["64:ff9b::a00:1", "private"], // NAT64 of 10.0.0.1
  ["64:ff9b::808:808", "public"], // NAT64 of 8.8.8.8
  ["2002:c0a8:0101::1", "private"], // 6to4 of 192.168.1.1
  ["not an address", "reserved"],
  ["1.2.3", "reserved"],
];

describe("egress addresses", () => {
  test.each(cases)("address: %s is %s", (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });


});

describe("egress allowlist", () => {
  const list = new Allowlist(["net.outbound:example.com", "net.outbound:*.api.example.org:8443", "net.outbound:127.0.0.1:8080", "net.outbound:[::1]:9000", "net.outbound:BÜCHER.example"]);

  const grants: Array<[string, string | undefined]> = [
    ["example.com:443", "net.outbound:example.com"],
    ["example.com:80", "net.outbound:example.com"],
    ["EXAMPLE.com.:443", "net.outbound:example.com"],
    ["example.com:22", undefined],
    ["www.example.com:443", undefined],
    ["v1.api.example.org:8443", "net.outbound:*.api.example.org:8443"],
    ["api.example.org:8443", undefined],
    ["v1.api.example.org:443", undefined],
    ["127.0.0.1:8080", "net.outbound:127.0.0.1:8080"],
    ["2130706433:8080", "net.outbound:127.0.0.1:8080"],
    ["0x7f.1:8080", "net.outbound:127.0.0.1:8080"],
    ["[::ffff:127.0.0.1]:8080", "net.outbound:127.0.0.1:8080"],
    ["[0:0::1]:9000", "net.outbound:[::1]:9000"],
    ["xn--bcher-kva.example:443", "net.outbound:xn--bcher-kva.example"],
  ];
  test.each(grants)("allowlist: %s is granted by %p", (authority, grant) => {
    expect(list.grantFor(parseDestination(authority))).toBe(grant);
  });

  test("allowlist: an address counts as granted only through a grant that names it", () => {
    expect(list.addressGrant("127.0.0.1", 8080)).toBe("net.outbound:127.0.0.1:8080");
    expect(list.addressGrant("127.0.0.1", 8081)).toBeUndefined();
    expect(list.addressGrant("::1", 9000)).toBe("net.outbound:[::1]:9000");
    expect(new Allowlist(["net.outbound:localhost:8080"]).addressGrant("127.0.0.1", 8080)).toBeUndefined();
  });

  test("allowlist: an empty list allows nothing; other scope kinds are refused", () => {
    expect(new Allowlist([]).grantFor(parseDestination("example.com:443"))).toBeUndefined();
    expect(() => new Allowlist(["files.read:/etc"])).toThrow("not a net.outbound scope");
    expect(() => new Allowlist(["net.outbound:*"])).toThrow();
  });
});

describe("egress vetting", () => {
  const fixed = (answers: Record<string, string[]>): Resolver => async (host) => answers[host] ?? Promise.reject(new Error("NXDOMAIN"));
  const resolver = fixed({ "good.example": ["93.184.216.34"], "inside.example": ["93.184.216.34", "10.0.0.5"], "meta.example": ["169.254.169.254"], "local.example": ["127.0.0.1"] });
  const vet = (grants: string[], authority: string) => vetDestination(parseDestination(authority), new Allowlist(grants), resolver);

  test("vet: a granted name with public addresses is allowed with exactly those addresses", async () => {
    expect(await vet(["net.outbound:good.example"], "good.example:443")).toMatchObject({ allowed: true, addresses: ["93.184.216.34"], grantedBy: "net.outbound:good.example" });
  });

  test("vet: not granted, unresolvable, and any private address are refused", async () => {
    expect(await vet(["net.outbound:good.example"], "other.example:443")).toMatchObject({ allowed: false, rule: "egress.not-granted" });
    expect(await vet(["net.outbound:nx.example"], "nx.example:443")).toMatchObject({ allowed: false, rule: "egress.dns-failed" });
    const mixed = await vet(["net.outbound:inside.example"], "inside.example:443");
    expect(mixed).toMatchObject({ allowed: false, rule: "egress.address-refused", addresses: ["93.184.216.34", "10.0.0.5"] });
    expect(mixed.reason).toContain("10.0.0.5, a private address");
    expect(await vet(["net.outbound:meta.example:80"], "meta.example:80")).toMatchObject({ allowed: false, rule: "egress.address-refused" });
  });

  test("vet: a rebinding name is allowed only when its address is granted too, with the same port", async () => {
    expect(await vet(["net.outbound:local.example:8080"], "local.example:8080")).toMatchObject({ allowed: false, rule: "egress.address-refused" });
    expect(await vet(["net.outbound:local.example:8080", "net.outbound:127.0.0.1:9999"], "local.example:8080")).toMatchObject({ allowed: false });
    expect(await vet(["net.outbound:local.example:8080", "net.outbound:127.0.0.1:8080"], "local.example:8080")).toMatchObject({ allowed: true, grantedBy: "net.outbound:local.example:8080" });
  });

  test("vet: this machine's own addresses are refused like private ones, even public ones", async () => {
    const own = Object.values(networkInterfaces()).flat().filter((entry) => entry !== undefined && !entry.internal && entry.family === "IPv4");
    expect(own.length).toBeGreaterThan(0);
    for (const entry of own) {
      const address = entry?.address ?? "";
      const result = await vetDestination(parseDestination(`${address}:80`), new Allowlist([`net.outbound:${address}:443`]), resolver);
      expect(result.allowed).toBe(false);
      const named = await vetDestination(parseDestination("self.example:80"), new Allowlist(["net.outbound:self.example"]), async () => [address]);
      expect(named).toMatchObject({ allowed: false, rule: "egress.address-refused" });
      expect(["this-host", "private", "reserved"].some((category) => named.reason.includes(`a ${category} address`))).toBe(true);
    }
    // 8.8.8.8 is not ours: public, allowed when granted.
    expect(await vetDestination(parseDestination("8.8.8.8:53"), new Allowlist(["net.outbound:8.8.8.8:53"]), resolver)).toMatchObject({ allowed: true });
  });

  test("vet: a public address this host owns (here: added to lo for the test) is this-host, refused unless granted by IP", async () => {
    const address = "203.0.114.77"; // public (just outside TEST-NET-3), so only ownership can refuse it
    const add = Bun.spawnSync(["ip", "addr", "add", `${address}/32`, "dev", "lo"], { stdout: "pipe", stderr: "pipe" });
    expect(add.exitCode, add.stderr.toString()).toBe(0);
    try {
      const named = await vetDestination(parseDestination("mine.example:443"), new Allowlist(["net.outbound:mine.example"]), async () => [address]);
      expect(named).toMatchObject({ allowed: false, rule: "egress.address-refused" });
      expect(named.reason).toContain("a this-host address");
      expect(await vetDestination(parseDestination("mine.example:443"), new Allowlist(["net.outbound:mine.example", `net.outbound:${address}:443`]), async () => [address])).toMatchObject({ allowed: true });
    } finally {
      Bun.spawnSync(["ip", "addr", "del", `${address}/32`, "dev", "lo"]);
    }
    expect(await vetDestination(parseDestination("mine.example:443"), new Allowlist(["net.outbound:mine.example"]), async () => [address])).toMatchObject({ allowed: true });
  });

  test("vet: IP literals are checked without DNS; metadata needs its own grant", async () => {
    expect(await vet(["net.outbound:169.254.169.254:80"], "169.254.169.254:80")).toMatchObject({ allowed: true, addresses: ["169.254.169.254"] });
    expect(await vet(["net.outbound:8.8.8.8:53"], "8.8.8.8:53")).toMatchObject({ allowed: true });
  });
});

describe("egress request head", () => {
  const head = (text: string) => Buffer.from(text.replaceAll("\n", "\r\n"), "latin1");

  test("head: CONNECT host:port", () => {
    expect(parseProxyRequest(head("CONNECT Example.com:443 HTTP/1.1\nHost: example.com:443\n\n"))).toMatchObject({ kind: "connect", destination: { host: "example.com", port: 443, scope: "net.outbound:example.com:443" } });
    expect(parseProxyRequest(head("CONNECT [::1]:8443 HTTP/1.1\n\n"))).toMatchObject({ destination: { host: "::1", hostKind: "ipv6", port: 8443 } });
  });

  test("head: absolute http URL becomes origin-form with Connection: close, proxy headers dropped", () => {
    const request = parseProxyRequest(head("GET http://example.com/a/b?c=1 HTTP/1.1\nHost: example.com\nProxy-Connection: keep-alive\nProxy-Authorization: Basic eA==\nConnection: keep-alive\nAccept: */*\n\n"));
    expect(request).toMatchObject({ kind: "http", method: "GET", destination: { scope: "net.outbound:example.com:80" } });
    if (request.kind !== "http") throw new Error("expected http");
    expect(request.head.toString("latin1")).toBe("GET /a/b?c=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    const bare = parseProxyRequest(head("POST http://127.0.0.1:8080 HTTP/1.0\n\n"));
    expect(bare.kind === "http" && bare.head.toString("latin1").startsWith("POST / HTTP/1.0\r\n")).toBe(true);
  });

  const refused: Array<[string, string]> = [
    ["origin-form GET", "GET / HTTP/1.1\nHost: example.com\n\n"],
    ["https absolute URL", "GET https://example.com/ HTTP/1.1\nHost: example.com\n\n"],
    ["Host header naming another host", "GET http://example.com/ HTTP/1.1\nHost: evil.example\n\n"],
    ["Host header naming another port", "GET http://example.com/ HTTP/1.1\nHost: example.com:8080\n\n"],
    ["two Host headers", "GET http://example.com/ HTTP/1.1\nHost: example.com\nHost: example.com\n\n"],
    ["HTTP/1.1 without Host", "GET http://example.com/ HTTP/1.1\n\n"],
    ["user info", "GET http://user@example.com/ HTTP/1.1\nHost: example.com\n\n"],
    ["CONNECT without port", "CONNECT example.com HTTP/1.1\n\n"],
    ["CONNECT to a wildcard", "CONNECT *.example.com:443 HTTP/1.1\n\n"],
    ["CONNECT with a mismatching Host", "CONNECT example.com:443 HTTP/1.1\nHost: evil.example:443\n\n"],
    ["HTTP/2 preface", "PRI * HTTP/2.0\n\n"],
    ["obs-fold header", "GET http://example.com/ HTTP/1.1\nHost: example.com\n folded\n\n"],
    ["header without colon", "GET http://example.com/ HTTP/1.1\nHost example.com\n\n"],
    ["lower-case method", "get http://example.com/ HTTP/1.1\nHost: example.com\n\n"],
    ["extra request-line field", "GET http://example.com/ x HTTP/1.1\nHost: example.com\n\n"],
    ["a NUL in the target", "GET http://example.com/\0 HTTP/1.1\nHost: example.com\n\n"],
  ];
  test.each(refused)("head: %s is refused", (_, text) => {
    expect(() => parseProxyRequest(head(text))).toThrow();
  });
});
