/**
 * The Gate's secrets stage (DESIGN.md: audit -> secrets -> sandbox). Before the decision it
 * checks what it can without reading a granted value; after the decision (and any approval) is
 * durable it reads exactly the granted values, registers them and every other known value with
 * the run's redactor, and hands them to the sandbox as files in a private tmpfs directory that
 * is erased when the run ends, whatever ends it.
 */
import { MIN_SECRET_LENGTH, Redactor, secretVariants } from "../redact/index.ts";
import { prepareSecretsBase, type SandboxSpec } from "../sandbox/index.ts";
import type { KnownSecret, RunSecretSource } from "../secrets/index.ts";
import { AegisError, isAegisError } from "../shared/index.ts";
import type { PreparedRun } from "./gate-prepare.ts";
import { createRunSecretDirs, runSecretNames } from "./gate-secret-dirs.ts";

/**
 * Before the decision: the granted names must exist and be readable without a person who is not
 * there, the delivery directory must be usable (tmpfs, private), and the command line must not
 * carry a known secret value (argv is recorded in the
 * audit log as given and is visible in `docker inspect` and `ps`). Nothing is recorded when
 * this refuses: it is bad input, like a forbidden mount.
 */
export async function checkRunSecrets(source: RunSecretSource | undefined, prepared: PreparedRun): Promise<void> {
  const names = runSecretNames(prepared.spec);
  if (names.length > 0 && !source) {
    throw new AegisError("unavailable", "this run is granted secrets but this AegisClaw process has no secret store", { hint: "run it through the aegisclaw CLI or server, which open the configured store" });
  }
  if (!source) return;
  if (names.length > 0) {
    await source.check(names);
    prepareSecretsBase();
  }
  // The environment is checked too: it is stored in the container's config (docker inspect).
  const sidecars = prepared.spec.compose?.sidecars ?? [];
  const texts = [...prepared.request.argv, ...Object.values(prepared.spec.env ?? {}), ...sidecars.flatMap((sidecar) => [...sidecar.argv, ...Object.values(sidecar.env ?? {})])];
  refuseKnownValues(texts, await source.known());
}

/**
 * Runs `run` with the spec's secrets delivered: each container granted any (the main one, and
 * each service of a multi-container run) gets a directory of its own with only its own names,
 * and the redactor knows every granted value. Without granted secrets it only registers the
 * known values with the redactor. Errors that leave here pass the run's redactor first.
 */
export async function withRunSecrets<T>(source: RunSecretSource | undefined, spec: SandboxSpec, redactor: Redactor, run: (spec: SandboxSpec) => Promise<T>): Promise<T> {
  try {
    const names = runSecretNames(spec);
    if (names.length > 0 && !source) throw new AegisError("unavailable", "this run is granted secrets but this AegisClaw process has no secret store");
    // Read first: unlocking a sealed store for the grants makes the rest of it known too.
    const values = source && names.length > 0 ? await source.read(names) : new Map<string, string>();
    // Registered before anything runs: a stream cannot recall bytes it already emitted.
    for (const [name, value] of values) registerGranted(redactor, name, value);
    if (source) for (const secret of await source.known()) registerKnown(redactor, secret);
    if (names.length === 0) return await run(spec);
    const dirs = createRunSecretDirs(spec, values);
    let outcome: T;
    try {
      outcome = await run(dirs.spec);
    } catch (error) {
      try {
        dirs.remove();
      } catch {
        // The run's own failure is the one to report; once this process has exited, the next
        // run that delivers secrets sweeps what is left.
      }
      throw error;
    }
    try {
      dirs.remove();
    } catch (error) {
      throw new AegisError("internal", `the run ended but its secret directory could not be erased: ${(error as Error).message}`, { hint: `remove ${dirs.paths.join(", ")} by hand (they hold secret values)` });
    }
    return outcome;
  } catch (error) {
    throw redactedError(error, redactor);
  }
}

/**
 * The error with its message and hint redacted; the same object when nothing needed it. Stack
 * traces are dropped on a rewritten error: they repeat the message.
 */
export function redactedError(error: unknown, redactor: Redactor): unknown {
  if (!(error instanceof Error)) return error;
  const message = redactor.redactText(error.message);
  const hint = isAegisError(error) && error.hint !== undefined ? redactor.redactText(error.hint) : undefined;
  if (message === error.message && (!isAegisError(error) || hint === error.hint)) return error;
  return new AegisError(isAegisError(error) ? error.code : "internal", message, hint === undefined ? {} : { hint });
}

/** Looks for every form the redactor would catch; plain substring search (the texts are short, and no automaton needs building). */
function refuseKnownValues(texts: readonly string[], known: readonly KnownSecret[]): void {
  if (known.length === 0) return;
  const line = Buffer.from(texts.join(" ")).toString("latin1");
  const found = new Set<string>();
  for (const secret of known) if (searchableForms(secret).some((form) => line.includes(form))) found.add(secret.name);
  const names = [...found];
  if (names.length === 0) return;
  throw new AegisError("bad-input", `the command line or environment contains the value of secret ${names.join(", ")} (or an encoding of it); nothing was run or recorded`, {
    hint: `a command line is recorded in the audit log and shown by ps, and both are visible in docker inspect: grant --scope secrets.read:${names[0]} and read /run/secrets/${names[0]} inside the sandbox`,
  });
}

/**
 * Every encoding of a known value (and of it trimmed) as latin1 text, computed once per known
 * secret: the resolver hands out the same objects while the store is unchanged, and every
 * decision checks its command line against all of them.
 */
const formsOf = new WeakMap<KnownSecret, string[]>();
function searchableForms(secret: KnownSecret): string[] {
  let forms = formsOf.get(secret);
  if (!forms) {
    forms = [];
    for (const value of new Set([secret.value, secret.value.trim()])) {
      if ([...value].length < MIN_SECRET_LENGTH) continue;
      for (const form of secretVariants(value)) forms.push(Buffer.from(form).toString("latin1"));
    }
    formsOf.set(secret, forms);
  }
  return forms;
}

/**
 * A redactor that knows every value the store shows without a person (plus the detectors), for
 * text that does not come from one of our runs: an agent host's report of a tool call.
 */
export async function knownValuesRedactor(source: RunSecretSource | undefined): Promise<Redactor> {
  const redactor = new Redactor();
  if (source) for (const secret of await source.known()) registerKnown(redactor, secret);
  return redactor;
}

/** A granted value must be redactable, or it is not delivered (the redactor refuses very short values). */
function registerGranted(redactor: Redactor, name: string, value: string): void {
  redactor.addSecret(name, value);
  // A value stored with a trailing newline is usually printed without it.
  const trimmed = value.trim();
  if (trimmed !== value && trimmed.length > 0) registerKnown(redactor, { name, value: trimmed });
}

/** Values that are not delivered are redacted when they can be; too-short ones cannot be. */
function registerKnown(redactor: Redactor, secret: KnownSecret): void {
  for (const value of new Set([secret.value, secret.value.trim()])) {
    try {
      redactor.addSecret(secret.name, value);
    } catch (error) {
      if (!isAegisError(error, "bad-input")) throw error;
    }
  }
}
