import { createBuiltinEngine } from "./builtin-engine.ts";
import type { PolicyEngine } from "./engine.ts";
import { createOpaEngine } from "./opa/index.ts";
import type { OpaTemplate } from "./opa/types.ts";
import { userPolicyEngines, type UserPolicySource } from "./user-policies.ts";

/**
 * The policy stage's engines, combined deny > ask > allow by the caller: the built-in scope
 * check, the configured Rego template and the user's own compiled policies (which can only
 * tighten). Every thread that decides builds them from the same template and sources.
 */
export function configuredEngines(template: OpaTemplate, users: readonly UserPolicySource[]): PolicyEngine[] {
  return [createBuiltinEngine(), createOpaEngine(template), ...userPolicyEngines(users)];
}
