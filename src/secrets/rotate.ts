import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AegisError, fsyncDir, writeFileAtomic } from "../shared/index.ts";
import { decryptValue, encryptValue, recipientStanzaCount } from "./age-codec.ts";
import type { UnlockedIdentity } from "./identity.ts";
import { secretFile, secretNamesOnDisk, type StorePaths } from "./store-files.ts";

/** Points in a rotation where tests inject a crash (a throwing hook stops the rotation there). */
export type RotateStep = "marked" | "staged" | "swapped" | "identity-replaced" | "reencrypted";

/** Everything a rotation needs, prepared (and every old value decrypted) before anything is written. */
export interface RotationPlan {
  paths: StorePaths;
  previous: UnlockedIdentity;
  next: UnlockedIdentity;
  /** The new identity file's text (sealed with the same passphrase as the old one, if any). */
  nextIdentityText: string;
  /** Opens `identity.txt.new` as a later unlock would, to prove it is usable before it is committed. */
  openStagedIdentity: () => Promise<UnlockedIdentity>;
  values: ReadonlyMap<string, string>;
  onStep?: (step: RotateStep, name?: string) => void;
}

/**
 * Replaces the identity and re-encrypts every secret. Invariant: at every instant, each `.age`
 * file on disk decrypts with the `identity.txt` on disk, so a crash anywhere leaves a usable store.
 *
 * 1. `rotation.json` marks a rotation in progress (recipients only).
 *    Crash: nothing else changed; the next unlock removes the marker.
 * 2. `identity.txt.new` and every `NAME.age.new`, each encrypted to BOTH the old and the new
 *    identity, are written and decrypt-verified with each.
 *    Crash: old files and old identity intact; recovery deletes the `.new` files.
 * 3. Each `NAME.age.new` is renamed over `NAME.age`, one atomic rename at a time.
 *    Crash: every file is old-only or old+new, all readable by the old identity still on disk.
 * 4. `identity.txt.new` is renamed over `identity.txt`: the commit point.
 *    Crash: every file is old+new, readable by the new identity now on disk.
 * 5. Each file is rewritten (atomically) to the new identity alone, so the old key stops working.
 *    Crash: files are old+new or new-only, all readable by the new identity. Until recovery
 *    finishes this step, someone who copied the old key could still read the old+new files.
 * 6. `rotation.json` is removed.
 *
 * Recovery (`recoverRotation`) after a crash at any step: delete `identity.txt.new`, `*.age.new`
 * and temp files, rewrite every file with more than one recipient to the identity on disk alone,
 * then remove the marker. Before step 4 that rolls back, after it that rolls forward.
 */
export async function runRotation(plan: RotationPlan): Promise<void> {
  const { paths, previous, next, values } = plan;
  const step = plan.onStep ?? (() => {});
  writeFileAtomic(paths.rotationMarker, `${JSON.stringify({ started: new Date().toISOString(), from: previous.recipient, to: next.recipient })}\n`);
  step("marked");

  writeFileAtomic(paths.identityNew, plan.nextIdentityText, 0o600);
  const reopened = await plan.openStagedIdentity();
  if (reopened.recipient !== next.recipient) throw new AegisError("internal", "the staged identity does not reopen to the new key; rotation aborted");
  for (const [name, value] of values) {
    const both = await encryptValue(value, [previous.recipient, next.recipient]);
    await verify(both, value, next, `${name}.age.new`);
    await verify(both, value, previous, `${name}.age.new`);
    writeFileAtomic(`${secretFile(paths.dir, name)}.new`, both, 0o600);
  }
  step("staged");

  for (const name of values.keys()) {
    renameSync(`${secretFile(paths.dir, name)}.new`, secretFile(paths.dir, name));
    fsyncDir(paths.dir);
    step("swapped", name);
  }

  renameSync(paths.identityNew, paths.identity);
  fsyncDir(paths.dir);
  step("identity-replaced");

  for (const [name, value] of values) {
    await rewriteToSingle(secretFile(paths.dir, name), name, value, next);
    step("reencrypted", name);
  }
  rmSync(paths.rotationMarker, { force: true });
  fsyncDir(paths.dir);
}

/** True when a crashed rotation left work behind. */
export function rotationPending(paths: StorePaths): boolean {
  return existsSync(paths.rotationMarker) || existsSync(paths.identityNew);
}

/** Finishes or rolls back a crashed rotation (see `runRotation`); `current` is the identity on disk. */
export async function recoverRotation(paths: StorePaths, current: UnlockedIdentity): Promise<void> {
  for (const file of readdirSync(paths.dir)) {
    if (file === "identity.txt.new" || file.endsWith(".age.new") || /\.tmp-\d+-[0-9a-f]+$/.test(file)) rmSync(join(paths.dir, file), { force: true });
  }
  fsyncDir(paths.dir);
  for (const name of secretNamesOnDisk(paths.dir)) {
    const path = secretFile(paths.dir, name);
    const ciphertext = new Uint8Array(readFileSync(path));
    if (recipientStanzaCount(ciphertext) <= 1) continue;
    await rewriteToSingle(path, name, await decryptValue(ciphertext, current.identity, `secrets/${name}.age`), current);
  }
  rmSync(paths.rotationMarker, { force: true });
  fsyncDir(paths.dir);
}

async function rewriteToSingle(path: string, name: string, value: string, key: UnlockedIdentity): Promise<void> {
  const single = await encryptValue(value, [key.recipient]);
  await verify(single, value, key, `${name}.age`);
  writeFileAtomic(path, single, 0o600);
}

/** Decrypts what is about to be written; a mismatch aborts before the file reaches disk. */
async function verify(ciphertext: Uint8Array, value: string, key: UnlockedIdentity, label: string): Promise<void> {
  if ((await decryptValue(ciphertext, key.identity, label)) !== value) {
    throw new AegisError("internal", `${label} did not decrypt to the value it was written from; nothing was committed`);
  }
}

