import { z } from "zod";

const Reason = z.object({
  rule: z.string().min(1),
  message: z.string(),
  scope: z.string().optional(),
  field: z.string().optional(),
});

/** A decision as a policy must produce it: every decision carries at least one reason. */
export const PolicyDecision = z.object({
  kind: z.enum(["allow", "deny", "ask"]),
  risk: z.enum(["low", "medium", "high", "critical"]),
  reasons: z.array(Reason).min(1),
});

/**
 * The result set opa-wasm returns for one entrypoint: exactly one result. An empty set means
 * the decision was undefined, which the engine treats as a policy error (deny).
 */
export const PolicyResultSet = z.tuple([z.object({ result: PolicyDecision })]);
