import { describeError } from "../api.ts";
import { splitArgv } from "../argv.ts";
import { byId, h, say } from "../dom.ts";
import type { Run, Skill } from "../types.ts";
import { can, needsRole, type ViewContext } from "./context.ts";

/** Shows a run this page started (the runs panel lists it and opens its terminal). */
export type ShowRun = (run: Run) => void;

const SIGNATURE_TEXT: Readonly<Record<Skill["signature"]["status"], string>> = {
  valid: "signed",
  untrusted: "UNTRUSTED",
  unsigned: "UNSIGNED",
  invalid: "INVALID signature",
};

/**
 * Installed skills (`GET /skills`), each command with a Run button (operator+), an arguments
 * field and an input per path parameter. A run goes to `POST /skills/{name}/run` and then
 * lives in the runs panel like any other.
 */
export class SkillsView {
  private readonly list = byId("skills-list", HTMLDivElement);
  private readonly message = byId("skills-msg", HTMLParagraphElement);

  constructor(
    private readonly ctx: ViewContext,
    private readonly showRun: ShowRun,
  ) {}

  async refresh(): Promise<void> {
    try {
      const { skills } = await this.ctx.api.get<{ skills: Skill[] }>("/api/v1/skills");
      if (skills.length === 0) {
        this.list.replaceChildren(h("p", { class: "hint", text: "No skills installed. Install one on the server's host: aegisclaw skills add DIR (starter skills are in skills/).", attrs: { "data-empty": "" } }));
      } else {
        this.list.replaceChildren(...skills.map((skill) => this.card(skill)));
      }
      say(this.message, can(this.ctx.session, "operator") ? "" : `Running skills ${needsRole(this.ctx.session, "operator")}.`);
    } catch (error) {
      say(this.message, `skills unavailable: ${describeError(error)}`, "error");
    }
  }

  private card(skill: Skill): HTMLElement {
    const signature = skill.signature;
    const who = signature.status === "valid" && signature.publisher ? ` by ${signature.publisher}` : "";
    return h(
      "div",
      { class: "skill", attrs: { "data-skill": skill.name } },
      h(
        "div",
        { class: "skill-head" },
        h("strong", { text: skill.name }),
        h("span", { class: "hint", text: ` ${skill.version} ` }),
        h("span", { class: `sig ${signature.status}`, text: `${SIGNATURE_TEXT[signature.status]}${who}`, attrs: { title: signature.reason, "data-signature": signature.status } }),
      ),
      h("p", { class: "hint", text: skill.description }),
      h("p", { class: "hint", text: `scopes: ${skill.scopes.join(", ") || "none"}` }),
      ...skill.commands.map((command) => this.commandRow(skill, command)),
    );
  }

  private commandRow(skill: Skill, command: Skill["commands"][number]): HTMLElement {
    const allowed = can(this.ctx.session, "operator");
    const args = h("input", { class: "skill-args", attrs: { type: "text", "aria-label": `arguments for ${skill.name} ${command.name}`, "data-args": "" } });
    args.placeholder = "arguments (split like a shell, optional)";
    args.autocomplete = "off";
    args.spellcheck = false;
    const paths = command.paths.map((name) => {
      const input = h("input", { class: "skill-path", attrs: { type: "text", "aria-label": `directory for {${name}}`, "data-path": name } });
      input.placeholder = `{${name}}: /absolute/dir on the server`;
      return input;
    });
    const button = h("button", { text: `Run ${command.name}`, attrs: { type: "button", "data-action": "run", "data-command": command.name } });
    const status = h("span", { class: "msg", attrs: { role: "status" } });
    for (const node of [args, ...paths, button]) node.disabled = !allowed;
    if (!allowed) button.title = `Running skills ${needsRole(this.ctx.session, "operator")}`;
    button.addEventListener("click", () => void this.run(skill, command.name, args, paths, button, status));
    return h(
      "div",
      { class: "skill-command", attrs: { "data-command": command.name } },
      h("code", { text: command.name }),
      h("span", { class: "hint", text: command.description ?? "" }),
      args,
      ...paths,
      button,
      status,
    );
  }

  private async run(skill: Skill, command: string, argsInput: HTMLInputElement, pathInputs: HTMLInputElement[], button: HTMLButtonElement, status: HTMLElement): Promise<void> {
    let args: string[];
    try {
      args = splitArgv(argsInput.value);
    } catch (error) {
      return say(status, `Cannot read the arguments: ${describeError(error)}`, "error");
    }
    const paths: Record<string, string> = {};
    for (const input of pathInputs) {
      const name = input.getAttribute("data-path") ?? "";
      if (input.value.trim() === "") return say(status, `Give a directory for {${name}}.`, "error");
      paths[name] = input.value.trim();
    }
    button.disabled = true;
    try {
      const run = await this.ctx.api.post<Run>(`/api/v1/skills/${encodeURIComponent(skill.name)}/run`, { command, args, ...(pathInputs.length > 0 ? { paths } : {}) });
      say(status, run.status === "awaiting-approval" ? "Waiting for approval (see Approvals)" : "Started: see Runs", "ok");
      this.showRun(run);
    } catch (error) {
      say(status, `Refused: ${describeError(error)}`, "error");
    } finally {
      button.disabled = false;
    }
    this.ctx.refresh("runs", "approvals", "status", "audit");
  }
}
