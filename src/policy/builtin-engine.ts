import type { Decision, PolicyEngine, PolicyInput, Reason } from "./engine.ts";
import { highestRisk } from "./risk.ts";

/**
 * The built-in rule, independent of any Rego: every requested scope must be covered by a
 * granted one (as the scope matcher decided), and lockdown denies everything.
 */
export function createBuiltinEngine(): PolicyEngine {
  return {
    name: "builtin",
    async decide(input: PolicyInput): Promise<Decision> {
      const risk = highestRisk(input.requested.map((scope) => scope.risk));
      if (input.lockdown) {
        return { kind: "deny", risk, reasons: [{ rule: "builtin.lockdown", message: "lockdown is active" }] };
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
