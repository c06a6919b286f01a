/** net.outbound through the Gate: validate stage (spec, policy input, hash), gVisor refusal, and audit entries of a real run. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AuditLog, initAuditDir, readEntries } from "../../src/audit/index.ts";
import { AuditRecord } from "../../src/audit/schema.ts";
import { egressAuditor, egressAuditRecord } from "../../src/core/egress-audit.ts";
import { NO_HISTORY, prepareRun } from "../../src/core/gate-prepare.ts";
import { Config, EventBus, Gate, LockdownStore } from "../../src/core/index.ts";
import { createDockerRuntime, type EgressEvent } from "../../src/sandbox/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";

const actor = { name: "tester", source: "cli" as const };
const config = (grants: string[] = ["shell.exec"]) => Config.parse({ version: 1, policy: { grants } });
const prepare = (grants: string[], runtime = "docker", configGrants?: string[]) => prepareRun({ actor, argv: ["wget", "-q", "-O-", "http://example.com/"], grants }, config(configGrants), runtime, false, NO_HISTORY, tempDir());

describe("egress: the validate stage", () => {
  test("prepare: a run's net.outbound scopes are requested, granted by themselves, and become the egress allowlist", () => {
    const prepared = prepare(["net.outbound:Example.COM", "net.outbound:*.api.example.org:8443", "net.outbound:example.com"]);
    expect(prepared.spec.egress).toEqual({ allow: ["net.outbound:example.com", "net.outbound:*.api.example.org:8443"], actor, requestHash: prepared.hash });
    const requested = prepared.policyInput.requested.filter((scope) => scope.kind === "net.outbound");
    expect(requested).toEqual([
      { scope: "net.outbound:example.com", kind: "net.outbound", target: "example.com", risk: "high", granted: true, grantedBy: "net.outbound:example.com" },
      { scope: "net.outbound:*.api.example.org:8443", kind: "net.outbound", target: "*.api.example.org:8443", risk: "high", granted: true, grantedBy: "net.outbound:*.api.example.org:8443" },
    ]);
    expect(prepared.summary.egress).toEqual(["net.outbound:example.com", "net.outbound:*.api.example.org:8443"]);
  });

  test("prepare: a net.outbound grant in config only grants: no egress without the run's own scope", () => {
    const prepared = prepare([], "docker", ["shell.exec", "net.outbound:example.com"]);
    expect(prepared.spec.egress).toBeUndefined();
    expect(prepared.policyInput.granted.map((g) => g.scope)).toContain("net.outbound:example.com");
    expect(prepared.policyInput.requested.map((r) => r.kind)).toEqual(["shell.exec"]);
  });

  test("prepare: the request hash covers the egress scopes", () => {
    const run = (grants: string[]) => prepareRun({ actor, argv: ["true"], grants }, config(), "docker", false, NO_HISTORY, "/nonexistent-home").hash;
    expect(run(["net.outbound:a.example"])).not.toBe(run(["net.outbound:b.example"]));
    expect(run(["net.outbound:a.example"])).not.toBe(run([]));
  });

  test("prepare: gVisor with net.outbound is refused (unavailable), naming --network=none", () => {
    let thrown: unknown;
    try {
      prepare(["net.outbound:example.com"], "gvisor");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "unavailable", message: expect.stringContaining("--network=none"), hint: expect.stringContaining("--runtime docker") });
    expect(prepare([], "gvisor").spec.egress).toBeUndefined();
  });

  test("audit: an egress decision becomes a valid, strict `egress` entry with a readable note", () => {
    const event: EgressEvent = { runId: "r-1", outcome: "denied", rule: "egress.address-refused", reason: "x resolves to 10.0.0.1", method: "CONNECT", host: "x.example", port: 443, addresses: ["10.0.0.1"], client: "10.213.37.2", actor, requestHash: "c".repeat(64) };
    const record = egressAuditRecord(event);
    expect(AuditRecord.parse(record)).toEqual(record);
    expect(record.note).toBe("DENIED CONNECT x.example:443 [egress.address-refused]");
    expect(() => AuditRecord.parse({ ...record, egress: { ...record.egress, path: "/secret" } })).toThrow();
    expect(() => egressAuditRecord({ ...event, actor: { name: "x", source: "nowhere" } })).toThrow("unknown actor source");
  });
});

describe("egress: a real run through the Gate", () => {
  let web: ReturnType<typeof Bun.serve>;
  beforeAll(async () => {
    await requireDocker();
    web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("through the gate\n") });
  });
  afterAll(() => web.stop(true));

  test("gate: decision, then each egress decision, then the result, all bound to the run and its hash", async () => {
    const dir = tempDir();
    const auditDir = join(dir, "audit");
    await initAuditDir(auditDir);
    const audit = await AuditLog.open(auditDir);
    const runtime = createDockerRuntime({ egressAudit: egressAuditor(async () => audit) });
    const gate = new Gate({ config: config(), home: join(dir, "home"), audit, runtime, lockdown: new LockdownStore(join(dir, "lockdown.json")), bus: new EventBus() });
    let stdout = "";
    const grant = `net.outbound:127.0.0.1:${web.port}`;
    const outcome = await gate.run(
      { actor, argv: ["sh", "-c", `wget -q -O- http://127.0.0.1:${web.port}/; wget -q -O- http://example.com/ 2>/dev/null; true`], grants: ["shell.exec", grant] },
      { stdout: (chunk) => void (stdout += new TextDecoder().decode(chunk)), stderr: () => undefined },
    );
    await audit.close();
    expect(stdout).toBe("through the gate\n");
    const entries = [...readEntries(auditDir)].filter((entry) => entry.runId === outcome.runId);
    expect(entries.map((entry) => `${entry.type}${entry.egress ? `:${entry.egress.outcome}` : ""}`)).toEqual(["decision", "egress:allowed", "egress:denied", "result"]);
    for (const entry of entries) expect(entry.requestHash).toBe(outcome.requestHash);
    expect(entries[0]?.request).toMatchObject({ egress: [grant], requested: expect.arrayContaining([grant]) });
    expect(entries[1]?.egress).toMatchObject({ rule: "egress.allowed", host: "127.0.0.1", port: web.port, grantedBy: grant });
    expect(entries[2]?.egress).toMatchObject({ rule: "egress.not-granted", host: "example.com", port: 80 });
    expect(entries[1]?.actor).toEqual(actor);
  });

  test("gate: simulate shows the egress network and allowlist, and runs nothing", async () => {
    const dir = tempDir();
    const audit = { append: () => Promise.reject(new Error("simulate must not write")) };
    const gate = new Gate({ config: config(), home: join(dir, "home"), audit, runtime: createDockerRuntime(), lockdown: new LockdownStore(join(dir, "lockdown.json")), bus: new EventBus() });
    const simulation = await gate.simulate({ actor, argv: ["true"], grants: ["net.outbound:example.com"] });
    expect(simulation.sandbox.network).toContain("aegisclaw-egress");
    expect(simulation.sandbox.egress?.allow).toEqual(["net.outbound:example.com"]);
  });
});
