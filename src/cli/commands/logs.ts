import { join } from "node:path";
import { type AuditEntry, AuditLog, consistencyProof, type EntryFilter, explain, followEntries, inclusionProof, publicKeyInfo, readEntries, verifyLog } from "../../audit/index.ts";
import { AegisError } from "../../shared/index.ts";
import type { CliContext } from "../context.ts";

/** Options cac parses for `logs` (the global --json arrives as ctx.json). */
export interface LogsOptions {
  follow?: boolean;
  since?: string;
  decision?: string;
  /** Pinned ed25519 public key (hex) for `verify`, as exported by `logs pubkey`. */
  pubkey?: string;
  [key: string]: unknown;
}

const ACTIONS = "verify | explain ID | proof ID | consistency OLD_SIZE | checkpoint | pubkey";

/**
 * `logs [action]`: list, verify, explain and prove audit entries. Returns the exit code;
 * `verify` exits 0 only when the log is intact.
 */
export async function runLogs(action: string | undefined, args: string[], options: LogsOptions, ctx: CliContext): Promise<number> {
  const dir = join(ctx.home, "audit");
  switch (action) {
    case undefined:
    case "list":
      return list(dir, options, ctx);
    case "verify":
      return verify(dir, ctx, options.pubkey === undefined ? undefined : String(options.pubkey));
    case "explain": {
      const result = explain(dir, requireArg(args, "explain ID"));
      ctx.stdout(ctx.json ? `${JSON.stringify(result)}\n` : `${result.summary.join("\n")}\n`);
      return 0;
    }
    case "proof":
      ctx.stdout(`${JSON.stringify(inclusionProof(dir, seqFor(dir, requireArg(args, "proof ID"))), null, ctx.json ? undefined : 2)}\n`);
      return 0;
    case "consistency": {
      const size = requireArg(args, "consistency OLD_SIZE");
      if (!/^\d+$/.test(size)) throw new AegisError("usage", `OLD_SIZE must be a number of entries, got "${size}"`);
      ctx.stdout(`${JSON.stringify(consistencyProof(dir, Number(size)), null, ctx.json ? undefined : 2)}\n`);
      return 0;
    }
    case "checkpoint": {
      const log = await AuditLog.open(dir);
      try {
        const checkpoint = await log.checkpoint();
        ctx.stdout(ctx.json ? `${JSON.stringify(checkpoint)}\n` : `checkpoint signed: ${checkpoint.treeSize} entries, root ${checkpoint.rootHash}\n`);
      } finally {
        await log.close();
      }
      return 0;
    }
    case "pubkey": {
      const info = publicKeyInfo(dir);
      ctx.stdout(ctx.json ? `${JSON.stringify(info)}\n` : `${info.publicKey}\n`);
      return 0;
    }
    default:
      throw new AegisError("usage", `unknown logs action "${action}"`, { hint: `use: aegisclaw logs [${ACTIONS}]` });
  }
}

async function list(dir: string, options: LogsOptions, ctx: CliContext): Promise<number> {
  const filter = parseFilter(options);
  let lastSeq = 0;
  for (const entry of readEntries(dir)) {
    lastSeq = entry.seq;
    if (matchesFilter(entry, filter)) ctx.stdout(formatEntry(entry, ctx.json));
  }
  if (options.follow !== true) return 0;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    for await (const entry of followEntries(dir, { filter: { ...filter, afterSeq: lastSeq }, signal: controller.signal })) {
      ctx.stdout(formatEntry(entry, ctx.json));
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  return 0;
}

async function verify(dir: string, ctx: CliContext, publicKey: string | undefined): Promise<number> {
  if (publicKey !== undefined && !/^[0-9a-f]{64}$/i.test(publicKey)) {
    throw new AegisError("usage", "--pubkey must be 64 hex characters (the output of `aegisclaw logs pubkey`)");
  }
  const report = await verifyLog(dir, publicKey === undefined ? {} : { publicKey: publicKey.toLowerCase() });
  if (ctx.json) ctx.stdout(`${JSON.stringify(report)}\n`);
  if (report.ok) {
    if (!ctx.json) {
      const covered = report.latestCheckpoint ? `latest signed checkpoint covers ${report.latestCheckpoint.treeSize}` : "no checkpoint";
      ctx.stdout(`audit log intact: ${report.entries} entries in ${report.segments} segment(s), ${report.checkpoints} checkpoint(s); ${covered}; root ${report.rootHash}\n`);
    }
    return 0;
  }
  const f = report.failure;
  const where = f ? [f.seq !== undefined ? `entry ${f.seq}` : undefined, f.segment, f.line !== undefined ? `line ${f.line}` : undefined].filter(Boolean).join(", ") : "unknown";
  ctx.stderr(`aegisclaw: audit log FAILED verification at ${where}: ${f?.reason ?? "unknown failure"}\n  fix: keep the files as evidence; compare with a backup or exported checkpoints\n`);
  return 1;
}

function requireArg(args: string[], usage: string): string {
  const value = args[0];
  if (value === undefined || value === "") throw new AegisError("usage", `missing argument: aegisclaw logs ${usage}`);
  return value;
}

/** A seq, or the first entry of a runId. */
function seqFor(dir: string, id: string): number {
  if (/^\d+$/.test(id)) return Number(id);
  for (const entry of readEntries(dir, { runId: id })) return entry.seq;
  throw new AegisError("bad-input", `no audit entry for run ${id}`);
}

function parseFilter(options: LogsOptions): EntryFilter {
  const filter: EntryFilter = {};
  if (options.since !== undefined) filter.since = parseSince(String(options.since));
  if (options.decision !== undefined) {
    const kind = String(options.decision);
    if (kind !== "allow" && kind !== "deny" && kind !== "ask") throw new AegisError("usage", `--decision must be allow, deny or ask, got "${kind}"`);
    filter.decision = kind;
  }
  return filter;
}

/** `10m`, `2h`, `30s`, `7d` ago, or an ISO 8601 time. */
export function parseSince(text: string, now = Date.now()): Date {
  const match = /^(\d+)(s|m|h|d)$/.exec(text);
  if (match) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "s" | "m" | "h" | "d"];
    return new Date(now - Number(match[1]) * unit);
  }
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new AegisError("usage", `--since must be an ISO time or a duration like 10m, got "${text}"`);
  return new Date(time);
}

function matchesFilter(entry: AuditEntry, filter: EntryFilter): boolean {
  if (filter.since && Date.parse(entry.time) < filter.since.getTime()) return false;
  return !filter.decision || entry.decision?.kind === filter.decision;
}

/** One human line (seq, time, type, actor, outcome), or the entry as one JSON line. */
export function formatEntry(entry: AuditEntry, json: boolean): string {
  if (json) return `${JSON.stringify(entry)}\n`;
  let outcome = entry.note ?? "";
  if (entry.decision) {
    const reason = entry.decision.reasons[0];
    outcome = `${entry.decision.kind.toUpperCase()}${reason ? ` [${reason.rule}] ${reason.message}` : ""}${entry.decision.approvedBy ? ` (approved by ${entry.decision.approvedBy})` : ""}`;
  } else if (entry.result) {
    const r = entry.result;
    outcome = `exit ${r.exitCode} in ${r.durationMs} ms${r.timedOut ? " (timed out)" : ""}${r.killedBy ? ` (killed by ${r.killedBy})` : ""}`;
  }
  const argv = Array.isArray(entry.request?.argv) ? ` ${(entry.request.argv as unknown[]).join(" ")}` : "";
  return `${String(entry.seq).padStart(6)}  ${entry.time}  ${entry.type.padEnd(8)}  ${entry.actor.name}@${entry.actor.source}${entry.runId ? `  ${entry.runId}` : ""}${argv}  ${outcome}\n`;
}
