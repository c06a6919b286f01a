import type { Risk } from "./scopes.ts";

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

/** A scope the action needs, with whether (and by which grant) the scope matcher covers it. */
export interface RequestedScope {
  scope: string;
  kind: string;
  target?: string;
  risk: Risk;
  granted: boolean;
  grantedBy?: string;
  /** Why a grant that matches as written does not cover it after resolving symlinks (file scopes). */
  reason?: string;
  /**
   * File scopes whose path leads elsewhere through a symlink: the host path the sandbox really
   * mounts. Such a scope is at least high risk (the grant says one place and opens another).
   */
  resolvesTo?: string;
}

/** A scope granted to the action (config, CLI --scope, manifest). */
export interface GrantedScope {
  scope: string;
  kind: string;
  risk: Risk;
}

/** What kind of action a policy input describes (policies/README.md). */
export type PolicyAction = "run" | "tool.call";

/**
 * Everything a policy may look at: the normalised request plus context. This exact JSON is
 * the input document of the Rego templates (policies/README.md), so its shape is a contract.
 */
export interface PolicyInput {
  /**
   * `run`: a command or skill in the sandbox. `tool.call`: an agent's tool call (OpenClaw) that
   * runs on the host if allowed. Both are judged the same way: requested against granted scopes.
   */
  action: PolicyAction;
  actor: { name: string; source: string };
  argv: string[];
  image: string;
  runtime: string;
  requested: RequestedScope[];
  granted: GrantedScope[];
  /** The skill being run, or null for a plain command. */
  skill: PolicySkill | null;
  lockdown: boolean;
  /** Prompt-injection / secret-leak signals (the guardrails stage is not built yet: empty). */
  guardrails: Array<{ kind: string; severity: Risk }>;
  /** What this actor did recently, from the audit log (policies may rate-limit on it). */
  history: PolicyHistory;
}

/**
 * A skill run as policy sees it (src/skills verified the signature just before the request).
 * `signed` is true only for a signature that verifies with a key in the trust store; the Rego
 * templates read only `name` and `signed`.
 */
export interface PolicySkill {
  name: string;
  signed: boolean;
  version?: string;
  command?: string;
  /** valid | unsigned | untrusted (a key not in the trust store) | invalid (changed since signing). */
  signature?: "valid" | "unsigned" | "untrusted" | "invalid";
  publisher?: string;
  keyId?: string;
  imageDigest?: string;
}

/** Counts of this actor's recent decisions, over the last `windowSeconds`. */
export interface PolicyHistory {
  windowSeconds: number;
  recentDecisions: number;
  recentDenies: number;
}

/** The policy stage's port: the built-in scope check and the OPA/Rego (wasm) templates. */
export interface PolicyEngine {
  readonly name: string;
  decide(input: PolicyInput): Promise<Decision>;
}
