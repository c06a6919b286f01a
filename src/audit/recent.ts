import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { AuditEntry } from "./constants.ts";
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
  let fd: number;
  try {
    fd = openSync(segmentPath(dir, last), "r");
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const bytes = new Uint8Array(size - start);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, start + done);
      if (n === 0) break;
      done += n;
    }
    const { lines } = splitLines(bytes.subarray(0, done));
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
  } finally {
    closeSync(fd);
  }
}
