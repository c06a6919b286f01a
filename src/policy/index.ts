/** Policy domain: scope grammar, the policy port, the built-in engine and decision combination. */
export type { Decision, GrantedScope, PolicyEngine, PolicyInput, Reason, RequestedScope } from "./engine.ts";
export { createBuiltinEngine } from "./builtin-engine.ts";
export { combineDecisions, createCombinedEngine, highestRisk } from "./risk.ts";
export { ENFORCED_KINDS, parseEnforceableScopes, parseScope, scopeCovers, type Risk, type Scope, type ScopeKind } from "./scopes.ts";
