import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AegisError, fsyncDir } from "../shared/index.ts";
import { files, segmentName } from "./layout.ts";
import { appendCheckpoint, signCheckpoint } from "./checkpoints.ts";
import { generateSecretKey, publicKeyOf, signMessage } from "./ed25519.ts";
import { EMPTY_ROOT, fromHex, toHex } from "./merkle.ts";

export { verifySignature } from "./ed25519.ts";

/** The checkpoint signing key pair. */
export interface SigningKey {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  /** First 16 hex characters of SHA-256(public key). */
  keyId: string;
}

/** Key id of a public key: the first 16 hex characters of its SHA-256. */
export function keyIdOf(publicKey: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(publicKey).digest("hex").slice(0, 16);
}

/**
 * Creates the audit directory (0700), a fresh ed25519 signing key (0600), its public key,
 * the first empty segment and a signed checkpoint of the empty tree, so that a brand-new log
 * already verifies and a later deletion of checkpoints.jsonl is detectable. Refuses to
 * replace an existing key: that would silently orphan every earlier checkpoint.
 */
export async function initAuditDir(dir: string): Promise<void> {
  const keyPath = join(dir, files.privateKey);
  if (existsSync(keyPath)) {
    throw new AegisError("bad-input", `an audit signing key already exists at ${keyPath}`, {
      hint: "keep it: replacing the key would make earlier checkpoints unverifiable",
    });
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secretKey = generateSecretKey();
  const publicKey = publicKeyOf(secretKey);
  // "wx": never clobber a key that another process created a moment ago.
  writeDurably(keyPath, `${toHex(secretKey)}\n`, 0o600);
  writeDurably(join(dir, files.publicKey), `${toHex(publicKey)}\n`, 0o644);
  writeDurably(join(dir, segmentName(1)), "", 0o600);
  appendCheckpoint(dir, signCheckpoint({ secretKey, publicKey, keyId: keyIdOf(publicKey) }, 0, EMPTY_ROOT));
  fsyncDir(dir);
}

/** Loads the signing key, or explains that `aegisclaw init` has not been run. */
export function loadSigningKey(dir: string): SigningKey {
  const keyPath = join(dir, files.privateKey);
  let text: string;
  try {
    text = readFileSync(keyPath, "utf8").trim();
  } catch {
    throw new AegisError("unavailable", `no audit signing key at ${keyPath}; run \`aegisclaw init\` first`, { hint: "`aegisclaw init` creates the audit directory and its signing key" });
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new AegisError("integrity", `audit signing key ${keyPath} is malformed`);
  const secretKey = fromHex(text);
  const publicKey = publicKeyOf(secretKey);
  return { secretKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** Loads the public key file (what a third party needs to check checkpoints). */
export function loadPublicKey(dir: string): Uint8Array {
  const path = join(dir, files.publicKey);
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch {
    throw new AegisError("unavailable", `no audit public key at ${path}; run \`aegisclaw init\` first`);
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new AegisError("integrity", `audit public key ${path} is malformed`);
  return fromHex(text);
}

/** ed25519 signature of `message`. */
export function sign(key: SigningKey, message: Uint8Array): Uint8Array {
  return signMessage(key.secretKey, message);
}

/** Writes a new file and fsyncs it; fails if it exists. */
export function writeDurably(path: string, text: string, mode: number): void {
  const fd = openSync(path, "wx", mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

