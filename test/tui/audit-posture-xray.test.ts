import { afterEach, expect, test } from "bun:test";
import { type TestConsole, startTestConsole } from "./harness.ts";
import { ScriptedBackend, auditFixture, xrayFixture } from "./scripted-backend.ts";

let console_: TestConsole | undefined;
afterEach(() => {
  console_?.stop();
  console_ = undefined;
});

function timeline(): ScriptedBackend {
  const backend = new ScriptedBackend();
  backend.audit = [
    auditFixture(1, { decision: { kind: "allow", reasons: [{ rule: "builtin-scope", message: "all scopes granted" }] } }),
    auditFixture(2, { actor: { name: "agent-7", source: "api" }, decision: { kind: "deny", reasons: [{ rule: "deny-host", message: "evil.example is blocked" }] } }),
    auditFixture(3, { decision: { kind: "ask", reasons: [{ rule: "ask-network", message: "needs a human" }] }, request: { skill: { name: "fetch-data" } } }),
    auditFixture(4, { type: "result", decision: undefined, result: { exitCode: 0, durationMs: 5, timedOut: false, stdoutBytes: 1, stderrBytes: 0 } }),
  ];
  return backend;
}

function rowsOf(frame: string): string[] {
  return frame.split("\n").filter((line) => /│(▶ | {2})#\d+ /.test(line));
}

test("console audit: newest entries first, decision and actor filters cycle with f and w", async () => {
  console_ = await startTestConsole({ backend: timeline() });
  const c = console_;
  let frame = await c.press("3");
  expect(frame).toContain("Audit (4 of 4 newest)");
  expect(rowsOf(frame).map((row) => row.match(/#(\d+)/)?.[1])).toEqual(["4", "3", "2", "1"]);
  // Rows are cut at 80 columns; the selected entry's reasons are shown whole below the list.
  frame = await c.press("j", "j");
  expect(frame).toContain("#2 · run-2");
  expect(frame).toContain("deny-host: evil.example is blocked");
  frame = await c.press("f");
  expect(frame).toContain("decision=allow");
  expect(rowsOf(frame)).toHaveLength(1);
  expect(frame).toContain("#1 ");
  frame = await c.press("f");
  expect(frame).toContain("decision=deny");
  expect(rowsOf(frame).join()).toContain("#2 ");
  frame = await c.press("f");
  expect(frame).toContain("decision=ask");
  expect(rowsOf(frame).join()).toContain("#3 ");
  frame = await c.press("f", "w");
  expect(frame).toContain("decision=all actor=agent-7 (api)");
  expect(rowsOf(frame)).toHaveLength(1);
  frame = await c.press("w");
  expect(frame).toContain("actor=alice (cli)");
  expect(rowsOf(frame)).toHaveLength(3);
  frame = await c.press("w", "s");
  expect(frame).toContain("skill=fetch-data");
  expect(rowsOf(frame).join()).toContain("#3 ");
  expect(rowsOf(frame)).toHaveLength(1);
});

test("console audit: audit.appended refetches the newest entries, once per burst", async () => {
  console_ = await startTestConsole({ backend: timeline() });
  const c = console_;
  await c.press("3");
  const before = c.backend.calls.recentAudit;
  c.backend.audit.push(auditFixture(5, { decision: { kind: "deny", reasons: [{ rule: "lockdown", message: "lockdown active" }] } }));
  for (let i = 0; i < 5; i++) c.backend.emit("audit.appended", { seq: 5, type: "decision" });
  const frame = await c.frame();
  expect(frame).toContain("lockdown: lockdown active");
  expect(c.backend.calls.recentAudit).toBe(before + 1);
});

test("console audit: Enter explains the selected entry in an overlay; Esc closes it", async () => {
  const backend = timeline();
  backend.explanations.set("3", ["Entry #3: decision ask", "rule ask-network: needs a human", "approved by bob via console"]);
  console_ = await startTestConsole({ backend });
  const c = console_;
  let frame = await c.press("3", "j", "RETURN");
  expect(backend.calls.explain).toEqual(["3"]);
  expect(frame).toContain("Explain #3");
  expect(frame).toContain("approved by bob via console");
  frame = await c.press("ESCAPE");
  expect(frame).not.toContain("approved by bob via console");
  expect(frame).toContain("Audit (4 of 4 newest)");
});

test("console audit: v verifies the log and shows intact or broken", async () => {
  const backend = timeline();
  console_ = await startTestConsole({ backend });
  const c = console_;
  let frame = await c.press("3", "v");
  expect(frame).toContain("Audit verify");
  expect(frame).toContain("✔ INTACT");
  expect(frame).toContain("intact: 3 entries, root ab12cd34…");
  backend.verifyResult = { ok: false, entries: 4, summary: "entry #2: hash chain broken (prev does not match)" };
  frame = await c.press("ESCAPE", "v");
  expect(frame).toContain("✘ BROKEN");
  expect(frame).toContain("entry #2: hash chain broken");
});

test("console posture: the grade with each check's points, weight and fix; r recomputes", async () => {
  console_ = await startTestConsole();
  const c = console_;
  let frame = await c.press("4");
  expect(frame).toContain("Grade B  78/100");
  expect(frame).toMatch(/pass\s+Sandbox runtime\s+20\/20/);
  expect(frame).toMatch(/fail\s+Server authentication\s+0\/10/);
  expect(frame).toContain("server listens without tokens");
  expect(frame).toContain("fix: aegisclaw token create --role admin");
  expect(frame).toMatch(/partial\s+Skill signatures\s+5\/10/);
  expect(c.backend.calls.posture).toBe(1);
  const longFix = "set `sandbox.runtime: gvisor` in config.yaml (runsc is registered with the engine) and restart the server";
  const checks = c.backend.postureReport.checks.map((check) => (check.id === "server-auth" ? { ...check, fix: longFix } : check));
  c.backend.postureReport = { ...c.backend.postureReport, grade: "A", score: 95, checks };
  frame = await c.press("r");
  expect(c.backend.calls.posture).toBe(2);
  expect(frame).toContain("Grade A  95/100");
  // Long fixes wrap with a hanging indent instead of being cut.
  expect(frame).toContain("fix: set `sandbox.runtime: gvisor` in config.yaml");
  expect(frame).toMatch(/│ {11}\S.*restart the server/);
});

test("console x-ray: the selected run's processes, usage, mounts and security settings", async () => {
  console_ = await startTestConsole({ height: 40 });
  const c = console_;
  c.backend.xrayReports.set("run-x", xrayFixture("run-x"));
  c.backend.emit("run.started", { runId: "run-x", argv: ["sleep", "60"], image: "alpine:3.20", runtime: "gvisor" });
  const frame = await c.press("x");
  expect(c.backend.calls.xray).toEqual(["run-x"]);
  expect(frame).toContain("X-ray: run-x");
  expect(frame).toContain("CPU 1.5%  memory 12.0 MiB / 256.0 MiB  pids 2 / 64");
  expect(frame).toContain("network I/O no interface  mode none");
  expect(frame).toContain("read-only rootfs yes  no-new-privileges yes");
  expect(frame).toContain("caps dropped ALL  added none");
  expect(frame).toContain("ro /home/me/project -> /workspace");
  expect(frame).toMatch(/7\s+65534\s+sh -c worker/);
});

test("console x-ray: samples periodically only while the view is shown; a finished run says so", async () => {
  console_ = await startTestConsole({ timing: { xrayIntervalMs: 15 } });
  const c = console_;
  c.backend.emit("run.started", { runId: "run-y", argv: ["true"], image: "alpine", runtime: "gvisor" });
  await c.frame();
  await Bun.sleep(50);
  expect(c.backend.calls.xray).toEqual([]);
  const frame = await c.press("5");
  expect(frame).toContain("run-y is not running");
  await Bun.sleep(80);
  const sampled = c.backend.calls.xray.length;
  expect(sampled).toBeGreaterThanOrEqual(3);
  await c.press("1");
  await Bun.sleep(60);
  expect(c.backend.calls.xray.length).toBe(sampled);
});
