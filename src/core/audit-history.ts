import { RecentTail, type WrittenLines } from "../audit/index.ts";
import { HISTORY_WINDOW_SECONDS, type HistorySource } from "./gate-prepare.ts";

/** The policy input's history, and where to tell it about lines this process wrote. */
export interface AuditHistory {
  source: HistorySource;
  /** Lines this process's audit log wrote (AuditLog.onWritten): counted without reading them back. */
  noteWritten(lines: WrittenLines): void;
}

/**
 * The policy input's history from the audit log in `auditDir`, read incrementally (re-parsing
 * the log's tail for every decision cost ~2.5 ms each). It sees every process's and thread's
 * appends, since it reads the files they all write; the ones announced to it it need not read.
 */
export function auditHistory(auditDir: string): AuditHistory {
  const recent = new RecentTail(auditDir, HISTORY_WINDOW_SECONDS * 1000);
  return {
    source: (actor) => {
      const { decisions, denies } = recent.history(actor);
      return { windowSeconds: HISTORY_WINDOW_SECONDS, recentDecisions: decisions, recentDenies: denies };
    },
    noteWritten: (lines) => recent.noteWritten(lines),
  };
}
