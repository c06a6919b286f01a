/**
 * Failures are errors with a literal `code`; decisions (allow/deny/ask) are values, never errors.
 * One table maps codes to exit codes (see DESIGN.md) so every front end reports the same outcome.
 */
export type ErrorCode =
  | "usage" // bad CLI arguments
  | "bad-input" // malformed config, manifest, request or log entry
  | "unavailable" // a dependency (Docker, image, runtime) is missing or down
  | "lockdown" // lockdown is active
  | "denied" // policy or approver said no
  | "integrity" // audit log or key material failed verification
  | "internal";

/** An expected failure with a stable code and a message that says how to fix it. */
export class AegisError extends Error {
  readonly code: ErrorCode;
  /** A one-line hint on how to fix the problem, shown after the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AegisError";
    this.code = code;
    this.hint = options.hint;
  }
}

/** Exit codes of the CLI contract (DESIGN.md). */
export const exitCodeFor: Record<ErrorCode, number> = {
  usage: 64,
  "bad-input": 65,
  unavailable: 69,
  lockdown: 75,
  denied: 77,
  integrity: 1,
  internal: 1,
};

/** True when `error` is an AegisError with the given code. */
export function isAegisError(error: unknown, code?: ErrorCode): error is AegisError {
  return error instanceof AegisError && (code === undefined || error.code === code);
}
