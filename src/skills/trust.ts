/**
 * The trust store: publisher public keys whose skill signatures count as signed. One JSON file,
 * `$AEGISCLAW_HOME/skills/trust.json` (mode 0600, written atomically). A key counts by its
 * full public key, never by its id alone. A missing file means no publisher is trusted.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { AegisError, writeFileAtomic } from "../shared/index.ts";
import { keyIdOf } from "./keys.ts";

/** One trusted publisher key. */
export const TrustedKey = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/).describe("Who the key belongs to, e.g. aegisclaw-starter."),
    keyId: z.string().regex(/^[0-9a-f]{16}$/).describe("First 16 hex digits of SHA-256 of the public key."),
    publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/).describe("Raw ed25519 public key, base64."),
    addedAt: z.string().describe("When it was trusted (ISO 8601)."),
  })
  .strict();
export type TrustedKey = z.infer<typeof TrustedKey>;

const TrustFile = z.object({ version: z.literal(1), keys: z.array(TrustedKey) }).strict();

/** Publisher names as `skills trust add --name` accepts them. */
export const PUBLISHER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** The trust store at one path. Construction does no I/O. */
export class TrustStore {
  constructor(readonly path: string) {}

  /** Every trusted key. A file that does not parse is an integrity error, never "trust nothing" silently. */
  list(): TrustedKey[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new AegisError("unavailable", `cannot read the skill trust store ${this.path}: ${(error as Error).message}`);
    }
    try {
      const parsed = TrustFile.safeParse(JSON.parse(text));
      if (parsed.success && parsed.data.keys.every((key) => keyIdOf(Buffer.from(key.publicKey, "base64")) === key.keyId)) return parsed.data.keys;
    } catch {
      // not JSON: reported below
    }
    throw new AegisError("integrity", `the skill trust store ${this.path} is damaged`, {
      hint: "remove it and trust your publishers' keys again (`aegisclaw skills trust add KEYFILE --name N`)",
    });
  }

  /** The trusted entry for this exact public key, if any. */
  find(publicKey: Uint8Array): TrustedKey | undefined {
    const encoded = Buffer.from(publicKey).toString("base64");
    return this.list().find((key) => key.publicKey === encoded);
  }

  /** Trusts a key under a name; refuses a second key of that name or the same key twice. */
  add(publicKey: Uint8Array, name: string, now = new Date()): TrustedKey {
    if (!PUBLISHER_NAME_PATTERN.test(name)) {
      throw new AegisError("usage", `publisher name "${name}" is not valid`, { hint: "use letters, digits, . _ @ - (at most 64), e.g. --name acme-skills" });
    }
    const keys = this.list();
    const entry: TrustedKey = { name, keyId: keyIdOf(publicKey), publicKey: Buffer.from(publicKey).toString("base64"), addedAt: now.toISOString() };
    const same = keys.find((key) => key.publicKey === entry.publicKey);
    if (same) throw new AegisError("bad-input", `key ${entry.keyId} is already trusted as ${same.name}`);
    if (keys.some((key) => key.name === name)) throw new AegisError("bad-input", `a key named ${name} is already trusted`, { hint: "pick another --name, or remove that key first" });
    this.write([...keys, entry]);
    return entry;
  }

  /** Stops trusting a key, named by key id or publisher name. */
  remove(idOrName: string): TrustedKey {
    const keys = this.list();
    const gone = keys.find((key) => key.keyId === idOrName || key.name === idOrName);
    if (!gone) throw new AegisError("bad-input", `no trusted key ${idOrName}`, { hint: "see `aegisclaw skills trust list`" });
    this.write(keys.filter((key) => key !== gone));
    return gone;
  }

  private write(keys: TrustedKey[]): void {
    writeFileAtomic(this.path, `${JSON.stringify({ version: 1, keys }, null, 2)}\n`, 0o600);
  }
}
