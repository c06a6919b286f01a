/** One line of run output as the console keeps it. */
export interface OutputLine {
  text: string;
  stderr: boolean;
}

/**
 * A fixed-capacity ring of lines: pushing past capacity overwrites the oldest line, so a run
 * printing thousands of lines a second costs the same memory as one printing ten.
 */
export class LineRing {
  private readonly texts: string[];
  private readonly errs: Uint8Array;
  private start = 0;
  private size = 0;
  private pushed = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`ring capacity must be a positive integer, got ${capacity}`);
    this.texts = new Array<string>(capacity).fill("");
    this.errs = new Uint8Array(capacity);
  }

  /** Lines currently held (never more than `capacity`). */
  get length(): number {
    return this.size;
  }

  /** Lines pushed over the ring's lifetime that it no longer holds. */
  get dropped(): number {
    return this.pushed - this.size;
  }

  push(text: string, stderr: boolean): void {
    const index = (this.start + this.size) % this.capacity;
    this.texts[index] = text;
    this.errs[index] = stderr ? 1 : 0;
    this.pushed++;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /**
   * Up to `count` lines ending `fromEnd` lines before the newest (0 = the newest line last).
   * Oldest first.
   */
  window(count: number, fromEnd = 0): OutputLine[] {
    const end = Math.max(0, this.size - Math.max(0, fromEnd));
    const begin = Math.max(0, end - Math.max(0, count));
    const lines: OutputLine[] = [];
    for (let i = begin; i < end; i++) {
      const index = (this.start + i) % this.capacity;
      lines.push({ text: this.texts[index] ?? "", stderr: this.errs[index] === 1 });
    }
    return lines;
  }
}

/**
 * A run's output: complete lines in a ring, plus the unfinished last line of each stream
 * (a prompt without a newline should still show). Unfinished lines are capped too, so output
 * with no newline at all cannot grow memory either.
 */
export class RunOutput {
  readonly lines: LineRing;
  private partial = { stdout: "", stderr: "" };

  constructor(
    capacity: number,
    private readonly maxLineChars: number,
  ) {
    this.lines = new LineRing(capacity);
  }

  append(stream: "stdout" | "stderr", text: string): void {
    const pieces = (this.partial[stream] + text).split("\n");
    // The last piece has no newline yet: it stays pending.
    const rest = pieces.pop() ?? "";
    for (const piece of pieces) this.pushLong(piece.endsWith("\r") ? piece.slice(0, -1) : piece, stream === "stderr");
    this.partial[stream] = this.capPartial(rest, stream === "stderr");
  }

  /** Unfinished lines, shown after the complete ones. */
  pending(): OutputLine[] {
    const lines: OutputLine[] = [];
    if (this.partial.stdout) lines.push({ text: this.partial.stdout, stderr: false });
    if (this.partial.stderr) lines.push({ text: this.partial.stderr, stderr: true });
    return lines;
  }

  private pushLong(line: string, stderr: boolean): void {
    // Very long lines are split rather than kept whole so one line cannot hold megabytes.
    for (let offset = 0; offset < line.length || offset === 0; offset += this.maxLineChars) {
      this.lines.push(line.slice(offset, offset + this.maxLineChars), stderr);
      if (line.length === 0) break;
    }
  }

  private capPartial(rest: string, stderr: boolean): string {
    let remaining = rest;
    while (remaining.length > this.maxLineChars) {
      this.lines.push(remaining.slice(0, this.maxLineChars), stderr);
      remaining = remaining.slice(this.maxLineChars);
    }
    return remaining;
  }
}
