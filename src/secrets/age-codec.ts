import { Decrypter, Encrypter } from "age-encryption";
import { AegisError } from "../shared/index.ts";

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Encrypts a value to one or more X25519 recipients (binary age format, readable by `age -d`). */
export async function encryptValue(value: string, recipients: readonly string[]): Promise<Uint8Array> {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  return encrypter.encrypt(value);
}

/**
 * Decrypts one secret file. Library errors are replaced by a short message naming the file and
 * the likely cause; they never contain plaintext, but they are kept only as `cause` so the
 * reported text stays ours. The MAC and the STREAM chunks are checked by age itself, so a
 * flipped or truncated byte anywhere fails here rather than returning altered data.
 */
export async function decryptValue(ciphertext: Uint8Array, identity: string, file: string): Promise<string> {
  const decrypter = new Decrypter();
  decrypter.addIdentity(identity);
  let plaintext: Uint8Array;
  try {
    plaintext = await decrypter.decrypt(ciphertext);
  } catch (error) {
    const message = error instanceof Error ? error.message : "";
    if (message.includes("no identity matched")) {
      throw new AegisError("integrity", `${file} is not encrypted to this store's identity`, {
        hint: "the identity was replaced or the file comes from another store; restore the matching secrets/identity.txt or set the secret again",
        cause: error,
      });
    }
    throw new AegisError("integrity", `${file} is damaged or was tampered with (age decryption failed)`, {
      hint: "restore the file from a backup or set the secret again",
      cause: error,
    });
  }
  try {
    return STRICT_UTF8.decode(plaintext);
  } catch (error) {
    throw new AegisError("bad-input", `${file} does not hold UTF-8 text`, { hint: "secrets are text values; set it again with `aegisclaw secrets set`", cause: error });
  } finally {
    plaintext.fill(0);
  }
}

/**
 * How many recipient stanzas an age file's header has. A rotation writes files to the old and
 * new identity at once; more than one stanza marks a file a crashed rotation left behind.
 */
export function recipientStanzaCount(ciphertext: Uint8Array): number {
  const end = ciphertext.indexOf(0x0a, Math.max(0, indexOfMac(ciphertext)));
  const header = new TextDecoder("latin1").decode(ciphertext.subarray(0, end === -1 ? ciphertext.length : end));
  return header.split("\n").filter((line) => line.startsWith("-> ")).length;
}

function indexOfMac(bytes: Uint8Array): number {
  const marker = new TextEncoder().encode("\n--- ");
  outer: for (let i = 0; i + marker.length <= bytes.length; i++) {
    for (let j = 0; j < marker.length; j++) if (bytes[i + j] !== marker[j]) continue outer;
    return i + 1;
  }
  return -1;
}
