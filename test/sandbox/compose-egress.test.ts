/**
 * net.outbound in multi-container runs, on the real Docker engine: the service granted it reaches
 * its hosts through a proxy of its own (whether it is the main service or a sidecar), and a
 * sibling without the grant has no route to any proxy port, the granted host or the host's
 * services. Every decision names the service. Servers live on the host's loopback, granted by IP.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { DEFAULT_LIMITS, EGRESS_GATEWAY, EGRESS_PROXY_PORTS, type EgressEvent, type SandboxSidecar } from "../../src/sandbox/index.ts";
import { BASE_IMAGE, requireDocker } from "../helpers/docker.ts";
import { hostServers, recordingRuntime, rawServer } from "./egress/support.ts";

const servers = hostServers();
const { hits } = servers;

beforeAll(requireDocker);

const grant = () => `net.outbound:127.0.0.1:${servers.web.port}`;

/** Serves the lines `script` prints on port 8080 of the run network, to every connection, until the run ends. */
function serveReport(script: string): string {
  return `{ ${script}; } > /tmp/report 2>&1; echo report-done >> /tmp/report; while true; do nc -l -p 8080 < /tmp/report; done`;
}

/** Prints what service `host` serves on 8080 once it is complete (at most 60 s). */
function readReport(host: string): string {
  return `tries=0; until r=$(nc -w 2 ${host} 8080 </dev/null 2>/dev/null) && case "$r" in *report-done*) true;; *) false;; esac; do tries=$((tries + 1)); [ "$tries" -ge 300 ] && { echo "no report from ${host}"; break; }; sleep 0.2; done; echo "$r"`;
}

/**
 * What a container without net.outbound tries: proxy variables, interfaces, every proxy port on
 * the egress gateway (16 at a time: nothing answers, so each waits out its timeout), the granted
 * server through the gateway's proxy `proxyPort` (when known), and /run/secrets.
 */
function probeWithoutGrant(proxyPort: string): string {
  return [
    'echo "proxy-vars=$(env | grep -ci proxy)"',
    "echo \"interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ,)\"",
    `for p in $(seq ${EGRESS_PROXY_PORTS.first} ${EGRESS_PROXY_PORTS.last}); do ( echo x | nc -w 2 ${EGRESS_GATEWAY} $p >/dev/null 2>&1 && echo "proxy-port-open $p" ) & [ $(( (p - ${EGRESS_PROXY_PORTS.first}) % 16 )) = 15 ] && wait; done; wait; echo proxy-ports-swept`,
    `if out=$(http_proxy=http://${EGRESS_GATEWAY}:${proxyPort} wget -q -O- http://127.0.0.1:${servers.web.port}/via-sibling-proxy 2>&1); then echo "sibling-proxy=open $out"; else echo sibling-proxy=closed; fi`,
    `if echo x | nc -w 2 127.0.0.1 ${servers.web.port} >/dev/null 2>&1; then echo granted-host=open; else echo granted-host=closed; fi`,
    '[ -e /run/secrets ] && echo secrets=present || echo secrets=absent',
  ].join("; ");
}

/** What the service granted net.outbound does: the granted server (allowed), another loopback server (refused), its interfaces and proxy. */
const WITH_GRANT = () =>
  [
    `wget -q -O- http://127.0.0.1:${servers.web.port}/granted 2>&1; echo "granted-exit=$?"`,
    `wget -q -O- http://127.0.0.1:${servers.other.port}/ 2>&1; echo "other-exit=$?"`,
    "echo \"interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ,)\"",
    'echo "proxy=$HTTP_PROXY"',
  ].join("; ");

let counter = 0;

/** Runs main service "a" (granted `grant()` when `main.egress`, else "b") beside `sidecars`, each granted `granted` (true: `grant()`). */
async function composeRun(main: { argv: string[]; egress: boolean }, sidecars: Array<SandboxSidecar & { granted?: true | string[] }>, events: EgressEvent[]) {
  const runtime = recordingRuntime(events);
  const runId = `compose-egress-${process.pid}-${++counter}`;
  const egressFor = (service: string, allow = [grant()]) => ({ allow, actor: { name: "compose-egress-test", source: "cli" }, requestHash: "b".repeat(64), service });
  let stdout = "";
  const decoder = new TextDecoder();
  const result = await runtime.run(
    {
      runId,
      image: BASE_IMAGE,
      argv: main.argv,
      timeoutMs: 90_000,
      limits: DEFAULT_LIMITS,
      ...(main.egress ? { egress: egressFor("a") } : {}),
      compose: { service: main.egress ? "a" : "b", sidecars: sidecars.map(({ granted, ...sidecar }) => (granted ? { ...sidecar, egress: egressFor(sidecar.name, granted === true ? undefined : granted) } : sidecar)) },
    },
    { stdout: (chunk) => void (stdout += decoder.decode(chunk, { stream: true })), stderr: () => undefined },
  );
  const leftovers = Bun.spawnSync(["docker", "ps", "-aq", "--filter", `label=io.aegisclaw.run=${runId}`], { stdout: "pipe" }).stdout.toString().trim();
  return { ...result, stdout, runId, leftovers };
}

describe("multi-container egress on Docker", () => {
  test("compose egress: a main service granted net.outbound reaches its host through its own proxy; its sibling reaches no proxy port and nothing outside", async () => {
    const events: EgressEvent[] = [];
    const before = hits.length;
    const run = await composeRun(
      { argv: ["sh", "-c", `${WITH_GRANT()}; ${readReport("b")}`], egress: true },
      [{ name: "b", argv: ["sh", "-c", serveReport(probeWithoutGrant(String(EGRESS_PROXY_PORTS.first)))] }],
      events,
    );
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain("web says /granted\ngranted-exit=0\n");
    expect(run.stdout).toContain("403 Forbidden");
    expect(run.stdout).not.toContain("other server");
    expect(run.stdout).toContain("other-exit=1\n");
    // The granted service: lo, its run network and the egress network; the proxy is on the egress gateway.
    expect(run.stdout).toContain("interfaces=eth0,eth1,lo,\n");
    expect(run.stdout).toMatch(new RegExp(`proxy=http://${EGRESS_GATEWAY.replaceAll(".", "\\.")}:\\d+\\n`));
    // The sibling: no proxy variables, only its run network, no proxy port, nothing on its loopback, no secrets.
    expect(run.stdout).toContain("proxy-vars=0\ninterfaces=eth0,lo,\nproxy-ports-swept\nsibling-proxy=closed\ngranted-host=closed\nsecrets=absent\nreport-done\n");
    expect(hits.slice(before)).toEqual(["/granted"]);
    expect(events.map((event) => [event.outcome, event.rule, event.port, event.service])).toEqual([
      ["allowed", "egress.allowed", servers.web.port, "a"],
      ["denied", "egress.not-granted", servers.other.port, "a"],
    ]);
    expect(events[0]?.client).toMatch(/^10\.213\.37\.\d+$/);
    expect(run.leftovers).toBe("");
  }, 120_000);

  test("compose egress: a sidecar granted net.outbound gets its own proxy; the main service without the grant cannot use it", async () => {
    const events: EgressEvent[] = [];
    const before = hits.length;
    // The main service learns the sidecar's proxy from its report, then tries it and every other proxy port itself.
    const main = `${readReport("a")}; port=$(echo "$r" | sed -n 's/^proxy=http:.*:\\([0-9]*\\)$/\\1/p'); echo "sidecar-proxy-port=$port"; ${probeWithoutGrant("$port")}`;
    const run = await composeRun({ argv: ["sh", "-c", main], egress: false }, [{ name: "a", argv: ["sh", "-c", serveReport(WITH_GRANT())], granted: true }], events);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain("web says /granted\ngranted-exit=0\n");
    expect(run.stdout).toContain("other-exit=1\n");
    expect(run.stdout).toContain("interfaces=eth0,eth1,lo,\n");
    expect(run.stdout).toMatch(/sidecar-proxy-port=\d+\n/);
    expect(run.stdout).toContain("proxy-vars=0\ninterfaces=eth0,lo,\nproxy-ports-swept\nsibling-proxy=closed\ngranted-host=closed\nsecrets=absent\n");
    expect(hits.slice(before)).toEqual(["/granted"]);
    // Only the sidecar's own connections reached its proxy: the main service's never arrived (no route), so no stranger was even seen.
    expect(events.map((event) => [event.outcome, event.rule, event.port, event.service])).toEqual([
      ["allowed", "egress.allowed", servers.web.port, "a"],
      ["denied", "egress.not-granted", servers.other.port, "a"],
    ]);
    expect(run.leftovers).toBe("");
  }, 120_000);

  test("compose egress: two granted services each get only their own hosts; neither can use the other's proxy", async () => {
    const events: EgressEvent[] = [];
    const before = hits.length;
    const otherGrant = `net.outbound:127.0.0.1:${servers.other.port}`;
    // c: granted only the other server; it reports its proxy port, then serves.
    const c = serveReport(`wget -q -O- http://127.0.0.1:${servers.other.port}/ 2>&1; echo "c-own-exit=$?"; wget -q -O- http://127.0.0.1:${servers.web.port}/from-c 2>&1; echo "c-web-exit=$?"; echo "proxy=$HTTP_PROXY"`);
    // a (main): granted only web; after c's report it asks c's proxy for both servers.
    const a = [
      `wget -q -O- http://127.0.0.1:${servers.web.port}/from-a 2>&1; echo "a-own-exit=$?"`,
      readReport("c"),
      `cport=$(echo "$r" | sed -n 's/^proxy=http:.*:\\([0-9]*\\)$/\\1/p')`,
      `http_proxy=http://${EGRESS_GATEWAY}:$cport wget -q -O- http://127.0.0.1:${servers.other.port}/ 2>&1; echo "a-via-c-other-exit=$?"`,
      `http_proxy=http://${EGRESS_GATEWAY}:$cport wget -q -O- http://127.0.0.1:${servers.web.port}/a-via-c 2>&1; echo "a-via-c-web-exit=$?"`,
    ].join("; ");
    const run = await composeRun({ argv: ["sh", "-c", a], egress: true }, [{ name: "c", argv: ["sh", "-c", c], granted: [otherGrant] }], events);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain("web says /from-a\na-own-exit=0\n");
    expect(run.stdout).toContain("other server\nc-own-exit=0\n");
    expect(run.stdout).toContain("c-web-exit=1\n");
    expect(run.stdout).not.toContain("bad port");
    expect(run.stdout).toContain("a-via-c-other-exit=1\n");
    expect(run.stdout).toContain("a-via-c-web-exit=1\n");
    expect(hits.slice(before)).toEqual(["/from-a"]);
    const byService = (service: string) => events.filter((event) => event.service === service).map((event) => [event.outcome, event.rule, event.port]);
    expect(byService("a")).toEqual([["allowed", "egress.allowed", servers.web.port]]);
    // c's proxy: its own allow and refusal, then a's two attempts refused as a stranger's.
    expect(byService("c")).toEqual([
      ["allowed", "egress.allowed", servers.other.port],
      ["denied", "egress.not-granted", servers.web.port],
      ["denied", "egress.unknown-client", undefined],
      ["denied", "egress.unknown-client", undefined],
    ]);
    const aClient = events.find((event) => event.service === "a")?.client;
    expect(events.filter((event) => event.rule === "egress.unknown-client").every((event) => event.client === aClient)).toBe(true);
    expect(run.leftovers).toBe("");
  }, 120_000);

  test("compose egress: the granted service reaches none of the host's other services (only its proxy port is open to it)", async () => {
    const onGateway = await rawServer(EGRESS_GATEWAY);
    const onAll = await rawServer("0.0.0.0");
    try {
      const probes = [`${EGRESS_GATEWAY} ${onGateway.port}`, `${EGRESS_GATEWAY} ${onAll.port}`, `1.1.1.1 53`, `169.254.169.254 80`];
      const script = probes.map((target) => `if echo x | nc -w 2 ${target} >/dev/null 2>&1; then echo "open ${target}"; else echo "closed ${target}"; fi`).join("; ");
      const events: EgressEvent[] = [];
      const run = await composeRun({ argv: ["sh", "-c", `${script}; ${readReport("b")}`], egress: true }, [{ name: "b", argv: ["sh", "-c", serveReport("echo sibling-up")] }], events);
      expect(run.exitCode, run.stdout).toBe(0);
      for (const target of probes) expect(run.stdout).toContain(`closed ${target}\n`);
      expect(run.stdout).toContain("sibling-up\nreport-done\n");
      expect(onGateway.connections()).toBe(0);
      expect(onAll.connections()).toBe(0);
    } finally {
      onGateway.close();
      onAll.close();
    }
  }, 120_000);
});
