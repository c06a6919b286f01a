import { RecentTail } from "../audit/index.ts";
import { HISTORY_WINDOW_SECONDS, type HistorySource } from "./gate-prepare.ts";

/**
 * The policy input's history from the audit log in `auditDir`, read incrementally (re-parsing
 * the log's tail for every decision cost ~2.5 ms each). It sees every process's and thread's
 * appends, since it reads the files they all write.
 */
export function auditHistory(auditDir: string): HistorySource {
  const recent = new RecentTail(auditDir, HISTORY_WINDOW_SECONDS * 1000);
  return (actor) => {
    const { decisions, denies } = recent.history(actor);
    return { windowSeconds: HISTORY_WINDOW_SECONDS, recentDecisions: decisions, recentDenies: denies };
  };
}
