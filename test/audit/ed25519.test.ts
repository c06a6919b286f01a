import { expect, test } from "bun:test";
import { generateSecretKey, nobleEd25519, publicKeyOf, signMessage, verifySignature } from "../../src/audit/ed25519.ts";
import { fromHex, toHex } from "../../src/audit/merkle.ts";

test("ed25519: RFC 8032 test vector 2 (one-byte message)", () => {
  const secret = fromHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
  expect(toHex(publicKeyOf(secret))).toBe("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  const signature = signMessage(secret, fromHex("72"));
  expect(toHex(signature)).toBe(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  );
  expect(verifySignature(publicKeyOf(secret), fromHex("72"), signature)).toBe(true);
});

test("ed25519: the native implementation agrees bit for bit with @noble on random keys and messages", () => {
  for (let i = 0; i < 50; i++) {
    const secret = generateSecretKey();
    const message = crypto.getRandomValues(new Uint8Array(i * 7));
    const publicKey = publicKeyOf(secret);
    expect(toHex(publicKey)).toBe(toHex(nobleEd25519.getPublicKey(secret)));
    const signature = signMessage(secret, message);
    expect(toHex(signature)).toBe(toHex(nobleEd25519.sign(message, secret)));
    expect(nobleEd25519.verify(signature, message, publicKey)).toBe(true);
    const forged = signature.slice();
    forged[i % 64] = (forged[i % 64] ?? 0) ^ 1;
    expect(verifySignature(publicKey, message, forged)).toBe(false);
  }
});

test("ed25519: malformed keys and signatures are simply invalid", () => {
  expect(verifySignature(new Uint8Array(31), new Uint8Array(1), new Uint8Array(64))).toBe(false);
  expect(verifySignature(new Uint8Array(32), new Uint8Array(1), new Uint8Array(63))).toBe(false);
  expect(verifySignature(new Uint8Array(32), new Uint8Array(1), new Uint8Array(64))).toBe(false);
});
