import { byId, h, say } from "../dom.ts";
import { describeError } from "../api.ts";
import type { AuditEntry, Envelope, Status } from "../types.ts";
import type { ViewContext } from "./context.ts";

/** Overview: the sandbox envelope, lockdown, policy mode, totals and adapter health (GET /status). */
export class OverviewView {
  private readonly list = byId("overview-list", HTMLElement);
  private readonly indicator = byId("envelope-indicator", HTMLDivElement);

  constructor(
    private readonly ctx: ViewContext,
    private readonly onStatus: (status: Status) => void,
  ) {}

  async refresh(): Promise<void> {
    try {
      const [status, audit] = await Promise.all([this.ctx.api.get<Status>("/api/v1/status"), this.ctx.api.get<{ entries: AuditEntry[] }>("/api/v1/audit?limit=1")]);
      this.render(status, audit.entries.at(-1)?.seq ?? 0);
      this.onStatus(status);
    } catch (error) {
      say(this.indicator, `status unavailable: ${describeError(error)}`, "error");
    }
  }

  private render(status: Status, auditEntries: number): void {
    const { envelope, lockdown, policy } = status;
    const hardened = isHardened(envelope);
    this.indicator.className = `indicator ${lockdown.active ? "locked" : hardened ? "good" : "weak"}`;
    this.indicator.textContent = lockdown.active ? "ENVELOPE: LOCKED DOWN" : hardened ? "ENVELOPE: HARDENED" : "ENVELOPE: RELAXED";
    this.indicator.setAttribute("data-state", lockdown.active ? "locked" : hardened ? "hardened" : "relaxed");
    const limits = envelope.limits;
    const facts: Array<[string, string]> = [
      ["lockdown", lockdown.active ? `ACTIVE${lockdown.reason ? ` — ${lockdown.reason}` : ""}` : "off"],
      ["policy mode", policy.template],
      ["grants", policy.grants.length > 0 ? policy.grants.join(", ") : "none"],
      ["runtime", envelope.runtime],
      ["image", envelope.image ?? "—"],
      ["user", envelope.user ?? "—"],
      ["network", envelope.network],
      ["seccomp", envelope.seccomp],
      ["capabilities", envelope.capabilities ?? "—"],
      ["root filesystem", envelope.rootFilesystem ?? "—"],
      ["no-new-privileges", envelope.noNewPrivileges === undefined ? "—" : envelope.noNewPrivileges ? "yes" : "NO"],
      ["limits", limits ? `${limits.pids ?? "?"} pids, ${mib(limits.memoryBytes)} memory, ${limits.cpus ?? "?"} cpu, ${seconds(limits.timeoutMs)} timeout` : "—"],
      ["pending approvals", String(status.approvals?.pending ?? 0)],
      ["active runs", String(status.runs?.active ?? 0)],
      ["audit entries", String(auditEntries)],
      ["live clients", String(status.clients?.websocket ?? 0)],
      ...status.adapters.map((adapter): [string, string] => [`${adapter.name} adapter`, adapter.status]),
      ["version", status.version],
    ];
    this.list.replaceChildren(...facts.flatMap(([term, value]) => [h("dt", { text: term }), h("dd", { text: value, attrs: { "data-fact": term } })]));
  }
}

/** The default envelope is hardened when nothing was loosened: no network, no capabilities, read-only root, no-new-privileges. */
function isHardened(envelope: Envelope): boolean {
  return envelope.network === "none" && (envelope.capabilities ?? "").startsWith("none") && envelope.rootFilesystem === "read-only" && envelope.noNewPrivileges === true;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? "?" : `${Math.round(bytes / 1024 / 1024)} MiB`;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? "?" : `${Math.round(ms / 1000)} s`;
}
