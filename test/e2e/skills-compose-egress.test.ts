/**
 * A docker-compose skill whose services have different net.outbound and secrets.read grants,
 * signed, installed and run through the compiled binary, real Docker and a real age store:
 * "api" reaches its granted loopback server through its own proxy and reads PAIR_TOKEN;
 * "probe" reaches no proxy and sees only PROBE_TOKEN; the approval names each scope's service;
 * every egress entry names its service; neither value leaves unredacted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EGRESS_GATEWAY, EGRESS_PROXY_PORTS, secretsBaseDir } from "../../src/sandbox/index.ts";
import { aegis, backgroundAegis, BINARY, initHomeWith, jsonLines, useCompiledBinary, type CliResult } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";
import { homeLeaks, leakedForms } from "../secrets/delivery-support.ts";
import { copySkill, firstPending, publisherKey, removeTestImages } from "../skills/helpers.ts";

useCompiledBinary();

const FIXTURE = join(import.meta.dir, "..", "fixtures", "skills", "egress-pair");
const PAIR_TOKEN = "CANARY-pair-4f1c9e7a2b6d80";
const PROBE_TOKEN = "CANARY-probe-b83e0d5c1a97f2";
let home: string;
let web: ReturnType<typeof Bun.serve>;
let other: ReturnType<typeof Bun.serve>;
const hits: string[] = [];

async function withStdin(args: string[], stdin: string): Promise<CliResult> {
  const proc = Bun.spawn([BINARY, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home }, stdin: new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** Writes the test servers' ports over the fixture's placeholders (before signing: they are part of what is signed). */
function withPorts(dir: string): void {
  for (const file of ["manifest.yaml", "compose.yaml"]) {
    const path = join(dir, file);
    writeFileSync(path, readFileSync(path, "utf8").replaceAll("65000", String(web.port)).replaceAll("65001", String(other.port)));
  }
}

describe("docker-compose skill with per-service egress and secrets (real Docker, real age)", () => {
  beforeAll(async () => {
    await requireDocker();
    web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => (hits.push(new URL(request.url).pathname), new Response(`web says ${new URL(request.url).pathname}\n`)) });
    other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => (hits.push(`other${new URL(request.url).pathname}`), new Response("other server\n")) });
    home = await initHomeWith("standard");
    const keys = await publisherKey(home);
    expect((await aegis(home, ["skills", "trust", "add", keys.pub, "--name", "tester"])).exitCode).toBe(0);
    const { dir } = copySkill(FIXTURE);
    withPorts(dir);
    const signed = await aegis(home, ["skills", "sign", dir, "--key", keys.key]);
    expect(signed.exitCode, signed.stderr).toBe(0);
    const added = await aegis(home, ["skills", "add", dir, "--yes"]);
    expect(added.exitCode, added.stderr).toBe(0);
    expect((await aegis(home, ["secrets", "init"])).exitCode).toBe(0);
    expect((await withStdin(["secrets", "set", "PAIR_TOKEN"], `${PAIR_TOKEN}\n`)).exitCode).toBe(0);
    expect((await withStdin(["secrets", "set", "PROBE_TOKEN"], `${PROBE_TOKEN}\n`)).exitCode).toBe(0);
  }, 180_000);
  afterAll(() => {
    web?.stop(true);
    other?.stop(true);
    removeTestImages();
  });

  test("compose egress: api reaches only its granted host through its own proxy, probe reaches no proxy; each sees only its own secret; both redacted; entries name the service", async () => {
    const run = backgroundAegis(home, ["skills", "run", "egress-pair", "probe", "--", EGRESS_GATEWAY, String(EGRESS_PROXY_PORTS.first), String(EGRESS_PROXY_PORTS.last)]);
    const outputs: CliResult[] = [];
    let result: CliResult;
    try {
      // secrets.read is critical risk: a person approves, and sees which service asked for what.
      const pending = await firstPending(home);
      const listed = await aegis(home, ["approvals", "list", "--json"]);
      outputs.push(listed, await aegis(home, ["approvals", "list"]));
      const scopes = (JSON.parse(listed.stdout).pending[0].scopes as Array<{ scope: string }>).map((scope) => scope.scope);
      expect(scopes).toContain(`net.outbound:127.0.0.1:${web.port} (service api)`);
      expect(scopes).toContain("secrets.read:PAIR_TOKEN (service api)");
      expect(scopes).toContain("secrets.read:PROBE_TOKEN (service probe)");
      expect(scopes).toContain("shell.exec:/skill/probe (service probe)");
      outputs.push(await aegis(home, ["approvals", "approve", pending.id]));
      result = await run.done;
    } finally {
      run.proc.kill();
    }
    outputs.push(result);
    expect(result.exitCode, result.stderr).toBe(0);
    // api, through its own proxy: the granted server answers, the other one is refused (403).
    expect(result.stdout).toContain("granted: web says /from-api\n");
    expect(result.stdout).toContain("403 Forbidden");
    expect(result.stdout).toContain("other-exit=1\n");
    expect(result.stdout).toContain("api-secrets=PAIR_TOKEN \n");
    expect(result.stdout).toMatch(/api-proxy=http:\/\/10\.213\.37\.1:\d+\n/);
    // probe: no proxy variables, no egress interface, no proxy port, not api's proxy, nothing on the granted address.
    expect(result.stdout).toContain("probe-proxy-vars=0\nprobe-interfaces=eth0,lo,\nprobe-ports-swept\nprobe-via-api-proxy=closed\nprobe-granted-host=closed\nprobe-secrets=PROBE_TOKEN \n");
    expect(result.stdout).not.toContain("probe-proxy-port-open");
    // Both values reached the output (api's through the network) and both were redacted.
    expect(result.stdout).toContain("api-token: [REDACTED:secret:PAIR_TOKEN]\n");
    // The sidecar's own output (its report, token included) arrives on stderr under its name, redacted.
    expect(result.stderr).toContain("[api] api-token: [REDACTED:secret:PAIR_TOKEN]\n");
    expect(result.stdout).toContain("probe-token: [REDACTED:secret:PROBE_TOKEN]\n");
    expect(hits).toEqual(["/from-api"]);

    const entries = jsonLines((await aegis(home, ["logs", "--json"])).stdout);
    const decision = entries.findLast((entry) => entry.type === "decision");
    const runId = String(decision?.runId);
    const ofRun = entries.filter((entry) => entry.runId === runId);
    expect(ofRun.map((entry) => entry.type)).toEqual(["decision", "approval", "egress", "egress", "result"]);
    expect(ofRun[2]?.egress).toMatchObject({ outcome: "allowed", host: "127.0.0.1", port: web.port, service: "api" });
    expect(ofRun[3]?.egress).toMatchObject({ outcome: "denied", rule: "egress.not-granted", port: other.port, service: "api" });
    const request = decision?.request as Record<string, unknown>;
    expect(request.secrets).toEqual(["PAIR_TOKEN", "PROBE_TOKEN"]);
    expect(request.egress).toEqual([`net.outbound:127.0.0.1:${web.port}`]);
    expect(request.services).toEqual([
      { name: "probe", argv: ["/skill/probe", EGRESS_GATEWAY, String(EGRESS_PROXY_PORTS.first), String(EGRESS_PROXY_PORTS.last)], scopes: ["shell.exec:/skill/probe", "secrets.read:PROBE_TOKEN"] },
      { name: "api", argv: ["/skill/api"], scopes: ["shell.exec:/skill/api", `net.outbound:127.0.0.1:${web.port}`, "secrets.read:PAIR_TOKEN"] },
    ]);
    expect(ofRun[4]?.redactionKinds).toEqual({ "secret:PAIR_TOKEN": 2, "secret:PROBE_TOKEN": 1 });
    const human = await aegis(home, ["logs"]);
    expect(human.stdout).toContain(`ALLOWED GET 127.0.0.1:${web.port} [egress.allowed] (service api)`);
    const explained = await aegis(home, ["logs", "explain", runId]);
    expect(explained.stdout).toMatch(/egress \(entry \d+\) of service api: DENIED GET 127\.0\.0\.1/);
    outputs.push(human, explained);

    // Nothing of the run is left: containers, networks, the services' secret directories.
    const leftovers = Bun.spawnSync(["docker", "ps", "-aq", "--filter", `label=io.aegisclaw.run=${runId}`], { stdout: "pipe" }).stdout.toString().trim();
    expect(leftovers).toBe("");
    const base = secretsBaseDir();
    expect(existsSync(base) ? readdirSync(base).filter((name) => name.startsWith(runId)) : []).toEqual([]);
    for (const token of [PAIR_TOKEN, PROBE_TOKEN]) {
      for (const output of outputs) expect(leakedForms(output.stdout + output.stderr, token)).toEqual([]);
      expect(homeLeaks(home, token)).toEqual([]);
    }
  }, 180_000);

  test("compose egress simulate: shows each service's own proxy hosts and secrets; records nothing", async () => {
    const before = (await aegis(home, ["logs", "--json"])).stdout;
    const result = await aegis(home, ["simulate", "skill", "egress-pair", "probe"]);
    // 77: a run would wait for a person (secrets.read is critical risk).
    expect(result.exitCode, result.stderr).toBe(77);
    expect(result.stdout).toContain("approval:  REQUIRED\n");
    expect(result.stdout).toContain(`service       api: /skill/api; mounts /run/secrets (bind ro); own egress proxy to net.outbound:127.0.0.1:${web.port}; secrets PAIR_TOKEN; same hardening`);
    expect(result.stdout).toMatch(/network {7}aegisclaw-run-r-[a-z0-9-]+ \(internal, no host address; shared only with this run's services api; this one is probe\)\n/);
    expect(result.stdout).toMatch(/secrets {7}PROBE_TOKEN\n/);
    expect((await aegis(home, ["logs", "--json"])).stdout).toBe(before);
  });
});
