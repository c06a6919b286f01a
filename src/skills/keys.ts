/**
 * Publisher keys: ed25519 in the standard PEM containers (PKCS#8 private keys, SPKI public
 * keys), so keys from `openssl genpkey -algorithm ed25519` work too. The key id is the first 16
 * hex digits of the SHA-256 of the raw 32-byte public key.
 */
import { readFileSync, statSync } from "node:fs";
import { generateSecretKey, publicKeyOf } from "../audit/index.ts";
import { AegisError } from "../shared/index.ts";

/** DER prefixes of an ed25519 key: the raw 32 bytes follow them (RFC 8410). */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** A publisher's signing key: the 32-byte seed and what is derived from it. */
export interface SecretKey {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  keyId: string;
}

/** The key id of a raw ed25519 public key: 16 lower-case hex digits. */
export function keyIdOf(publicKey: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(publicKey).digest("hex").slice(0, 16);
}

/** A fresh key pair from the CSPRNG. */
export function generateKey(): SecretKey {
  const secretKey = generateSecretKey();
  const publicKey = publicKeyOf(secretKey);
  return { secretKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** PKCS#8 PEM of a secret key. */
export function secretKeyPem(secretKey: Uint8Array): string {
  return pem("PRIVATE KEY", Buffer.concat([PKCS8_PREFIX, secretKey]));
}

/** SPKI PEM of a public key. */
export function publicKeyPem(publicKey: Uint8Array): string {
  return pem("PUBLIC KEY", Buffer.concat([SPKI_PREFIX, publicKey]));
}

/**
 * Reads a private key file. Like ssh, it refuses a file that group or others can read: a
 * signing key anyone on the machine can copy signs for anyone.
 */
export function readSecretKeyFile(path: string): SecretKey {
  const text = readKeyText(path);
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AegisError("bad-input", `${path}: private key is readable by others (mode ${mode.toString(8)})`, { hint: `chmod 600 ${path}` });
  }
  const secretKey = unpem(text, "PRIVATE KEY", PKCS8_PREFIX, path);
  const publicKey = publicKeyOf(secretKey);
  return { secretKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** Reads a public key file (SPKI PEM). A private key is refused: it must never be handed around. */
export function readPublicKeyFile(path: string): Uint8Array {
  const text = readKeyText(path);
  if (text.includes("PRIVATE KEY")) {
    throw new AegisError("bad-input", `${path} is a private key`, { hint: "give the public key (the .pub file that `skills keygen` wrote next to it)" });
  }
  return unpem(text, "PUBLIC KEY", SPKI_PREFIX, path);
}

function readKeyText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new AegisError("bad-input", `cannot read key file ${path}: ${(error as Error).message}`);
  }
}

function pem(label: string, der: Buffer): string {
  const body = der.toString("base64").replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

function unpem(text: string, label: string, prefix: Buffer, path: string): Uint8Array {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  const der = match?.[1] ? Buffer.from(match[1].replace(/\s+/g, ""), "base64") : undefined;
  if (!der || der.length !== prefix.length + 32 || !der.subarray(0, prefix.length).equals(prefix)) {
    throw new AegisError("bad-input", `${path} is not an ed25519 ${label.toLowerCase()} in PEM form`, {
      hint: "create one with `aegisclaw skills keygen FILE` (or openssl genpkey -algorithm ed25519)",
    });
  }
  return new Uint8Array(der.subarray(prefix.length));
}
