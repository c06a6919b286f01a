/**
 * The AegisClaw web dashboard (served by `aegisclaw serve` at /). It is a client of the same
 * HTTP + WebSocket API as everything else (docs/api.md) and makes no security decision of its
 * own: the server checks the session, CSRF token and role of every call.
 */
import { Api, describeError } from "./api.ts";
import { byId, say } from "./dom.ts";
import { LiveFeed, type LiveState } from "./live.ts";
import type { LiveEvent, Session } from "./types.ts";
import { ApprovalsView } from "./views/approvals.ts";
import { AuditView } from "./views/audit.ts";
import type { Panel, ViewContext } from "./views/context.ts";
import { LockdownView } from "./views/lockdown.ts";
import { OverviewView } from "./views/overview.ts";
import { PostureView } from "./views/posture.ts";
import { RunsView } from "./views/runs.ts";
import { SkillsView } from "./views/skills.ts";

const api = new Api();
const loginSection = byId("login", HTMLElement);
const loginForm = byId("login-form", HTMLFormElement);
const tokenInput = byId("login-token", HTMLInputElement);
const loginButton = byId("login-submit", HTMLButtonElement);
const loginError = byId("login-error", HTMLParagraphElement);
const appRoot = byId("app", HTMLDivElement);
let dashboard: Dashboard | undefined;

loginForm.addEventListener("submit", (event) => {
  event.preventDefault();
  // The token leaves the input at once: the page keeps only the session's CSRF token, in memory.
  const token = tokenInput.value.trim();
  tokenInput.value = "";
  if (token === "") return say(loginError, "Paste an API token.", "error");
  loginButton.disabled = true;
  api
    .login(token)
    .then((session) => {
      say(loginError, "");
      loginSection.hidden = true;
      appRoot.hidden = false;
      dashboard = new Dashboard(session);
    })
    .catch((error: unknown) => say(loginError, `Login refused: ${describeError(error)}`, "error"))
    .finally(() => {
      loginButton.disabled = false;
    });
});

// Logging out reloads the page: whatever the session showed is gone from memory and the DOM.
byId("logout", HTMLButtonElement).addEventListener("click", () => {
  dashboard?.close();
  void api.logout().finally(() => window.location.reload());
});

api.onSessionLost = () => showLogin("The session ended (expired, logged out or its token was revoked). Log in again.");

function showLogin(reason: string): void {
  dashboard?.close();
  dashboard = undefined;
  appRoot.hidden = true;
  loginSection.hidden = false;
  say(loginError, reason, reason ? "error" : "");
  tokenInput.focus();
}

/** The logged-in page: its panels, the live event feed, and coalesced refreshes. */
class Dashboard {
  private readonly panels: Record<Panel, { refresh(): Promise<void> }>;
  private readonly runs: RunsView;
  private readonly live: LiveFeed;
  private readonly due = new Set<Panel>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly lifetime = new AbortController();

  constructor(session: Session) {
    const ctx: ViewContext = { api, session, refresh: (...panels) => this.schedule(panels), signal: this.lifetime.signal };
    byId("who", HTMLSpanElement).textContent = `${session.name} · ${session.role}`;
    const lockdown = new LockdownView(ctx);
    this.runs = new RunsView(ctx);
    this.panels = {
      status: new OverviewView(ctx, (status) => lockdown.render(status.lockdown)),
      posture: new PostureView(ctx),
      approvals: new ApprovalsView(ctx),
      runs: this.runs,
      audit: new AuditView(ctx),
      skills: new SkillsView(ctx, (run) => this.runs.show(run)),
    };
    this.live = new LiveFeed({
      event: (event) => this.onEvent(event),
      opened: () => this.schedule(["status", "approvals", "runs", "audit"]),
      state: (state, detail) => showLiveState(state, detail),
      revoked: () => showLogin("The token behind this session was revoked."),
    });
    this.schedule(["status", "posture", "approvals", "runs", "audit", "skills"]);
    this.live.start();
  }

  close(): void {
    this.lifetime.abort();
    clearTimeout(this.timer);
    this.live.stop();
    this.runs.close();
  }

  /** Every event but output comes with an audit entry (decision, approval, result, lockdown), so the timeline follows all of them. */
  private onEvent(event: LiveEvent): void {
    if (event.type.startsWith("approval.")) this.schedule(["approvals", "runs", "status", "audit"]);
    else if (event.type.startsWith("run.") || event.type === "decision") this.schedule(["runs", "status", "audit"]);
    else if (event.type === "lockdown.changed") this.schedule(["status", "runs", "audit", "posture"]);
    else if (event.type === "audit.appended") this.schedule(["audit"]);
  }

  /** Many events in a burst cost one fetch per panel. */
  private schedule(panels: Panel[]): void {
    for (const panel of panels) this.due.add(panel);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const due = [...this.due];
      this.due.clear();
      if (!this.lifetime.signal.aborted) for (const panel of due) void this.panels[panel].refresh();
    }, 150);
  }
}

function showLiveState(state: LiveState, detail: string): void {
  const pill = byId("live-state", HTMLSpanElement);
  pill.textContent = `live: ${state}${detail ? ` (${detail})` : ""}`;
  pill.className = `pill ${state === "live" ? "live" : "down"}`;
  pill.setAttribute("data-state", state);
}
