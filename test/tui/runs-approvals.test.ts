import { afterEach, expect, test } from "bun:test";
import { type TestConsole, startTestConsole } from "./harness.ts";
import { ScriptedBackend, T0, approvalFixture } from "./scripted-backend.ts";

let console_: TestConsole | undefined;
afterEach(() => {
  console_?.stop();
  console_ = undefined;
});

async function start(backend = new ScriptedBackend(), size: { width?: number; height?: number } = {}): Promise<TestConsole> {
  console_ = await startTestConsole({ backend, ...size });
  return console_;
}

test("console runs: status, runtime, duration and the streamed output of the followed run", async () => {
  const c = await start();
  c.backend.emit("run.started", { runId: "run-a", argv: ["make", "test"], image: "node:22", runtime: "docker" });
  c.backend.emit("run.output", { runId: "run-a", stream: "stdout", text: "compiling\nok 1 - a\n" });
  c.backend.emit("run.started", { runId: "run-b", argv: ["sleep", "60"], image: "alpine", runtime: "gvisor" });
  c.backend.emit("run.output", { runId: "run-b", stream: "stderr", text: "waiting for lock\n" });
  c.backend.emit("run.finished", { runId: "run-a", exitCode: 3, durationMs: 4200, timedOut: false });
  c.clock.now = T0 + 12_000;
  let frame = await c.frame();
  expect(frame).toContain("Runs (1 running, 2 kept)");
  expect(frame).toMatch(/running\s+gvisor\s+12s\s+run-b\s+sleep 60/);
  expect(frame).toMatch(/exit 3\s+docker\s+4s\s+run-a\s+make test/);
  // The newest run is followed until another one is picked.
  expect(frame).toContain("output of run-b · following");
  expect(frame).toContain("waiting for lock");
  frame = await c.press("j");
  expect(frame).toContain("output of run-a");
  expect(frame).toContain("compiling");
  expect(frame).toContain("ok 1 - a");
  c.backend.emit("run.finished", { runId: "run-b", exitCode: 137, durationMs: 9000, timedOut: false, killedBy: "lockdown" });
  expect(await c.frame()).toContain("killed by lockdown");
  c.backend.explanations.set("run-a", ["run-a: allowed by builtin-scope", "exit 3 after 4.2 s"]);
  frame = await c.press("RETURN");
  expect(c.backend.calls.explain).toEqual(["run-a"]);
  expect(frame).toContain("exit 3 after 4.2 s");
  // Picking the top row again means "follow the newest run": a later run is followed.
  await c.press("ESCAPE", "k");
  c.backend.emit("run.started", { runId: "run-c", argv: ["date"], image: "alpine", runtime: "gvisor" });
  expect(await c.frame()).toContain("output of run-c · following");
});

test("console runs: redacted text is shown as given and terminal escapes cannot reach the terminal", async () => {
  const c = await start();
  c.backend.emit("run.started", { runId: "run-s", argv: ["env"], image: "alpine", runtime: "gvisor" });
  c.backend.emit("run.output", { runId: "run-s", stream: "stdout", text: "AWS_KEY=[REDACTED:aws-key]\n\x1b]0;owned\x07\x1b[2J\n" });
  const frame = await c.frame();
  expect(frame).toContain("AWS_KEY=[REDACTED:aws-key]");
  expect(frame).toContain("␛]0;owned␇␛[2J");
  expect(frame).not.toContain("\x1b");
});

test("console runs: 10,000 streamed lines keep the buffer bounded, the newest line shown, PgUp scrolls back", async () => {
  const backend = new ScriptedBackend();
  console_ = await startTestConsole({ backend, limits: { maxLinesPerRun: 1000 } });
  const c = console_;
  c.backend.emit("run.started", { runId: "run-flood", argv: ["yes"], image: "alpine", runtime: "gvisor" });
  for (let i = 0; i < 10_000; i++) c.backend.emit("run.output", { runId: "run-flood", stream: "stdout", text: `line ${i}\n` });
  const output = c.handle.state.runs.get("run-flood")?.output;
  expect(output?.lines.length).toBe(1000);
  let frame = await c.frame();
  expect(frame).toContain("line 9999");
  frame = await c.press("\x1b[5~"); // PgUp
  expect(frame).toContain("lines back, End to follow");
  expect(frame).not.toContain("line 9999");
  frame = await c.press("G");
  expect(frame).toContain("following");
  expect(frame).toContain("line 9999");
});

test("console approvals: argv, image, runtime, every scope with its risk, reasons, actor, skill and time left", async () => {
  const backend = new ScriptedBackend();
  backend.approvals = [approvalFixture()];
  const c = await start(backend);
  let frame = await c.frame();
  expect(frame).toContain("2 Approvals(1)");
  frame = await c.press("2");
  expect(frame).toContain("Approvals (1 pending)");
  expect(frame).toContain("curl -s https://api.example.com/data");
  expect(frame).toContain("alpine:3.20  runtime gvisor");
  expect(frame).toMatch(/medium\s+net:api\.example\.com:443/);
  expect(frame).toMatch(/high\s+fs:rw:\/workspace/);
  expect(frame).toContain("ask-network: network access needs a human");
  expect(frame).toContain("agent-7 (api)");
  expect(frame).toContain("fetch-data signature unsigned");
  expect(frame).toContain("5m 00s left");
  expect(frame).toContain("hash aaaaaaaaaaaa…");
});

test("console approvals: a, A and d resolve the shown request with its id, hash and choice", async () => {
  const backend = new ScriptedBackend();
  const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
  backend.approvals = [
    approvalFixture({ id: "first", requestHash: "1".repeat(64), expiresAt: at(1) }),
    approvalFixture({ id: "second", requestHash: "2".repeat(64), expiresAt: at(2) }),
    approvalFixture({ id: "third", requestHash: "3".repeat(64), expiresAt: at(3) }),
  ];
  const c = await start(backend);
  await c.press("2", "a");
  await c.press("j", "A");
  await c.press("j", "d");
  expect(backend.calls.resolve).toEqual([
    { id: "first", requestHash: "1".repeat(64), choice: "approve" },
    { id: "second", requestHash: "2".repeat(64), choice: "approve-session" },
    { id: "third", requestHash: "3".repeat(64), choice: "deny" },
  ]);
  expect(await c.frame()).toContain("Request third denied.");
  // approval.resolved is what removes a request from the pane.
  c.backend.emit("approval.resolved", { id: "first", requestHash: "1".repeat(64), outcome: "approved", by: "me", via: "console", scope: "once", at: at(0) });
  const frame = await c.frame();
  expect(frame).toContain("Approvals (2 pending)");
  expect(frame).toContain("Request first approved by me via console");
});

test("console approvals: a request replaced under the same id is never approved with what was not shown", async () => {
  const backend = new ScriptedBackend();
  backend.approvals = [approvalFixture()];
  const c = await start(backend);
  await c.press("2");
  // Replaced after the last frame: the key must not land on the new request unseen.
  c.backend.emit("approval.requested", approvalFixture({ requestHash: "b".repeat(64), argv: ["rm", "-rf", "/"] }));
  c.setup.mockInput.pressKey("a");
  await c.handle.idle();
  expect(backend.calls.resolve).toEqual([]);
  let frame = await c.frame();
  expect(frame).toContain("changed or is no longer pending");
  expect(frame).toContain("rm -rf /");
  await c.press("a");
  expect(backend.calls.resolve).toEqual([{ id: "run-approve-1", requestHash: "b".repeat(64), choice: "approve" }]);
});

test("console approvals: the countdown follows the clock and an expired request is not sent", async () => {
  const backend = new ScriptedBackend();
  backend.approvals = [approvalFixture()];
  const c = await start(backend);
  expect(await c.press("2")).toContain("5m 00s left");
  c.clock.now = T0 + 4 * 60_000 + 30_000;
  expect(await c.frame()).toContain("30s left");
  c.clock.now = T0 + 5 * 60_000;
  const frame = await c.press("a");
  expect(frame).toContain("expired");
  expect(backend.calls.resolve).toEqual([]);
});

test("console approvals: Enter shows every field with the whole hash; keys in the overlay act on it", async () => {
  const backend = new ScriptedBackend();
  backend.approvals = [approvalFixture({ requestHash: "c".repeat(64) })];
  const c = await start(backend);
  let frame = await c.press("2", "RETURN");
  expect(frame).toContain("Request run-approve-1");
  expect(frame).toContain("c".repeat(64));
  expect(frame).toContain("pid     4242");
  frame = await c.press("d");
  expect(backend.calls.resolve).toEqual([{ id: "run-approve-1", requestHash: "c".repeat(64), choice: "deny" }]);
  expect(frame).not.toContain("c".repeat(64));
});
