import { byId, h, shellLine } from "../dom.ts";
import type { Run } from "../types.ts";

/** Characters kept on screen; older output is dropped from the top (the server keeps its own copy). */
const MAX_CHARS = 1_000_000;

/**
 * The live terminal of one run. Output comes from `GET /runs/{id}/output` (Server-Sent Events
 * with the session cookie): the server replays what the run printed so far, then streams it
 * live, already redacted. Every chunk is appended as a text node, so escape sequences or
 * markup in the output stay inert text.
 */
export class Terminal {
  private readonly screen = byId("terminal", HTMLPreElement);
  private readonly title = byId("terminal-title", HTMLDivElement);
  private source: EventSource | undefined;
  private runId: string | undefined;
  private chars = 0;

  constructor(private readonly canRead: boolean) {}

  /** The run on screen. */
  get current(): string | undefined {
    return this.runId;
  }

  /** Shows `run` (a no-op if it is already shown and still streaming). */
  show(run: Run): void {
    if (this.runId === run.runId && this.source) return;
    this.close();
    this.runId = run.runId;
    this.title.textContent = `${shellLine(run.argv)} — ${run.runId}`;
    this.clear();
    if (!this.canRead) {
      this.meta("Run output needs the operator role: a viewer sees that a run happened and how it ended, not what it printed.");
      return;
    }
    const source = new EventSource(`/api/v1/runs/${encodeURIComponent(run.runId)}/output`);
    this.source = source;
    // A reconnect replays from the start: start from a clean screen each time.
    source.addEventListener("open", () => this.clear());
    source.addEventListener("output", (event: MessageEvent) => {
      const chunk = parseJson(event.data) as { stream?: string; text?: string } | undefined;
      if (typeof chunk?.text === "string") this.append(chunk.text, chunk.stream === "stderr" ? "stderr" : "stdout");
    });
    source.addEventListener("end", (event: MessageEvent) => {
      source.close();
      if (this.source === source) this.source = undefined;
      const end = parseJson(event.data) as Run | undefined;
      this.meta(end ? ending(end) : "[run ended]");
    });
    source.addEventListener("error", () => {
      // EventSource retries by itself unless the server refused the stream (401, 404, …).
      if (source.readyState === EventSource.CLOSED && this.source === source) {
        this.source = undefined;
        this.meta("[output stream closed; select the run again to retry]");
      }
    });
  }

  close(): void {
    this.source?.close();
    this.source = undefined;
  }

  private clear(): void {
    this.screen.replaceChildren();
    this.chars = 0;
  }

  private append(text: string, stream: "stdout" | "stderr"): void {
    const stick = this.screen.scrollTop + this.screen.clientHeight >= this.screen.scrollHeight - 4;
    this.screen.append(stream === "stderr" ? h("span", { class: "stderr", text }) : document.createTextNode(text));
    this.chars += text.length;
    while (this.chars > MAX_CHARS && this.screen.firstChild) {
      this.chars -= this.screen.firstChild.textContent?.length ?? 0;
      this.screen.firstChild.remove();
    }
    if (stick) this.screen.scrollTop = this.screen.scrollHeight;
  }

  private meta(text: string): void {
    this.screen.append(h("span", { class: "meta", text: `${this.screen.childNodes.length > 0 ? "\n" : ""}${text}` }));
  }
}

function ending(run: Run): string {
  if (run.error) return `[${run.status}: ${run.error.message}]`;
  const parts = [`exit ${run.exitCode ?? "?"}`];
  if (run.durationMs !== undefined) parts.push(`${run.durationMs} ms`);
  if (run.timedOut) parts.push("timed out");
  if (run.killedBy) parts.push(`killed by ${run.killedBy}`);
  if (run.output.truncated) parts.push("output truncated");
  return `[${run.status}: ${parts.join(", ")}]`;
}

function parseJson(data: unknown): unknown {
  if (typeof data !== "string") return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
