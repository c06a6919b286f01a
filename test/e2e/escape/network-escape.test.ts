/**
 * Network escape attempts, by `aegisclaw run` (compiled binary) on the real engine, the real
 * egress network, fence and proxy. Only test servers this file starts (on loopback, on the
 * host's docker0 address and on the egress network's gateway) and a container on a network
 * this file creates are ever contacted: the only outside name used (example.com) is refused
 * before the proxy resolves it, and the sandbox's own DNS queries never leave it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { jsonLines, tempHome, useCompiledBinary } from "../../helpers/cli.ts";
import { BASE_IMAGE, requireDocker } from "../../helpers/docker.ts";
import { type Attempt, batchResults, batchScript, expectFailed } from "./attempts.ts";
import { aegis } from "./support.ts";

useCompiledBinary();

const EGRESS_NETWORK = "aegisclaw-egress";

/** The host's IPv4 address on a network interface, even when it is down (no container attached). */
function interfaceAddress(name: string): string {
  const ip = Bun.spawnSync(["ip", "-4", "-o", "addr", "show", "dev", name], { stdout: "pipe", stderr: "pipe" });
  const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(ip.stdout.toString())?.[1];
  if (!address) throw new Error(`interface ${name} has no IPv4 address: ${ip.stderr.toString()}`);
  return address;
}

function docker(...args: string[]): string {
  const result = Bun.spawnSync(["timeout", "30", "docker", ...args], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`docker ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString().trim();
}

/** Waits until `url` answers HTTP at all (any status), for at most 10 s. */
async function waitForHttp(url: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch (error) {
      if (tries >= 20) throw error;
      await Bun.sleep(500);
    }
  }
}

/** A raw HTTP request to the run's proxy (from $HTTP_PROXY), its answer flattened by the batch. */
function viaProxy(request: string): string {
  return `p=\${HTTP_PROXY#http://}; printf '${request.replaceAll("\n", "\\r\\n")}' | nc -w 5 \${p%:*} \${p##*:}`;
}

describe("network escapes (compiled binary, real Docker, egress proxy)", () => {
  let home: string;
  const servers: Array<ReturnType<typeof Bun.serve>> = [];
  let loopback: ReturnType<typeof Bun.serve>;
  let bridge: ReturnType<typeof Bun.serve>;
  let gateway: ReturnType<typeof Bun.serve>;
  let bridgeIp = "";
  let gatewayIp = "";
  let peerIp = "";
  const peerNetwork = `aegisclaw-escape-test-${process.pid}`;
  const peer = `aegisclaw-escape-peer-${process.pid}`;

  const serve = (hostname: string, body: string) => {
    const server = Bun.serve({ hostname, port: 0, fetch: () => new Response(`${body}\n`) });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    await requireDocker();
    home = tempHome();
    // permissive: net.outbound is allowed without a person, so the attempts run unattended.
    expect((await aegis(home, ["init", "--yes", "--template", "permissive"])).exitCode).toBe(0);
    loopback = serve("127.0.0.1", "loopback-secret");
    // One egress run first: it creates the egress network (and so the gateway address) if missing.
    const warm = await aegis(home, ["run", "--scope", `net.outbound:127.0.0.1:${loopback.port}`, "--", "true"]);
    expect(warm.stderr).toBe("");
    bridgeIp = interfaceAddress("docker0");
    gatewayIp = docker("network", "inspect", EGRESS_NETWORK, "--format", "{{(index .IPAM.Config 0).Gateway}}");
    bridge = serve(bridgeIp, "bridge-secret");
    gateway = serve(gatewayIp, "gateway-secret");
    // A peer container on a network of our own: lateral movement target.
    docker("network", "create", "--label", "io.aegisclaw.test=escape", peerNetwork);
    docker("run", "-d", "--rm", "--name", peer, "--network", peerNetwork, "--label", "io.aegisclaw.test=escape", BASE_IMAGE, "httpd", "-f", "-p", "8080");
    peerIp = docker("inspect", peer, "--format", `{{(index .NetworkSettings.Networks "${peerNetwork}").IPAddress}}`);
    // Control: the peer really serves (from the host), so a timeout below is isolation, not absence.
    await waitForHttp(`http://${peerIp}:8080/`);
  }, 60_000);

  afterAll(() => {
    for (const server of servers) server.stop(true);
    Bun.spawnSync(["timeout", "30", "docker", "rm", "-f", peer], { stdout: "ignore", stderr: "ignore" });
    Bun.spawnSync(["timeout", "30", "docker", "network", "rm", peerNetwork], { stdout: "ignore", stderr: "ignore" });
  });

  /** The egress audit entries of the last run: `host:port -> rule`. */
  async function egressRules(): Promise<Record<string, string>> {
    const entries = jsonLines((await aegis(home, ["logs", "--json"])).stdout);
    const runId = entries.findLast((e) => e.type === "decision")?.runId;
    const rules: Record<string, string> = {};
    for (const entry of entries.filter((e) => e.runId === runId && e.type === "egress")) {
      const egress = entry.egress as { host?: string; port?: number; rule: string };
      rules[egress.host === undefined ? "(unparsed request)" : `${egress.host}:${egress.port}`] = egress.rule;
    }
    return rules;
  }

  test("escape: without a net.outbound scope nothing is reachable: host bridge, egress gateway, host loopback, DNS", async () => {
    const attempts: Attempt[] = [
      { id: "host-bridge", tries: "reach a server on the host's docker0 address", command: `wget -q -O- http://${bridgeIp}:${bridge.port}/`, docker: { exit: 1, output: /Network is unreachable/ } },
      { id: "egress-gateway", tries: "reach a server on the egress gateway address", command: `nc -w 2 ${gatewayIp} ${gateway.port} </dev/null`, docker: { exit: 1, output: /Network is unreachable/ } },
      // 127.0.0.1 in the sandbox is its own loopback (own network namespace), not the host's.
      { id: "host-loopback", tries: "reach a server on the host's loopback", command: `wget -q -O- http://127.0.0.1:${loopback.port}/`, docker: { exit: 1, output: /Connection refused/ } },
      { id: "dns", tries: "resolve a name (DNS as a way out)", command: "nslookup example.com", docker: { exit: 1, output: /no servers could be reached/ } },
    ];
    const run = await aegis(home, ["run", "--", "sh", "-c", batchScript(attempts)]);
    expect(run.exitCode).toBe(0);
    const results = batchResults(run.stdout);
    for (const attempt of attempts) expectFailed(results, attempt.id, attempt.docker);
    expect(run.stdout).not.toMatch(/secret/);
  }, 60_000);

  test("escape: with net.outbound, everything but the granted destination through the proxy fails", async () => {
    const granted = `127.0.0.1:${loopback.port}`;
    const forbidden = /HTTP\/1.1 403 Forbidden/;
    const attempts: Attempt[] = [
      { id: "bypass-proxy-gateway", tries: "bypass the proxy: the egress gateway's other ports", command: `nc -w 2 ${gatewayIp} ${gateway.port} </dev/null`, docker: { exit: 1, output: /nc: timed out/ } },
      { id: "bypass-proxy-bridge", tries: "bypass the proxy: the host's docker0 address", command: `nc -w 2 ${bridgeIp} ${bridge.port} </dev/null`, docker: { exit: 1, output: /nc: timed out/ } },
      { id: "lateral-peer", tries: "reach a container on another Docker network", command: `nc -w 2 ${peerIp} 8080 </dev/null`, docker: { exit: 1, output: /nc: timed out/ } },
      { id: "dns-direct", tries: "resolve a name directly (DNS tunnel)", command: "nslookup example.com", docker: { exit: 1, output: /no servers could be reached/ } },
      { id: "ip-literal", tries: "an ungranted IP literal through the proxy (host bridge server)", command: `wget -q -O- http://${bridgeIp}:${bridge.port}/`, docker: { exit: 1, output: forbidden } },
      { id: "ipv6-loopback", tries: "the granted port on the IPv6 loopback literal", command: `wget -q -O- http://[::1]:${loopback.port}/`, docker: { exit: 1, output: forbidden } },
      { id: "other-name-same-ip", tries: "another name (localhost) that resolves to the granted IP", command: `wget -q -O- http://localhost:${loopback.port}/`, docker: { exit: 1, output: forbidden } },
      { id: "connect-forbidden-port", tries: "CONNECT to a granted name on a forbidden port", command: viaProxy("CONNECT example.com:22 HTTP/1.1\nHost: example.com:22\n\n"), docker: { exit: 0, output: /403 Forbidden.*net.outbound:example.com:22 is not granted to this run/ } },
      // The Host header claims the granted destination: the proxy refuses the mismatch outright.
      { id: "host-header-smuggle", tries: "absolute-form request to an ungranted name with the granted Host header", command: viaProxy(`GET http://localhost:${loopback.port}/ HTTP/1.1\nHost: ${granted}\nConnection: close\n\n`), docker: { exit: 0, output: /400 Bad Request.*bad proxy request: Host header does not match the URL's host/ } },
    ];
    // The control: the granted destination works, so each refusal above is the fence or the proxy.
    const script = `wget -q -O- http://${granted}/; echo "control=$?|"\n${batchScript(attempts)}`;
    const run = await aegis(home, ["run", "--scope", `net.outbound:${granted}`, "--scope", "net.outbound:example.com:443", "--", "sh", "-c", script]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toStartWith("loopback-secret\ncontrol=0|\n");
    const results = batchResults(run.stdout);
    for (const attempt of attempts) expectFailed(results, attempt.id, attempt.docker);
    expect(run.stdout).not.toMatch(/bridge-secret|gateway-secret/);
    expect(run.stdout.match(/loopback-secret/g)?.length).toBe(1);
    expect(await egressRules()).toEqual({
      [granted]: "egress.allowed",
      [`${bridgeIp}:${bridge.port}`]: "egress.not-granted",
      [`::1:${loopback.port}`]: "egress.not-granted",
      "(unparsed request)": "egress.bad-request",
      [`localhost:${loopback.port}`]: "egress.not-granted",
      "example.com:22": "egress.not-granted",
    });
  }, 60_000);

  // An answer that changes between connections is covered with the proxy's injectable resolver
  // in test/sandbox/egress/docker.test.ts (one lookup per connection, connect to exactly the
  // vetted address); here the system resolver's answer for a granted name is loopback.
  test("escape: DNS rebinding to loopback: a granted name that resolves to 127.0.0.1 is refused by address", async () => {
    const run = await aegis(home, ["run", "--scope", `net.outbound:localhost:${loopback.port}`, "--", "sh", "-c", `wget -q -O- http://localhost:${loopback.port}/; echo "get=$?"; ${viaProxy(`CONNECT localhost:${loopback.port} HTTP/1.1\nHost: localhost\n\n`)}`]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("get=1");
    expect(run.stderr).toContain("403 Forbidden");
    expect(run.stdout).toContain(`localhost resolves to 127.0.0.1, a loopback address; only a grant of that address itself (net.outbound:127.0.0.1:${loopback.port}) allows it`);
    expect(run.stdout).not.toContain("loopback-secret");
    expect(await egressRules()).toEqual({ [`localhost:${loopback.port}`]: "egress.address-refused" });
  }, 60_000);
});
