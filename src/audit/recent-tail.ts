import { existsSync, statSync } from "node:fs";
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
  /** Per actor ("name\0source"): decision times and deny times, oldest first, pruned lazily. */
  private readonly byActor = new Map<string, { decisions: Window; denies: Window }>();

  constructor(
    private readonly dir: string,
    private readonly windowMs: number,
  ) {}

  /** Entries no older than the window (oldest first), including other processes' appends. */
  entries(now = Date.now()): readonly AuditEntry[] {
    this.catchUp();
    const since = now - this.windowMs;
    if (this.kept.length > MAX_KEPT) this.kept = this.kept.slice(-MAX_KEPT);
    const firstFresh = this.kept.findIndex((entry) => Date.parse(entry.time) >= since);
    if (firstFresh !== 0) this.kept = firstFresh === -1 ? [] : this.kept.slice(firstFresh);
    return this.kept;
  }

  /**
   * How many decisions (and denials) `actor` had within the window: O(1) amortised per call,
   * so the policy input's history costs the same however busy the log is.
   */
  history(actor: { name: string; source: string }, now = Date.now()): { decisions: number; denies: number } {
    this.catchUp();
    const counts = this.byActor.get(`${actor.name}\0${actor.source}`);
    if (!counts) return { decisions: 0, denies: 0 };
    const since = now - this.windowMs;
    return { decisions: counts.decisions.countSince(since), denies: counts.denies.countSince(since) };
  }

  /**
   * Reads what was appended since the last call. The segment list is read only when a next
   * segment exists (or on the first call): a stat or two per decision instead of a readdir.
   */
  private catchUp(): void {
    let newest = this.segment;
    if (newest < 0 || existsSync(segmentPath(this.dir, newest + 1))) {
      const listed = listSegments(this.dir).at(-1);
      if (listed === undefined) return;
      newest = listed;
    }
    const path = segmentPath(this.dir, newest);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      // Our segment vanished (only tampering removes one): look again from the listing next time.
      this.segment = -1;
      return;
    }
    if (newest !== this.segment || size < this.offset) this.restart(newest, size);
    else if (size > this.offset) this.readNew(path, size);
  }

  /** A new segment, or a truncated one (crash recovery): start again from its tail. */
  private restart(segment: number, size: number): void {
    this.segment = segment;
    this.kept = [];
    this.byActor.clear();
    for (const entry of recentEntries(this.dir)) this.keep(entry);
    this.offset = size;
  }

  private keep(entry: AuditEntry): void {
    this.kept.push(entry);
    if (entry.type !== "decision") return;
    const key = `${entry.actor.name}\0${entry.actor.source}`;
    let counts = this.byActor.get(key);
    if (!counts) this.byActor.set(key, (counts = { decisions: new Window(), denies: new Window() }));
    const time = Date.parse(entry.time);
    counts.decisions.add(time);
    if (entry.decision?.kind === "deny") counts.denies.add(time);
    // Pruning as entries arrive keeps an actor that is never asked about from growing without end.
    counts.decisions.countSince(time - this.windowMs);
    counts.denies.countSince(time - this.windowMs);
  }

  private readNew(path: string, size: number): void {
    const bytes = readRange(path, this.offset, size);
    const { lines } = splitLines(bytes);
    let consumed = 0;
    for (const [from, to] of lines) {
      try {
        this.keep(parseEntry(bytes.subarray(from, to)));
      } catch {
        // not an entry we can read; verifyLog reports it
      }
      consumed = to + 1;
    }
    // A line still being written stays for the next call.
    this.offset += consumed;
    // Trimmed in steps, not on every call: slicing 20,000 entries per decision cost more than the rest.
    if (this.kept.length > 2 * MAX_KEPT) this.kept = this.kept.slice(-MAX_KEPT);
  }
}

/** Times in arrival order; counting those since a moment drops older ones for good. */
class Window {
  private times: number[] = [];
  private start = 0;

  add(time: number): void {
    this.times.push(time);
  }

  countSince(since: number): number {
    while (this.start < this.times.length && (this.times[this.start] ?? 0) < since) this.start++;
    if (this.start > 4096 && this.start * 2 > this.times.length) {
      this.times = this.times.slice(this.start);
      this.start = 0;
    }
    return this.times.length - this.start;
  }
}
