import { AegisError } from "../shared/index.ts";

/** Secret names: the same rule as the `secrets.read:NAME` scope grammar. */
export const SECRET_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;
/** Longest accepted secret name. */
export const SECRET_NAME_MAX_LENGTH = 128;

/** True when `name` is a valid secret name. */
export function isSecretName(name: string): boolean {
  return name.length <= SECRET_NAME_MAX_LENGTH && SECRET_NAME_PATTERN.test(name);
}

/**
 * Throws a bad-input error for an invalid name. The rejected text is deliberately not echoed:
 * a common slip is pasting the value where the name goes (`secrets set sk-live-...`), and
 * error messages must never carry secret values (DESIGN.md invariant 3).
 */
export function assertSecretName(name: string): void {
  if (isSecretName(name)) return;
  throw new AegisError("bad-input", `invalid secret name (${name.length} characters; not repeated here in case it is a value)`, {
    hint: `names are upper-case letters, digits and _, start with a letter or _, at most ${SECRET_NAME_MAX_LENGTH} characters (e.g. GITHUB_TOKEN)`,
  });
}
