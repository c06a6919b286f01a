import { z } from "zod";
import { AUDIT_SOURCES } from "../audit/index.ts";
import { RuntimeNameSchema } from "../sandbox/index.ts";
import { canonicalHash } from "../shared/index.ts";

const AuditSource = z.enum(AUDIT_SOURCES);

/**
 * The skill a run executes, as src/skills verified it just before the request: policy reads it
 * (`policyInput.skill`; only `signature: "valid"` counts as signed) and the audit entry names
 * it. Being part of the request, it is covered by the request hash.
 */
export const SkillReference = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/),
    version: z.string().min(1).max(100),
    command: z.string().min(1).max(64),
    signature: z.enum(["valid", "unsigned", "untrusted", "invalid"]).describe("valid: verifies and the key is trusted; invalid: the manifest or image changed since signing."),
    publisher: z.string().min(1).max(200).optional().describe("The trust store's name for the signing key (valid signatures)."),
    keyId: z.string().regex(/^[0-9a-f]{16}$/).optional(),
    imageDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/).describe("The image id the run uses."),
  })
  .strict();
export type SkillReference = z.infer<typeof SkillReference>;

/** PATH and the proxy variables are the sandbox's own (container-config.ts); a request cannot set them. */
const RESERVED_ENV = new Set(["PATH", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"]);
const EnvName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, { message: "expected an environment variable name" })
  .refine((name) => !RESERVED_ENV.has(name), { message: "is set by the sandbox and cannot be overridden" });

const ServiceName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { message: "expected a lower-case service name" });
const Argv = z
  .array(z.string().max(65_536).refine((arg) => !arg.includes("\0"), { message: "argument contains a NUL byte" }))
  .min(1, { message: "a command is required" })
  .max(4096);

/** A service running beside the main command of a multi-container run (a docker-compose skill). */
export const RunService = z
  .object({
    name: ServiceName.describe("The service's name: its host name on the run's private network."),
    argv: Argv,
    grants: z.array(z.string().max(4096)).max(256).default([]).describe("Scopes granted to this service's container alone."),
    env: z.record(EnvName, z.string().max(4096)).optional(),
  })
  .strict();

/** A request to run a command in the sandbox, as any front end submits it to the Gate. */
export const RunRequest = z
  .object({
    actor: z.object({ name: z.string().min(1).max(200), source: AuditSource }).strict(),
    argv: Argv,
    grants: z.array(z.string().max(4096)).max(256).default([]).describe("Scopes granted for this run (CLI --scope)."),
    image: z.string().min(1).max(512).optional(),
    timeoutMs: z.number().int().positive().max(24 * 3_600_000).optional(),
    runtime: RuntimeNameSchema.optional().describe("Sandbox runtime for this run (CLI --runtime); default sandbox.runtime from config."),
    skill: SkillReference.optional().describe("Set when the run executes an installed skill (skills run)."),
    env: z.record(EnvName, z.string().max(4096)).optional().describe("Fixed environment for the command (a skill command's env); never secrets."),
    limits: z
      .object({ pids: z.number().int().min(8).optional(), memoryBytes: z.number().int().min(6 * 1024 * 1024).optional(), cpus: z.number().min(0.01).optional() })
      .strict()
      .optional()
      .describe("Lower limits for this run (a skill's resources); config's sandbox.limits stay the ceilings."),
    service: ServiceName.optional().describe("Multi-container runs: the main command's service name (its host name on the run's network)."),
    services: z.array(RunService).min(1).max(7).optional().describe("Multi-container runs: the services started before the main command, dependencies first, each with only its own grants."),
  })
  .strict()
  .superRefine((request, context) => {
    if (request.services === undefined) {
      if (request.service !== undefined) context.addIssue({ code: "custom", path: ["service"], message: "only for a run with services" });
      return;
    }
    if (request.service === undefined) context.addIssue({ code: "custom", path: ["service"], message: "a run with services names its own service" });
    const names = [request.service, ...request.services.map((service) => service.name)];
    if (new Set(names).size !== names.length) context.addIssue({ code: "custom", path: ["services"], message: "service names must be unique" });
  });
export type RunRequest = z.input<typeof RunRequest>;
export type NormalizedRunRequest = z.output<typeof RunRequest>;

/**
 * Canonical hash of the normalised request: approvals and audit entries bind to it. `mounts`
 * (the resolved host paths, present only when there are any) binds a decision to where the
 * file scopes led at decision time, not just to how they were spelled.
 */
export function requestHash(
  request: Omit<NormalizedRunRequest, "runtime"> & {
    image: string;
    runtime: string;
    timeoutMs: number;
    mounts?: ReadonlyArray<{ source: string; target: string; readOnly: boolean }>;
    /** Multi-container runs: each service's resolved mounts, by service name. */
    serviceMounts?: Readonly<Record<string, ReadonlyArray<{ source: string; target: string; readOnly: boolean }>>>;
  },
): string {
  return canonicalHash({ kind: "run", ...request });
}
