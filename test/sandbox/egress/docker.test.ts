/**
 * net.outbound enforced by the sandbox, on the real Docker engine: the internal network, the
 * host fence and the run's own proxy. Servers live on the host's loopback (granted by IP, the
 * only way a loopback address is reachable) or on the egress gateway.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { EGRESS_GATEWAY, EGRESS_PROXY_PORTS, type EgressEvent } from "../../../src/sandbox/index.ts";
import { readClientHello } from "../../../src/sandbox/egress/sni.ts";
import type { Resolver } from "../../../src/sandbox/egress/vet.ts";
import { requireDocker } from "../../helpers/docker.ts";
import { buildHello, sniExtension } from "./tls-hello.ts";
import { egressRun, hostServers, printfEscape, PROXY_PARTS, rawServer, recordingRuntime } from "./support.ts";

const servers = hostServers();

beforeAll(requireDocker);

const webGrant = () => `net.outbound:127.0.0.1:${servers.web.port}`;

/** This host's IPv4 addresses outside the egress network and loopback (LAN, docker0, ...), from `ip` (it lists down interfaces too). */
function hostAddresses(): string[] {
  const listed = Bun.spawnSync(["ip", "-4", "-o", "addr", "show"], { stdout: "pipe" }).stdout.toString();
  const addresses = [...listed.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((match) => match[1] ?? "");
  return addresses.filter((address) => address !== "" && address !== EGRESS_GATEWAY && !address.startsWith("127."));
}

describe("egress on Docker", () => {
  test("egress: a granted host is reached through the proxy with wget, and the allow is recorded", async () => {
    const run = await egressRun([webGrant()], `wget -q -O- http://127.0.0.1:${servers.web.port}/granted; echo "exit=$?"`);
    expect(run.stdout).toBe("web says /granted\nexit=0\n");
    expect(run.events).toMatchObject([{ outcome: "allowed", rule: "egress.allowed", method: "GET", host: "127.0.0.1", port: servers.web.port, addresses: ["127.0.0.1"], grantedBy: webGrant(), actor: { name: "egress-test" } }]);
    expect(run.events[0]?.client).toMatch(/^10\.213\.37\.\d+$/);
  });

  test("egress: a host not on the list is refused with 403 and recorded as denied", async () => {
    const run = await egressRun([webGrant()], `wget -q -O- http://127.0.0.1:${servers.other.port}/ 2>&1; echo "exit=$?"; wget -q -O- http://example.com/ 2>&1; echo "exit=$?"`);
    expect(run.stdout).toContain("403 Forbidden");
    expect(run.stdout).not.toContain("other server");
    expect(run.stdout.match(/exit=1/g)?.length).toBe(2);
    expect(run.events.map((e) => [e.outcome, e.rule, e.host, e.port])).toEqual([
      ["denied", "egress.not-granted", "127.0.0.1", servers.other.port],
      ["denied", "egress.not-granted", "example.com", 80],
    ]);
  });

  test("egress: a granted name resolving to loopback is refused (rebinding defence) and allowed only with its IP granted", async () => {
    const resolve: Resolver = async (host) => (host === "app.test" ? ["127.0.0.1"] : Promise.reject(new Error("NXDOMAIN")));
    const name = `net.outbound:app.test:${servers.web.port}`;
    const fetchName = `wget -q -O- http://app.test:${servers.web.port}/by-name 2>&1; echo "exit=$?"`;
    const refused = await egressRun([name], fetchName, { resolve });
    expect(refused.stdout).toContain("403 Forbidden");
    expect(refused.events).toMatchObject([{ outcome: "denied", rule: "egress.address-refused", host: "app.test", addresses: ["127.0.0.1"] }]);
    expect(refused.events[0]?.reason).toContain("loopback");
    const allowed = await egressRun([name, webGrant()], fetchName, { resolve });
    expect(allowed.stdout).toBe("web says /by-name\nexit=0\n");
    expect(allowed.events).toMatchObject([{ outcome: "allowed", host: "app.test", grantedBy: name }]);
  });

  test("egress: DNS rebinding: an answer that changes between connections is vetted each time, and a connection goes only where its own vetted answer pointed", async () => {
    // The attacker's name first answers with the granted address, then with another loopback one.
    const rebound = Bun.serve({ hostname: "127.0.0.2", port: servers.web.port, fetch: () => new Response("rebound server\n") });
    let lookups = 0;
    const resolve: Resolver = async (host) => (host === "rebind.test" ? [++lookups === 1 ? "127.0.0.1" : "127.0.0.2"] : Promise.reject(new Error("NXDOMAIN")));
    try {
      const name = `net.outbound:rebind.test:${servers.web.port}`;
      const twice = `for i in 1 2; do wget -q -O- http://rebind.test:${servers.web.port}/try$i 2>&1; echo "exit=$?"; done`;
      const run = await egressRun([name, webGrant()], twice, { resolve });
      expect(run.stdout).toStartWith("web says /try1\nexit=0\n");
      expect(run.stdout).toContain("403 Forbidden");
      expect(run.stdout).not.toContain("rebound server");
      // One lookup per connection: the address checked is the address connected to.
      expect(lookups).toBe(2);
      expect(run.events).toMatchObject([
        { outcome: "allowed", host: "rebind.test", addresses: ["127.0.0.1"] },
        { outcome: "denied", rule: "egress.address-refused", host: "rebind.test", addresses: ["127.0.0.2"] },
      ]);
    } finally {
      rebound.stop(true);
    }
  });

  test("egress: CONNECT whose TLS SNI names another host is cut before the server sees a byte; a matching SNI passes", async () => {
    const raw = await rawServer();
    try {
      const grants = [`net.outbound:tunnel.test:${raw.port}`, `net.outbound:127.0.0.1:${raw.port}`];
      const resolve: Resolver = async () => ["127.0.0.1"];
      const connect = (sni: string) =>
        `${PROXY_PARTS}; printf 'CONNECT tunnel.test:${raw.port} HTTP/1.1\\r\\nHost: tunnel.test:${raw.port}\\r\\n\\r\\n${printfEscape(buildHello([[0, sniExtension(sni)]]))}' | nc -w 3 "$GW" "$PORT" | head -c 39; echo`;
      const fronted = await egressRun(grants, connect("evil.example"), { resolve });
      expect(fronted.stdout).toContain("200 Connection Established");
      expect(fronted.events).toMatchObject([{ outcome: "denied", rule: "egress.sni-mismatch", host: "tunnel.test", sni: "evil.example" }]);
      await Bun.sleep(200);
      expect(raw.connections()).toBe(0);
      const honest = await egressRun(grants, connect("tunnel.test"), { resolve });
      expect(honest.events).toMatchObject([{ outcome: "allowed", method: "CONNECT", host: "tunnel.test", sni: "tunnel.test" }]);
      for (let i = 0; i < 50 && raw.firstBytes.length === 0; i++) await Bun.sleep(20);
      expect(readClientHello(raw.firstBytes[0] ?? Buffer.alloc(0))).toMatchObject({ kind: "client-hello", serverName: "tunnel.test" });
    } finally {
      raw.close();
    }
  });

  test("egress: raw sockets reach nothing but the proxy: host ports, bridge gateway, public DNS, metadata, DNS", async () => {
    const onGateway = await rawServer(EGRESS_GATEWAY);
    const onAll = await rawServer("0.0.0.0");
    const dns = await Bun.udpSocket({ hostname: EGRESS_GATEWAY, port: 53, socket: { data: () => void dnsQueries++ } });
    let dnsQueries = 0;
    try {
      const probes: Array<[string, string]> = [
        ["gateway-other-port", `nc -w 2 ${EGRESS_GATEWAY} ${onGateway.port}`],
        ["host-wildcard-port", `nc -w 2 ${EGRESS_GATEWAY} ${onAll.port}`],
        // The host's other addresses (its LAN address, docker0's gateway) lead to the same services.
        ...hostAddresses().map((address): [string, string] => [`host-address-${address}`, `nc -w 2 ${address} ${onAll.port}`]),
        ["public-dns", "nc -w 2 1.1.1.1 53"],
        ["metadata", "nc -w 2 169.254.169.254 80"],
        ["proxy-range-unused", `nc -w 2 ${EGRESS_GATEWAY} ${EGRESS_PROXY_PORTS.last + 1}`],
      ];
      const script = [
        ...probes.map(([name, command]) => `( if echo x | ${command} >/dev/null 2>&1; then echo "${name}=open"; else echo "${name}=closed"; fi ) &`),
        "( nslookup example.com >/dev/null 2>&1 && echo embedded-dns=answered || echo embedded-dns=failed ) &",
        `( nslookup example.com ${EGRESS_GATEWAY} >/dev/null 2>&1 && echo gateway-dns=answered || echo gateway-dns=failed ) &`,
        "wait",
        'echo "ipv6=$(cat /proc/net/if_inet6 | wc -l)"',
        "echo \"interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ,)\"",
      ].join("\n");
      const run = await egressRun([webGrant()], script, { timeoutMs: 60_000 });
      expect(probes.length).toBeGreaterThanOrEqual(7);
      for (const [name] of probes) expect(run.stdout).toContain(`${name}=closed`);
      expect(run.stdout).toContain("embedded-dns=failed");
      expect(run.stdout).toContain("gateway-dns=failed");
      expect(run.stdout).toContain("ipv6=0");
      expect(run.stdout).toContain("interfaces=eth0,lo,");
      expect(onGateway.connections()).toBe(0);
      expect(onAll.connections()).toBe(0);
      expect(dnsQueries).toBe(0);
    } finally {
      onGateway.close();
      onAll.close();
      dns.close();
    }
  }, 90_000);

  test("egress: without the scope there is no network at all, only lo", async () => {
    const run = await egressRun(undefined, `tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; env | grep -ci proxy; echo x | nc -w 2 ${EGRESS_GATEWAY} ${EGRESS_PROXY_PORTS.first} 2>&1; echo "nc=$?"`);
    expect(run.stdout).toStartWith("lo\n0\n");
    expect(run.stdout).toContain("nc=1");
    expect(run.events).toEqual([]);
  });

  test("egress: gVisor with egress is refused (its network is none here), not run without the proxy", async () => {
    const events: EgressEvent[] = [];
    const gvisor = recordingRuntime(events, undefined, "runsc");
    await expect(egressRun([webGrant()], "true", { runtime: gvisor })).rejects.toMatchObject({ code: "unavailable", message: expect.stringContaining("--network=none") });
  });

  test("egress: a runtime without an audit sink refuses egress runs", async () => {
    const { createDockerRuntime } = await import("../../../src/sandbox/index.ts");
    await expect(egressRun([webGrant()], "true", { runtime: createDockerRuntime() })).rejects.toMatchObject({ code: "unavailable", message: expect.stringContaining("audit") });
  });

  test("egress: concurrent runs see only their own grants, through any proxy port, and cannot reach each other", async () => {
    // No `wget -T`: Debian's static busybox wget segfaults with it (notes/stack.md §2).
    const sweep = (target: number | undefined) =>
      `${PROXY_PARTS}; for port in $(seq ${EGRESS_PROXY_PORTS.first} ${EGRESS_PROXY_PORTS.last}); do [ "$port" = "$PORT" ] && continue; ` +
      `out=$(http_proxy=http://$GW:$port wget -q -O- http://127.0.0.1:${target}/ 2>&1) && echo "LEAK via $port: $out"; done; ` +
      `wget -q -O- http://127.0.0.1:${target}/ 2>&1 | head -1`;
    // B is up (its first request recorded) before A starts; each sweeps while the other still runs.
    const bEvents: EgressEvent[] = [];
    const listen = "( nc -l -p 9000 > /tmp/icc 2>&1 & ) ; sleep 0.2";
    const bRun = egressRun([`net.outbound:127.0.0.1:${servers.other.port}`], `${listen}; wget -q -O- http://127.0.0.1:${servers.other.port}/; sleep 6; ${sweep(servers.web.port)}; echo "icc-received=$(wc -c < /tmp/icc)"`, { timeoutMs: 60_000, events: bEvents });
    for (let i = 0; i < 200 && bEvents.length === 0; i++) await Bun.sleep(50);
    expect(bEvents.length).toBe(1);
    const peer = `if echo hello | nc -w 2 ${bEvents[0]?.client} 9000; then echo icc=open; else echo icc=closed; fi`;
    const a = await egressRun([webGrant()], `wget -q -O- http://127.0.0.1:${servers.web.port}/from-a; ${peer}; ${sweep(servers.other.port)}; sleep 8`, { timeoutMs: 60_000 });
    const b = await bRun;
    expect(a.stdout).toStartWith("web says /from-a\n");
    expect(b.stdout).toStartWith("other server\n");
    expect(a.stdout).toContain("icc=closed");
    expect(b.stdout).toContain("icc-received=0");
    for (const run of [a, b]) {
      expect(run.stdout).not.toContain("LEAK");
      expect(run.stdout).toContain("403 Forbidden");
    }
    expect(a.events.filter((e) => e.outcome === "allowed").map((e) => e.port)).toEqual([servers.web.port]);
    expect(b.events.filter((e) => e.outcome === "allowed").map((e) => e.port)).toEqual([servers.other.port]);
    // Each proxy saw the other sandbox knock and refused it as a stranger.
    expect(b.events.some((e) => e.rule === "egress.unknown-client" && e.client === a.events[0]?.client)).toBe(true);
    expect(a.events.some((e) => e.rule === "egress.unknown-client" && e.client === b.events[0]?.client)).toBe(true);
  }, 90_000);
});
