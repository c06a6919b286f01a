import { describeError } from "../api.ts";
import { byId, h, say } from "../dom.ts";
import type { Posture } from "../types.ts";
import type { ViewContext } from "./context.ts";

/** The posture grade and the breakdown: points per check, what was seen, and the fix for lost points. */
export class PostureView {
  private readonly grade = byId("posture-grade", HTMLSpanElement);
  private readonly score = byId("posture-score", HTMLSpanElement);
  private readonly checks = byId("posture-checks", HTMLTableSectionElement);
  private readonly button = byId("posture-refresh", HTMLButtonElement);

  constructor(private readonly ctx: ViewContext) {
    this.button.addEventListener("click", () => void this.refresh(), { signal: ctx.signal });
  }

  async refresh(): Promise<void> {
    this.button.disabled = true;
    try {
      this.render(await this.ctx.api.get<Posture>("/api/v1/posture"));
    } catch (error) {
      say(this.score, `posture unavailable: ${describeError(error)}`, "error");
    } finally {
      this.button.disabled = false;
    }
  }

  private render(posture: Posture): void {
    const grade = /^[A-F]$/.test(posture.grade) ? posture.grade : "?";
    this.grade.textContent = grade;
    this.grade.className = `grade ${grade}`;
    say(this.score, `${posture.score} / 100`);
    this.checks.replaceChildren(
      ...posture.checks.map((check) =>
        h(
          "tr",
          { attrs: { "data-check": check.id } },
          h("td", { class: `st-${check.status}`, text: check.status }),
          h("td", {}, h("strong", { text: check.title }), h("span", { class: "fix", text: check.detail }), check.fix ? h("span", { class: "fix", text: `fix: ${check.fix}` }) : undefined),
          h("td", { class: "mono", text: `${check.earned}/${check.weight}` }),
        ),
      ),
    );
  }
}
