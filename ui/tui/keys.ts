import type { ApprovalChoice } from "../../src/approvals/types.ts";
import type { Overlay, ViewId } from "./view-state.ts";

/** Everything a key can ask the console to do. */
export type Action =
  | { type: "panic" }
  | { type: "unlock" }
  | { type: "help" }
  | { type: "quit" }
  | { type: "view"; view: ViewId }
  | { type: "cycle-view"; delta: 1 | -1 }
  | { type: "close" }
  | { type: "confirm"; yes: boolean }
  | { type: "move"; delta: number }
  | { type: "page"; delta: 1 | -1 }
  | { type: "follow" }
  | { type: "resolve"; choice: ApprovalChoice }
  | { type: "details" }
  | { type: "filter"; which: "decision" | "actor" | "skill" }
  | { type: "verify" }
  | { type: "refresh" }
  | { type: "xray" };

/** Where a binding applies: everywhere, in one view, or in an overlay. */
export type KeyScope = "global" | ViewId | "overlay" | "approval-overlay" | "confirm";

/** One key binding; the help overlay is generated from this table, so it cannot drift. */
export interface KeyBinding {
  keys: readonly string[];
  label: string;
  help: string;
  scope: KeyScope;
  action: Action;
  /** Covered by another binding's help line (e.g. 2–5 under "1–5"). */
  hidden?: boolean;
}

const UP = ["up", "k"];
const ENTER = ["return", "enter"];
const DOWN = ["down", "j"];
const RESOLVE: KeyBinding[] = [
  { keys: ["a"], label: "a", help: "Approve this request once", scope: "approvals", action: { type: "resolve", choice: "approve" } },
  { keys: ["A"], label: "A", help: "Approve identical requests (same hash) for this session", scope: "approvals", action: { type: "resolve", choice: "approve-session" } },
  { keys: ["d"], label: "d", help: "Deny the request", scope: "approvals", action: { type: "resolve", choice: "deny" } },
];

/** Every key the console understands. */
export const KEY_BINDINGS: readonly KeyBinding[] = [
  { keys: ["!"], label: "!", help: "PANIC: lockdown now, kill every sandbox (no confirmation)", scope: "global", action: { type: "panic" } },
  { keys: ["U"], label: "U", help: "Unlock after a lockdown (asks y/n)", scope: "global", action: { type: "unlock" } },
  { keys: ["?"], label: "?", help: "This help", scope: "global", action: { type: "help" } },
  { keys: ["q", "C-c"], label: "q / Ctrl-C", help: "Quit (asks y/n while runs are active)", scope: "global", action: { type: "quit" } },
  { keys: ["tab"], label: "Tab", help: "Next view", scope: "global", action: { type: "cycle-view", delta: 1 } },
  { keys: ["S-tab"], label: "Shift-Tab", help: "Previous view", scope: "global", action: { type: "cycle-view", delta: -1 } },
  { keys: ["1"], label: "1–5", help: "Views: 1 Runs, 2 Approvals, 3 Audit, 4 Posture, 5 X-ray", scope: "global", action: { type: "view", view: "runs" } },
  { keys: ["2"], label: "2", help: "Approvals", scope: "global", action: { type: "view", view: "approvals" }, hidden: true },
  { keys: ["3"], label: "3", help: "Audit", scope: "global", action: { type: "view", view: "audit" }, hidden: true },
  { keys: ["4"], label: "4", help: "Posture", scope: "global", action: { type: "view", view: "posture" }, hidden: true },
  { keys: ["5"], label: "5", help: "X-ray", scope: "global", action: { type: "view", view: "xray" }, hidden: true },

  { keys: UP, label: "↑ / k", help: "Select the newer run (the top row follows new runs)", scope: "runs", action: { type: "move", delta: -1 } },
  { keys: DOWN, label: "↓ / j", help: "Select the older run", scope: "runs", action: { type: "move", delta: 1 } },
  { keys: ["pageup"], label: "PgUp", help: "Scroll the output back", scope: "runs", action: { type: "page", delta: -1 } },
  { keys: ["pagedown"], label: "PgDn", help: "Scroll the output forward", scope: "runs", action: { type: "page", delta: 1 } },
  { keys: ["end", "G"], label: "End / G", help: "Follow the newest output again", scope: "runs", action: { type: "follow" } },
  { keys: ENTER, label: "Enter", help: "Explain the selected run (audit)", scope: "runs", action: { type: "details" } },
  { keys: ["x"], label: "x", help: "X-ray of the selected run", scope: "runs", action: { type: "xray" } },

  { keys: UP, label: "↑ / k", help: "Select the previous request", scope: "approvals", action: { type: "move", delta: -1 } },
  { keys: DOWN, label: "↓ / j", help: "Select the next request", scope: "approvals", action: { type: "move", delta: 1 } },
  ...RESOLVE,
  { keys: ENTER, label: "Enter", help: "All details, including the request hash", scope: "approvals", action: { type: "details" } },

  { keys: UP, label: "↑ / k", help: "Select a newer entry", scope: "audit", action: { type: "move", delta: -1 } },
  { keys: DOWN, label: "↓ / j", help: "Select an older entry", scope: "audit", action: { type: "move", delta: 1 } },
  { keys: ["pageup"], label: "PgUp", help: "A page newer", scope: "audit", action: { type: "page", delta: -1 } },
  { keys: ["pagedown"], label: "PgDn", help: "A page older", scope: "audit", action: { type: "page", delta: 1 } },
  { keys: ["f"], label: "f", help: "Cycle the decision filter: all, allow, deny, ask", scope: "audit", action: { type: "filter", which: "decision" } },
  { keys: ["w"], label: "w", help: "Cycle the actor filter", scope: "audit", action: { type: "filter", which: "actor" } },
  { keys: ["s"], label: "s", help: "Cycle the skill filter", scope: "audit", action: { type: "filter", which: "skill" } },
  { keys: ENTER, label: "Enter", help: "Explain the selected entry", scope: "audit", action: { type: "details" } },
  { keys: ["v"], label: "v", help: "Verify the whole audit log", scope: "audit", action: { type: "verify" } },
  { keys: ["r"], label: "r", help: "Reload the newest entries", scope: "audit", action: { type: "refresh" } },

  { keys: ["r"], label: "r", help: "Recompute the posture grade", scope: "posture", action: { type: "refresh" } },
  { keys: UP, label: "↑ / k", help: "Scroll", scope: "posture", action: { type: "move", delta: -1 } },
  { keys: DOWN, label: "↓ / j", help: "Scroll", scope: "posture", action: { type: "move", delta: 1 }, hidden: true },

  { keys: ["r"], label: "r", help: "Sample now (it also refreshes every 1.5 s while shown)", scope: "xray", action: { type: "refresh" } },
  { keys: UP, label: "↑ / k", help: "Scroll", scope: "xray", action: { type: "move", delta: -1 } },
  { keys: DOWN, label: "↓ / j", help: "Scroll", scope: "xray", action: { type: "move", delta: 1 }, hidden: true },

  { keys: ["escape", "q"], label: "Esc / q", help: "Close the overlay", scope: "overlay", action: { type: "close" } },
  { keys: UP, label: "↑ / k", help: "Scroll", scope: "overlay", action: { type: "move", delta: -1 } },
  { keys: DOWN, label: "↓ / j", help: "Scroll", scope: "overlay", action: { type: "move", delta: 1 }, hidden: true },
  ...RESOLVE.map((binding) => ({ ...binding, scope: "approval-overlay" as const })),
  { keys: ["y"], label: "y", help: "Yes", scope: "confirm", action: { type: "confirm", yes: true } },
  { keys: ["n", "escape"], label: "n / Esc", help: "No", scope: "confirm", action: { type: "confirm", yes: false } },
];

/** The parts of a key event the console reads (OpenTUI's KeyEvent has them all). */
export interface KeyLike {
  name: string;
  sequence: string;
  ctrl: boolean;
  meta: boolean;
  shift: boolean;
}

/**
 * A stable name for a key: the printed character for printable keys ("A", "!", "?"),
 * "C-c" for control keys, "S-tab" for shifted named keys, otherwise the key's name.
 */
export function keyId(key: KeyLike): string | undefined {
  if (key.meta) return undefined; // Alt combinations are not bound; ESC+x must not act as x.
  if (key.ctrl) return `C-${key.name}`;
  const printable = key.sequence.length === 1 && key.sequence >= " " && key.sequence !== "\x7f";
  if (printable && key.name !== "space") return key.sequence;
  if (key.name.length === 1) return key.shift ? key.name.toUpperCase() : key.name;
  return key.shift ? `S-${key.name}` : key.name;
}

function find(id: string, scope: KeyScope): Action | undefined {
  return KEY_BINDINGS.find((binding) => binding.scope === scope && binding.keys.includes(id))?.action;
}

/**
 * What `id` does in this context. The panic key works everywhere, even over a confirmation:
 * stopping everything must never wait on another question (DESIGN.md invariant 5).
 */
export function resolveKey(id: string, context: { view: ViewId; overlay: Overlay["kind"] | undefined }): Action | undefined {
  if (id === "!") return { type: "panic" };
  const { overlay } = context;
  if (overlay === "confirm") return find(id, "confirm");
  if (overlay === "help" && id === "?") return { type: "close" };
  if (overlay !== undefined) {
    if (overlay === "approval") {
      const action = find(id, "approval-overlay");
      if (action) return action;
    }
    return find(id, "overlay") ?? (id === "C-c" ? { type: "quit" } : undefined);
  }
  return find(id, "global") ?? find(id, context.view);
}
