import { z } from "zod";
import { AUDIT_SOURCES, AUDIT_TYPES } from "./constants.ts";

/** Where an action came from. */
export const AuditSource = z.enum(AUDIT_SOURCES);
export type AuditSource = z.infer<typeof AuditSource>;

/** Why a decision was taken: the policy rule, its message, and the scope or input field involved. */
export const AuditReason = z
  .object({
    rule: z.string().min(1).max(200),
    message: z.string().max(2000),
    scope: z.string().max(500).optional(),
    field: z.string().max(200).optional(),
  })
  .strict();
export type AuditReason = z.infer<typeof AuditReason>;

/** An IP address as text (v4 or v6, never a name). */
const IpText = z.string().regex(/^[0-9a-fA-F.:]{2,45}$/, "an IP address");

/**
 * One egress proxy decision. Every value is one the proxy parsed and normalised (hosts are
 * lower-case punycode or IP literals), never raw request bytes: the log holds no URL paths,
 * headers or payloads.
 */
export const EgressRecord = z
  .object({
    outcome: z.enum(["allowed", "denied"]),
    rule: z.string().regex(/^egress\.[a-z-]{1,60}$/),
    reason: z.string().max(2000),
    method: z.string().regex(/^[A-Z]{1,20}$/).optional(),
    host: z.string().min(1).max(253).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    addresses: z.array(IpText).max(32).optional(),
    sni: z.string().min(1).max(253).optional(),
    client: IpText,
    grantedBy: z.string().max(500).optional(),
    service: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "a service name").optional().describe("Multi-container runs: the service whose own proxy decided"),
  })
  .strict();
export type EgressRecord = z.infer<typeof EgressRecord>;

/**
 * One change to the secret store (`secrets init|set|rm|rotate`). Names only: the log never holds
 * a value, not even a hash of one (a hash would let anyone holding the log test guesses).
 */
export const SecretChangeRecord = z
  .object({
    action: z.enum(["init", "set", "remove", "rotate"]),
    /** The secret's name (set, remove); absent for init and rotate, which concern the store's key. */
    name: z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "a secret name").optional(),
    backend: z.enum(["age", "vault"]),
    /** Where in the backend, without credentials (Vault: `mount/path`). */
    location: z.string().max(500).optional(),
    /** rotate: how many secrets were re-encrypted to the new key. */
    count: z.number().int().nonnegative().optional(),
    /** Set on the follow-up entry when the change announced before it failed. */
    failed: z.string().max(2000).optional(),
  })
  .strict();
export type SecretChangeRecord = z.infer<typeof SecretChangeRecord>;

/**
 * What callers append. Every field is plain JSON and must never hold a secret value: the
 * log is meant to be shown, exported and proven to third parties.
 */
/**
 * A sandbox integrity event: something about a sandbox was not as AegisClaw made it, and
 * AegisClaw refused to use it. `pool-refused`: a pooled (warm) container failed its re-check
 * after a run claimed it (changed config, exec'd into, too old); it was removed and the run
 * started cold.
 */
export const SandboxEventRecord = z
  .object({
    event: z.enum(["pool-refused"]),
    container: z.string().regex(/^[0-9a-f]{12,64}$/, "a container id"),
    problems: z.array(z.string().max(500)).min(1).max(50),
  })
  .strict();
export type SandboxEventRecord = z.infer<typeof SandboxEventRecord>;

/**
 * One change to the API tokens (`token create|revoke`, `POST`/`DELETE /api/v1/tokens`), appended
 * before the change. Never the token's secret, nor its hash.
 */
export const TokenChangeRecord = z
  .object({
    action: z.enum(["create", "revoke"]),
    id: z.string().regex(/^([0-9a-f]{12}|not-an-id)$/, "a token id").describe("The token's id; `not-an-id` when a revoke was asked with text of another form (never echoed: it could be a pasted token)"),
    name: z.string().min(1).max(64).optional(),
    role: z.enum(["admin", "operator", "viewer"]).optional(),
    /** Set on the follow-up entry when the change announced before it failed. */
    failed: z.string().max(2000).optional(),
  })
  .strict();
export type TokenChangeRecord = z.infer<typeof TokenChangeRecord>;

export const AuditRecord = z
  .object({
    type: z.enum(AUDIT_TYPES),
    actor: z.object({ name: z.string().min(1).max(200), source: AuditSource }).strict(),
    runId: z.string().min(1).max(200).optional(),
    requestHash: z.string().regex(/^[0-9a-f]{64}$/, "requestHash must be 64 lower-case hex characters").optional(),
    request: z.record(z.string(), z.unknown()).optional().describe("Request summary: argv, image, runtime, scopes"),
    decision: z
      .object({
        kind: z.enum(["allow", "deny", "ask"]),
        reasons: z.array(AuditReason).max(100),
        approvedBy: z.string().min(1).max(200).optional(),
      })
      .strict()
      .optional(),
    result: z
      .object({
        exitCode: z.number().int(),
        durationMs: z.number().nonnegative(),
        timedOut: z.boolean(),
        stdoutBytes: z.number().int().nonnegative(),
        stderrBytes: z.number().int().nonnegative(),
        killedBy: z.string().max(200).optional(),
        error: z.string().max(2000).optional(),
        /** The command ran in a claimed warm-pool container (removed after it), not one created for it. */
        warm: z.literal(true).optional(),
      })
      .strict()
      .optional(),
    approval: z
      .object({
        outcome: z.enum(["approved", "denied", "expired"]),
        by: z.string().min(1).max(200),
        via: z.enum(["console", "cli", "tty", "api", "web", "openclaw", "timeout", "system"]),
        scope: z.enum(["once", "session"]),
      })
      .strict()
      .optional()
      .describe("Only on `approval` entries: how a person (or the timeout) resolved an ask"),
    egress: EgressRecord.optional().describe("Only on `egress` entries: one connection the run's egress proxy allowed or refused"),
    secret: SecretChangeRecord.optional().describe("Only on `secret` entries: a change to the secret store, by name"),
    token: TokenChangeRecord.optional().describe("Only on `token` entries: an API token created or revoked (never its secret)"),
    sandbox: SandboxEventRecord.optional().describe("Only on `sandbox` entries: a sandbox AegisClaw refused to use because it was not as created"),
    redactions: z.number().int().nonnegative().optional(),
    redactionKinds: z
      .record(z.string().regex(/^[A-Za-z0-9_.:-]{1,140}$/), z.number().int().positive())
      .optional()
      .describe("On result entries: redactions by kind (`secret:NAME`, `github-token`, ...); never values"),
    recovery: z
      .object({ segment: z.string().max(100), droppedBytes: z.number().int().nonnegative() })
      .strict()
      .optional()
      .describe("Only on `recovery` entries: the torn bytes truncated after a crash"),
    note: z.string().max(2000).optional(),
  })
  .strict();
export type AuditRecord = z.infer<typeof AuditRecord>;
