/**
 * Detectors for well-known credential formats. Each is triggered by a fixed prefix found by
 * the same automaton as the secret values, then decides from the bytes that follow. A
 * verdict is only given once it can no longer change with more input (the token has
 * ended, a length bound is exceeded, or the stream ended), which is what keeps streaming
 * output identical to one-shot output however the input is chunked.
 */

/** What a detector says about a trigger: wait for more bytes, no match, or a match. */
export type DetectorVerdict = { status: "pending" } | { status: "none" } | { status: "match"; length: number; kind: string };

/** A credential format recogniser. */
export interface Detector {
  /** Literal prefixes that start a candidate (ASCII). */
  readonly prefixes: readonly string[];
  /** Bytes that, right before the prefix, mean "inside another word": no candidate. */
  readonly blockedBefore: Uint8Array;
  /** Longest match in bytes; a candidate never holds back more than this. */
  readonly maxLength: number;
  /** Decides on the bytes from the prefix start; `atEnd` means no more bytes will come. */
  evaluate(window: Uint8Array, atEnd: boolean): DetectorVerdict;
}

/** Window cap for PEM blocks and JWTs; bounds what an open candidate may hold back. */
export const DETECTOR_MAX_LENGTH = 8192;

const PENDING: DetectorVerdict = { status: "pending" };
const NONE: DetectorVerdict = { status: "none" };

/** Lookup table of the bytes matching a character-class body such as `A-Za-z0-9_-`. */
export function byteSet(spec: string): Uint8Array {
  const table = new Uint8Array(256);
  for (let i = 0; i < spec.length; i++) {
    const from = spec.charCodeAt(i);
    if (spec[i + 1] === "-" && i + 2 < spec.length) {
      for (let c = from; c <= spec.charCodeAt(i + 2); c++) table[c] = 1;
      i += 2;
    } else table[from] = 1;
  }
  return table;
}

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
const hasDigit = (text: string): boolean => /[0-9]/.test(text);
const hasLetter = (text: string): boolean => /[A-Za-z]/.test(text);

interface TokenSpec {
  prefixes: string[];
  /** Characters of the token after the prefix; the token ends at the first other byte. */
  charset: string;
  maxBody: number;
  /** Returns the match length in bytes for the whole token text, or 0 for no match. */
  accept(token: string, prefix: string): number;
  kind(token: string): string;
}

/** A prefix followed by a run of token characters, judged once the run has ended. */
function tokenDetector(spec: TokenSpec): Detector {
  const body = byteSet(spec.charset);
  const longestPrefix = Math.max(...spec.prefixes.map((prefix) => prefix.length));
  return {
    prefixes: spec.prefixes,
    blockedBefore: body,
    maxLength: longestPrefix + spec.maxBody,
    evaluate(window, atEnd) {
      const head = latin1(window.subarray(0, longestPrefix));
      const prefix = spec.prefixes.find((candidate) => head.startsWith(candidate)) ?? "";
      let end = prefix.length;
      while (end < window.length && body[window[end]!] === 1) {
        end++;
        if (end - prefix.length > spec.maxBody) return NONE;
      }
      if (end === window.length && !atEnd) return PENDING;
      const token = latin1(window.subarray(0, end));
      const length = spec.accept(token, prefix);
      return length > 0 ? { status: "match", length, kind: spec.kind(token) } : NONE;
    },
  };
}

const exactBody = (pattern: RegExp) => (token: string, prefix: string) => (pattern.test(token.slice(prefix.length)) ? token.length : 0);

/** Accepts `header.payload.signature` (signature may be empty), ignoring trailing sentence dots. */
function acceptJwt(token: string): number {
  const parts = token.split(".");
  if (parts.length === 3 && (parts[0]?.length ?? 0) >= 4 && (parts[1]?.length ?? 0) >= 2) return token.length;
  const trimmed = token.replace(/\.+$/, "");
  if (trimmed !== token) {
    const inner = trimmed.split(".");
    if (inner.length === 3 && (inner[2]?.length ?? 0) > 0) return trimmed.length;
    if (inner.length === 2) return trimmed.length + 1; // unsigned token "h.p." keeps its dot
  }
  return 0;
}

const PEM_HEADER = /^-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;
const PEM_COMPLETE = /^-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;
// A truncated key (no END within the cap or before the stream ended): redact the header and
// the base64/header lines that follow, so a key cut off mid-print still does not leak.
const PEM_TRUNCATED = /^-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\r?\n(?:[A-Za-z-]+: [^\r\n]*|[A-Za-z0-9+/=]+))*/;
const PEM_HEADER_MAX = 96;

/** PEM / OpenSSH / PGP private key blocks, bounded to {@link DETECTOR_MAX_LENGTH} bytes. */
const pemDetector: Detector = {
  prefixes: ["-----BEGIN "],
  blockedBefore: new Uint8Array(256),
  maxLength: DETECTOR_MAX_LENGTH,
  evaluate(full, atEnd) {
    const capped = full.length >= DETECTOR_MAX_LENGTH;
    const window = capped ? full.subarray(0, DETECTOR_MAX_LENGTH) : full;
    const head = latin1(window.subarray(0, PEM_HEADER_MAX));
    if (!PEM_HEADER.test(head)) {
      // The header cannot contain a newline and is at most PEM_HEADER_MAX bytes long.
      const settled = head.includes("\n") || head.length >= PEM_HEADER_MAX || capped || atEnd;
      return settled ? NONE : PENDING;
    }
    const final = capped || atEnd;
    const endAt = Buffer.from(window.buffer, window.byteOffset, window.length).indexOf("-----END ", 11);
    if (endAt < 0 && !final) return PENDING;
    const text = latin1(window);
    const complete = PEM_COMPLETE.exec(text);
    if (complete) return { status: "match", length: complete[0].length, kind: "pem-private-key" };
    if (!final) return PENDING;
    const truncated = PEM_TRUNCATED.exec(text);
    return truncated ? { status: "match", length: truncated[0].length, kind: "pem-private-key" } : NONE;
  },
};

/** The built-in detectors, most specific first (ties at the same span go to the earlier one). */
export const DETECTORS: readonly Detector[] = [
  pemDetector,
  tokenDetector({
    prefixes: ["AKIA", "ASIA"],
    charset: "A-Za-z0-9",
    maxBody: 16,
    accept: exactBody(/^[A-Z0-9]{16}$/),
    kind: () => "aws-access-key",
  }),
  tokenDetector({
    prefixes: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
    charset: "A-Za-z0-9_",
    maxBody: 36,
    accept: exactBody(/^[A-Za-z0-9]{36}$/),
    kind: () => "github-token",
  }),
  tokenDetector({
    prefixes: ["github_pat_"],
    charset: "A-Za-z0-9_",
    maxBody: 255,
    accept: exactBody(/^[A-Za-z0-9_]{22,255}$/),
    kind: () => "github-token",
  }),
  tokenDetector({
    prefixes: ["glpat-"],
    charset: "A-Za-z0-9_.-",
    maxBody: 255,
    accept: exactBody(/^[A-Za-z0-9_.-]{20,255}$/),
    kind: () => "gitlab-token",
  }),
  tokenDetector({
    prefixes: ["xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"],
    charset: "A-Za-z0-9-",
    maxBody: 255,
    accept: (token, prefix) => (token.length - prefix.length >= 10 && hasDigit(token.slice(prefix.length)) ? token.length : 0),
    kind: () => "slack-token",
  }),
  tokenDetector({
    // Ordinary words ("sk-learn", "task-runner") are excluded by the left boundary, the
    // 20-character minimum and requiring both a digit and a letter after the prefix.
    prefixes: ["sk-"],
    charset: "A-Za-z0-9_-",
    maxBody: 512,
    accept: (token, prefix) => {
      const body = token.slice(prefix.length);
      return body.length >= 20 && hasDigit(body) && hasLetter(body) ? token.length : 0;
    },
    kind: (token) => (token.startsWith("sk-ant-") ? "anthropic-key" : "openai-key"),
  }),
  tokenDetector({
    prefixes: ["AIza"],
    charset: "A-Za-z0-9_-",
    maxBody: 35,
    accept: exactBody(/^[A-Za-z0-9_-]{35}$/),
    kind: () => "google-api-key",
  }),
  tokenDetector({
    prefixes: ["eyJ"],
    charset: "A-Za-z0-9_.-",
    maxBody: DETECTOR_MAX_LENGTH - 3,
    accept: acceptJwt,
    kind: () => "jwt",
  }),
];
