import { z } from "zod";
import { RuntimeNameSchema } from "../sandbox/index.ts";

/**
 * The tools' input and output schemas. The SDK turns each into the JSON Schema a client sees
 * in `tools/list` and validates every call against it before a handler runs, so a bad argument
 * is an error result naming the field, never a crash. Limits match the Gate's own request schema.
 */

const Argv = z
  .array(z.string().max(65_536).refine((arg) => !arg.includes("\0"), { message: "argument contains a NUL byte" }))
  .min(1, { message: "a command is required" })
  .max(4096)
  .describe('The program and its arguments, run exactly as given (no shell). For shell syntax pass ["sh", "-c", "..."], which needs the shell.exec:sh scope.');

const Scopes = z
  .array(z.string().min(1).max(4096))
  .max(256)
  .optional()
  .describe(
    "Scopes this run needs, granted to it like `aegisclaw run --scope` and then judged by policy (which may deny or ask a person): shell.exec[:PROGRAM], files.read:/PATH and files.write:/PATH (bind-mounted at the same path), net.outbound:HOST[:PORT] (through the egress proxy). Nothing else is reachable: no network, no host paths.",
  );

/** What sandbox_exec and policy_simulate take: the same request, once to run and once to preview. */
export const ExecInput = z
  .object({
    argv: Argv,
    scopes: Scopes,
    image: z.string().min(1).max(512).optional().describe("Sandbox image (default: sandbox.image in config.yaml, aegisclaw/base:busybox)."),
    timeoutSeconds: z.number().int().positive().max(86_400).optional().describe("Wall-clock limit; the sandbox is killed after it (default: sandbox.timeout in config.yaml)."),
    runtime: RuntimeNameSchema.optional().describe("Sandbox runtime (default: sandbox.runtime in config.yaml). A missing runtime refuses the run; there is no fallback."),
  })
  .strict();
export type ExecInput = z.output<typeof ExecInput>;

/** audit_verify: optionally pin the public key the checkpoints must be signed with. */
export const VerifyInput = z
  .object({
    publicKey: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, { message: "must be 64 hex characters (the output of `aegisclaw logs pubkey`)" })
      .optional()
      .describe("Trust only this ed25519 public key (hex, from `aegisclaw logs pubkey` kept elsewhere) instead of the one stored next to the log."),
  })
  .strict();
export type VerifyInput = z.output<typeof VerifyInput>;

const ReasonOut = z.object({ rule: z.string(), message: z.string(), scope: z.string().optional(), field: z.string().optional() });
const DecisionOut = z.object({
  kind: z.enum(["allow", "deny", "ask"]).describe("The policy's decision before any approval."),
  risk: z.string(),
  reasons: z.array(ReasonOut),
});

/** sandbox_exec's structured result (a run that executed; refusals are error results). */
export const ExecOutput = z.object({
  runId: z.string().describe("The run id: `aegisclaw logs explain RUN_ID` shows its audit trail."),
  requestHash: z.string(),
  exitCode: z.number().int().describe("The command's exit code (124: timed out, 137: killed)."),
  timedOut: z.boolean(),
  killedBy: z.string().optional().describe("Set when AegisClaw ended the run: timeout, cancel, output-limit, lockdown."),
  durationMs: z.number(),
  stdout: z.string().describe("Standard output, already redacted, cut at the size cap."),
  stderr: z.string().describe("Standard error, already redacted, cut at the size cap."),
  stdoutBytes: z.number().int().describe("Bytes of standard output the command wrote in total."),
  stderrBytes: z.number().int(),
  truncated: z.boolean().describe("True when stdout or stderr was cut for this result."),
  decision: DecisionOut,
  approval: z
    .object({ outcome: z.enum(["approved", "denied", "expired"]), by: z.string(), via: z.string() })
    .optional()
    .describe("Present when a person was asked: who answered and how."),
});
export type ExecOutput = z.output<typeof ExecOutput>;

/** policy_simulate's result. */
export const SimulateOutput = z.object({
  outcome: z.enum(["run", "ask", "deny", "lockdown"]).describe("What sandbox_exec would do: run, wait for a person, refuse, refuse because of lockdown."),
  approvalRequired: z.boolean(),
  requestHash: z.string(),
  decision: DecisionOut,
  sandbox: z.record(z.string(), z.unknown()).describe("The sandbox the run would get: user, network, mounts, capabilities, seccomp, limits."),
});
export type SimulateOutput = z.output<typeof SimulateOutput>;

/** audit_verify's result (the same report as `aegisclaw logs verify --json`). */
export const VerifyOutput = z.object({
  ok: z.boolean().describe("True only when every hash, link, Merkle root and checkpoint signature checks out."),
  entries: z.number().int(),
  segments: z.number().int(),
  checkpoints: z.number().int(),
  rootHash: z.string(),
  latestCheckpoint: z.object({ treeSize: z.number().int(), rootHash: z.string(), time: z.string(), keyId: z.string() }).optional(),
  failure: z.object({ seq: z.number().int().optional(), segment: z.string(), line: z.number().int().optional(), reason: z.string() }).optional(),
});
export type VerifyOutput = z.output<typeof VerifyOutput>;

/** skills_list takes nothing. */
export const SkillsListInput = z.object({}).strict();
export type SkillsListInput = z.output<typeof SkillsListInput>;

const SignatureStatus = z.enum(["valid", "unsigned", "untrusted", "invalid"]);

/** skills_list's result: the installed skills as GET /api/v1/skills lists them. */
export const SkillsListOutput = z.object({
  skills: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      description: z.string(),
      imageId: z.string().describe("The exact image the skill runs in (by id)."),
      installedAt: z.string(),
      signature: z
        .object({ status: SignatureStatus, reason: z.string(), keyId: z.string().optional(), publisher: z.string().optional() })
        .describe("Verified now against the trust store: valid (a trusted publisher signed this manifest and image), unsigned, untrusted (signed by an unknown key) or invalid (policy denies its runs)."),
      scopes: z.array(z.string()),
      commands: z.array(
        z.object({
          name: z.string(),
          description: z.string().optional(),
          scopes: z.array(z.string()),
          paths: z.array(z.string()).describe("Path parameters skill_run must bind in `paths`."),
        }),
      ),
    }),
  ),
});
export type SkillsListOutput = z.output<typeof SkillsListOutput>;

/** skill_run: one command of an installed skill, like `aegisclaw skills run NAME [COMMAND] [ARGS] [--path NAME=DIR]`. */
export const SkillRunInput = z
  .object({
    name: z.string().min(1).max(64).describe("The installed skill's name (skills_list lists them)."),
    command: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,31}$/, { message: "must be one of the skill's command names" })
      .optional()
      .describe("The skill's command; optional when it has only one."),
    args: z
      .array(z.string().max(65_536).refine((arg) => !arg.includes("\0"), { message: "argument contains a NUL byte" }))
      .max(4096)
      .optional()
      .describe("Arguments appended to the command's own argv (no shell involved)."),
    paths: z
      .record(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, { message: "must be a path parameter name" }), z.string().min(1).max(4096).startsWith("/", { message: "must be an absolute path on the host" }))
      .optional()
      .describe("Host directories for the command's path parameters (see `paths` in skills_list), like `--path NAME=DIR`; mounted at the same path as the skill's scopes say."),
  })
  .strict();
export type SkillRunInput = z.output<typeof SkillRunInput>;

/** skill_run's result: sandbox_exec's, plus the skill as the Gate saw it. */
export const SkillRunOutput = ExecOutput.extend({
  skill: z
    .object({ name: z.string(), version: z.string(), command: z.string(), signature: SignatureStatus, publisher: z.string().optional() })
    .describe("The skill, its command and its signature as checked just before the run."),
});
export type SkillRunOutput = z.output<typeof SkillRunOutput>;
