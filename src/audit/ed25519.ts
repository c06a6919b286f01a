/**
 * ed25519 for checkpoints. Keys and signatures are RFC 8032 (deterministic), so two
 * implementations must agree bit for bit; tests cross-check them. The runtime's native
 * ed25519 (BoringSSL in Bun) does the work because it is ~60x faster on first use than
 * @noble/ed25519, whose precomputation alone (~20 ms) would dominate every `aegisclaw run`
 * and `logs verify`. @noble is the fallback when the native one is unavailable.
 */
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import { createPrivateKey, createPublicKey, sign as nativeSign, verify as nativeVerify, type KeyObject } from "node:crypto";

// noble's synchronous API needs a SHA-512 implementation wired in (ed25519 v3 ships none).
ed.hashes.sha512 = sha512;

/** PKCS#8 DER prefix of an ed25519 private key; the 32-byte seed follows it. */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** A fresh 32-byte secret key (seed) from the CSPRNG. */
export function generateSecretKey(): Uint8Array {
  return ed.utils.randomSecretKey();
}

/** The public key of a 32-byte secret key. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  try {
    const spki = createPublicKey(privateKeyObject(secretKey)).export({ format: "der", type: "spki" });
    return new Uint8Array(spki.subarray(spki.length - 32));
  } catch {
    return ed.getPublicKey(secretKey);
  }
}

/** The ed25519 signature of `message`. */
export function signMessage(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(nativeSign(null, message, privateKeyObject(secretKey)));
  } catch {
    return ed.sign(message, secretKey);
  }
}

/** ed25519 verification; malformed input is simply "not valid". */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") }, format: "jwk" });
    return nativeVerify(null, message, key, signature);
  } catch {
    try {
      return ed.verify(signature, message, publicKey);
    } catch {
      return false;
    }
  }
}

/** The reference implementation, for tests that cross-check the native one. */
export const nobleEd25519 = { getPublicKey: ed.getPublicKey, sign: ed.sign, verify: ed.verify };

function privateKeyObject(secretKey: Uint8Array): KeyObject {
  if (secretKey.length !== 32) throw new Error("ed25519 secret key must be 32 bytes");
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: "der", type: "pkcs8" });
}
