/** Policy domain: scope grammar, the policy port and the built-in engine. */
export type { Decision, PolicyEngine, PolicyInput, Reason } from "./engine.ts";
export { createBuiltinEngine } from "./builtin-engine.ts";
export { ENFORCED_KINDS, parseEnforceableScopes, parseScope, scopeCovers, type Risk, type Scope, type ScopeKind } from "./scopes.ts";
