import { Decrypter, Encrypter, armor, generateX25519Identity, identityToRecipient } from "age-encryption";
import { AegisError } from "../shared/index.ts";

/** An identity ready to use: the private key and its public recipient. */
export interface UnlockedIdentity {
  /** `AGE-SECRET-KEY-1...` (X25519; hybrid keys are not readable by the age 1.1 CLI). */
  identity: string;
  /** `age1...` */
  recipient: string;
}

/** How an identity file is protected at rest. */
export interface SealOptions {
  /** Encrypt the identity file with this passphrase (age scrypt recipient). */
  passphrase?: string;
  /**
   * scrypt log2(N) below age's default of 18. Only tests set it: a low factor makes offline
   * guessing of the passphrase cheap, so production code never passes it.
   */
  scryptWorkFactorForTests?: number;
}

const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";

/** A fresh X25519 identity. */
export async function generateIdentity(): Promise<UnlockedIdentity> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/**
 * The identity file's text: the same three lines `age-keygen` writes, so `age -d -i` reads it;
 * with a passphrase, that text age-encrypted and armored, which `age -d -i` also accepts
 * (it asks for the passphrase on the terminal).
 */
export async function sealIdentity(key: UnlockedIdentity, options: SealOptions = {}): Promise<string> {
  const text = `# created: ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}\n# public key: ${key.recipient}\n${key.identity}\n`;
  if (options.passphrase === undefined) return text;
  if (options.passphrase === "") throw new AegisError("bad-input", "the passphrase is empty", { hint: "choose a passphrase of several random words" });
  const encrypter = new Encrypter();
  encrypter.setPassphrase(options.passphrase);
  if (options.scryptWorkFactorForTests !== undefined) encrypter.setScryptWorkFactor(options.scryptWorkFactorForTests);
  return armor.encode(await encrypter.encrypt(text));
}

/** True when the identity file's text is passphrase-protected. */
export function isSealedWithPassphrase(text: string): boolean {
  return text.startsWith(ARMOR_BEGIN) || text.startsWith("age-encryption.org/");
}

/** Parses an identity file, decrypting it first when it is passphrase-protected. */
export async function openIdentity(text: string, file: string, passphrase: () => Promise<string>): Promise<UnlockedIdentity> {
  const plain = isSealedWithPassphrase(text) ? await unsealText(text, file, await passphrase()) : text;
  const line = plain.split("\n").find((candidate) => candidate.startsWith("AGE-SECRET-KEY-1"));
  if (line === undefined) {
    throw new AegisError("integrity", `${file} holds no X25519 identity (AGE-SECRET-KEY-1...)`, { hint: "restore the identity file from a backup" });
  }
  const identity = line.trim();
  try {
    return { identity, recipient: await identityToRecipient(identity) };
  } catch (error) {
    throw new AegisError("integrity", `${file} holds a malformed identity`, { hint: "restore the identity file from a backup", cause: error });
  }
}

async function unsealText(text: string, file: string, passphrase: string): Promise<string> {
  let ciphertext: Uint8Array;
  try {
    ciphertext = text.startsWith(ARMOR_BEGIN) ? armor.decode(text) : new TextEncoder().encode(text);
  } catch (error) {
    throw new AegisError("integrity", `${file} is damaged (bad armor)`, { hint: "restore the identity file from a backup", cause: error });
  }
  const decrypter = new Decrypter();
  decrypter.addPassphrase(passphrase);
  try {
    return await decrypter.decrypt(ciphertext, "text");
  } catch (error) {
    // age cannot tell a wrong passphrase from a damaged file: both fail the header MAC.
    throw new AegisError("integrity", `cannot unlock ${file}: wrong passphrase, or the file is damaged`, {
      hint: "check AEGISCLAW_SECRETS_PASSPHRASE or retype the passphrase",
      cause: error,
    });
  }
}
