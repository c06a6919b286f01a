import { statSync } from "node:fs";
import type { AuditEntry } from "./constants.ts";
import { readRange } from "./io.ts";
import { listSegments, segmentPath, splitLines } from "./layout.ts";
import { parseEntry } from "./query.ts";
import { recentEntries } from "./recent.ts";

/** Entries kept at most, whatever the window: a flood of decisions cannot grow it further. */
const MAX_KEPT = 20_000;

/**
 * The newest entries of the log, kept up to date incrementally: each call reads only what any
 * process appended since the previous call (one stat, usually one small read), instead of
 * re-parsing the log's tail for every decision. For context such as the policy input's
 * history, not for integrity: it starts from `recentEntries` and skips lines it cannot parse.
 */
export class RecentTail {
  private segment = -1;
  private offset = 0;
  private kept: AuditEntry[] = [];

  constructor(
    private readonly dir: string,
    private readonly windowMs: number,
  ) {}

  /** Entries no older than the window (oldest first), including other processes' appends. */
  entries(now = Date.now()): readonly AuditEntry[] {
    const newest = listSegments(this.dir).at(-1);
    if (newest === undefined) return [];
    const path = segmentPath(this.dir, newest);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return this.kept;
    }
    if (newest !== this.segment || size < this.offset) this.restart(newest, size);
    else if (size > this.offset) this.readNew(path, size);
    const since = now - this.windowMs;
    const firstFresh = this.kept.findIndex((entry) => Date.parse(entry.time) >= since);
    if (firstFresh !== 0) this.kept = firstFresh === -1 ? [] : this.kept.slice(firstFresh);
    return this.kept;
  }

  /** A new segment, or a truncated one (crash recovery): start again from its tail. */
  private restart(segment: number, size: number): void {
    this.segment = segment;
    this.kept = recentEntries(this.dir);
    this.offset = size;
  }

  private readNew(path: string, size: number): void {
    const bytes = readRange(path, this.offset, size);
    const { lines } = splitLines(bytes);
    let consumed = 0;
    for (const [from, to] of lines) {
      try {
        this.kept.push(parseEntry(bytes.subarray(from, to)));
      } catch {
        // not an entry we can read; verifyLog reports it
      }
      consumed = to + 1;
    }
    // A line still being written stays for the next call.
    this.offset += consumed;
    if (this.kept.length > MAX_KEPT) this.kept = this.kept.slice(-MAX_KEPT);
  }
}
