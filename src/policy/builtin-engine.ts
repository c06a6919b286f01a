import type { Decision, PolicyEngine, PolicyInput, Reason } from "./engine.ts";
import { highestRisk } from "./risk.ts";

/**
 * The built-in rule, independent of any Rego: every requested scope must be covered by a
 * granted one (as the scope matcher decided), lockdown denies everything, and so does a skill
 * whose signature no longer verifies.
 */
export function createBuiltinEngine(): PolicyEngine {
  return {
    name: "builtin",
    async decide(input: PolicyInput): Promise<Decision> {
      const risk = highestRisk(input.requested.map((scope) => scope.risk));
      if (input.lockdown) {
        return { kind: "deny", risk, reasons: [{ rule: "builtin.lockdown", message: "lockdown is active" }] };
      }
      // A skill whose manifest or image changed since it was signed has been tampered with.
      if (input.skill?.signature === "invalid") {
        return { kind: "deny", risk, reasons: [{ rule: "builtin.skill-signature-invalid", message: `skill ${input.skill.name}'s signature does not verify: its manifest or image changed since signing`, field: "skill" }] };
      }
      const missing: Reason[] = [];
      const covered: Reason[] = [];
      for (const requested of input.requested) {
        if (requested.granted) {
          covered.push({ rule: "builtin.scope-granted", message: `${requested.scope} granted by ${requested.grantedBy ?? "a grant"}`, scope: requested.scope });
        } else {
          missing.push({
            rule: "builtin.scope-missing",
            message: `scope ${requested.scope} is not granted${requested.reason ? `: ${requested.reason}` : ""} (grant it with --scope ${requested.scope})`,
            scope: requested.scope,
          });
        }
      }
      if (missing.length > 0) return { kind: "deny", risk, reasons: missing };
      return { kind: "allow", risk, reasons: covered };
    },
  };
}
