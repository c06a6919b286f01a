import { ApiError, describeError } from "../api.ts";
import { byId, h, say, shellLine, timeOf } from "../dom.ts";
import type { PendingApproval } from "../types.ts";
import { can, needsRole, type ViewContext } from "./context.ts";

/**
 * Requests waiting for a person. Each card shows exactly what will run and the request hash;
 * Approve and Deny send that hash, so the server refuses the answer (409) if the pending
 * request is not the one shown.
 */
export class ApprovalsView {
  private readonly list = byId("approvals-list", HTMLDivElement);
  private readonly count = byId("approvals-count", HTMLSpanElement);
  private readonly message = byId("approvals-msg", HTMLParagraphElement);

  constructor(private readonly ctx: ViewContext) {}

  async refresh(): Promise<void> {
    try {
      const { pending } = await this.ctx.api.get<{ pending: PendingApproval[] }>("/api/v1/approvals");
      this.render(pending);
    } catch (error) {
      say(this.message, `approvals unavailable: ${describeError(error)}`, "error");
    }
  }

  private render(pending: PendingApproval[]): void {
    this.count.textContent = pending.length > 0 ? `(${pending.length} waiting)` : "";
    if (pending.length === 0) {
      this.list.replaceChildren(h("p", { class: "hint", text: "Nothing is waiting for approval." }));
      return;
    }
    this.list.replaceChildren(...pending.map((request) => this.card(request)));
  }

  private card(request: PendingApproval): HTMLElement {
    const allowed = can(this.ctx.session, "operator");
    const button = (verb: "approve" | "deny") => {
      const node = h("button", { class: verb, text: verb === "approve" ? "Approve" : "Deny", attrs: { type: "button", "data-action": verb, ...(allowed ? {} : { title: needsRole(this.ctx.session, "operator") }) } });
      node.disabled = !allowed;
      node.addEventListener("click", () => void this.answer(request, verb, node.parentElement));
      return node;
    };
    return h(
      "article",
      { class: "approval", attrs: { "data-approval-id": request.id, "data-request-hash": request.requestHash } },
      h("div", { class: "argv", text: shellLine(request.argv) }),
      h("div", {}, "risk ", h("span", { class: `risk-${request.risk}`, text: request.risk }), ` · by ${request.actor.name} via ${request.actor.source} · ${request.runtime} · ${request.image}`),
      request.scopes.length > 0 ? h("div", { text: `scopes: ${request.scopes.map((s) => `${s.scope} (${s.risk})`).join(", ")}` }) : undefined,
      h("ul", {}, ...request.reasons.map((reason) => h("li", { text: `[${reason.rule}] ${reason.message}` }))),
      h("div", {}, "expires ", timeOf(request.expiresAt), request.holder === "process" ? " · waiting in another AegisClaw process" : ""),
      h("div", { class: "hash", text: `request ${request.requestHash}` }),
      h("div", { class: "actions" }, button("approve"), button("deny"), allowed ? undefined : h("small", { class: "hint", text: `Approving ${needsRole(this.ctx.session, "operator")}` })),
    );
  }

  private async answer(request: PendingApproval, verb: "approve" | "deny", actions: HTMLElement | null): Promise<void> {
    for (const node of actions?.querySelectorAll("button") ?? []) node.disabled = true;
    try {
      await this.ctx.api.post(`/api/v1/approvals/${encodeURIComponent(request.id)}/${verb}`, { requestHash: request.requestHash });
      say(this.message, `${verb === "approve" ? "Approved" : "Denied"}: ${shellLine(request.argv)}`, "ok");
    } catch (error) {
      const text = error instanceof ApiError && error.code === "hash-mismatch" ? "The request changed since it was shown; review it again." : describeError(error);
      say(this.message, `Could not ${verb}: ${text}`, "error");
    }
    this.ctx.refresh("approvals", "runs", "status");
  }
}
