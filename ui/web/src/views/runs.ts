import { describeError } from "../api.ts";
import { splitArgv } from "../argv.ts";
import { byId, h, say, shellLine, timeOf } from "../dom.ts";
import type { Run } from "../types.ts";
import { can, needsRole, type ViewContext } from "./context.ts";
import { Terminal } from "./terminal.ts";

/** Runs of this server: start one (operator+), list them, follow one in the terminal. */
export class RunsView {
  private readonly form = byId("run-form", HTMLFormElement);
  private readonly argvInput = byId("run-argv", HTMLInputElement);
  private readonly scopesInput = byId("run-scopes", HTMLInputElement);
  private readonly submit = byId("run-submit", HTMLButtonElement);
  private readonly preview = byId("run-preview", HTMLElement);
  private readonly list = byId("runs-list", HTMLTableSectionElement);
  private readonly message = byId("runs-msg", HTMLParagraphElement);
  private readonly terminal: Terminal;
  private runs: Run[] = [];
  /** The run this page submitted last, while its status message is on screen. */
  private submitted: string | undefined;

  constructor(private readonly ctx: ViewContext) {
    this.terminal = new Terminal(can(ctx.session, "operator"));
    const allowed = can(ctx.session, "operator");
    for (const node of [this.argvInput, this.scopesInput, this.submit]) node.disabled = !allowed;
    say(this.preview, allowed ? "" : `Starting runs ${needsRole(ctx.session, "operator")}.`);
    this.argvInput.addEventListener("input", () => this.showPreview(), { signal: ctx.signal });
    this.form.addEventListener(
      "submit",
      (event) => {
        event.preventDefault();
        void this.start();
      },
      { signal: ctx.signal },
    );
  }

  async refresh(): Promise<void> {
    try {
      this.runs = (await this.ctx.api.get<{ runs: Run[] }>("/api/v1/runs")).runs;
      this.render();
    } catch (error) {
      say(this.message, `runs unavailable: ${describeError(error)}`, "error");
    }
  }

  /** Stops following output (logout). */
  close(): void {
    this.terminal.close();
  }

  private showPreview(): void {
    try {
      const argv = splitArgv(this.argvInput.value);
      say(this.preview, argv.length > 0 ? `argv: ${JSON.stringify(argv)}` : "");
    } catch (error) {
      say(this.preview, describeError(error), "error");
    }
  }

  private async start(): Promise<void> {
    let argv: string[];
    try {
      argv = splitArgv(this.argvInput.value);
    } catch (error) {
      return say(this.message, `Cannot read the command: ${describeError(error)}`, "error");
    }
    if (argv.length === 0) return say(this.message, "Type a command first.", "error");
    const scopes = this.scopesInput.value.split(/[\s,]+/).filter(Boolean);
    this.submit.disabled = true;
    this.submitted = undefined;
    try {
      this.show(await this.ctx.api.post<Run>("/api/v1/runs", { argv, ...(scopes.length > 0 ? { scopes } : {}) }));
    } catch (error) {
      say(this.message, `Refused: ${describeError(error)}`, "error");
    } finally {
      this.submit.disabled = false;
    }
    this.ctx.refresh("runs", "approvals", "status", "audit");
  }

  /** Lists a run this page just started (here or from the skills panel) and follows its output. */
  show(run: Run): void {
    this.submitted = run.runId;
    this.runs = [run, ...this.runs.filter((r) => r.runId !== run.runId)];
    this.render();
    this.terminal.show(run);
  }

  private render(): void {
    const submitted = this.runs.find((run) => run.runId === this.submitted);
    if (submitted) say(this.message, `${statusLine(submitted.status)}: ${shellLine(submitted.argv)}`, submitted.status === "denied" || submitted.status === "error" ? "error" : "ok");
    if (this.runs.length === 0) {
      this.list.replaceChildren(h("tr", {}, h("td", { class: "hint", text: "No runs on this server yet.", attrs: { "data-empty": "" } })));
      return;
    }
    this.list.replaceChildren(...this.runs.map((run) => this.row(run)));
  }

  private row(run: Run): HTMLTableRowElement {
    const row = h(
      "tr",
      { class: run.runId === this.terminal.current ? "selected" : "", attrs: { "data-run-id": run.runId, "data-status": run.status, tabindex: "0", title: `${run.runId} — click for output` } },
      h("td", {}, h("span", { class: `status ${run.status}`, text: run.status })),
      h("td", { class: "run-argv", text: shellLine(run.argv) }),
      h("td", { text: run.actor.name }),
      h("td", {}, timeOf(run.createdAt)),
      h("td", { text: run.exitCode === undefined ? "" : String(run.exitCode) }),
    );
    const select = () => {
      this.terminal.show(run);
      for (const other of this.list.querySelectorAll("tr.selected")) other.classList.remove("selected");
      row.classList.add("selected");
    };
    row.addEventListener("click", select);
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") select();
    });
    return row;
  }
}

function statusLine(status: Run["status"]): string {
  return status === "awaiting-approval" ? "Waiting for approval (see Approvals)" : status.charAt(0).toUpperCase() + status.slice(1);
}
