/**
 * Plain values and types of the audit format, kept apart from the zod schema (schema.ts) so
 * that reading and verifying the log never loads the validator: only appends need it.
 */
import type { AuditRecord } from "./schema.ts";

/** Every source an action can come from. */
export const AUDIT_SOURCES = ["cli", "tui", "web", "api", "ws", "mcp", "openclaw", "system"] as const;

/** Every entry type (docs/audit-format.md); readers filter by these. */
export const AUDIT_TYPES = ["decision", "result", "lockdown", "unlock", "init", "recovery", "approval", "policy", "egress", "secret", "sandbox", "token"] as const;

/**
 * A stored entry. `seq` starts at 1; `prev` is the previous entry's hash (64 zeros for the
 * first); `hash` is not stored in the line: it is the RFC 9162 leaf hash of the line bytes.
 */
export interface AuditEntry extends AuditRecord {
  seq: number;
  time: string;
  prev: string;
  hash: string;
}

/** `prev` of the first entry. */
export const GENESIS_PREV = "0".repeat(64);

/** Largest accepted line; a bigger record is a caller bug (raw output belongs elsewhere). */
export const MAX_LINE_BYTES = 1024 * 1024;
