import type { Decision, PolicyEngine, PolicyInput, Reason } from "./engine.ts";
import { highestRisk } from "./risk.ts";

/**
 * The built-in rule, independent of any Rego: every requested scope must be covered by a
 * granted one (as the scope matcher decided), lockdown denies everything, and so does a skill
 * whose signature no longer verifies. Runs and agent tool calls (`action` "tool.call") are
 * judged alike; only the hint on where to grant a scope differs.
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
            message: `scope ${requested.scope} is not granted${requested.reason ? `: ${requested.reason}` : ""} (${grantHint(input, requested.scope)})`,
            scope: requested.scope,
          });
        }
      }
      if (missing.length > 0) return { kind: "deny", risk, reasons: missing };
      return { kind: "allow", risk, reasons: covered };
    },
  };
}

/** Where the person grants a missing scope: a run's --scope, or the OpenClaw adapter's grants for a tool call. */
function grantHint(input: PolicyInput, scope: string): string {
  if (input.action === "tool.call") return `grant it by adding ${scope} to the grants in $AEGISCLAW_HOME/adapters/openclaw.yaml`;
  return `grant it with --scope ${scope}`;
}
