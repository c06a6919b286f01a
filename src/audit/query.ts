import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { AegisError } from "../shared/index.ts";
import { listSegments, segmentPath, splitLines } from "./layout.ts";
import { leafHash, toHex } from "./merkle.ts";
import { rawLines } from "./rebuild.ts";
import type { AuditEntry } from "./constants.ts";
import type { AuditRecord } from "./schema.ts";

/** Which entries to return; every field narrows, none set = all. */
export interface EntryFilter {
  /** Only entries at or after this time. */
  since?: Date;
  type?: AuditRecord["type"];
  /** Only decisions of this kind. */
  decision?: "allow" | "deny" | "ask";
  runId?: string;
  /** Only entries with a larger seq. */
  afterSeq?: number;
}

/** Parses one stored line into an entry (adding its hash). */
export function parseEntry(bytes: Uint8Array): AuditEntry {
  const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as Omit<AuditEntry, "hash">;
  return { ...value, hash: toHex(leafHash(bytes)) };
}

/** True when `entry` passes `filter`. */
export function matches(entry: AuditEntry, filter: EntryFilter): boolean {
  if (filter.afterSeq !== undefined && entry.seq <= filter.afterSeq) return false;
  if (filter.since && Date.parse(entry.time) < filter.since.getTime()) return false;
  if (filter.type && entry.type !== filter.type) return false;
  if (filter.decision && entry.decision?.kind !== filter.decision) return false;
  if (filter.runId && entry.runId !== filter.runId) return false;
  return true;
}

/** Entries in log order (oldest first). Lines that do not parse are skipped: `verifyLog` is the judge of integrity. */
export function* readEntries(dir: string, filter: EntryFilter = {}): Generator<AuditEntry> {
  if (!existsSync(dir)) throw new AegisError("unavailable", `no audit log at ${dir}`, { hint: "run `aegisclaw init`" });
  for (const { bytes } of rawLines(dir)) {
    let entry: AuditEntry;
    try {
      entry = parseEntry(bytes);
    } catch {
      continue;
    }
    if (matches(entry, filter)) yield entry;
  }
}

/**
 * Yields entries appended after the call (or after `filter.afterSeq`), polling the last
 * segment every `intervalMs` until `signal` aborts. Polling, not inotify: it works the same
 * on every filesystem and a quarter-second delay is fine for a human watching.
 */
export async function* followEntries(dir: string, options: { filter?: EntryFilter; intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<AuditEntry> {
  const filter = options.filter ?? {};
  let afterSeq = filter.afterSeq ?? 0;
  if (filter.afterSeq === undefined) for (const entry of readEntries(dir)) afterSeq = entry.seq;
  let segment = listSegments(dir).at(-1) ?? 1;
  let offset = 0;
  while (!options.signal?.aborted) {
    const path = segmentPath(dir, segment);
    const bytes = readFrom(path, offset);
    const { lines, tornBytes } = splitLines(bytes);
    for (const [start, end] of lines) {
      const entry = parseEntry(bytes.subarray(start, end));
      if (entry.seq > afterSeq) {
        afterSeq = entry.seq;
        if (matches(entry, filter)) yield entry;
      }
    }
    offset += bytes.length - tornBytes;
    if (existsSync(segmentPath(dir, segment + 1))) {
      segment += 1;
      offset = 0;
      continue;
    }
    await sleep(options.intervalMs ?? 250, options.signal);
  }
}

function readFrom(path: string, offset: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const out = new Uint8Array(Math.max(0, size - offset));
    if (out.length > 0) readSync(fd, out, 0, out.length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Why something was allowed or denied: the entry asked about and everything of the same run. */
export interface Explanation {
  entry: AuditEntry;
  decision?: AuditEntry;
  approvals: AuditEntry[];
  /** Connections the run's egress proxy allowed or refused. */
  egress: AuditEntry[];
  result?: AuditEntry;
  /** Human sentences, one per line. */
  summary: string[];
}

/** Explains entry `id`: a seq number, or a runId. */
export function explain(dir: string, id: string): Explanation {
  const bySeq = /^\d+$/.test(id) ? Number(id) : undefined;
  let entry: AuditEntry | undefined;
  for (const candidate of readEntries(dir)) {
    if (bySeq !== undefined ? candidate.seq === bySeq : candidate.runId === id) {
      entry = candidate;
      break;
    }
  }
  if (!entry) throw new AegisError("bad-input", `no audit entry ${bySeq !== undefined ? `with seq ${bySeq}` : `for run ${id}`}`, { hint: "list entries with `aegisclaw logs`" });
  const related = entry.runId ? [...readEntries(dir, { runId: entry.runId })] : [entry];
  const decision = related.find((e) => e.type === "decision");
  const result = related.find((e) => e.type === "result");
  const approvals = related.filter((e) => e.type === "approval");
  const egress = related.filter((e) => e.type === "egress");
  return { entry, decision, approvals, egress, result, summary: summarise(entry, decision, approvals, egress, result) };
}

function summarise(entry: AuditEntry, decision: AuditEntry | undefined, approvals: AuditEntry[], egress: AuditEntry[], result: AuditEntry | undefined): string[] {
  const lines = [`entry ${entry.seq} (${entry.type}) at ${entry.time} by ${entry.actor.name} via ${entry.actor.source}${entry.runId ? `, run ${entry.runId}` : ""}`];
  if (entry.note) lines.push(`note: ${entry.note}`);
  if (decision?.decision) {
    const { kind, reasons, approvedBy } = decision.decision;
    lines.push(`decision (entry ${decision.seq}): ${kind.toUpperCase()}`);
    for (const r of reasons) lines.push(`  - [${r.rule}] ${r.message}${r.scope ? ` (scope ${r.scope})` : ""}${r.field ? ` (field ${r.field})` : ""}`);
    if (approvedBy) lines.push(`  approved by ${approvedBy}`);
    const request = decision.request;
    if (request) lines.push(`request: ${JSON.stringify(request)}`);
  }
  for (const a of approvals) lines.push(`approval (entry ${a.seq}): ${a.decision?.kind ?? "?"} by ${a.decision?.approvedBy ?? a.actor.name}${a.note ? ` — ${a.note}` : ""}`);
  for (const e of egress) {
    const x = e.egress;
    if (!x) continue;
    const target = x.host ? `${x.method ? `${x.method} ` : ""}${x.host}${x.port ? `:${x.port}` : ""}` : "a connection";
    lines.push(`egress (entry ${e.seq})${x.service ? ` of service ${x.service}` : ""}: ${x.outcome.toUpperCase()} ${target}${x.addresses?.length ? ` -> ${x.addresses.join(", ")}` : ""} [${x.rule}] ${x.reason}${x.grantedBy ? ` (granted by ${x.grantedBy})` : ""}`);
  }
  if (result?.result) {
    const r = result.result;
    lines.push(`result (entry ${result.seq}): exit ${r.exitCode} in ${r.durationMs} ms${r.timedOut ? ", timed out" : ""}${r.killedBy ? `, killed by ${r.killedBy}` : ""}${r.warm ? ", in a warm-pool container" : ""}${r.error ? `, error: ${r.error}` : ""}; ${r.stdoutBytes} B stdout, ${r.stderrBytes} B stderr`);
  } else if (decision?.decision?.kind === "allow") {
    lines.push("result: none recorded (still running, or the process died)");
  }
  if (entry.redactions) lines.push(`${entry.redactions} secret value(s) redacted`);
  return lines;
}
