import type { AuditRecord } from "./schema.ts";

/**
 * Audit before action for a change to a store (secrets, tokens): `record()` is appended, and
 * durable, before `work` runs, so if the log cannot be written nothing changes; if `work` then
 * fails, `record(message)` follows as a best-effort second entry and the error is rethrown.
 * The failure text goes into the log: callers pass work whose errors never carry secrets.
 */
export async function announcedChange<T>(audit: { append(record: AuditRecord): Promise<unknown> }, record: (failed?: string) => AuditRecord, work: () => Promise<T>): Promise<T> {
  await audit.append(record());
  try {
    return await work();
  } catch (error) {
    const failed = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
    await audit.append(record(failed)).catch(() => undefined);
    throw error;
  }
}
