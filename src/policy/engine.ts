import type { Risk, Scope } from "./scopes.ts";

/** Why a decision was taken: which rule, what it says, and the scope or input field involved. */
export interface Reason {
  rule: string;
  message: string;
  scope?: string;
  field?: string;
}

/** A decision is a value: allow, deny or ask, always with reasons. */
export interface Decision {
  kind: "allow" | "deny" | "ask";
  reasons: Reason[];
  risk: Risk;
}

/** Everything a policy may look at. Built by the Gate from the validated request. */
export interface PolicyInput {
  actor: { name: string; source: string };
  argv: string[];
  image: string;
  runtime: string;
  requested: Scope[];
  granted: Scope[];
  lockdown: boolean;
}

/** The policy stage's port: the builtin engine today, OPA/Rego (wasm) with the policy issue. */
export interface PolicyEngine {
  readonly name: string;
  decide(input: PolicyInput): Promise<Decision>;
}
