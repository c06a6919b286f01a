import { describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nobleEd25519 } from "../../src/audit/ed25519.ts";
import {
  generateKey,
  keyIdOf,
  parseManifest,
  publicKeyPem,
  readPublicKeyFile,
  readSecretKeyFile,
  secretKeyPem,
  signedMessage,
  signManifest,
  TrustStore,
  verifyManifest,
  withSignature,
  type ParsedManifest,
  type SecretKey,
} from "../../src/skills/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

const TEXT = `# a comment that is not signed
name: demo
version: 1.0.0
description: A demo skill.
platform: docker
image: aegisclaw/skill-demo:1.0.0
scopes: [shell.exec:/skill/run]
commands:
  go:
    args: [/skill/run]
`;
const IMAGE = `sha256:${"1".repeat(64)}`;
const OTHER_IMAGE = `sha256:${"2".repeat(64)}`;

function signed(key: SecretKey, text = TEXT, image = IMAGE): ParsedManifest {
  const parsed = parseManifest(text);
  return parseManifest(withSignature(parsed, signManifest(parsed.signed, image, key)));
}

function trustOf(...keys: SecretKey[]) {
  return keys.map((key, index) => ({ name: `publisher-${index}`, keyId: key.keyId, publicKey: Buffer.from(key.publicKey).toString("base64"), addedAt: new Date(0).toISOString() }));
}

describe("skill signing", () => {
  test("signing: sign then verify with a trusted key is valid and names the publisher", () => {
    const key = generateKey();
    const result = verifyManifest(signed(key), IMAGE, trustOf(key));
    expect(result).toMatchObject({ status: "valid", keyId: key.keyId, publisher: "publisher-0" });
  });

  test("signing: the signature is plain RFC 8032 ed25519 over the canonical message (checked with @noble)", () => {
    const key = generateKey();
    const parsed = signed(key);
    const message = signedMessage(parsed.signed, IMAGE);
    expect(new TextDecoder().decode(message)).toStartWith('{"context":"aegisclaw-skill-signature/v1","imageDigest":"sha256:111');
    expect(nobleEd25519.verify(Buffer.from(parsed.signature?.value ?? "", "base64"), message, key.publicKey)).toBe(true);
  });

  test("signing: comments, key order and quoting do not matter; the data does", () => {
    const key = generateKey();
    const parsed = signed(key);
    const block = parsed.text.slice(parsed.text.indexOf("signature:"));
    const reordered = `commands: {go: {args: ["/skill/run"]}}\nscopes: ["shell.exec:/skill/run"]\nimage: "aegisclaw/skill-demo:1.0.0"\nplatform: docker\ndescription: "A demo skill."\nversion: "1.0.0"\nname: demo\n${block}`;
    expect(verifyManifest(parseManifest(reordered), IMAGE, trustOf(key)).status).toBe("valid");
  });

  test("signing: a tampered manifest fails verification (invalid), even with an unknown key", () => {
    const key = generateKey();
    const original = signed(key);
    const tampered = [
      original.text.replace("scopes: [shell.exec:/skill/run]", "scopes: [shell.exec:/skill/run, net.outbound:example.com]"),
      original.text.replace("version: 1.0.0", "version: 1.0.1"),
      original.text.replace("args: [/skill/run]", "args: [/skill/run, --all]"),
      original.text.replace("description: A demo skill.", "description: A demo skill!"),
    ];
    for (const text of tampered) {
      expect(text).not.toBe(original.text);
      expect(verifyManifest(parseManifest(text), IMAGE, trustOf(key))).toMatchObject({ status: "invalid", reason: expect.stringContaining("manifest changed") });
      expect(verifyManifest(parseManifest(text), IMAGE, []).status).toBe("invalid");
    }
  });

  test("signing: another image digest fails verification, whether the block is edited or not", () => {
    const key = generateKey();
    const parsed = signed(key);
    expect(verifyManifest(parsed, OTHER_IMAGE, trustOf(key))).toMatchObject({ status: "invalid", reason: expect.stringContaining(`covers image ${IMAGE}`) });
    const edited = parseManifest(parsed.text.replace(IMAGE, OTHER_IMAGE));
    expect(verifyManifest(edited, OTHER_IMAGE, trustOf(key))).toMatchObject({ status: "invalid", reason: expect.stringContaining("does not verify") });
  });

  test("signing: an untrusted key is flagged untrusted; no signature is unsigned", () => {
    const key = generateKey();
    const stranger = generateKey();
    expect(verifyManifest(signed(stranger), IMAGE, trustOf(key))).toMatchObject({ status: "untrusted", keyId: stranger.keyId });
    expect(verifyManifest(parseManifest(TEXT), IMAGE, trustOf(key)).status).toBe("unsigned");
  });

  test("signing: swapping in a trusted public key (or a wrong key id) does not make a stranger's signature valid", () => {
    const trusted = generateKey();
    const stranger = generateKey();
    const parsed = signed(stranger);
    const encoded = (key: SecretKey) => Buffer.from(key.publicKey).toString("base64");
    const swapped = parsed.text.replace(encoded(stranger), encoded(trusted)).replace(stranger.keyId, trusted.keyId);
    expect(verifyManifest(parseManifest(swapped), IMAGE, trustOf(trusted)).status).toBe("invalid");
    const wrongId = parsed.text.replace(stranger.keyId, trusted.keyId);
    expect(verifyManifest(parseManifest(wrongId), IMAGE, trustOf(trusted, stranger))).toMatchObject({ status: "invalid", reason: expect.stringContaining("key id") });
  });

  test("keys: PEM round trip; openssl-style PKCS#8 keys work; a readable private key and a private key given as public are refused", () => {
    const dir = tempDir();
    const key = generateKey();
    const secretPath = join(dir, "k");
    writeFileSync(secretPath, secretKeyPem(key.secretKey), { mode: 0o600 });
    writeFileSync(`${secretPath}.pub`, publicKeyPem(key.publicKey));
    expect(readSecretKeyFile(secretPath)).toEqual(key);
    expect(readPublicKeyFile(`${secretPath}.pub`)).toEqual(key.publicKey);
    expect(keyIdOf(key.publicKey)).toMatch(/^[0-9a-f]{16}$/);
    const openssl = Bun.spawnSync(["openssl", "genpkey", "-algorithm", "ed25519", "-out", join(dir, "o")]);
    if (openssl.exitCode === 0) {
      chmodSync(join(dir, "o"), 0o600);
      expect(readSecretKeyFile(join(dir, "o")).keyId).toMatch(/^[0-9a-f]{16}$/);
    }
    chmodSync(secretPath, 0o644);
    expect(() => readSecretKeyFile(secretPath)).toThrow("readable by others");
    expect(() => readPublicKeyFile(secretPath)).toThrow("is a private key");
    writeFileSync(join(dir, "rsa"), "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAK==\n-----END PUBLIC KEY-----\n");
    expect(() => readPublicKeyFile(join(dir, "rsa"))).toThrow("not an ed25519 public key");
  });

  test("trust: add, find, list and remove keys; duplicates refused; a damaged store is an integrity error", () => {
    const store = new TrustStore(join(tempDir(), "trust.json"));
    expect(store.list()).toEqual([]);
    const key = generateKey();
    const entry = store.add(key.publicKey, "acme");
    expect(entry).toMatchObject({ name: "acme", keyId: key.keyId });
    expect(store.find(key.publicKey)?.name).toBe("acme");
    expect(() => store.add(key.publicKey, "again")).toThrow("already trusted as acme");
    expect(() => store.add(generateKey().publicKey, "acme")).toThrow("a key named acme");
    expect(() => store.add(generateKey().publicKey, "bad name!")).toThrow("not valid");
    expect(store.remove("acme").keyId).toBe(key.keyId);
    expect(store.list()).toEqual([]);
    store.add(key.publicKey, "acme");
    const wrongId = { version: 1, keys: [{ name: "acme", keyId: "0000000000000000", publicKey: Buffer.from(key.publicKey).toString("base64"), addedAt: "x" }] };
    for (const damaged of [JSON.stringify(wrongId), "{not json", '{"version":2,"keys":[]}']) {
      writeFileSync(store.path, damaged);
      try {
        store.list();
        throw new Error("damaged store accepted");
      } catch (error) {
        expect(isAegisError(error, "integrity")).toBe(true);
      }
    }
  });
});
