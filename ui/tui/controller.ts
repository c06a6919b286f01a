import type { ApprovalChoice } from "../../src/approvals/types.ts";
import type { EventEnvelope } from "../../src/core/events.ts";
import { actorsOf, nextDecision, nextValue, skillsOf } from "./audit-filter.ts";
import type { ConsoleBackend } from "./backend.ts";
import type { Action } from "./keys.ts";
import { type Loaders, errorText } from "./loaders.ts";
import { selectedAuditEntry } from "./panes/audit.ts";
import { outputLength, selectedRun } from "./panes/runs.ts";
import type { ConsoleState } from "./state.ts";
import { type Line, seg } from "./theme.ts";
import { VIEWS, type ViewId, type ViewState } from "./view-state.ts";
import { verifyLines } from "./verify-view.ts";

/** The reason recorded for a lockdown started from the console's panic key. */
export const PANIC_REASON = "panic key in console";

const CHOICE_TEXT: Record<ApprovalChoice, string> = { approve: "approved once", "approve-session": "approved for this session", deny: "denied" };

/** What the controller needs from the app around it. */
export interface ControllerDeps {
  backend: ConsoleBackend;
  state: ConsoleState;
  view: ViewState;
  loaders: Loaders;
  now: () => number;
  redraw: () => void;
  quit: () => void;
  /** Rows of the focused pane, for page-wise movement. */
  pageRows: () => number;
}

/**
 * Turns key actions and bus events into model changes and backend calls. It decides
 * nothing about security: approve/deny/lockdown go to the backend, and the console shows
 * what the backend and the events say happened.
 */
export class ConsoleController {
  private readonly resolving = new Set<string>();
  private panicInFlight = false;

  constructor(private readonly deps: ControllerDeps) {}

  private get view(): ViewState {
    return this.deps.view;
  }

  private status(text: string, tone: "good" | "bad" | "warn" | "muted"): void {
    this.view.status = { text, tone, at: this.deps.now() };
  }

  /** Applies one bus event and triggers the reads it makes stale. */
  onEvent(event: EventEnvelope): void {
    const { state, loaders } = this.deps;
    const change = state.apply(event);
    if (change === "audit") loaders.scheduleAuditReload();
    if (change === "lockdown") void loaders.loadEnvelope();
    if (event.type === "approval.requested") {
      const { data } = event as EventEnvelope<"approval.requested">;
      if (this.view.view !== "approvals") this.status(`Approval needed: ${data.argv.join(" ")} (press 2)`, "warn");
    }
    if (event.type === "approval.resolved") {
      const { data } = event as EventEnvelope<"approval.resolved">;
      const overlay = this.view.overlay;
      if (overlay?.kind === "approval" && overlay.id === data.id && overlay.requestHash === data.requestHash) this.closeOverlay();
      this.status(`Request ${data.id} ${data.outcome} by ${data.by} via ${data.via}`, data.outcome === "approved" ? "good" : "warn");
    }
    this.deps.redraw();
  }

  dispatch(action: Action): void {
    this.run(action);
    this.deps.redraw();
  }

  private run(action: Action): void {
    switch (action.type) {
      case "panic":
        return this.panic();
      case "unlock":
        if (!this.deps.state.lockdown.active) return this.status("Not in lockdown: nothing to unlock.", "muted");
        return this.openOverlay({ kind: "confirm", action: "unlock", question: "Unlock? New actions will be allowed again." });
      case "help":
        return this.view.overlay?.kind === "help" ? this.closeOverlay() : this.openOverlay({ kind: "help" });
      case "quit": {
        const active = this.deps.state.activeRuns();
        if (active === 0) return this.deps.quit();
        return this.openOverlay({ kind: "confirm", action: "quit", question: `${active} run(s) still active. Quit the console? (the runs keep going)` });
      }
      case "confirm":
        return this.confirm(action.yes);
      case "view":
        return this.setView(action.view);
      case "cycle-view":
        return this.setView(VIEWS[(VIEWS.indexOf(this.view.view) + action.delta + VIEWS.length) % VIEWS.length] ?? "runs");
      case "close":
        return this.closeOverlay();
      case "move":
        return this.move(action.delta);
      case "page":
        return this.page(action.delta);
      case "follow":
        this.view.outputScroll = 0;
        return;
      case "resolve":
        return this.resolve(action.choice);
      case "details":
        return this.details();
      case "filter":
        return this.filter(action.which);
      case "verify":
        return this.verify();
      case "refresh":
        return this.refresh();
      case "xray":
        return this.setView("xray");
    }
  }

  private openOverlay(overlay: NonNullable<ViewState["overlay"]>): void {
    this.view.overlay = overlay;
    this.view.overlayScroll = 0;
  }

  private closeOverlay(): void {
    this.view.overlay = undefined;
    this.view.overlayScroll = 0;
  }

  /** Panic: straight to the backend, no question asked (DESIGN.md invariant 5). */
  private panic(): void {
    if (this.view.overlay?.kind === "confirm") this.closeOverlay();
    if (this.panicInFlight) return;
    this.panicInFlight = true;
    this.status("LOCKDOWN requested…", "bad");
    const { backend, state, loaders } = this.deps;
    void loaders
      .track(backend.lockdown(PANIC_REASON))
      .then(({ killed }) => {
        state.setLockdown(true, state.lockdown.active ? state.lockdown.reason : PANIC_REASON);
        this.status(`Lockdown active: ${killed} sandbox(es) killed. U unlocks.`, "bad");
        void loaders.loadEnvelope();
      })
      .catch((error: unknown) => this.status(`LOCKDOWN FAILED: ${errorText(error)}. Run "aegisclaw lockdown" now.`, "bad"))
      .finally(() => {
        this.panicInFlight = false;
        this.deps.redraw();
      });
  }

  private confirm(yes: boolean): void {
    const overlay = this.view.overlay;
    this.closeOverlay();
    if (!yes || overlay?.kind !== "confirm") return;
    if (overlay.action === "quit") return this.deps.quit();
    const { backend, state, loaders } = this.deps;
    this.status("Unlocking…", "warn");
    void loaders
      .track(backend.unlock())
      .then(() => {
        state.setLockdown(false);
        this.status("Unlocked: new actions are allowed again.", "good");
        void loaders.loadEnvelope();
      })
      .catch((error: unknown) => this.status(`Unlock failed: ${errorText(error)}`, "bad"))
      .finally(() => this.deps.redraw());
  }

  private setView(view: ViewId): void {
    const { loaders, state } = this.deps;
    this.view.view = view;
    if (view === "xray") loaders.startXray(() => selectedRun(state, this.view)?.runId);
    else loaders.stopXray();
    if (view === "posture" && !state.posture.value && !state.posture.loading && !state.posture.error) void loaders.loadPosture();
  }

  private move(delta: number): void {
    const { state } = this.deps;
    const view = this.view;
    if (view.overlay) {
      view.overlayScroll = Math.max(0, view.overlayScroll + delta);
      return;
    }
    if (view.view === "runs") {
      const runs = state.runList();
      const index = runs.findIndex((run) => run === selectedRun(state, view));
      const nextIndex = Math.max(0, Math.min(runs.length - 1, index + delta));
      const next = runs[nextIndex];
      if (next && next !== selectedRun(state, view)) view.outputScroll = 0;
      // The top row means "the newest run": a run started later is then followed automatically.
      view.selectedRunId = nextIndex === 0 ? undefined : next?.runId;
    } else if (view.view === "approvals") {
      const requests = state.approvalList();
      const index = requests.findIndex((request) => request.id === (view.shownApproval?.id ?? view.selectedApprovalId));
      view.selectedApprovalId = requests[Math.max(0, Math.min(requests.length - 1, index + delta))]?.id;
    } else if (view.view === "audit") {
      view.auditIndex = Math.max(0, view.auditIndex + delta);
    } else if (view.view === "posture") {
      view.postureScroll = Math.max(0, view.postureScroll + delta);
    } else {
      view.xrayScroll = Math.max(0, view.xrayScroll + delta);
    }
  }

  private page(delta: 1 | -1): void {
    const rows = Math.max(1, this.deps.pageRows() - 2);
    if (this.view.view === "audit") return this.move(delta * rows);
    const run = selectedRun(this.deps.state, this.view);
    if (!run) return;
    // PgUp (-1) goes back in time: the offset from the newest line grows, up to the oldest page.
    const limit = Math.max(0, outputLength(run.output) - rows);
    this.view.outputScroll = Math.max(0, Math.min(limit, this.view.outputScroll - delta * rows));
  }

  /** a / A / d on the request that was drawn: its id and the hash that was on screen. */
  private resolve(choice: ApprovalChoice): void {
    const overlay = this.view.overlay;
    const target = overlay?.kind === "approval" ? overlay : this.view.shownApproval;
    if (!target) return this.status("No pending request selected.", "muted");
    const { backend, state, loaders, now } = this.deps;
    const pending = state.approvals.get(target.id);
    if (!pending || pending.requestHash !== target.requestHash) {
      // Never let a keypress meant for one request land on a different one.
      return this.status(`Request ${target.id} changed or is no longer pending: review it again.`, "warn");
    }
    if (Date.parse(pending.expiresAt) <= now()) return this.status(`Request ${target.id} expired: it is denied.`, "warn");
    if (this.resolving.has(target.id)) return;
    this.resolving.add(target.id);
    this.status(`Sending ${choice} for ${target.id}…`, "muted");
    void loaders
      .track(backend.resolveApproval(target.id, target.requestHash, choice))
      .then(() => {
        this.status(`Request ${target.id} ${CHOICE_TEXT[choice]}.`, choice === "deny" ? "warn" : "good");
        if (overlay?.kind === "approval") this.closeOverlay();
      })
      .catch((error: unknown) => this.status(`Could not resolve ${target.id}: ${errorText(error)}`, "bad"))
      .finally(() => {
        this.resolving.delete(target.id);
        this.deps.redraw();
      });
  }

  private details(): void {
    const { state } = this.deps;
    if (this.view.view === "approvals") {
      const shown = this.view.shownApproval;
      if (shown) this.openOverlay({ kind: "approval", ...shown });
      return;
    }
    if (this.view.view === "runs") {
      const run = selectedRun(state, this.view);
      if (run) this.explain(run.runId, `Explain run ${run.runId}`);
      return;
    }
    if (this.view.view === "audit") {
      const entry = selectedAuditEntry({ state, view: this.view });
      if (entry) this.explain(String(entry.seq), `Explain #${entry.seq}`);
    }
  }

  /** Opens a text overlay now and fills it when `load` answers (if it is still open). */
  private textOverlay(title: string, waiting: string, load: () => Promise<Line[]>): void {
    const overlay = { kind: "text" as const, title, lines: [[seg(waiting, "muted")]] };
    this.openOverlay(overlay);
    void this.deps.loaders
      .track(load())
      .then((lines) => {
        overlay.lines = lines;
      })
      .catch((error: unknown) => {
        overlay.lines = [[seg(`${title} failed: ${errorText(error)}`, "bad")]];
      })
      .finally(() => this.deps.redraw());
  }

  private explain(id: string, title: string): void {
    this.textOverlay(title, "Loading…", async () => (await this.deps.backend.explain(id)).map((line) => [seg(line)]));
  }

  private verify(): void {
    this.textOverlay("Audit verify", "Verifying the whole audit log…", async () => verifyLines(await this.deps.backend.verify()));
  }

  private filter(which: "decision" | "actor" | "skill"): void {
    const { audit } = this.deps.state;
    const current = this.view.auditFilter;
    if (which === "decision") this.view.auditFilter = { ...current, decision: nextDecision(current.decision) };
    if (which === "actor") this.view.auditFilter = { ...current, actor: nextValue(current.actor, actorsOf(audit)) };
    if (which === "skill") {
      const skills = skillsOf(audit);
      if (skills.length === 0) this.status("No entry names a skill yet.", "muted");
      this.view.auditFilter = { ...current, skill: nextValue(current.skill, skills) };
    }
    this.view.auditIndex = 0;
  }

  private refresh(): void {
    const { loaders } = this.deps;
    if (this.view.view === "audit") void loaders.loadAudit();
    else if (this.view.view === "posture") void loaders.loadPosture();
    else if (this.view.view === "xray") void loaders.sampleXray();
    else void loaders.loadEnvelope();
  }
}
