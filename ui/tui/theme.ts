import { type OptimizedBuffer, RGBA, StyledText, TextAttributes, type TextChunk } from "@opentui/core";

/** What a piece of text means; the theme decides how that looks (colour, or nothing under NO_COLOR). */
export type Tone = "plain" | "muted" | "good" | "bad" | "warn" | "accent" | "alarm";

/** A run of text with one meaning. */
export interface Segment {
  text: string;
  tone?: Tone;
  bold?: boolean;
  /** Reverse video: the selection marker, visible with or without colour. */
  inverse?: boolean;
}

/** One screen line. Panes build lines; the theme turns them into styled text. */
export type Line = Segment[];

/** Shorthand for a segment. */
export function seg(text: string, tone: Tone = "plain", extra: Omit<Segment, "text" | "tone"> = {}): Segment {
  return { text, tone, ...extra };
}

const COLOURS: Record<Tone, string> = {
  plain: "#d0d0d0",
  muted: "#808080",
  good: "#5fd75f",
  bad: "#ff5f5f",
  warn: "#ffd75f",
  accent: "#5fafff",
  alarm: "#ffffff",
};

/**
 * Colours, or none. With NO_COLOR every cell uses the terminal's default foreground and
 * background (no SGR colour codes at all); emphasis falls back to bold and reverse video,
 * and lockdown to a double frame and a reverse-video banner.
 */
export class Theme {
  readonly defaultFg = RGBA.defaultForeground();
  readonly defaultBg = RGBA.defaultBackground();

  constructor(readonly noColor: boolean) {}

  colour(tone: Tone): RGBA {
    return this.noColor ? this.defaultFg : RGBA.fromHex(COLOURS[tone]);
  }

  /** The screen frame: red and doubled during lockdown. */
  frame(lockdown: boolean): { borderColor: RGBA; borderStyle: "rounded" | "double" } {
    if (this.noColor) return { borderColor: this.defaultFg, borderStyle: lockdown ? "double" : "rounded" };
    return { borderColor: RGBA.fromHex(lockdown ? "#ff0000" : "#5f87af"), borderStyle: lockdown ? "double" : "rounded" };
  }

  /** Lines to one styled text, newline separated. */
  styled(lines: readonly Line[]): StyledText {
    const chunks: TextChunk[] = [];
    lines.forEach((line, index) => {
      if (index > 0) chunks.push(this.chunk({ text: "\n" }));
      for (const segment of line) if (segment.text) chunks.push(this.chunk(segment));
    });
    return new StyledText(chunks);
  }

  private chunk(segment: Segment): TextChunk {
    const bold = segment.bold ? TextAttributes.BOLD : 0;
    const alarm = segment.tone === "alarm";
    if (this.noColor) {
      const inverse = segment.inverse || alarm ? TextAttributes.INVERSE : 0;
      return { __isChunk: true, text: segment.text, fg: this.defaultFg, bg: this.defaultBg, attributes: bold | inverse | (alarm ? TextAttributes.BOLD : 0) };
    }
    // With colour, highlights are explicit colours: OpenTUI swaps fg/bg for INVERSE and also
    // sends SGR 7, so the terminal would swap them back.
    if (alarm) return { __isChunk: true, text: segment.text, fg: RGBA.fromHex(COLOURS.alarm), bg: RGBA.fromHex("#c00000"), attributes: bold };
    if (segment.inverse) return { __isChunk: true, text: segment.text, fg: RGBA.fromHex("#000000"), bg: RGBA.fromHex(COLOURS.accent), attributes: bold };
    return { __isChunk: true, text: segment.text, fg: this.colour(segment.tone ?? "plain"), bg: this.defaultBg, attributes: bold };
  }
}

/**
 * A renderer post-process step for NO_COLOR: resets every cell to the terminal's default
 * colours after the frame is drawn. The widgets already get default colours from the theme;
 * this also covers cells no widget drew (OpenTUI clears them with an explicit white), so the
 * terminal receives no colour codes at all.
 */
export function stripColours(buffer: OptimizedBuffer): void {
  const fg = RGBA.defaultForeground().buffer;
  const bg = RGBA.defaultBackground().buffer;
  const cells = buffer.buffers;
  for (let i = 0; i + 3 < cells.fg.length; i += 4) {
    cells.fg.set(fg, i);
    cells.bg.set(bg, i);
  }
}
