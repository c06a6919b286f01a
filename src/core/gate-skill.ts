/** The validate stage's share of skill runs: what policy sees, what the audit records, limits. */
import type { PolicySkill } from "../policy/index.ts";
import type { SandboxLimits } from "../sandbox/index.ts";
import type { NormalizedRunRequest } from "./action.ts";

/** `policyInput.skill`: null for a plain command; `signed` only for a valid, trusted signature. */
export function skillPolicyInput(request: NormalizedRunRequest): PolicySkill | null {
  const skill = request.skill;
  if (!skill) return null;
  return { ...skill, signed: skill.signature === "valid" };
}

/** The audit summary's `skill` (the console's skill filter reads `request.skill.name`). */
export function skillSummary(request: NormalizedRunRequest): { skill?: NonNullable<NormalizedRunRequest["skill"]> } {
  return request.skill ? { skill: request.skill } : {};
}

/** A request's own limits can only lower config's: each is the smaller of the two. */
export function lowerLimits(ceilings: SandboxLimits, requested: NormalizedRunRequest["limits"]): SandboxLimits {
  if (!requested) return ceilings;
  return {
    ...ceilings,
    pids: Math.min(ceilings.pids, requested.pids ?? ceilings.pids),
    memoryBytes: Math.min(ceilings.memoryBytes, requested.memoryBytes ?? ceilings.memoryBytes),
    cpus: Math.min(ceilings.cpus, requested.cpus ?? ceilings.cpus),
  };
}
