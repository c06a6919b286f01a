import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { AegisError, FileLock, fileSignature, writeFileAtomic } from "../shared/index.ts";
import { Role } from "./rbac.ts";

/** A token's id: 12 lower-case hex characters (the part of `acw_<id>_<secret>` that may be shown). */
export const TOKEN_ID = /^[0-9a-f]{12}$/;

/** A token's name: who the API records as the actor and approver (`by`), so it stays printable. */
export const TokenName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, "a token name is 1-64 characters: letters, digits, '.', '_', '@', '-' (starting with a letter or digit)");

const TokenRecord = z
  .object({
    id: z.string().regex(/^[0-9a-f]{12}$/),
    name: TokenName,
    role: Role,
    /** sha256 of the secret part, hex: the secret itself is never stored. */
    secretHash: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: z.string(),
    revokedAt: z.string().optional(),
  })
  .strict();
/** A stored token (without its secret). */
export type TokenRecord = z.infer<typeof TokenRecord>;

const TokenFile = z.object({ version: z.literal(1), tokens: z.array(TokenRecord) }).strict();
type TokenFile = z.infer<typeof TokenFile>;

/** `acw_<12 hex id>_<64 hex secret>`: the id finds the record, the secret proves possession. */
const TOKEN_FORMAT = /^acw_([0-9a-f]{12})_([0-9a-f]{64})$/;
/** Compared against when the id is unknown, so a miss costs the same as a wrong secret. */
const DUMMY_HASH = Buffer.alloc(32);

/** A token as it may be shown (CLI, API): never the hash of its secret. */
export function tokenView(record: TokenRecord): { id: string; name: string; role: Role; createdAt: string; revokedAt?: string } {
  return { id: record.id, name: record.name, role: record.role, createdAt: record.createdAt, ...(record.revokedAt ? { revokedAt: record.revokedAt } : {}) };
}

/** Where the API tokens live: `$AEGISCLAW_HOME/state/tokens.json` (mode 0600). */
export function tokensFile(stateDir: string): string {
  return join(stateDir, "tokens.json");
}

/**
 * The API token store. Tokens are shown once at creation; only sha256 of the secret is kept,
 * and secrets are compared in constant time. The file is re-read whenever it changes on
 * disk, so a `token revoke` in another shell takes effect on a running server at once.
 * Changes are made under a file lock and written atomically (readers never see a torn file).
 */
export class TokenStore {
  private cache: { key: string; file: TokenFile } | undefined;

  constructor(private readonly path: string) {}

  /** Creates a token; the returned `token` string is the only copy of the secret. */
  async create(role: Role, name?: string): Promise<{ token: string; record: TokenRecord }> {
    const planned = this.prepare(role, name);
    await this.add(planned.record);
    return planned;
  }

  /** A new token, checked but not stored yet (the audit entry of its creation comes first). */
  prepare(role: Role, name?: string): { token: string; record: TokenRecord } {
    const id = Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex");
    const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
    const chosen = name ?? `${role}-${id}`;
    const parsedName = TokenName.safeParse(chosen);
    if (!parsedName.success) throw new AegisError("usage", `invalid token name "${chosen.slice(0, 80)}": ${parsedName.error.issues[0]?.message ?? "invalid"}`);
    const record: TokenRecord = { id, name: parsedName.data, role, secretHash: sha256Hex(secret), createdAt: new Date().toISOString() };
    return { token: `acw_${id}_${secret}`, record };
  }

  /** Stores a prepared token; refuses a name a live token already has. */
  async add(record: TokenRecord): Promise<void> {
    await this.change((file) => {
      if (file.tokens.some((t) => t.name === record.name && !t.revokedAt)) {
        throw new AegisError("usage", `a token named "${record.name}" already exists`, { hint: "choose another --name, or revoke the old token first" });
      }
      file.tokens.push(record);
    });
  }

  /** Every token, revoked ones included (their records stay for the audit trail's names). */
  list(): TokenRecord[] {
    return this.load().tokens.map((token) => ({ ...token }));
  }

  /** Revokes token `id`; revoking an already revoked token is an error so typos are noticed. */
  async revoke(id: string): Promise<TokenRecord> {
    let revoked: TokenRecord | undefined;
    await this.change((file) => {
      const token = file.tokens.find((t) => t.id === id);
      // Text that is not an id's form is never echoed: it could be a whole token pasted by mistake.
      if (!token) throw new AegisError("bad-input", TOKEN_ID.test(id) ? `no token with id ${id}` : "that is not a token id (ids are 12 hex characters)", { hint: "list ids with `aegisclaw token list`" });
      if (token.revokedAt) throw new AegisError("bad-input", `token ${id} is already revoked`);
      token.revokedAt = new Date().toISOString();
      revoked = { ...token };
    });
    if (!revoked) throw new AegisError("internal", "revoke did not complete");
    return revoked;
  }

  /** The live (not revoked) record a presented token belongs to, or undefined. Constant time in the secret. */
  verify(presented: string): TokenRecord | undefined {
    const match = TOKEN_FORMAT.exec(presented);
    const candidate = match ? this.load().tokens.find((t) => t.id === match[1]) : undefined;
    const expected = candidate ? Buffer.from(candidate.secretHash, "hex") : DUMMY_HASH;
    const actual = Bun.SHA256.hash(match?.[2] ?? presented);
    const equal = timingSafeEqual(expected, actual);
    return equal && candidate && !candidate.revokedAt ? { ...candidate } : undefined;
  }

  /** The live record with this id (sessions and WebSockets re-check their token with it). */
  active(id: string): TokenRecord | undefined {
    const token = this.load().tokens.find((t) => t.id === id);
    return token && !token.revokedAt ? { ...token } : undefined;
  }

  private load(): TokenFile {
    // One stat per request: a token revoked by another process is refused by the next request.
    const signature = fileSignature([this.path]);
    if (signature.firstMissing) return { version: 1, tokens: [] };
    const { key } = signature;
    if (this.cache?.key === key) return this.cache.file;
    let parsed: ReturnType<typeof TokenFile.safeParse>;
    try {
      parsed = TokenFile.safeParse(JSON.parse(readFileSync(this.path, "utf8")));
    } catch (error) {
      throw new AegisError("bad-input", `${this.path} is not valid JSON: ${(error as Error).message}`, { hint: "restore it, or move it away and create new tokens" });
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AegisError("bad-input", `${this.path}: ${issue?.path.join(".") || "file"}: ${issue?.message ?? "invalid"}`, { hint: "restore it, or move it away and create new tokens" });
    }
    // Kept only once settled: two changes within one timestamp tick could leave the same signature.
    this.cache = signature.settled ? { key, file: parsed.data } : undefined;
    return parsed.data;
  }

  private async change(mutate: (file: TokenFile) => void): Promise<void> {
    const lock = await FileLock.open(`${this.path}.lock`);
    try {
      await lock.acquire({ what: "the token store" });
      this.cache = undefined;
      const file = structuredClone(this.load());
      mutate(file);
      writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`, 0o600);
      this.cache = undefined;
    } finally {
      lock.close();
    }
  }
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
