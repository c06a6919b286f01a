import { readFileSync } from "node:fs";
import { createOpaEngineFromWasm } from "./engine.ts";
import type { OpaEngine, OpaTemplate } from "./types.ts";
// Built from policies/<name>.rego by scripts/build-policies.sh and committed. `type: "file"`
// embeds them in the compiled binary; the import is only a path, read on first use.
import permissiveWasm from "./wasm/permissive.wasm" with { type: "file" };
import standardWasm from "./wasm/standard.wasm" with { type: "file" };
import strictWasm from "./wasm/strict.wasm" with { type: "file" };

const WASM: Record<OpaTemplate, string> = { strict: strictWasm, standard: standardWasm, permissive: permissiveWasm };

/** The names of the built-in templates. */
export const OPA_TEMPLATES: readonly OpaTemplate[] = ["strict", "standard", "permissive"];

/**
 * The engine for one built-in Rego template (policies/<template>.rego), evaluating
 * `data.aegisclaw.<template>.decision` in process.
 */
export function createOpaEngine(template: OpaTemplate): OpaEngine {
  const path = WASM[template];
  return createOpaEngineFromWasm(() => readFileSync(path), `aegisclaw/${template}/decision`, { name: `opa:${template}` });
}
