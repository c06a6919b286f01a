import type { Decision, GrantedScope, RequestedScope } from "../engine.ts";
import type { Risk } from "../scopes.ts";

/** The built-in Rego templates, each compiled to wasm and embedded in the binary. */
export type OpaTemplate = "strict" | "standard" | "permissive";

/** One requested scope with the TS matcher's verdict; the same shape as the policy port's. */
export type OpaRequestedScope = RequestedScope;

/** One granted scope; the same shape as the policy port's. */
export type OpaGrant = GrantedScope;

/** A guardrail signal, e.g. `{kind: "prompt-injection", severity: "high"}`. */
export interface GuardrailSignal {
  kind: string;
  severity: Risk;
}

/**
 * The input document every AegisClaw Rego policy receives (contract: policies/README.md).
 * The policies validate it themselves and deny anything malformed, so callers need not. Every
 * PolicyInput of the port (src/policy/engine.ts) is an OpaInput.
 */
export interface OpaInput {
  action: string;
  /** `source` is one of cli, tui, web, api, ws, mcp, openclaw, system. */
  actor: { name: string; source: string };
  argv?: string[];
  image?: string;
  runtime?: string;
  requested: OpaRequestedScope[];
  granted: OpaGrant[];
  skill?: { name: string; signed?: boolean } | null;
  lockdown: boolean;
  guardrails?: GuardrailSignal[];
  history?: { recentDecisions: number; recentDenies: number };
}

/**
 * A policy engine running one OPA-compiled wasm policy in process. Evaluation never throws:
 * any failure (bad wasm, eval error, trap, missing or malformed output) is a deny with the
 * reason `policy.error`.
 */
export interface OpaEngine {
  readonly name: string;
  /** The wasm entrypoint evaluated, e.g. `aegisclaw/standard/decision`. */
  readonly entrypoint: string;
  /** Evaluates synchronously; loads the policy (and opa-wasm) on first use. */
  evaluate(input: OpaInput): Decision;
  /** {@link OpaEngine.evaluate}, in the shape of the PolicyEngine port. */
  decide(input: OpaInput): Promise<Decision>;
  /**
   * Loads the policy now instead of on first use, so that a bad policy is reported where it
   * is configured. Throws a `bad-input` AegisError naming the problem.
   */
  load(): void;
}
