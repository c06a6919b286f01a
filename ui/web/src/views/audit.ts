import { describeError } from "../api.ts";
import { byId, h, say, shellLine, timeOf } from "../dom.ts";
import type { AuditEntry, VerifyReport } from "../types.ts";
import type { ViewContext } from "./context.ts";

/** Newest entries shown; `aegisclaw logs` and GET /audit have the rest. */
const SHOWN = 50;

/**
 * The audit timeline (newest first) with an explanation tooltip per entry — why it was
 * allowed or denied, from `GET /audit/{seq}/explain` — and the Verify Integrity button, which
 * recomputes every hash, the Merkle root and the signed checkpoints on the server.
 */
export class AuditView {
  private readonly list = byId("audit-list", HTMLOListElement);
  private readonly verifyButton = byId("verify", HTMLButtonElement);
  private readonly result = byId("verify-result", HTMLParagraphElement);
  private readonly explanations = new Map<number, Promise<string[]>>();
  /** Entries whose explanation was clicked open: they stay open across refreshes. */
  private readonly pinned = new Set<number>();

  constructor(private readonly ctx: ViewContext) {
    this.verifyButton.addEventListener("click", () => void this.verify(), { signal: ctx.signal });
  }

  async refresh(): Promise<void> {
    try {
      const { entries } = await this.ctx.api.get<{ entries: AuditEntry[] }>(`/api/v1/audit?limit=${SHOWN}`);
      this.list.replaceChildren(...entries.reverse().map((entry) => this.row(entry)));
    } catch (error) {
      say(this.result, `audit log unavailable: ${describeError(error)}`, "error");
    }
  }

  private async verify(): Promise<void> {
    this.verifyButton.disabled = true;
    say(this.result, "Verifying…");
    this.result.className = "verify";
    try {
      const report = await this.ctx.api.get<VerifyReport>("/api/v1/audit/verify");
      this.result.className = `verify ${report.ok ? "ok" : "bad"}`;
      this.result.setAttribute("data-ok", String(report.ok));
      this.result.textContent = report.ok
        ? `✔ Intact: ${report.entries} entries, ${report.checkpoints ?? 0} signed checkpoints, root ${report.rootHash.slice(0, 16)}…`
        : `✘ BROKEN: ${report.failure ? `${report.failure.seq !== undefined ? `entry ${report.failure.seq}` : report.failure.segment}${report.failure.line ? ` line ${report.failure.line}` : ""}: ${report.failure.reason}` : "verification failed"}`;
    } catch (error) {
      this.result.className = "verify bad";
      this.result.textContent = `Verification could not run: ${describeError(error)}`;
    } finally {
      this.verifyButton.disabled = false;
    }
  }

  private row(entry: AuditEntry): HTMLLIElement {
    const tip = h("div", { class: "tip", text: "loading explanation…", attrs: { role: "tooltip" } });
    const row = h(
      "li",
      { class: "entry", attrs: { "data-seq": String(entry.seq), "data-type": entry.type, tabindex: "0", "aria-expanded": "false" } },
      h("span", { class: "seq", text: `#${entry.seq}` }),
      timeOf(entry.time),
      h("span", { class: `type-${entry.type}`, text: entry.type }),
      h("span", { text: `${entry.actor.name} (${entry.actor.source})` }),
      h("span", { class: "what" }, ...summary(entry)),
      tip,
    );
    const load = () => void this.explain(entry.seq, tip);
    row.addEventListener("mouseenter", load);
    row.addEventListener("focus", load);
    const pin = (on: boolean) => {
      row.classList.toggle("pinned", on);
      row.setAttribute("aria-expanded", String(on));
      if (on) this.pinned.add(entry.seq);
      else this.pinned.delete(entry.seq);
    };
    row.addEventListener("click", () => {
      load();
      pin(!this.pinned.has(entry.seq));
    });
    if (this.pinned.has(entry.seq)) {
      load();
      pin(true);
    }
    return row;
  }

  private async explain(seq: number, tip: HTMLElement): Promise<void> {
    let lines = this.explanations.get(seq);
    if (!lines) {
      lines = this.ctx.api.get<{ summary: string[] }>(`/api/v1/audit/${seq}/explain`).then((e) => e.summary);
      this.explanations.set(seq, lines);
      lines.catch(() => this.explanations.delete(seq));
    }
    try {
      tip.textContent = (await lines).join("\n");
    } catch (error) {
      tip.textContent = `no explanation: ${describeError(error)}`;
    }
  }
}

/** One line about an entry: the decision, the approval, the result or the note. */
function summary(entry: AuditEntry): Array<Node | string> {
  const parts: Array<Node | string> = [];
  if (entry.decision) parts.push(h("span", { class: `kind-${entry.decision.kind}`, text: entry.decision.kind.toUpperCase() }), " ");
  if (entry.approval) parts.push(`${entry.approval.outcome} by ${entry.approval.by} via ${entry.approval.via} `);
  if (entry.result) parts.push(`exit ${entry.result.exitCode} in ${entry.result.durationMs} ms${entry.result.killedBy ? `, killed by ${entry.result.killedBy}` : ""}${entry.redactions ? `, ${entry.redactions} redacted` : ""} `);
  if (entry.request?.argv) parts.push(shellLine(entry.request.argv), " ");
  if (entry.note) parts.push(entry.note);
  if (entry.runId) parts.push(h("span", { class: "hint", text: ` ${entry.runId}` }));
  return parts;
}
