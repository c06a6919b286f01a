import type { Line } from "../theme.ts";
import { seg } from "../theme.ts";
import type { ViewState } from "../view-state.ts";
import { clip } from "./text.ts";

/** How long an action's outcome stays in the footer before the key hints return. */
export const STATUS_MS = 8000;

const HINTS: Record<ViewState["view"], string> = {
  runs: "j/k select · PgUp/PgDn scroll · End follow · Enter explain · x x-ray",
  approvals: "j/k select · a approve · A session · d deny · Enter details",
  audit: "j/k select · f/w/s filter · Enter explain · v verify · r reload",
  posture: "r recompute · j/k scroll",
  xray: "r sample now · j/k scroll",
};

/** The footer: the last action's outcome while fresh, else the keys of the current view. */
export function footerLine(view: ViewState, now: number, columns: number): Line {
  if (view.status && now - view.status.at < STATUS_MS) return clip([seg(view.status.text, view.status.tone, { bold: true })], columns);
  // The panic key comes first: it is the one hint that must survive a narrow terminal.
  return clip([seg("! PANIC", "bad", { bold: true }), seg(" · ? help · q quit │ ", "muted"), seg(HINTS[view.view], "muted")], columns);
}
