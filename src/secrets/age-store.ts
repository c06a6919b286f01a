import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { AegisError, writeFileAtomic } from "../shared/index.ts";
import { decryptValue, encryptValue } from "./age-codec.ts";
import type { SecretBackend, SecretMeta } from "./backend.ts";
import { generateIdentity, isSealedWithPassphrase, openIdentity, sealIdentity, type UnlockedIdentity } from "./identity.ts";
import { assertSecretName } from "./names.ts";
import { recoverRotation, rotationPending, runRotation, type RotateStep } from "./rotate.ts";
import { ensureStoreDir, listMeta, readIndex, secretFile, secretNamesOnDisk, storePaths, writeIndex, type StorePaths } from "./store-files.ts";
import { withStoreLock } from "./store-lock.ts";

/** Largest accepted value: secrets end up in environment variables, which have small limits. */
export const MAX_SECRET_BYTES = 1024 * 1024;

/** How an `AgeSecretStore` unlocks and (in tests) how it is made cheap or crashed. */
export interface AgeStoreOptions {
  /** Supplies the passphrase; called only when the identity is passphrase-protected and needed. */
  passphrase?: () => Promise<string>;
  /** Low scrypt work factor for new passphrase-protected identities. Tests only (see SealOptions). */
  scryptWorkFactorForTests?: number;
  /** Tests only: called at each rotation step; throwing there simulates a crash. */
  onRotateStep?: (step: RotateStep, name?: string) => void;
}

/**
 * The local secret store: `secrets/identity.txt` (X25519, 0600, optionally passphrase-sealed),
 * one binary age file per secret (`NAME.age`, 0600) and `index.json` (names and times). Files
 * are compatible with the age CLI: `age -d -i identity.txt NAME.age` prints a value.
 */
export class AgeSecretStore implements SecretBackend {
  /** The store's file names. */
  readonly paths: StorePaths;
  private cached: { text: string; key: UnlockedIdentity; passphrase: string | undefined } | undefined;

  constructor(
    dir: string,
    private readonly options: AgeStoreOptions = {},
  ) {
    this.paths = storePaths(dir);
  }

  /** True when an identity exists. */
  isInitialised(): boolean {
    return existsSync(this.paths.identity);
  }

  /** True when the identity file is sealed with a passphrase. */
  isPassphraseProtected(): boolean {
    return this.isInitialised() && isSealedWithPassphrase(readFileSync(this.paths.identity, "utf8"));
  }

  /**
   * True when this instance holds the unlocked key of the current identity file, so reads need
   * no passphrase (false before the first read of a sealed store, and after the file changed).
   */
  isUnlocked(): boolean {
    if (this.cached === undefined || !this.isInitialised()) return false;
    return this.cached.text === readFileSync(this.paths.identity, "utf8");
  }

  /** Creates the identity (refusing to replace one, or to orphan existing secret files). */
  async init(options: { passphrase?: string } = {}): Promise<{ recipient: string }> {
    ensureStoreDir(this.paths.dir);
    return withStoreLock(this.paths.lock, "exclusive", async () => {
      if (this.isInitialised()) {
        throw new AegisError("bad-input", `the secret store already has an identity (${this.paths.identity})`, { hint: "use `aegisclaw secrets rotate` to replace it" });
      }
      if (secretNamesOnDisk(this.paths.dir).length > 0) {
        throw new AegisError("bad-input", `${this.paths.dir} holds secret files but no identity.txt; a new identity could not read them`, {
          hint: "restore secrets/identity.txt from a backup, or delete the .age files first",
        });
      }
      const key = await generateIdentity();
      const text = await sealIdentity(key, { passphrase: options.passphrase, scryptWorkFactorForTests: this.options.scryptWorkFactorForTests });
      writeFileAtomic(this.paths.identity, text, 0o600);
      if (!existsSync(this.paths.index)) writeIndex(this.paths.index, { version: 1, secrets: {} });
      this.cached = { text, key, passphrase: options.passphrase };
      return { recipient: key.recipient };
    });
  }

  /** The store's public key (`age1...`): encrypt to it with `age -r` to add a secret from elsewhere. */
  async recipient(): Promise<string> {
    return (await this.unlock()).recipient;
  }

  /** Names and times of the stored secrets; needs no unlock and never reads a value. */
  async list(): Promise<SecretMeta[]> {
    this.requireIdentity();
    return withStoreLock(this.paths.lock, "shared", async () => listMeta(this.paths.dir, readIndex(this.paths.index)));
  }

  /** Decrypts one secret. */
  async get(name: string): Promise<string> {
    assertSecretName(name);
    this.requireIdentity();
    if (rotationPending(this.paths)) await withStoreLock(this.paths.lock, "exclusive", () => this.recoverIfPending());
    return withStoreLock(this.paths.lock, "shared", async () => {
      const key = await this.unlock();
      return decryptValue(this.readSecretFile(name), key.identity, `secrets/${name}.age`);
    });
  }

  /** Encrypts and stores a value, verifying it decrypts before the file replaces the old one. */
  async set(name: string, value: string): Promise<void> {
    assertSecretName(name);
    if (value === "") throw new AegisError("bad-input", `the value for ${name} is empty`, { hint: "give a non-empty value (stdin, the hidden prompt or --value)" });
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw new AegisError("bad-input", `the value for ${name} is larger than 1 MiB`, { hint: "store a path or reference instead" });
    this.requireIdentity();
    await withStoreLock(this.paths.lock, "exclusive", async () => {
      await this.recoverIfPending();
      const key = await this.unlock();
      const ciphertext = await encryptValue(value, [key.recipient]);
      if ((await decryptValue(ciphertext, key.identity, `secrets/${name}.age`)) !== value) {
        throw new AegisError("internal", `the new ${name}.age did not decrypt to its value; nothing was written`);
      }
      writeFileAtomic(secretFile(this.paths.dir, name), ciphertext, 0o600);
      const index = readIndex(this.paths.index);
      const now = new Date().toISOString();
      index.secrets[name] = { created: index.secrets[name]?.created ?? now, updated: now };
      writeIndex(this.paths.index, index);
    });
  }

  /** Deletes one secret (file first: once it is gone the value is gone, whatever the index says). */
  async remove(name: string): Promise<void> {
    assertSecretName(name);
    this.requireIdentity();
    await withStoreLock(this.paths.lock, "exclusive", async () => {
      const file = secretFile(this.paths.dir, name);
      if (!existsSync(file)) throw missingSecret(name);
      rmSync(file);
      rmSync(`${file}.new`, { force: true });
      const index = readIndex(this.paths.index);
      delete index.secrets[name];
      writeIndex(this.paths.index, index);
    });
  }

  /**
   * Replaces the identity with a new one (same passphrase, if any) and re-encrypts every secret;
   * crash-safe at every step (see `runRotation`). Every old file is decrypted before anything is
   * written, so an unreadable file aborts the rotation with nothing changed.
   */
  async rotate(): Promise<{ recipient: string; rotated: number }> {
    this.requireIdentity();
    return withStoreLock(this.paths.lock, "exclusive", async () => {
      await this.recoverIfPending();
      const previous = await this.unlock();
      const passphrase = this.cached?.passphrase;
      const values = new Map<string, string>();
      for (const name of secretNamesOnDisk(this.paths.dir)) {
        values.set(name, await decryptValue(this.readSecretFile(name), previous.identity, `secrets/${name}.age`));
      }
      const next = await generateIdentity();
      const nextIdentityText = await sealIdentity(next, { passphrase, scryptWorkFactorForTests: this.options.scryptWorkFactorForTests });
      const openStagedIdentity = () => openIdentity(readFileSync(this.paths.identityNew, "utf8"), "secrets/identity.txt.new", async () => passphrase ?? "");
      await runRotation({ paths: this.paths, previous, next, nextIdentityText, openStagedIdentity, values, onStep: this.options.onRotateStep });
      this.cached = { text: nextIdentityText, key: next, passphrase };
      return { recipient: next.recipient, rotated: values.size };
    });
  }

  /** Reads and opens identity.txt, asking for the passphrase only when the file changed. */
  private async unlock(): Promise<UnlockedIdentity> {
    this.requireIdentity();
    const mode = statSync(this.paths.identity).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new AegisError("integrity", `${this.paths.identity} is accessible to other users (mode ${mode.toString(8)})`, { hint: `chmod 600 ${this.paths.identity}` });
    }
    const text = readFileSync(this.paths.identity, "utf8");
    if (this.cached?.text === text) return this.cached.key;
    let passphrase: string | undefined;
    const ask = async () => {
      if (!this.options.passphrase) {
        throw new AegisError("usage", "the secret store identity is passphrase-protected and no passphrase was given", {
          hint: "set AEGISCLAW_SECRETS_PASSPHRASE or run the command on a terminal",
        });
      }
      passphrase = await this.options.passphrase();
      return passphrase;
    };
    const key = await openIdentity(text, "secrets/identity.txt", ask);
    this.cached = { text, key, passphrase };
    return key;
  }

  private async recoverIfPending(): Promise<void> {
    if (rotationPending(this.paths)) await recoverRotation(this.paths, await this.unlock());
  }

  private requireIdentity(): void {
    if (this.isInitialised()) return;
    throw new AegisError("bad-input", `the secret store has no identity (${this.paths.identity} does not exist)`, { hint: "run `aegisclaw secrets init`" });
  }

  private readSecretFile(name: string): Uint8Array {
    try {
      return new Uint8Array(readFileSync(secretFile(this.paths.dir, name)));
    } catch {
      throw missingSecret(name);
    }
  }
}

function missingSecret(name: string): AegisError {
  return new AegisError("bad-input", `no secret named ${name}`, { hint: "see `aegisclaw secrets list`" });
}
