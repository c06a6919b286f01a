/**
 * One output stream through the redactor. Bytes are scanned once by the automaton; a byte
 * is emitted only when no match that could still cover it is unknown, i.e. it lies before
 * the "frontier": the start of the longest pattern prefix in progress, of any detector
 * candidate still waiting for bytes, and of an open high-entropy run. Matches are applied
 * in (start, longest) order and overlapping matches are merged into one redaction, so
 * no part of a secret survives next to a neighbouring match.
 */
import type { Automaton } from "./automaton.ts";
import type { Detector } from "./detectors.ts";
import { EntropyScanner } from "./entropy.ts";

/** A secret-bearing output stream (stdout or stderr of one run). */
export interface RedactionStream {
  /** Feeds a chunk; returns the bytes that are safe to emit now (may alias `chunk`). */
  push(chunk: Uint8Array | string): Uint8Array;
  /** End of stream: returns everything still held back, redacted. The stream is then closed. */
  flush(): Uint8Array;
  /** Bytes currently held back (never more than `Redactor.holdBackLimit()`). */
  readonly heldBytes: number;
}

/** A compiled pattern set: immutable, replaced wholesale when secrets are added. */
export interface CompiledPatterns {
  automaton: Automaton;
  /** Exact pattern id -> kind (`secret:NAME`). */
  exactKinds: readonly string[];
  /** Trigger pattern id -> detector index and prefix length. */
  triggers: ReadonlyArray<{ detector: number; length: number }>;
  detectors: readonly Detector[];
}

/** What a stream needs from its redactor. */
export interface StreamSource {
  compiled(): CompiledPatterns;
  readonly highEntropy: boolean;
  replacementFor(kind: string): Uint8Array;
  record(kind: string): void;
}

interface Match {
  start: number;
  end: number;
  kind: string;
  /** Tie-break for equal spans: secrets, then detectors in order, then entropy. */
  rank: number;
  fromAutomaton: boolean;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const ENTROPY_RANK = 1_000;

function concat(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 0) return EMPTY;
  if (pieces.length === 1) return pieces[0]!;
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

/** The {@link RedactionStream} implementation; built by `Redactor.stream()`. */
export class ByteRedactionStream implements RedactionStream {
  private held: Uint8Array = EMPTY;
  /** Absolute offset of `held[0]`; everything before it has been emitted. */
  private base = 0;
  /** The byte at `base - 1` (-1 at stream start), for detectors' left-boundary check. */
  private previousByte = -1;
  private state = 0;
  private compiled: CompiledPatterns | undefined;
  private matches: Match[] = [];
  private candidates: Array<{ detector: number; start: number }> = [];
  private readonly entropy: EntropyScanner | undefined;
  /** End of the redaction currently being suppressed (absolute). */
  private spanEnd = 0;
  private closed = false;

  constructor(private readonly source: StreamSource) {
    this.entropy = source.highEntropy ? new EntropyScanner() : undefined;
  }

  get heldBytes(): number {
    return this.held.length;
  }

  push(chunk: Uint8Array | string): Uint8Array {
    if (this.closed) throw new Error("redaction stream already flushed");
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    return this.process(bytes, false);
  }

  flush(): Uint8Array {
    if (this.closed) throw new Error("redaction stream already flushed");
    const out = this.process(EMPTY, true);
    this.closed = true;
    this.held = EMPTY;
    return out;
  }

  private process(bytes: Uint8Array, atEnd: boolean): Uint8Array {
    const compiled = this.source.compiled();
    const buf = this.held.length === 0 ? bytes : concat([this.held, bytes]);
    const base = this.base;
    let scanFrom = this.held.length;
    if (compiled !== this.compiled) {
      // Secrets were added: rescan what is still held with the new automaton. Bytes already
      // emitted cannot be recalled, which is why secrets are registered before a run starts.
      this.compiled = compiled;
      this.state = 0;
      this.matches = this.matches.filter((match) => !match.fromAutomaton);
      this.candidates = [];
      scanFrom = 0;
    }
    const { automaton, exactKinds, triggers, detectors } = compiled;
    this.state = automaton.scan(buf, scanFrom, buf.length, this.state, (state, index) => {
      const end = base + index + 1;
      const length = automaton.longestLength[state]!;
      if (length > 0) {
        const kind = exactKinds[automaton.longestId[state]!] ?? "secret";
        this.matches.push({ start: end - length, end, kind, rank: 0, fromAutomaton: true });
      }
      const list = automaton.allLists[automaton.allIndex[state]!];
      if (list === undefined) return;
      for (const id of list) {
        const trigger = triggers[id];
        if (trigger === undefined) continue;
        const start = end - trigger.length;
        const before = start > base ? buf[start - base - 1]! : this.previousByte;
        if (before >= 0 && detectors[trigger.detector]!.blockedBefore[before] === 1) continue;
        this.candidates.push({ detector: trigger.detector, start });
      }
    });
    const end = base + buf.length;
    const entropy = this.entropy;
    if (entropy !== undefined) {
      const onRun = (start: number, stop: number) => this.matches.push({ start, end: stop, kind: "high-entropy", rank: ENTROPY_RANK, fromAutomaton: false });
      entropy.scan(buf, base, this.held.length, buf.length, onRun);
      if (atEnd) entropy.finish(buf, base, end, onRun);
    }
    this.candidates = this.candidates.filter((candidate) => {
      const verdict = detectors[candidate.detector]!.evaluate(buf.subarray(candidate.start - base), atEnd);
      if (verdict.status === "pending") return true;
      if (verdict.status === "match") {
        this.matches.push({ start: candidate.start, end: candidate.start + verdict.length, kind: verdict.kind, rank: 1 + candidate.detector, fromAutomaton: true });
      }
      return false;
    });

    let frontier = atEnd ? end : end - automaton.holdDepth[this.state]!;
    for (const candidate of this.candidates) frontier = Math.min(frontier, candidate.start);
    if (entropy !== undefined && entropy.runStart >= 0) frontier = Math.min(frontier, entropy.runStart);

    const pieces: Uint8Array[] = [];
    let cursor = base;
    const advanceTo = (target: number) => {
      if (cursor < this.spanEnd) cursor = Math.min(this.spanEnd, target);
      if (cursor < target) pieces.push(buf.subarray(cursor - base, target - base));
      cursor = Math.max(cursor, target);
    };
    if (this.matches.length > 1) this.matches.sort((a, b) => a.start - b.start || b.end - a.end || a.rank - b.rank);
    const remaining: Match[] = [];
    for (const match of this.matches) {
      if (match.start >= frontier) {
        remaining.push(match);
        continue;
      }
      advanceTo(match.start);
      if (match.start < this.spanEnd) {
        this.spanEnd = Math.max(this.spanEnd, match.end);
        continue;
      }
      pieces.push(this.source.replacementFor(match.kind));
      this.source.record(match.kind);
      this.spanEnd = match.end;
    }
    advanceTo(frontier);
    this.matches = remaining;

    if (frontier > base) this.previousByte = buf[frontier - base - 1]!;
    // Copy: the caller may reuse its chunk buffer once push() returns.
    this.held = frontier === end ? EMPTY : buf.slice(frontier - base);
    this.base = frontier;
    return concat(pieces);
  }
}
