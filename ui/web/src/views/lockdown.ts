import { describeError } from "../api.ts";
import { byId, say } from "../dom.ts";
import type { Lockdown } from "../types.ts";
import { can, needsRole, type ViewContext } from "./context.ts";

const STOP_REASON = "EMERGENCY STOP pressed in the web dashboard";

/**
 * The EMERGENCY STOP button and the lockdown banner. Stopping takes one click (it is the
 * panic button); lifting lockdown asks for confirmation. Both are admin-only on the server;
 * for other roles the page shows them disabled, with the reason.
 */
export class LockdownView {
  private readonly stopButton = byId("emergency-stop", HTMLButtonElement);
  private readonly stopReason = byId("stop-reason", HTMLElement);
  private readonly banner = byId("lockdown-banner", HTMLDivElement);
  private readonly text = byId("lockdown-text", HTMLSpanElement);
  private readonly unlockButton = byId("unlock", HTMLButtonElement);
  private readonly unlockReason = byId("unlock-reason", HTMLElement);
  private readonly message = byId("global-msg", HTMLParagraphElement);
  private active = false;

  constructor(private readonly ctx: ViewContext) {
    this.stopButton.addEventListener("click", () => void this.stop(), { signal: ctx.signal });
    this.unlockButton.addEventListener("click", () => void this.unlock(), { signal: ctx.signal });
    this.render({ active: false });
  }

  render(lock: Lockdown): void {
    this.active = lock.active;
    const admin = can(this.ctx.session, "admin");
    document.body.classList.toggle("locked", lock.active);
    this.banner.hidden = !lock.active;
    this.text.textContent = lock.active
      ? `Every AegisClaw sandbox was killed and new actions are refused.${lock.reason ? ` Reason: ${lock.reason}.` : ""}${lock.since ? ` Since ${new Date(lock.since).toLocaleString()}.` : ""}`
      : "";
    this.stopButton.disabled = !admin || lock.active;
    this.stopReason.textContent = !admin ? `Emergency stop ${needsRole(this.ctx.session, "admin")}` : lock.active ? "lockdown is active" : "kills every sandbox and refuses new actions";
    this.unlockButton.disabled = !admin;
    this.unlockReason.textContent = admin ? "" : `Unlock ${needsRole(this.ctx.session, "admin")}`;
  }

  private async stop(): Promise<void> {
    if (this.active) return;
    this.stopButton.disabled = true;
    try {
      const result = await this.ctx.api.post<Lockdown & { killed?: number; killError?: string; auditError?: string }>("/api/v1/lockdown", { reason: STOP_REASON });
      this.render({ ...result, active: true });
      const problems = [result.killError ? `killing sandboxes failed: ${result.killError}` : "", result.auditError ? `the audit log could not record it: ${result.auditError}` : ""].filter(Boolean);
      say(this.message, `Lockdown engaged: ${result.killed ?? 0} sandbox(es) killed.${problems.length > 0 ? ` WARNING: ${problems.join("; ")}.` : ""}`, "error");
    } catch (error) {
      say(this.message, `Emergency stop failed: ${describeError(error)}`, "error");
      this.stopButton.disabled = false;
    }
    this.ctx.refresh("status", "runs", "audit");
  }

  private async unlock(): Promise<void> {
    if (!window.confirm("Lift lockdown? Sandboxes may run again, subject to policy and approvals.")) return;
    try {
      await this.ctx.api.post("/api/v1/unlock");
      say(this.message, "Lockdown lifted.", "ok");
    } catch (error) {
      say(this.message, `Unlock failed: ${describeError(error)}`, "error");
    }
    this.ctx.refresh("status", "audit");
  }
}
