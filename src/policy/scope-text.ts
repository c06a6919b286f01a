import { AegisError } from "../shared/index.ts";

// C0 and C1 controls (NUL included) and DEL: never part of a path, host or name anyone means to
// write, and they can rewrite what a terminal or approval prompt shows.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Bidirectional overrides and isolates make a scope display in a different order than it is
// matched (the "Trojan Source" trick), so an approver could be shown one path and grant another.
const BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * Why `text` cannot appear in a scope target, or undefined when it can. Lone surrogates and
 * U+FFFD are refused because they are what non-UTF-8 bytes turn into on the way to a string:
 * two different byte strings on disk could then compare equal here.
 */
export function unsafeCharacter(text: string): string | undefined {
  if (text.includes("\0")) return "contains a NUL byte";
  if (CONTROL.test(text)) return "contains a control character";
  if (!text.isWellFormed()) return "is not valid UTF-8 (contains a lone surrogate)";
  if (text.includes("\ufffd")) return "is not valid UTF-8 (contains U+FFFD, the replacement character)";
  if (BIDI.test(text)) return "contains a bidirectional control character";
  return undefined;
}

/**
 * `text` quoted for an error message: controls, bidi marks and lone surrogates escaped and long
 * input cut, so a hostile scope cannot rewrite the terminal that prints its rejection.
 */
export function quoteForMessage(text: string): string {
  const cut = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  const escaped = cut.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/gu, (char) => {
    // With the u flag a well-formed pair is one code point and does not match the class; only a
    // lone surrogate (a single code unit) and the listed controls get here.
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
  return `"${escaped}"`;
}

/** A bad-input error about a scope target; parseScope prefixes the scope it came from. */
export function targetError(message: string, hint?: string): AegisError {
  return new AegisError("bad-input", message, hint === undefined ? {} : { hint });
}
