/**
 * Streaming multi-pattern redactor (issue 7). Registered secret values and their encodings
 * are found with one Aho–Corasick automaton over bytes; built-in detectors catch well-known
 * credential formats; an optional high-entropy detector catches the rest at a cost in
 * false positives. Streams hold back only what an unfinished match could still need.
 */
export { Redactor, type RedactionCounts, type RedactorOptions } from "./redactor.ts";
export type { RedactionStream } from "./stream.ts";
export { MIN_SECRET_LENGTH, secretVariants } from "./encodings.ts";
export { DETECTOR_MAX_LENGTH } from "./detectors.ts";
export { ENTROPY_MAX_LENGTH, ENTROPY_MIN_LENGTH, ENTROPY_THRESHOLD } from "./entropy.ts";
