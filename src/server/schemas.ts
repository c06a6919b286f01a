import { z } from "zod";
import { AUDIT_TYPES } from "../audit/index.ts";
import { RuntimeNameSchema } from "../sandbox/index.ts";
import { Role } from "./rbac.ts";
import { TokenName } from "./tokens.ts";

/**
 * The API's request and response schemas. Each one validates input before a handler runs and
 * is published in the OpenAPI document, so the document and the checks cannot drift apart.
 */

const Count = (what: string) =>
  z
    .string()
    .regex(/^\d{1,15}$/, `${what} must be a whole number`)
    .transform(Number);

/** A command to run (or decide) through the Gate; the actor is the caller's token, never the body. */
export const RunBody = z
  .object({
    argv: z
      .array(z.string().max(65_536).refine((arg) => !arg.includes("\0"), { message: "argument contains a NUL byte" }))
      .min(1, { message: "a command is required" })
      .max(4096)
      .describe("The command and its arguments, exactly as it will run."),
    scopes: z.array(z.string().max(4096)).max(256).optional().describe("Scopes granted to this request, like `run --scope` (policy still decides)."),
    image: z.string().min(1).max(512).optional().describe("Sandbox image (default: sandbox.image)."),
    timeoutMs: z.number().int().positive().max(24 * 3_600_000).optional().describe("Wall-clock limit in milliseconds."),
    runtime: RuntimeNameSchema.optional().describe("Sandbox runtime (default: sandbox.runtime)."),
  })
  .strict();
export type RunBody = z.infer<typeof RunBody>;

/** `POST /skills/{name}/run`: which command, the person's arguments, and the directories bound to its path parameters. */
export const SkillRunBody = z
  .object({
    command: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "command must be one of the skill's command names").optional().describe("The skill's command; optional when it has only one."),
    args: z
      .array(z.string().max(65_536).refine((arg) => !arg.includes("\0"), { message: "argument contains a NUL byte" }))
      .max(4096)
      .optional()
      .describe("Arguments appended to the command's own argv, like `skills run NAME COMMAND ARGS`."),
    paths: z
      .record(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "a path parameter name"), z.string().min(1).max(4096).startsWith("/", { message: "must be an absolute path on the server's host" }))
      .optional()
      .describe("Host directories for the command's path parameters, like `--path NAME=DIR` (absolute)."),
  })
  .strict();
export type SkillRunBody = z.output<typeof SkillRunBody>;

/** An approve/deny names the exact request the client reviewed. */
export const ApprovalAnswer = z
  .object({ requestHash: z.string().regex(/^[0-9a-f]{64}$/, "requestHash must be the 64 hex characters shown in the approval").describe("Hash of the request as reviewed.") })
  .strict();
export type ApprovalAnswer = z.output<typeof ApprovalAnswer>;

/** `POST /lockdown`: the reason is recorded. */
export const LockdownBody = z.object({ reason: z.string().min(1).max(500).optional().describe("Why (recorded in the audit log).") }).strict();
export type LockdownBody = z.output<typeof LockdownBody>;

/** `POST /tokens`: role, and an optional name (default `<role>-<id>`). */
export const TokenCreateBody = z.object({ role: Role, name: TokenName.optional() }).strict();
export type TokenCreateBody = z.output<typeof TokenCreateBody>;

/** `POST /session`: the token a browser logs in with. */
export const SessionBody = z.object({ token: z.string().min(1).max(200).describe("An API token; exchanged for an HttpOnly session cookie.") }).strict();
export type SessionBody = z.output<typeof SessionBody>;

/** `GET /audit` filters; every one narrows, none means all (newest 100). */
export const AuditQuery = z
  .object({
    limit: Count("limit").pipe(z.number().int().min(1).max(1000)).optional().describe("Newest N matching entries (default 100)."),
    afterSeq: Count("afterSeq").optional().describe("Only entries with a larger seq."),
    type: z.enum(AUDIT_TYPES).optional(),
    decision: z.enum(["allow", "deny", "ask"]).optional(),
    runId: z.string().min(1).max(200).optional(),
    since: z.iso.datetime({ offset: true }).optional().describe("ISO time."),
  })
  .strict();
export type AuditQuery = z.output<typeof AuditQuery>;

/** `GET /audit/consistency`. */
export const ConsistencyQuery = z.object({ oldSize: Count("oldSize").describe("Size of the older tree.") }).strict();
export type ConsistencyQuery = z.output<typeof ConsistencyQuery>;

/** `GET /events` (WebSocket) filters. */
export const EventsQuery = z
  .object({
    types: z
      .string()
      .regex(/^[a-z.]+(,[a-z.]+)*$/, "types is a comma-separated list of event types")
      .optional()
      .describe("Only these event types, e.g. run.output,run.finished."),
    runId: z.string().min(1).max(200).optional().describe("Only events of this run."),
  })
  .strict();
export type EventsQuery = z.output<typeof EventsQuery>;

const Reason = z.looseObject({ rule: z.string(), message: z.string() });
const DecisionView = z.looseObject({ kind: z.enum(["allow", "deny", "ask"]), reasons: z.array(Reason) });

/** A run as `GET /runs/{id}` shows it. */
export const RunView = z.looseObject({
  runId: z.string(),
  requestHash: z.string(),
  status: z.enum(["awaiting-approval", "starting", "running", "finished", "cancelled", "denied", "lockdown", "error"]),
  actor: z.looseObject({ name: z.string(), source: z.string() }),
  argv: z.array(z.string()),
  createdAt: z.string(),
  decision: DecisionView,
  exitCode: z.number().int().optional(),
  output: z.object({ bytes: z.number().int(), truncated: z.boolean() }),
});

/** What `POST /decide` answers, whatever the verdict. */
export const Verdict = z.looseObject({
  verdict: z.enum(["allow", "deny"]),
  id: z.string(),
  requestHash: z.string(),
  decision: DecisionView,
  reasons: z.array(Reason),
  lockdown: z.boolean(),
  decisionSeq: z.number().int(),
});

/** A token as the API shows it (never its secret or hash). */
export const TokenView = z.object({ id: z.string(), name: z.string(), role: Role, createdAt: z.string(), revokedAt: z.string().optional() });

const SignatureView = z.looseObject({ status: z.enum(["valid", "unsigned", "untrusted", "invalid"]), publisher: z.string().optional(), keyId: z.string().optional(), reason: z.string().optional() });

/** An installed skill as `GET /skills` shows it. */
export const SkillView = z.object({
  name: z.string(),
  version: z.string(),
  description: z.string(),
  imageId: z.string(),
  installedAt: z.string(),
  signature: SignatureView.describe("Verified now, against the trust store as it is."),
  scopes: z.array(z.string()),
  commands: z.array(
    z.object({
      name: z.string(),
      description: z.string().optional(),
      scopes: z.array(z.string()).describe("The scopes this command gets."),
      paths: z.array(z.string()).describe("Path parameters it needs (bind them in `paths`)."),
    }),
  ),
});

/** Success bodies by route: published in the OpenAPI document, checked by the conformance test. */
export const Results = {
  health: z.object({ status: z.literal("ok"), version: z.string() }),
  status: z.looseObject({
    version: z.string(),
    envelope: z.looseObject({ runtime: z.string(), network: z.string(), seccomp: z.string() }),
    lockdown: z.looseObject({ active: z.boolean() }),
    policy: z.looseObject({ template: z.string(), grants: z.array(z.string()) }),
    adapters: z.array(z.looseObject({ name: z.string(), status: z.string() })),
  }),
  session: z.object({ name: z.string(), role: Role, csrfToken: z.string(), expiresAt: z.string() }),
  ok: z.object({ ok: z.literal(true) }),
  runs: z.object({ runs: z.array(RunView) }),
  run: RunView,
  skills: z.object({ skills: z.array(SkillView) }),
  approvals: z.object({ pending: z.array(z.looseObject({ id: z.string(), requestHash: z.string(), argv: z.array(z.string()), holder: z.enum(["server", "process"]) })) }),
  resolution: z.object({ resolution: z.looseObject({ id: z.string(), outcome: z.enum(["approved", "denied", "expired"]), by: z.string(), via: z.string() }) }),
  audit: z.object({ entries: z.array(z.looseObject({ seq: z.number().int(), type: z.string(), time: z.string() })) }),
  verify: z.looseObject({ ok: z.boolean(), entries: z.number().int(), rootHash: z.string() }),
  explain: z.looseObject({ summary: z.array(z.string()) }),
  proof: z.looseObject({ type: z.literal("aegisclaw.audit.inclusion.v1"), seq: z.number().int(), rootHash: z.string(), auditPath: z.array(z.string()) }),
  consistency: z.looseObject({ type: z.literal("aegisclaw.audit.consistency.v1"), oldSize: z.number().int(), newSize: z.number().int(), oldRoot: z.string(), newRoot: z.string(), proof: z.array(z.string()) }),
  policy: z.object({ template: z.string(), templates: z.array(z.string()), grants: z.array(z.string()) }),
  simulation: z.looseObject({ requestHash: z.string(), decision: DecisionView, outcome: z.enum(["run", "ask", "deny", "lockdown"]) }),
  verdict: Verdict,
  posture: z.looseObject({ score: z.number(), grade: z.string(), checks: z.array(z.looseObject({ id: z.string() })) }),
  xrayList: z.object({ sandboxes: z.array(z.looseObject({ runId: z.string(), containerId: z.string() })) }),
  xray: z.looseObject({ runId: z.string(), containerId: z.string() }),
  lockdown: z.looseObject({ active: z.boolean() }),
  tokens: z.object({ tokens: z.array(TokenView) }),
  tokenCreated: TokenView.extend({ token: z.string().describe("Shown once; only its hash is stored.") }),
  token: TokenView,
} as const;

/** The error envelope of every failure. */
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional(), field: z.string().optional() }) });
