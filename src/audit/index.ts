/**
 * Tamper-evident audit log: append-only JSONL segments whose lines are chained by hash and
 * are the leaves of an RFC 9162 Merkle tree, with ed25519-signed checkpoints of the root.
 * Format: docs/audit-format.md.
 */
export { AuditLog, type AuditLogOptions } from "./log.ts";
export { initAuditDir } from "./keys.ts";
export { verifyLog, type VerifyFailure, type VerifyOptions, type VerifyReport } from "./verify.ts";
export { explain, followEntries, readEntries, type EntryFilter, type Explanation } from "./query.ts";
export { recentEntries } from "./recent.ts";
export { RecentTail, type HistoryFact, type WrittenLines } from "./recent-tail.ts";
export { consistencyProof, inclusionProof, publicKeyInfo, type ConsistencyProof, type InclusionProof } from "./proofs.ts";
export { checkpointMessage, type Checkpoint } from "./checkpoints.ts";
// ed25519 (native with an @noble fallback), shared with skill signing.
export { generateSecretKey, publicKeyOf, signMessage, verifySignature } from "./ed25519.ts";
export { AUDIT_SOURCES, AUDIT_TYPES, GENESIS_PREV, type AuditEntry } from "./constants.ts";
// Types only: the zod schema itself loads lazily on the first append (see log.ts).
export type { AuditReason, AuditRecord, AuditSource } from "./schema.ts";
export { announcedChange } from "./announced.ts";
