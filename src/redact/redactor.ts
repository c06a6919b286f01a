/**
 * The redactor: registered secret values (and their encodings) plus detectors for
 * well-known credential formats, applied to every output stream before any consumer sees
 * it (DESIGN.md invariant 3).
 */
import { AegisError } from "../shared/index.ts";
import { Automaton, type AutomatonPattern } from "./automaton.ts";
import { DETECTOR_MAX_LENGTH, DETECTORS } from "./detectors.ts";
import { MIN_SECRET_LENGTH, secretVariants } from "./encodings.ts";
import { ENTROPY_MAX_LENGTH } from "./entropy.ts";
import { ByteRedactionStream, type CompiledPatterns, type RedactionStream, type StreamSource } from "./stream.ts";

/** Redactions made so far, by kind (`secret:NAME`, `github-token`, ...). Never values. */
export interface RedactionCounts {
  total: number;
  byKind: Record<string, number>;
}

/** Construction options; every field is optional. */
export interface RedactorOptions {
  /** Run the built-in credential-format detectors (default true). */
  detectors?: boolean;
  /** Flag random-looking base64 runs (default false; see entropy.ts for the trade-offs). */
  highEntropy?: boolean;
  /** Text that replaces a match of `kind` (default `[REDACTED:${kind}]`). */
  replacement?: (kind: string) => string;
}

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Multi-pattern streaming redactor. Create one per run; open one stream per output. */
export class Redactor {
  private readonly useDetectors: boolean;
  private readonly replacement: (kind: string) => string;
  private readonly replacements = new Map<string, Uint8Array>();
  /** Variant bytes (latin1 string) -> kind; the first name registered for a form wins. */
  private readonly forms = new Map<string, string>();
  private readonly tally = new Map<string, number>();
  private total = 0;
  private current: CompiledPatterns | undefined;
  private readonly source: StreamSource;

  constructor(options: RedactorOptions = {}) {
    this.useDetectors = options.detectors ?? true;
    this.replacement = options.replacement ?? ((kind) => `[REDACTED:${kind}]`);
    this.source = {
      compiled: () => this.compiled(),
      highEntropy: options.highEntropy ?? false,
      replacementFor: (kind) => this.replacementFor(kind),
      record: (kind) => {
        this.total++;
        this.tally.set(kind, (this.tally.get(kind) ?? 0) + 1);
      },
    };
  }

  /**
   * Registers a secret: its exact UTF-8 bytes and its base64 / base64url (padded, unpadded
   * and at all three alignments inside longer base64), hex (lower, upper) and
   * `encodeURIComponent` forms. Values shorter than {@link MIN_SECRET_LENGTH} characters
   * are refused: they would redact ordinary text and give a false sense of safety.
   * Streams already open pick the secret up from their next `push` on.
   */
  addSecret(name: string, value: string): void {
    if (!NAME.test(name)) {
      throw new AegisError("bad-input", "secret name must be 1-128 characters of A-Z a-z 0-9 _ . : -", { hint: "rename the secret, e.g. GITHUB_TOKEN" });
    }
    if ([...value].length < MIN_SECRET_LENGTH) {
      // The message names the secret, never its value or exact length (invariant 3).
      throw new AegisError("bad-input", `secret ${name} is too short to redact safely (minimum ${MIN_SECRET_LENGTH} characters)`, {
        hint: "use a longer secret value; short values would be redacted everywhere they appear in ordinary output",
      });
    }
    const kind = `secret:${name}`;
    let added = false;
    for (const form of secretVariants(value)) {
      const key = Buffer.from(form).toString("latin1");
      if (this.forms.has(key)) continue;
      this.forms.set(key, kind);
      added = true;
    }
    if (added) this.current = undefined;
  }

  /** Redacts a whole string at once; same result as streaming it in any chunking. */
  redactText(text: string): string {
    return decoder.decode(this.redactBytes(encoder.encode(text)));
  }

  /** Redacts a whole byte buffer at once; invalid UTF-8 passes through unchanged. */
  redactBytes(bytes: Uint8Array): Uint8Array {
    const stream = this.stream();
    const head = stream.push(bytes);
    const tail = stream.flush();
    if (tail.length === 0) return head;
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    return out;
  }

  /** A new stream (one per stdout / stderr); streams are independent but share counts. */
  stream(): RedactionStream {
    return new ByteRedactionStream(this.source);
  }

  /** Totals across every stream and one-shot call so far. */
  counts(): RedactionCounts {
    return { total: this.total, byKind: Object.fromEntries(this.tally) };
  }

  /**
   * The most bytes any stream holds back between calls: the longest registered form minus
   * one, or the detector window ({@link DETECTOR_MAX_LENGTH}, PEM blocks and JWTs) or the
   * high-entropy run cap when those are on, whichever is largest.
   */
  holdBackLimit(): number {
    const longest = this.compiled().automaton.maxLength;
    return Math.max(longest - 1, this.useDetectors ? DETECTOR_MAX_LENGTH : 0, this.source.highEntropy ? ENTROPY_MAX_LENGTH - 1 : 0, 0);
  }

  private replacementFor(kind: string): Uint8Array {
    let bytes = this.replacements.get(kind);
    if (bytes === undefined) {
      bytes = encoder.encode(this.replacement(kind));
      this.replacements.set(kind, bytes);
    }
    return bytes;
  }

  private compiled(): CompiledPatterns {
    if (this.current !== undefined) return this.current;
    const exact: AutomatonPattern[] = [];
    const exactKinds: string[] = [];
    for (const [form, kind] of this.forms) {
      exact.push({ bytes: Buffer.from(form, "latin1"), id: exactKinds.length });
      exactKinds.push(kind);
    }
    const all: AutomatonPattern[] = [];
    const triggers: Array<{ detector: number; length: number }> = [];
    const detectors = this.useDetectors ? DETECTORS : [];
    detectors.forEach((detector, index) => {
      for (const prefix of detector.prefixes) {
        all.push({ bytes: Buffer.from(prefix, "latin1"), id: triggers.length });
        triggers.push({ detector: index, length: prefix.length });
      }
    });
    this.current = { automaton: new Automaton(exact, all), exactKinds, triggers, detectors };
    return this.current;
  }
}
