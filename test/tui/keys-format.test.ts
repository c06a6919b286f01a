import { expect, test } from "bun:test";
import { clean, formatBytes, formatDuration, formatTimeLeft, truncate } from "../../ui/tui/format.ts";
import { KEY_BINDINGS, keyId, resolveKey } from "../../ui/tui/keys.ts";
import { computeLayout } from "../../ui/tui/layout.ts";
import { helpLines } from "../../ui/tui/panes/overlay.ts";
import { FrameScheduler } from "../../ui/tui/scheduler.ts";
import { VIEWS } from "../../ui/tui/view-state.ts";
import { T0 } from "./scripted-backend.ts";

const key = (name: string, sequence: string, mods: { ctrl?: boolean; meta?: boolean; shift?: boolean } = {}) => ({
  name,
  sequence,
  ctrl: mods.ctrl ?? false,
  meta: mods.meta ?? false,
  shift: mods.shift ?? false,
});

test("keys: key ids are the printed character, C- for control, S- for shifted named keys", () => {
  expect(keyId(key("a", "A", { shift: true }))).toBe("A");
  expect(keyId(key("a", "", { shift: true }))).toBe("A"); // kitty protocol: no text sequence
  expect(keyId(key("!", "!"))).toBe("!");
  expect(keyId(key("c", "\x03", { ctrl: true }))).toBe("C-c");
  expect(keyId(key("tab", "\x1b[Z", { shift: true }))).toBe("S-tab");
  expect(keyId(key("return", "\r"))).toBe("return");
  expect(keyId(key("x", "\x1bx", { meta: true }))).toBeUndefined();
});

test("keys: the panic key acts everywhere, even over a y/n question", () => {
  for (const overlay of [undefined, "help", "text", "approval", "confirm"] as const) {
    for (const view of VIEWS) expect(resolveKey("!", { view, overlay })).toEqual({ type: "panic" });
  }
});

test("keys: a confirmation takes only y, n and Esc; approval keys act only where a request is shown", () => {
  expect(resolveKey("y", { view: "runs", overlay: "confirm" })).toEqual({ type: "confirm", yes: true });
  expect(resolveKey("escape", { view: "runs", overlay: "confirm" })).toEqual({ type: "confirm", yes: false });
  expect(resolveKey("q", { view: "runs", overlay: "confirm" })).toBeUndefined();
  expect(resolveKey("a", { view: "runs", overlay: undefined })).toBeUndefined();
  expect(resolveKey("a", { view: "approvals", overlay: undefined })).toEqual({ type: "resolve", choice: "approve" });
  expect(resolveKey("A", { view: "approvals", overlay: undefined })).toEqual({ type: "resolve", choice: "approve-session" });
  expect(resolveKey("d", { view: "approvals", overlay: "approval" })).toEqual({ type: "resolve", choice: "deny" });
  expect(resolveKey("a", { view: "approvals", overlay: "text" })).toBeUndefined();
  expect(resolveKey("?", { view: "audit", overlay: "help" })).toEqual({ type: "close" });
  expect(resolveKey("C-c", { view: "audit", overlay: "text" })).toEqual({ type: "quit" });
});

test("keys: every binding resolves in its scope, and the help lists every visible one", () => {
  const help = helpLines()
    .map((line) => line.map((segment) => segment.text).join(""))
    .join("\n");
  for (const binding of KEY_BINDINGS) {
    if (!binding.hidden) {
      expect(help).toContain(binding.label);
      expect(help).toContain(binding.help);
    }
    if (binding.scope === "global" || (VIEWS as readonly string[]).includes(binding.scope)) {
      const view = binding.scope === "global" ? "runs" : (binding.scope as (typeof VIEWS)[number]);
      for (const id of binding.keys) expect(resolveKey(id, { view, overlay: undefined })).toEqual(binding.action);
    }
  }
});

test("format: control and bidi characters become visible; redaction markers stay as given", () => {
  expect(clean("\x1b]52;c;ZXZpbA==\x07 ok")).toBe("␛]52;c;ZXZpbA==␇ ok");
  expect(clean("a\rb\u202ec\x9bd\x7f")).toBe("a␍b\ufffdc\ufffdd\u2421");
  expect(clean("key=[REDACTED:aws-key]\tx")).toBe("key=[REDACTED:aws-key]    x");
});

test("format: truncation by cell width, durations, bytes and time left", () => {
  expect(truncate("abcdef", 4)).toBe("abc…");
  expect(truncate("日本語", 4)).toBe("日…");
  expect(truncate("abc", 3)).toBe("abc");
  expect(formatDuration(850)).toBe("850ms");
  expect(formatDuration(184_000)).toBe("3m 04s");
  expect(formatDuration(7_500_000)).toBe("2h 05m");
  expect(formatBytes(1536)).toBe("1.5 KiB");
  expect(formatBytes(null)).toBe("n/a");
  const expires = new Date(T0 + 90_500).toISOString();
  expect(formatTimeLeft(expires, T0)).toBe("1m 31s left");
  expect(formatTimeLeft(expires, T0 + 90_500)).toBe("expired");
});

test("layout: 80 columns get one pane; 140 and more get approvals beside the focused view", () => {
  const small = computeLayout(80, 24, 2, "runs");
  expect(small.side).toBeUndefined();
  expect(small.main).toEqual({ outerWidth: 78, width: 76, height: 17 });
  expect(computeLayout(80, 24, 3, "runs").main.height).toBe(16);
  const wide = computeLayout(160, 40, 2, "audit");
  expect(wide.side?.view).toBe("approvals");
  expect(computeLayout(160, 40, 2, "approvals").side?.view).toBe("runs");
  expect(computeLayout(3, 2, 4, "runs").main.height).toBe(0);
});

test("frame scheduler: a burst of requests costs one draw; flush draws at once", async () => {
  let draws = 0;
  const scheduler = new FrameScheduler(() => draws++, 10);
  for (let i = 0; i < 2000; i++) scheduler.request();
  expect(draws).toBe(0);
  await Bun.sleep(30);
  expect(draws).toBe(1);
  scheduler.request();
  scheduler.flush();
  expect(draws).toBe(2);
  await Bun.sleep(30);
  expect(draws).toBe(2);
  scheduler.close();
  scheduler.request();
  scheduler.flush();
  expect(draws).toBe(2);
});
