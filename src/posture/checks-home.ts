/** Posture checks of the home: policy template, secret store, audit log, API exposure, skills, lockdown. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { verifyLog } from "../audit/index.ts";
import { type Config, exists, type HomeLayout, type LockdownState } from "../core/index.ts";
import { AgeSecretStore } from "../secrets/index.ts";
import { SkillRegistry, TrustStore, verifyManifest } from "../skills/index.ts";
import type { CheckResult } from "./score.ts";

const TEMPLATE_POINTS: Readonly<Record<Config["policy"]["template"], number>> = { strict: 15, standard: 12, permissive: 5 };
const TEMPLATE_DETAIL: Readonly<Record<Config["policy"]["template"], string>> = {
  strict: "asks a human for every command",
  standard: "allows granted low/medium-risk scopes and asks for high/critical ones",
  permissive: "asks only for critical scopes",
};

/** policy (15): strict 15, standard 12, permissive 5. User policies are neutral: they can only tighten. */
export function policyCheck(config: Config, layout: HomeLayout): CheckResult {
  const template = config.policy.template;
  const users = regoFiles(layout.policies).length;
  const extra = users === 0 ? "" : `; plus ${users} user polic${users === 1 ? "y" : "ies"} (neutral: they can only make decisions stricter)`;
  const detail = `template ${template} ${TEMPLATE_DETAIL[template]}${extra}`;
  if (template === "strict") return { earned: TEMPLATE_POINTS.strict, detail };
  const fix = template === "permissive" ? "aegisclaw policy use strict (or `aegisclaw policy use standard` for 12 of 15)" : "aegisclaw policy use strict";
  return { earned: TEMPLATE_POINTS[template], detail, fix };
}

/**
 * secrets (10): an identity sealed with a passphrase and readable only by its owner earns all;
 * an unsealed one half (anyone who copies the home can decrypt every secret); none, or one other
 * users can read, nothing.
 */
export function secretsCheck(layout: HomeLayout): CheckResult {
  const store = new AgeSecretStore(layout.secrets);
  const identity = store.paths.identity;
  if (!store.isInitialised()) {
    return { earned: 0, detail: "no secret store: credentials an agent needs have no encrypted place to live", fix: "aegisclaw secrets init --passphrase" };
  }
  const mode = statSync(identity).mode & 0o777;
  if (mode & 0o077) return { earned: 0, detail: `${identity} is mode ${mode.toString(8)}: other users can read the key to every secret`, fix: `chmod 600 ${identity}` };
  if (store.isPassphraseProtected()) return { earned: 10, detail: "age secret store; identity sealed with a passphrase (mode 600)" };
  const sealed = `${identity}.sealed`;
  return {
    earned: 5,
    detail: "age secret store, but its identity is not passphrase-protected: a copy of the home decrypts every secret",
    fix: `seal it with the age CLI: age -p -a -o ${sealed} ${identity} && chmod 600 ${sealed} && mv ${sealed} ${identity} (an empty store can instead be recreated: rm ${identity} && aegisclaw secrets init --passphrase)`,
  };
}

/** audit (15): verifies and every entry is under a signed checkpoint: 15; verifies with an unsigned tail: 10. */
export async function auditCheck(layout: HomeLayout): Promise<CheckResult> {
  if (!exists(layout.audit)) return { earned: 0, detail: "no audit log: nothing is recorded, so every run is refused", fix: "aegisclaw init" };
  let report: Awaited<ReturnType<typeof verifyLog>>;
  try {
    report = await verifyLog(layout.audit);
  } catch (error) {
    return { earned: 0, status: "unknown", detail: `the audit log could not be verified: ${(error as Error).message}`, fix: "aegisclaw logs verify" };
  }
  if (!report.ok) {
    const failure = report.failure;
    const where = failure ? `${failure.seq !== undefined ? `entry ${failure.seq}` : failure.segment}${failure.line ? ` line ${failure.line}` : ""}: ${failure.reason}` : "unknown failure";
    return { earned: 0, detail: `the audit log does NOT verify (${where})`, fix: "aegisclaw logs verify; keep the files as evidence and compare with a backup or exported checkpoints" };
  }
  const signed = report.latestCheckpoint?.treeSize ?? 0;
  if (signed >= report.entries) {
    return { earned: 15, detail: `${entries(report.entries)} verified (hash chain, Merkle root); the latest of ${report.checkpoints} signed checkpoint(s) covers all of them` };
  }
  return {
    earned: 10,
    detail: `${entries(report.entries)} verified, but the latest signed checkpoint covers only ${signed}: newer entries could be cut off unnoticed`,
    fix: "aegisclaw logs checkpoint",
  };
}

/** Active API tokens older than this should be rotated. */
const TOKEN_MAX_AGE_DAYS = 90;
/** More active admin tokens than this suggests agents hold admin rights they do not need. */
const MAX_ADMIN_TOKENS = 2;

/**
 * server-auth (10): the API server always authenticates (docs/api.md), so what can go wrong
 * is the token store: readable by others (0), unreadable (0), too many admin tokens or
 * tokens never rotated (5 each way). Read here directly (names, roles and dates only) so the
 * posture domain does not depend on the server front end.
 */
export function serverAuthCheck(tokensFile: string, now = new Date()): CheckResult {
  if (!exists(tokensFile)) return { earned: 10, detail: "no API tokens: the API server (aegisclaw serve) admits nobody" };
  const mode = statSync(tokensFile).mode & 0o777;
  if (mode & 0o077) return { earned: 0, detail: `${tokensFile} is mode ${mode.toString(8)}: other users can read API token hashes`, fix: `chmod 600 ${tokensFile}` };
  let tokens: Array<{ id?: string; role?: string; createdAt?: string; revokedAt?: string }>;
  try {
    tokens = (JSON.parse(readFileSync(tokensFile, "utf8")) as { tokens: typeof tokens }).tokens;
    if (!Array.isArray(tokens)) throw new Error("no tokens list");
  } catch (error) {
    return { earned: 0, detail: `${tokensFile} cannot be read (${(error as Error).message}): the server refuses everyone`, fix: "aegisclaw token list (names the problem); restore or remove the file" };
  }
  const active = tokens.filter((token) => !token.revokedAt);
  const admins = active.filter((token) => token.role === "admin");
  const stale = active.filter((token) => now.getTime() - Date.parse(token.createdAt ?? "") > TOKEN_MAX_AGE_DAYS * 86_400_000 || Number.isNaN(Date.parse(token.createdAt ?? "")));
  if (admins.length > MAX_ADMIN_TOKENS) {
    return { earned: 5, detail: `${admins.length} active admin tokens; agents and dashboards rarely need more than operator or viewer`, fix: "aegisclaw token create --role operator, then aegisclaw token revoke ID for the admin tokens you no longer need" };
  }
  if (stale.length > 0) {
    return { earned: 5, detail: `${stale.length} active token(s) older than ${TOKEN_MAX_AGE_DAYS} days: ${stale.map((t) => t.id).join(", ")}`, fix: "rotate: aegisclaw token create --role ROLE, switch clients over, then aegisclaw token revoke ID" };
  }
  return { earned: 10, detail: `${active.length} active token(s), ${admins.length} admin, none older than ${TOKEN_MAX_AGE_DAYS} days; store mode 600` };
}

/**
 * skill-signing (10): every installed skill is verified against the trust store as a run
 * would be. All signed by a trusted publisher (or none installed): 10. Any unsigned or
 * untrusted skill: 5 (the standard template asks before it runs, permissive does not). Any
 * invalid signature, or a trust store that cannot be read: 0.
 */
export function skillSigningCheck(layout: HomeLayout): CheckResult {
  const registry = new SkillRegistry(layout.skills);
  let statuses: Array<{ name: string; status: string }>;
  try {
    const trusted = new TrustStore(registry.trustFile).list();
    statuses = registry.list().map((skill) => ({ name: skill.name, status: verifyManifest(skill.parsed, skill.record.imageId, trusted).status }));
  } catch (error) {
    return { earned: 0, detail: `installed skills cannot be verified: ${(error as Error).message}`, fix: "aegisclaw skills list (names the problem); repair or remove skills/trust.json" };
  }
  if (statuses.length === 0) return { earned: 10, detail: "no skills installed; any added later is verified against the trust store on every run" };
  const named = (status: string) => statuses.filter((s) => s.status === status).map((s) => s.name);
  const invalid = named("invalid");
  if (invalid.length > 0) return { earned: 0, detail: `skill(s) with an invalid signature: ${invalid.join(", ")} (runs are denied)`, fix: `reinstall from the publisher: aegisclaw skills add DIR (${invalid.join(", ")})` };
  const weak = [...named("unsigned"), ...named("untrusted")];
  if (weak.length > 0) {
    return { earned: 5, detail: `skill(s) not signed by a trusted publisher: ${weak.join(", ")}`, fix: "aegisclaw skills trust add KEYFILE --name PUBLISHER for a publisher you trust, or sign your own: aegisclaw skills sign DIR --key FILE" };
  }
  return { earned: 10, detail: `${statuses.length} skill(s) installed, all signed by trusted publishers` };
}

/** lockdown (0, informational): shown so the score is read in context; it neither adds nor costs points. */
export function lockdownCheck(state: LockdownState): CheckResult {
  if (!state.active) return { earned: 0, detail: "not active" };
  return { earned: 0, detail: `ACTIVE${state.since ? ` since ${state.since}` : ""}${state.reason ? `: ${state.reason}` : ""}; every run is refused until \`aegisclaw unlock\`` };
}

function entries(count: number): string {
  return `${count} ${count === 1 ? "entry" : "entries"}`;
}

function regoFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((file) => file.endsWith(".rego") && statSync(join(dir, file)).isFile());
  } catch {
    return [];
  }
}
