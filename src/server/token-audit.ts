/**
 * Token changes in the audit log (docs/audit-format.md, `token` entries): each create and revoke
 * is appended, and durable, before the token store is touched, so a token can never exist
 * without a record of who made it; a change that then fails is followed by a second entry with
 * `failed`. Neither the secret nor its hash is ever recorded. The CLI and the API share this.
 */
import { announcedChange, type AuditRecord, type AuditSource } from "../audit/index.ts";
import type { Role } from "./rbac.ts";
import { TOKEN_ID, type TokenRecord, type TokenStore } from "./tokens.ts";

type TokenEntry = NonNullable<AuditRecord["token"]>;
type Sink = { append(record: AuditRecord): Promise<unknown> };
type Actor = { name: string; source: AuditSource };

/** Creates a token of `role` (and `name`), recorded first. The returned `token` is the only copy of the secret. */
export async function createTokenAudited(store: TokenStore, audit: Sink, actor: Actor, role: Role, name?: string): Promise<{ token: string; record: TokenRecord }> {
  const planned = store.prepare(role, name);
  const { id, name: chosen } = planned.record;
  await audited(audit, actor, { action: "create", id, name: chosen, role }, () => store.add(planned.record));
  return planned;
}

/** Revokes token `id`, recorded first (with its name and role when the store knows the id). */
export async function revokeTokenAudited(store: TokenStore, audit: Sink, actor: Actor, id: string): Promise<TokenRecord> {
  const known = store.list().find((token) => token.id === id);
  // Only an id's form is echoed into the log: anything else might be a whole token pasted by mistake.
  const change: TokenEntry = { action: "revoke", id: TOKEN_ID.test(id) ? id : "not-an-id", ...(known ? { name: known.name, role: known.role } : {}) };
  return audited(audit, actor, change, () => store.revoke(id));
}

function audited<T>(audit: Sink, actor: Actor, change: TokenEntry, work: () => Promise<T>): Promise<T> {
  return announcedChange(
    audit,
    (failed) => (failed === undefined ? { type: "token", actor, token: change, note: describe(change) } : { type: "token", actor, token: { ...change, failed }, note: `${describe(change)} failed` }),
    work,
  );
}

function describe(change: TokenEntry): string {
  return `token ${change.action} ${change.name ? `"${change.name}" ` : ""}(id ${change.id}${change.role ? `, ${change.role}` : ""})`;
}
