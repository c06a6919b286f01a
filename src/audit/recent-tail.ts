import { statSync } from "node:fs";
import { PROBE_WINDOW_MS } from "../shared/index.ts";
import type { AuditEntry } from "./constants.ts";
import { readRange } from "./io.ts";
import { listSegments, segmentPath, splitLines } from "./layout.ts";
import { recentEntries } from "./recent.ts";

/** What the history needs of one decision entry: whose it was, when, and whether it denied. */
export interface HistoryFact {
  /** `name\0source` of the actor. */
  actor: string;
  time: number;
  deny: boolean;
}

/**
 * Lines this process appended, as its audit log wrote them: the segment, the byte range, and
 * the history facts of the entries in it. The writer hands these over so that a tail in the
 * same thread need not read and parse its own appends back.
 */
export interface WrittenLines {
  segment: number;
  start: number;
  end: number;
  facts: HistoryFact[];
}

/** The history facts of some entries (decisions only). */
export function historyFacts(entries: readonly AuditEntry[]): HistoryFact[] {
  const facts: HistoryFact[] = [];
  for (const entry of entries) {
    const time = Date.parse(entry.time);
    if (entry.type !== "decision" || !entry.actor || !Number.isFinite(time)) continue;
    facts.push({ actor: actorKey(entry.actor), time, deny: entry.decision?.kind === "deny" });
  }
  return facts;
}

/** A next segment up to this size is read whole when the tail moves on to it; a larger one from its tail. */
const FOLLOW_MAX_BYTES = 1024 * 1024;
/** Segments followed in one call at most before starting again from the newest one's tail. */
const MAX_FOLLOW_HOPS = 8;

/** Written ranges kept at most while waiting to be reached: a tail nobody asks never grows further. */
const MAX_PENDING_WRITES = 4096;

/**
 * Per-actor counts of recent decisions and denials from the log, kept up to date incrementally:
 * a call stats the segment it follows (at most once per probe window) and reads only what was
 * appended since, whoever appended it (any process or thread), instead of re-parsing the log's
 * tail for every decision. Ranges this process wrote itself and announced with
 * {@link noteWritten} are taken from the announcement instead of being read back. For context
 * such as the policy input's history, not for integrity: it starts from `recentEntries` and
 * skips lines it cannot parse.
 */
export class RecentTail {
  private segment = -1;
  private offset = 0;
  /** Per actor: decision times and deny times, oldest first, pruned lazily. */
  private readonly byActor = new Map<string, { decisions: Window; denies: Window }>();
  /** Announced ranges not reached yet, by `segment:start`. */
  private readonly written = new Map<string, WrittenLines>();

  /** When the files were last looked at (performance.now()). */
  private probedAt = Number.NEGATIVE_INFINITY;

  /**
   * `probeWindowMs`: how long one look at the files answers (default PROBE_WINDOW_MS); another
   * writer's entries count up to that much later. Lines announced here count at once.
   */
  constructor(
    private readonly dir: string,
    private readonly windowMs: number,
    private readonly probeWindowMs = PROBE_WINDOW_MS,
  ) {}

  /**
   * How many decisions (and denials) `actor` had within the window: O(1) amortised per call,
   * so the policy input's history costs the same however busy the log is.
   */
  history(actor: { name: string; source: string }, now = Date.now()): { decisions: number; denies: number } {
    this.catchUp();
    const counts = this.byActor.get(actorKey(actor));
    if (!counts) return { decisions: 0, denies: 0 };
    const since = now - this.windowMs;
    return { decisions: counts.decisions.countSince(since), denies: counts.denies.countSince(since) };
  }

  /**
   * Takes the facts of lines this process wrote. Whether they arrive before or after the tail
   * reaches those bytes does not matter: a range already read is ignored, one not yet reached
   * is used instead of reading it when the tail gets there.
   */
  noteWritten(lines: WrittenLines): void {
    if (lines.segment < this.segment || (lines.segment === this.segment && lines.start < this.offset)) return;
    if (this.written.size >= MAX_PENDING_WRITES) this.written.clear();
    this.written.set(`${lines.segment}:${lines.start}`, lines);
  }

  /**
   * Counts the lines announced where the tail stands, then, at most once per probe window, reads
   * what else was appended since the last look: one stat of the segment it follows. It looks
   * for a next segment only when that one has stopped growing (a roll-over by any writer leaves
   * the old segment as it was) or when this process announced lines beyond it, and then follows
   * the log from segment to segment, keeping the counts; entries in a segment another writer
   * just started are counted one call later, never lost. The segment listing is read only on
   * the first call and when the tail fell behind by more than it follows.
   */
  private catchUp(): void {
    const now = performance.now();
    if (this.segment < 0) {
      this.probedAt = now;
      return this.restartFromListing();
    }
    this.takeAnnounced();
    if (now - this.probedAt < this.probeWindowMs) return;
    this.probedAt = now;
    for (let hops = 0; ; hops++) {
      const path = segmentPath(this.dir, this.segment);
      const size = sizeOf(path);
      // Our segment vanished (only tampering removes one) or was cut (crash recovery).
      if (size === undefined || size < this.offset) return this.restartFromListing();
      const grew = size > this.offset;
      if (grew) this.readNew(path, size);
      if (grew && !this.announcedBeyond()) return;
      const nextSize = sizeOf(segmentPath(this.dir, this.segment + 1));
      if (nextSize === undefined) return;
      if (nextSize > FOLLOW_MAX_BYTES || hops >= MAX_FOLLOW_HOPS) return this.restartFromListing();
      this.segment += 1;
      this.offset = 0;
      for (const [key, lines] of this.written) if (lines.segment < this.segment) this.written.delete(key);
    }
  }

  /** Counts the lines this process announced from where the tail stands, without a stat (their bytes are written). */
  private takeAnnounced(): void {
    while (this.takeAnnouncedAtOffset(Number.POSITIVE_INFINITY)) {
      // each range taken moves the offset to where the next one may start
    }
  }

  /** Counts the range announced at the tail's offset, if there is one ending by `limit`; says whether it did. */
  private takeAnnouncedAtOffset(limit: number): boolean {
    const key = `${this.segment}:${this.offset}`;
    const announced = this.written.get(key);
    if (!announced || announced.end > limit) return false;
    this.written.delete(key);
    for (const fact of announced.facts) this.keep(fact);
    this.offset = announced.end;
    return true;
  }

  /** Whether this process wrote lines in a segment after ours (it rolled the log over itself). */
  private announcedBeyond(): boolean {
    for (const lines of this.written.values()) if (lines.segment > this.segment) return true;
    return false;
  }

  /** Starts again from the tail of the newest segment (the first call, or a tail that cannot follow). */
  private restartFromListing(): void {
    const newest = listSegments(this.dir).at(-1);
    if (newest === undefined) return;
    const size = sizeOf(segmentPath(this.dir, newest));
    if (size === undefined) {
      this.segment = -1;
      return;
    }
    this.restart(newest, size);
  }

  /** Counts again from the tail of `segment` (recentEntries), and follows it from `size` on. */
  private restart(segment: number, size: number): void {
    this.segment = segment;
    this.byActor.clear();
    for (const fact of historyFacts(recentEntries(this.dir))) this.keep(fact);
    this.offset = size;
    for (const [key, lines] of this.written) if (lines.segment < segment || (lines.segment === segment && lines.start < size)) this.written.delete(key);
  }

  private keep(fact: HistoryFact): void {
    let counts = this.byActor.get(fact.actor);
    if (!counts) this.byActor.set(fact.actor, (counts = { decisions: new Window(), denies: new Window() }));
    counts.decisions.add(fact.time);
    if (fact.deny) counts.denies.add(fact.time);
    // Pruning as entries arrive keeps an actor that is never asked about from growing without end.
    counts.decisions.countSince(fact.time - this.windowMs);
    counts.denies.countSince(fact.time - this.windowMs);
  }

  /** Consumes [offset, size): announced ranges from their facts, the rest (other writers) from the file. */
  private readNew(path: string, size: number): void {
    while (this.offset < size) {
      if (this.takeAnnouncedAtOffset(size)) continue;
      const consumed = this.readLines(path, size);
      // A line still being written stays for the next call.
      if (consumed === 0) return;
    }
  }

  /** Reads whole lines from the file at `offset`, up to `size` or the next announced range; returns the bytes consumed. */
  private readLines(path: string, size: number): number {
    let stop = size;
    for (const lines of this.written.values()) if (lines.segment === this.segment && lines.start > this.offset && lines.start < stop) stop = lines.start;
    const bytes = readRange(path, this.offset, stop);
    const { lines } = splitLines(bytes);
    let consumed = 0;
    for (const [from, to] of lines) {
      try {
        const entry = JSON.parse(Buffer.from(bytes.subarray(from, to)).toString("utf8")) as AuditEntry;
        for (const fact of historyFacts([entry])) this.keep(fact);
      } catch {
        // not an entry we can read; verifyLog reports it
      }
      consumed = to + 1;
    }
    this.offset += consumed;
    return consumed;
  }
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

function actorKey(actor: { name: string; source: string }): string {
  return `${actor.name}\0${actor.source}`;
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
