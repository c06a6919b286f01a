import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Redactor } from "../redact/index.ts";
import { isAegisError } from "../shared/index.ts";

/** How much of each output stream one sandbox_exec result carries (the run itself may write more). */
export const OUTPUT_CAP_BYTES = 64 * 1024;

/**
 * Collects one (already redacted) output stream up to a byte cap, counting what it dropped.
 * The cut backs off to a UTF-8 character boundary so the text never ends in a broken character.
 */
export class CappedOutput {
  private readonly chunks: Uint8Array[] = [];
  private kept = 0;
  /** Every byte received, kept or not. */
  total = 0;

  constructor(private readonly cap = OUTPUT_CAP_BYTES) {}

  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(part);
    this.kept += part.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  text(): string {
    const bytes = Buffer.concat(this.chunks);
    let end = bytes.length;
    if (this.truncated && end > 0) {
      // Drop a trailing partial character: find the last character's lead byte and its width.
      let lead = end - 1;
      while (lead > 0 && ((bytes[lead] ?? 0) & 0xc0) === 0x80) lead--;
      const first = bytes[lead] ?? 0;
      const width = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
      if (lead + width > end) end = lead;
    }
    const text = bytes.subarray(0, end).toString("utf8");
    return this.truncated ? `${text}\n[aegisclaw: output cut at ${this.cap} bytes; ${this.total - end} more bytes not shown]` : text;
  }
}

/**
 * Any failure as an MCP tool error: the error's code, message and hint, redacted again (a
 * message can quote the command line, which the agent may have filled with a secret).
 */
export function errorResult(error: unknown, context?: string): CallToolResult {
  const redactor = new Redactor();
  const lines = isAegisError(error)
    ? [`[${error.code}] ${error.message}`, ...(error.hint ? [`fix: ${error.hint}`] : [])]
    : [`[internal] ${error instanceof Error ? error.message : String(error)}`];
  if (context) lines.push(context);
  return { isError: true, content: [{ type: "text", text: redactor.redactText(lines.join("\n")) }] };
}

/** A successful result: a human summary for the model plus the typed data for programs. */
export function dataResult(summary: string, data: Record<string, unknown>, extra: string[] = [], isError = false): CallToolResult {
  return {
    content: [summary, ...extra].map((text) => ({ type: "text" as const, text })),
    structuredContent: data,
    ...(isError ? { isError: true } : {}),
  };
}

/** One line per reason: `[rule] message (scope S)`. */
export function formatReasons(reasons: ReadonlyArray<{ rule: string; message: string; scope?: string }>): string {
  return reasons.map((reason) => `[${reason.rule}] ${reason.message}${reason.scope ? ` (scope ${reason.scope})` : ""}`).join("; ");
}
