import { statSync } from "node:fs";
import type { AuditEntry } from "./constants.ts";
import { readRange } from "./io.ts";
import { listSegments, segmentPath, splitLines } from "./layout.ts";
import { parseEntry } from "./query.ts";

/** How far back `recentEntries` reads: bounded so the Gate's cost never grows with the log. */
const TAIL_BYTES = 256 * 1024;

/**
 * The newest entries, read from at most the last 256 KiB of the newest segment (oldest
 * first). For context such as "how many denials in the last minutes", not for integrity:
 * lines that do not parse are skipped, and a fresh segment simply has less history.
 */
export function recentEntries(dir: string): AuditEntry[] {
  const last = listSegments(dir).at(-1);
  if (last === undefined) return [];
  const path = segmentPath(dir, last);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return [];
  }
  const start = Math.max(0, size - TAIL_BYTES);
  const bytes = readRange(path, start, size);
  const { lines } = splitLines(bytes);
  // When we started mid-file, the first "line" is a fragment.
  const complete = start > 0 ? lines.slice(1) : lines;
  const entries: AuditEntry[] = [];
  for (const [from, to] of complete) {
    try {
      entries.push(parseEntry(bytes.subarray(from, to)));
    } catch {
      // not an entry we can read; verifyLog reports it
    }
  }
  return entries;
}
