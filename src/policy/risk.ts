import type { Decision, PolicyEngine, PolicyInput } from "./engine.ts";
import type { Risk } from "./scopes.ts";

const RISK_ORDER: readonly Risk[] = ["low", "medium", "high", "critical"];
const KIND_ORDER: readonly Decision["kind"][] = ["allow", "ask", "deny"];

/** The highest of some risks ("low" when there are none). */
export function highestRisk(risks: readonly Risk[]): Risk {
  let index = 0;
  for (const risk of risks) index = Math.max(index, RISK_ORDER.indexOf(risk));
  return RISK_ORDER[index] ?? "low";
}

/**
 * Combines the decisions of several engines: deny overrides ask overrides allow, the risk is
 * the highest, and the reasons are those of the winning kind (as in the Rego templates), so a
 * denial names what denied it and not what another engine would have allowed.
 */
export function combineDecisions(decisions: readonly Decision[]): Decision {
  if (decisions.length === 0) {
    return { kind: "deny", risk: "high", reasons: [{ rule: "policy.none", message: "no policy engine decided" }] };
  }
  const kind = KIND_ORDER[Math.max(...decisions.map((decision) => KIND_ORDER.indexOf(decision.kind)))] ?? "deny";
  const reasons = decisions.filter((decision) => decision.kind === kind).flatMap((decision) => decision.reasons);
  return { kind, risk: highestRisk(decisions.map((decision) => decision.risk)), reasons };
}

/**
 * Runs several engines on the same input and combines their decisions. An engine that throws
 * contributes a deny with the error as its reason: a broken policy never allows.
 */
export function createCombinedEngine(engines: readonly PolicyEngine[]): PolicyEngine {
  return {
    name: engines.map((engine) => engine.name).join("+"),
    async decide(input: PolicyInput): Promise<Decision> {
      return combineDecisions(await Promise.all(engines.map((engine) => decideSafely(engine, input))));
    },
  };
}

/** One engine's decision; if it throws (or rejects), a deny naming the engine and the error. */
export async function decideSafely(engine: PolicyEngine, input: PolicyInput): Promise<Decision> {
  try {
    return await engine.decide(input);
  } catch (error) {
    return {
      kind: "deny",
      risk: "high",
      reasons: [{ rule: "policy.error", message: `policy ${engine.name} failed: ${error instanceof Error ? error.message : String(error)}` }],
    };
  }
}
