/**
 * Skill signatures: ed25519 over the canonical JSON (RFC 8785 subset) of
 * `{context: "aegisclaw-skill-signature/v1", manifest, imageDigest}`, where `manifest` is the
 * manifest as written minus its `signature` block and `imageDigest` the id (sha256 of the
 * config, which names every layer) of the exact image the skill runs. Changing any manifest
 * field, or running any other image, breaks the signature. The context string keeps these
 * signatures from being valid for anything else signed with the same key.
 */
import { signMessage, verifySignature } from "../audit/index.ts";
import { canonicalJson } from "../shared/index.ts";
import { keyIdOf, type SecretKey } from "./keys.ts";
import type { ManifestSignature } from "./manifest.ts";
import type { ParsedManifest } from "./manifest-file.ts";
import type { TrustedKey } from "./trust.ts";

/** Domain separation for skill signatures. */
export const SIGNATURE_CONTEXT = "aegisclaw-skill-signature/v1";

/**
 * What a skill's signature says about it. Only `valid` (verifies, and the key is trusted)
 * counts as signed for policy; `invalid` means the manifest or the image changed since signing.
 */
export type SignatureStatus = "valid" | "unsigned" | "untrusted" | "invalid";

/** The outcome of verifying one skill against the trust store. */
export interface Verification {
  status: SignatureStatus;
  /** One sentence: why this status. */
  reason: string;
  keyId?: string;
  /** The trust store's name for the key (status valid). */
  publisher?: string;
}

/** The exact bytes a skill signature covers. */
export function signedMessage(manifest: Record<string, unknown>, imageDigest: string): Uint8Array {
  return new TextEncoder().encode(canonicalJson({ context: SIGNATURE_CONTEXT, manifest, imageDigest }));
}

/** Signs a manifest (as written, without its signature) for one image. */
export function signManifest(manifest: Record<string, unknown>, imageDigest: string, key: SecretKey): ManifestSignature {
  const value = signMessage(key.secretKey, signedMessage(manifest, imageDigest));
  return {
    algorithm: "ed25519",
    keyId: key.keyId,
    publicKey: Buffer.from(key.publicKey).toString("base64"),
    imageDigest,
    value: Buffer.from(value).toString("base64"),
  };
}

/**
 * Verifies a skill whose image is `imageDigest` (the id AegisClaw built or found, not the one
 * the signature claims) against the trusted keys. Order matters: a signature is checked
 * before trust, so a tampered skill is `invalid` even when its key is unknown.
 */
export function verifyManifest(parsed: ParsedManifest, imageDigest: string, trusted: readonly TrustedKey[]): Verification {
  const signature = parsed.signature;
  if (!signature) return { status: "unsigned", reason: "the manifest has no signature" };
  const keyId = signature.keyId;
  const publicKey = Buffer.from(signature.publicKey, "base64");
  if (keyIdOf(publicKey) !== keyId) return { status: "invalid", keyId, reason: "the signature's key id does not match its public key" };
  if (signature.imageDigest !== imageDigest) {
    return { status: "invalid", keyId, reason: `the signature covers image ${signature.imageDigest}, but the skill's image is ${imageDigest}` };
  }
  const value = Buffer.from(signature.value, "base64");
  if (!verifySignature(publicKey, signedMessage(parsed.signed, imageDigest), value)) {
    return { status: "invalid", keyId, reason: "the signature does not verify: the manifest changed since it was signed" };
  }
  const trust = trusted.find((key) => key.publicKey === signature.publicKey);
  if (!trust) return { status: "untrusted", keyId, reason: `signed by key ${keyId}, which is not in the trust store` };
  return { status: "valid", keyId, publisher: trust.name, reason: `signed by ${trust.name} (key ${keyId})` };
}
