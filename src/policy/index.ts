/** Policy domain: scope grammar, the policy port, the built-in engine and decision combination. */
export type { Decision, GrantedScope, PolicyAction, PolicyEngine, PolicyHistory, PolicyInput, PolicySkill, Reason, RequestedScope } from "./engine.ts";
export { createBuiltinEngine } from "./builtin-engine.ts";
export { combineDecisions, createCombinedEngine, decideSafely, highestRisk } from "./risk.ts";
export { ENFORCED_KINDS, parseEnforceableScopes, parseScope, scopeCovers, type Risk, type Scope, type ScopeKind } from "./scopes.ts";
export { SCOPE_RISK, parseRequestedScope, type ScopeRole } from "./scopes.ts";
export { resolveScopePath, scopeCoversResolved, type ResolvedCoverage, type ResolvedPath } from "./scope-resolve.ts";
export { DEFAULT_PORTS, type HostKind } from "./scope-host.ts";
export { buildUserPolicies, loadUserPolicies, readUserPolicies, userPolicyEngines, type UserPolicyEntry, type UserPolicySource } from "./user-policies.ts";
export { configuredEngines } from "./configured.ts";
