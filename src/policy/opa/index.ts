/**
 * OPA/Rego policies evaluated in process from OPA-compiled wasm. Importing this module loads
 * neither opa-wasm nor the policies; that happens on the first evaluation.
 */
export { createOpaEngineFromWasm, type WasmEngineOptions } from "./engine.ts";
export { createOpaEngine, OPA_TEMPLATES } from "./templates.ts";
export type { GuardrailSignal, OpaEngine, OpaGrant, OpaInput, OpaRequestedScope, OpaTemplate } from "./types.ts";
export { TEMPLATE_FILES, TEMPLATE_SOURCES } from "./template-sources.ts";
