import { type AuditFilter, NO_FILTER } from "./audit-filter.ts";
import type { Line } from "./theme.ts";

/** The console's views, in Tab order; number keys 1–5 pick them directly. */
export const VIEWS = ["runs", "approvals", "audit", "posture", "xray"] as const;
export type ViewId = (typeof VIEWS)[number];

/** Titles as the tab line and pane borders show them. */
export const VIEW_TITLES: Record<ViewId, string> = {
  runs: "Runs",
  approvals: "Approvals",
  audit: "Audit",
  posture: "Posture",
  xray: "X-ray",
};

/** A question answered with y/n. */
export type ConfirmAction = "unlock" | "quit";

/** What is drawn over the panes; Esc closes it. */
export type Overlay =
  | { kind: "help" }
  | { kind: "text"; title: string; lines: Line[] }
  /** Details of the approval request that was shown when Enter was pressed: bound to its hash. */
  | { kind: "approval"; id: string; requestHash: string }
  | { kind: "confirm"; action: ConfirmAction; question: string };

/** The approval request last drawn as selected: what a/A/d act on. */
export interface ShownApproval {
  id: string;
  requestHash: string;
}

/** Everything about what the operator is looking at; the model (ConsoleState) is separate. */
export interface ViewState {
  view: ViewId;
  /** undefined: follow the newest run. */
  selectedRunId: string | undefined;
  /** Lines scrolled back from the newest output line (0 = following). */
  outputScroll: number;
  selectedApprovalId: string | undefined;
  shownApproval: ShownApproval | undefined;
  /** Index into the filtered audit list, newest first. */
  auditIndex: number;
  auditFilter: AuditFilter;
  /** Scroll offsets of the posture and X-ray views and of the overlay. */
  postureScroll: number;
  xrayScroll: number;
  overlay: Overlay | undefined;
  overlayScroll: number;
  /** The last action's outcome, shown in the footer. */
  status: { text: string; tone: "good" | "bad" | "warn" | "muted"; at: number } | undefined;
}

/** The view state a console starts with. */
export function initialViewState(): ViewState {
  return {
    view: "runs",
    selectedRunId: undefined,
    outputScroll: 0,
    selectedApprovalId: undefined,
    shownApproval: undefined,
    auditIndex: 0,
    auditFilter: NO_FILTER,
    postureScroll: 0,
    xrayScroll: 0,
    overlay: undefined,
    overlayScroll: 0,
    status: undefined,
  };
}
