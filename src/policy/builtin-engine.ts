import type { Decision, PolicyEngine, PolicyInput, Reason } from "./engine.ts";
import { scopeCovers, type Risk } from "./scopes.ts";

const RISK_ORDER: Risk[] = ["low", "medium", "high", "critical"];

/**
 * The built-in rule: every requested scope must be covered by a granted one. Anything not
 * granted is denied with a reason naming the scope and how to grant it.
 */
export function createBuiltinEngine(): PolicyEngine {
  return {
    name: "builtin",
    async decide(input: PolicyInput): Promise<Decision> {
      const risk = highestRisk(input);
      if (input.lockdown) {
        return { kind: "deny", risk, reasons: [{ rule: "builtin.lockdown", message: "lockdown is active" }] };
      }
      const missing: Reason[] = [];
      const covered: Reason[] = [];
      for (const requested of input.requested) {
        const grant = input.granted.find((granted) => scopeCovers(granted, requested));
        if (grant) {
          covered.push({ rule: "builtin.scope-granted", message: `${requested.text} granted by ${grant.text}`, scope: requested.text });
        } else {
          missing.push({
            rule: "builtin.scope-missing",
            message: `scope ${requested.text} is not granted (grant it with --scope ${requested.text})`,
            scope: requested.text,
          });
        }
      }
      if (missing.length > 0) return { kind: "deny", risk, reasons: missing };
      return { kind: "allow", risk, reasons: covered };
    },
  };
}

function highestRisk(input: PolicyInput): Risk {
  let index = 0;
  for (const scope of input.requested) index = Math.max(index, RISK_ORDER.indexOf(scope.risk));
  return RISK_ORDER[index] ?? "low";
}
