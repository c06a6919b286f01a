import { afterEach, expect, test } from "bun:test";
import type { CapturedFrame } from "@opentui/core";
import { KEY_BINDINGS } from "../../ui/tui/keys.ts";
import { type TestConsole, startTestConsole } from "./harness.ts";
import { ScriptedBackend, approvalFixture } from "./scripted-backend.ts";

let console_: TestConsole | undefined;
afterEach(() => {
  console_?.stop();
  console_ = undefined;
});

async function start(options: Parameters<typeof startTestConsole>[0] = {}): Promise<TestConsole> {
  console_ = await startTestConsole(options);
  return console_;
}

/** The colour of the frame's top-left corner cell. */
function cornerColour(spans: CapturedFrame): number[] {
  return spans.lines[0]?.spans[0]?.fg.toInts() ?? [];
}

test("console lockdown: ! locks down at once, with no question; the frame turns red and the banner shows", async () => {
  const c = await start();
  let frame = await c.frame();
  expect(frame).not.toContain("LOCKDOWN");
  expect(cornerColour(c.setup.captureSpans())).not.toEqual([255, 0, 0, 255]);
  frame = await c.press("!");
  expect(c.backend.calls.lockdown).toEqual(["panic key in console"]);
  expect(frame).toContain("LOCKDOWN ACTIVE: panic key in console");
  expect(frame).toContain("AegisClaw · LOCKDOWN");
  expect(frame).toContain("2 sandbox(es) killed");
  expect(frame.split("\n")[0]?.startsWith("╔")).toBe(true);
  expect(cornerColour(c.setup.captureSpans())).toEqual([255, 0, 0, 255]);
});

test("console lockdown: ! works over a y/n question and over the help", async () => {
  const c = await start();
  c.backend.emit("run.started", { runId: "run-1", argv: ["sleep", "9"], image: "alpine", runtime: "gvisor" });
  let frame = await c.press("q");
  expect(frame).toContain("1 run(s) still active. Quit the console?");
  frame = await c.press("!");
  expect(c.backend.calls.lockdown).toHaveLength(1);
  expect(frame).toContain("LOCKDOWN ACTIVE");
  expect(frame).not.toContain("Quit the console?");
  await c.press("?", "!");
  expect(c.backend.calls.lockdown).toHaveLength(2);
});

test("console lockdown: a lockdown.changed event from another process shows and clears the banner", async () => {
  const c = await start();
  c.backend.envelopeValue.lockdown = { active: true, reason: "aegisclaw lockdown --reason breach" };
  c.backend.emit("lockdown.changed", { active: true, reason: "aegisclaw lockdown --reason breach", killed: 3 });
  let frame = await c.frame();
  expect(frame).toContain("LOCKDOWN ACTIVE: aegisclaw lockdown --reason breach");
  expect(frame).toContain("lock LOCKDOWN");
  expect(c.backend.calls.lockdown).toEqual([]);
  c.backend.envelopeValue.lockdown = { active: false };
  c.backend.emit("lockdown.changed", { active: false });
  frame = await c.frame();
  expect(frame).not.toContain("LOCKDOWN");
  expect(frame).toContain("lockdown off");
});

test("console lockdown: U asks y/n; n keeps the lockdown, y unlocks", async () => {
  const c = await start();
  await c.press("!");
  let frame = await c.press("U");
  expect(frame).toContain("Unlock? New actions will be allowed again.");
  frame = await c.press("n");
  expect(c.backend.calls.unlock).toBe(0);
  expect(frame).toContain("LOCKDOWN ACTIVE");
  frame = await c.press("U", "y");
  expect(c.backend.calls.unlock).toBe(1);
  expect(frame).not.toContain("LOCKDOWN ACTIVE");
  expect(frame).toContain("Unlocked");
});

test("console lockdown: a failed lockdown is reported loudly and not shown as active", async () => {
  const backend = new ScriptedBackend();
  backend.failLockdown = new Error("control socket not reachable");
  const c = await start({ backend });
  const frame = await c.press("!");
  expect(frame).toContain("LOCKDOWN FAILED: control socket not reachable");
  expect(frame).not.toContain("LOCKDOWN ACTIVE");
});

test("console help: ? lists every key; Esc closes it", async () => {
  const c = await start({ height: 80 });
  const frame = await c.press("?");
  for (const binding of KEY_BINDINGS.filter((entry) => !entry.hidden)) expect(frame).toContain(binding.label);
  expect(frame).toContain("PANIC: lockdown now");
  expect(await c.press("ESCAPE")).not.toContain("PANIC: lockdown now");
});

test("console quit: q quits at once without active runs; with runs it asks and n stays", async () => {
  let c = await start();
  let quit = false;
  void c.handle.closed.then(() => {
    quit = true;
  });
  await c.press("q");
  expect(quit).toBe(true);
  c.stop();
  c = await start();
  c.backend.emit("run.started", { runId: "run-1", argv: ["sleep", "9"], image: "alpine", runtime: "gvisor" });
  quit = false;
  void c.handle.closed.then(() => {
    quit = true;
  });
  await c.press("\x03"); // Ctrl-C behaves like q
  expect(quit).toBe(false);
  await c.press("n");
  expect(quit).toBe(false);
  await c.press("q", "y");
  expect(quit).toBe(true);
  expect(c.backend.subscribers).toBe(0);
});

test("console layout: 80×24, a resize to 60×20 and a tiny terminal keep the envelope line", async () => {
  const backend = new ScriptedBackend();
  backend.approvals = [approvalFixture()];
  const c = await start({ backend });
  let frame = await c.frame();
  expect(frame.split("\n")[1]).toContain("runtime gvisor │ seccomp default │ network none │ lockdown off │ policy strict");
  c.setup.resize(60, 20);
  frame = await c.frame();
  expect(frame.split("\n")[0]).toHaveLength(60);
  expect(frame.split("\n")[1]).toContain("rt gvisor sc default net none lock off pol strict");
  await c.press("!");
  frame = await c.press("2");
  expect(frame).toContain("lock LOCKDOWN");
  expect(frame).toContain("LOCKDOWN ACTIVE");
  c.setup.resize(20, 5);
  frame = await c.press("RETURN");
  expect(frame.split("\n")[1]).toContain("rt gvisor");
});

test("console layout: at 160 columns pending approvals stay beside the focused view", async () => {
  const backend = new ScriptedBackend();
  backend.approvals = [approvalFixture()];
  const c = await start({ backend, width: 160, height: 30 });
  const frame = await c.press("3");
  expect(frame).toContain("Audit (0 of 0 newest)");
  expect(frame).toContain("Approvals (1 pending)");
  expect(frame).toContain("fs:rw:/workspace");
});

test("console NO_COLOR: no cell carries a colour, in lockdown and with an overlay too", async () => {
  const backend = new ScriptedBackend();
  backend.approvals = [approvalFixture()];
  const c = await start({ backend, noColor: true });
  c.backend.emit("run.started", { runId: "run-1", argv: ["ls"], image: "alpine", runtime: "gvisor" });
  c.backend.emit("run.output", { runId: "run-1", stream: "stderr", text: "warning\n" });
  const coloured = (spans: CapturedFrame) =>
    spans.lines.flatMap((line) => line.spans).filter((span) => span.fg.intent !== "default" || span.bg.intent !== "default");
  await c.frame();
  expect(coloured(c.setup.captureSpans())).toEqual([]);
  const frame = await c.press("!", "2", "RETURN");
  expect(frame).toContain("LOCKDOWN ACTIVE");
  expect(frame.split("\n")[0]?.startsWith("╔")).toBe(true);
  expect(coloured(c.setup.captureSpans())).toEqual([]);
  // The banner still stands out: reverse video instead of red.
  const banner = c.setup.captureSpans().lines.find((line) => line.spans.some((span) => span.text.includes("LOCKDOWN ACTIVE")));
  expect(banner?.spans.some((span) => span.text.includes("LOCKDOWN ACTIVE") && span.attributes !== 0)).toBe(true);
});

test("console: with colour on, cells do carry colours (the NO_COLOR test is not vacuous)", async () => {
  const c = await start();
  await c.frame();
  const spans = c.setup.captureSpans().lines.flatMap((line) => line.spans);
  expect(spans.some((span) => span.fg.intent === "rgb")).toBe(true);
});

test("console layout: long envelope values flow onto a second line instead of being cut", async () => {
  const backend = new ScriptedBackend();
  backend.envelopeValue = {
    runtime: "gvisor (runsc)",
    seccomp: "on (AegisClaw profile)",
    network: "none unless granted",
    lockdown: { active: false },
    policyTemplate: "standard",
    adapter: "OpenClaw: not configured",
  };
  const c = await start({ backend, width: 60, height: 20 });
  const header = (await c.frame()).split("\n").slice(1, 3).join("\n");
  for (const fact of ["rt gvisor (runsc)", "sc on (AegisClaw profile)", "net none unless granted", "lock off", "pol standard"]) {
    expect(header).toContain(fact);
  }
  expect(await c.press("4")).toContain("Grade B");
});

test("console envelope: a console started during a lockdown shows it; an unreadable envelope says unknown", async () => {
  const backend = new ScriptedBackend();
  backend.envelopeValue.lockdown = { active: true, reason: "breach drill" };
  let c = await start({ backend });
  expect(await c.frame()).toContain("LOCKDOWN ACTIVE: breach drill");
  c.stop();
  const broken = new ScriptedBackend();
  broken.envelope = async () => {
    throw new Error("config.yaml: sandbox.runtime is invalid");
  };
  c = await start({ backend: broken });
  const frame = await c.frame();
  expect(frame).toContain("envelope unknown: config.yaml: sandbox.runtime is invalid");
  expect(frame).not.toContain("runtime gvisor");
});

test("console: when OpenTUI destroys the renderer (SIGTERM, SIGHUP) the console closes too", async () => {
  const c = await start();
  c.setup.renderer.destroy();
  await c.handle.closed;
  expect(c.backend.subscribers).toBe(0);
  c.handle.flush(); // no draw into the destroyed renderer
});

test("console views: Tab and Shift-Tab cycle the views, number keys pick one", async () => {
  const c = await start();
  expect(await c.press("\t")).toContain("Approvals (0 pending)");
  expect(await c.press("\t")).toContain("Audit (0 of 0 newest)");
  expect(await c.press("\x1b[Z", "\x1b[Z")).toContain("Runs (0 running, 0 kept)");
  expect(await c.press("\x1b[Z")).toContain("X-ray");
  expect(await c.press("4")).toContain("Grade B");
});
