import { z } from "zod";
import { AUDIT_SOURCES } from "../audit/index.ts";
import { SANDBOX_RUNTIMES } from "../sandbox/index.ts";
import { canonicalHash } from "../shared/index.ts";

const AuditSource = z.enum(AUDIT_SOURCES);

/** A request to run a command in the sandbox, as any front end submits it to the Gate. */
export const RunRequest = z
  .object({
    actor: z.object({ name: z.string().min(1).max(200), source: AuditSource }).strict(),
    argv: z
      .array(z.string().max(65_536).refine((arg) => !arg.includes("\0"), { message: "argument contains a NUL byte" }))
      .min(1, { message: "a command is required" })
      .max(4096),
    grants: z.array(z.string().max(4096)).max(256).default([]).describe("Scopes granted for this run (CLI --scope)."),
    image: z.string().min(1).max(512).optional(),
    timeoutMs: z.number().int().positive().max(24 * 3_600_000).optional(),
    runtime: z.enum(SANDBOX_RUNTIMES).optional().describe("Sandbox runtime for this run (CLI --runtime); default sandbox.runtime from config."),
  })
  .strict();
export type RunRequest = z.input<typeof RunRequest>;
export type NormalizedRunRequest = z.output<typeof RunRequest>;

/**
 * Canonical hash of the normalised request: approvals and audit entries bind to it. `mounts`
 * (the resolved host paths, present only when there are any) binds a decision to where the
 * file scopes led at decision time, not just to how they were spelled.
 */
export function requestHash(request: Omit<NormalizedRunRequest, "runtime"> & { image: string; runtime: string; timeoutMs: number; mounts?: ReadonlyArray<{ source: string; target: string; readOnly: boolean }> }): string {
  return canonicalHash({ kind: "run", ...request });
}
