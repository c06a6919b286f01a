import { expect, test } from "bun:test";
import type { AegisEventType, EventEnvelope } from "../../src/core/events.ts";
import { runStatusText } from "../../ui/tui/panes/runs.ts";
import { LineRing, RunOutput } from "../../ui/tui/ring.ts";
import { ConsoleState } from "../../ui/tui/state.ts";
import { T0, approvalFixture } from "./scripted-backend.ts";

let nextId = 1;
function event<T extends AegisEventType>(type: T, data: EventEnvelope<T>["data"]): EventEnvelope {
  return { id: nextId++, type, time: new Date(T0).toISOString(), data } as EventEnvelope;
}

function started(runId: string): EventEnvelope {
  return event("run.started", { runId, argv: ["echo", runId], image: "alpine", runtime: "gvisor" });
}

test("line ring: keeps the newest `capacity` lines and counts the dropped ones", () => {
  const ring = new LineRing(3);
  for (let i = 0; i < 5; i++) ring.push(`line ${i}`, i === 4);
  expect(ring.length).toBe(3);
  expect(ring.dropped).toBe(2);
  expect(ring.window(10)).toEqual([
    { text: "line 2", stderr: false },
    { text: "line 3", stderr: false },
    { text: "line 4", stderr: true },
  ]);
  expect(ring.window(1, 1)).toEqual([{ text: "line 3", stderr: false }]);
  expect(() => new LineRing(0)).toThrow("positive integer");
});

test("run output: chunks are joined into lines; the unfinished line stays pending", () => {
  const output = new RunOutput(10, 100);
  output.append("stdout", "hel");
  output.append("stdout", "lo\r\nwor");
  output.append("stderr", "oops\n");
  expect(output.lines.window(10).map((line) => line.text)).toEqual(["hello", "oops"]);
  expect(output.pending()).toEqual([{ text: "wor", stderr: false }]);
});

test("run output: lines and output without any newline are capped at maxLineChars", () => {
  const output = new RunOutput(50, 100);
  output.append("stdout", `${"x".repeat(250)}\n`);
  expect(output.lines.window(10).map((line) => line.text.length)).toEqual([100, 100, 50]);
  for (let i = 0; i < 1000; i++) output.append("stdout", "y".repeat(1000));
  expect(output.lines.length).toBeLessThanOrEqual(50);
  expect(output.pending()[0]?.text.length ?? 0).toBeLessThanOrEqual(100);
});

test("console state: 10,000 streamed lines keep a run's buffer at the limit", () => {
  const state = new ConsoleState({ maxLinesPerRun: 500 });
  state.apply(started("run-big"));
  for (let chunk = 0; chunk < 100; chunk++) {
    const text = Array.from({ length: 100 }, (_, i) => `line ${chunk * 100 + i}\n`).join("");
    state.apply(event("run.output", { runId: "run-big", stream: "stdout", text }));
  }
  const output = state.runs.get("run-big")?.output;
  expect(output?.lines.length).toBe(500);
  expect(output?.lines.dropped).toBe(9500);
  expect(output?.lines.window(1)[0]?.text).toBe("line 9999");
});

test("console state: past maxRuns the oldest finished run is dropped first, then the oldest", () => {
  const state = new ConsoleState({ maxRuns: 3 });
  for (const id of ["r1", "r2", "r3"]) state.apply(started(id));
  state.apply(event("run.finished", { runId: "r2", exitCode: 0, durationMs: 5, timedOut: false }));
  state.apply(started("r4"));
  expect([...state.runs.keys()]).toEqual(["r1", "r3", "r4"]);
  state.apply(started("r5"));
  expect([...state.runs.keys()]).toEqual(["r3", "r4", "r5"]);
  expect(state.runList().map((run) => run.runId)).toEqual(["r5", "r4", "r3"]);
});

test("console state: output of a run started before the console still shows", () => {
  const state = new ConsoleState();
  state.apply(event("run.output", { runId: "old", stream: "stdout", text: "late\n" }));
  expect(state.runs.get("old")?.output.lines.window(1)[0]?.text).toBe("late");
  expect(state.activeRuns()).toBe(1);
});

test("console state: run.finished records exit, timeout and killed-by status", () => {
  const state = new ConsoleState();
  for (const id of ["ok", "bad", "slow", "killed"]) state.apply(started(id));
  state.apply(event("run.finished", { runId: "ok", exitCode: 0, durationMs: 10, timedOut: false }));
  state.apply(event("run.finished", { runId: "bad", exitCode: 3, durationMs: 10, timedOut: false }));
  state.apply(event("run.finished", { runId: "slow", exitCode: 137, durationMs: 10, timedOut: true }));
  state.apply(event("run.finished", { runId: "killed", exitCode: 137, durationMs: 10, timedOut: false, killedBy: "lockdown" }));
  const text = (id: string) => {
    const run = state.runs.get(id);
    return run ? runStatusText(run).text : "";
  };
  expect([text("ok"), text("bad"), text("slow"), text("killed")]).toEqual(["exit 0", "exit 3", "exit 137 (timeout)", "killed by lockdown"]);
  expect(state.activeRuns()).toBe(0);
});

test("console state: approval.resolved removes only the request with the same hash", () => {
  const state = new ConsoleState();
  state.setApprovals([approvalFixture()]);
  const resolved = { id: "run-approve-1", outcome: "approved", by: "bob", via: "cli", scope: "once", at: new Date(T0).toISOString() } as const;
  expect(state.apply(event("approval.resolved", { ...resolved, requestHash: "b".repeat(64) }))).toBe("approvals");
  expect(state.approvals.size).toBe(1);
  state.apply(event("approval.resolved", { ...resolved, requestHash: "a".repeat(64) }));
  expect(state.approvals.size).toBe(0);
});

test("console state: pending approvals are ordered by expiry, soonest first", () => {
  const state = new ConsoleState();
  state.apply(event("approval.requested", approvalFixture({ id: "late", expiresAt: new Date(T0 + 600_000).toISOString() })));
  state.apply(event("approval.requested", approvalFixture({ id: "soon", expiresAt: new Date(T0 + 60_000).toISOString() })));
  expect(state.approvalList().map((request) => request.id)).toEqual(["soon", "late"]);
});

test("console state: lockdown.changed sets and clears lockdown, and the envelope follows", () => {
  const state = new ConsoleState();
  state.setEnvelope({ runtime: "docker", seccomp: "default", network: "none", lockdown: { active: false }, policyTemplate: "standard", adapter: "not configured" });
  expect(state.apply(event("lockdown.changed", { active: true, reason: "cli", killed: 1 }))).toBe("lockdown");
  expect(state.lockdown).toEqual({ active: true, reason: "cli" });
  expect(state.envelope?.lockdown.active).toBe(true);
  state.apply(event("lockdown.changed", { active: false }));
  expect(state.lockdown).toEqual({ active: false });
  expect(state.apply(event("audit.appended", { seq: 4, type: "decision" }))).toBe("audit");
});
