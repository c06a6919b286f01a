import { announcedChange, type AuditRecord } from "../audit/index.ts";
import { localActor } from "./actor.ts";
import { assertHomeAuditable, withHomeAudit } from "./home-audit.ts";

/** What a secret change is, by name; the backend and location are added by the recorder. */
export interface SecretChange {
  action: "init" | "set" | "remove" | "rotate";
  name?: string;
  count?: number;
}

/** Records `change`, then does `work`; a failure of `work` is recorded too, then rethrown. */
export type RecordChange = <T>(change: SecretChange, work: () => Promise<T>) => Promise<T>;

type SecretEntry = NonNullable<AuditRecord["secret"]>;

/**
 * The audit side of `aegisclaw secrets`: every change is appended (names only) and durable
 * before the store is touched, like a policy change; if the log cannot be written, nothing
 * changes. The home must be initialised: without an audit log a change could not be recorded.
 */
export function secretChangeRecorder(home: string, where: Pick<SecretEntry, "backend" | "location">): RecordChange {
  return async (change, work) => {
    const actor = localActor();
    const secret: SecretEntry = { ...change, ...where };
    return withHomeAudit(home, "secret changes", (audit) =>
      // The store's errors never carry values (secrets/names.ts, vault-errors.ts).
      announcedChange(
        audit,
        (failed) => (failed === undefined ? { type: "secret", actor, secret, note: describe(secret) } : { type: "secret", actor, secret: { ...secret, failed }, note: `${describe(secret)} failed` }),
        work,
      ),
    );
  };
}

/** Refuses (bad-input) a home without config.yaml and an audit log: a change could not be recorded. */
export function assertAuditableHome(home: string): void {
  assertHomeAuditable(home, "secret changes");
}

function describe(secret: SecretEntry): string {
  const what = secret.name ?? (secret.action === "rotate" ? `the store key (${secret.count ?? 0} secrets re-encrypted)` : "the store");
  return `secret ${secret.action} ${what} (${secret.backend}${secret.location ? ` ${secret.location}` : ""})`;
}
