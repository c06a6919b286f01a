/**
 * Loading and evaluating one OPA-compiled policy.wasm with opa-wasm. Only the lazy loader in
 * engine.ts imports this file, so opa-wasm and zod load on the first evaluation, not at start.
 */
import type { Decision } from "../engine.ts";
import { PolicyResultSet } from "./decision-schema.ts";

type OpaWasm = typeof import("@open-policy-agent/opa-wasm");
type LoadedPolicy = ReturnType<OpaWasm["loadPolicySync"]>;

// `require`, not `import`: the ESM build of opa-wasm exports loadPolicySync only on its default
// export, which its type declarations do not describe (notes/stack.md section 8); the CommonJS
// entry exports everything the declarations list.
const opa = require("@open-policy-agent/opa-wasm") as OpaWasm;

/**
 * Wasm memory bounds in 64 KiB pages. The maximum turns a runaway policy (or a huge input)
 * into a trap, which the engine reports as a deny, instead of exhausting the process.
 */
const MEMORY = { initial: 5, maximum: 1024 };

/** What a policy.wasm of OPA wasm ABI 1.2 or later exports (opa_eval is the 1.2 fast path). */
const OPA_EXPORTS = ["opa_wasm_abi_version", "opa_wasm_abi_minor_version", "builtins", "entrypoints", "opa_eval", "opa_heap_ptr_get"];

/** Inputs above this size are denied before evaluation; real ones are a few hundred bytes. */
export const MAX_INPUT_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/** A loaded policy: one entrypoint, evaluated synchronously. */
export interface WasmPolicy {
  /** Returns the policy's decision, or throws PolicyFailure saying what went wrong. */
  evaluate(input: unknown): Decision;
}

/** Why a policy could not be loaded or evaluated; the engine turns it into a deny. */
export class PolicyFailure extends Error {
  override readonly name = "PolicyFailure";
}

/** Compiles and instantiates policy.wasm; throws PolicyFailure for bad or foreign modules. */
export function loadWasmPolicy(bytes: Uint8Array, entrypoint: string): WasmPolicy {
  let policy: LoadedPolicy;
  try {
    const module = new WebAssembly.Module(bytes);
    // Checked before opa-wasm sees the module: on a foreign module it logs to stderr and then
    // fails with an unhelpful TypeError.
    const exported = new Set(WebAssembly.Module.exports(module).map((entry) => entry.name));
    const missing = OPA_EXPORTS.filter((name) => !exported.has(name));
    if (missing.length > 0) throw new Error(`missing exports ${missing.join(", ")}`);
    policy = opa.loadPolicySync(module, { ...MEMORY });
  } catch (error) {
    throw new PolicyFailure(`not an OPA policy.wasm (${describe(error)}); build it with opa build -t wasm`);
  }
  // entrypoints is an object of name -> id in every OPA wasm ABI version.
  const entrypoints: unknown = policy.entrypoints;
  const id = isRecord(entrypoints) ? entrypoints[entrypoint] : undefined;
  if (typeof id !== "number") {
    const known = isRecord(entrypoints) ? Object.keys(entrypoints).join(", ") : "none";
    throw new PolicyFailure(`policy has no entrypoint ${entrypoint} (it has: ${known || "none"}); build it with -e ${entrypoint}`);
  }
  return {
    evaluate(input: unknown): Decision {
      // Serialised here rather than by opa-wasm, which treats every falsy input (null, 0, "")
      // as "no input" and would throw an unhelpful error on a BigInt or a cycle.
      const json = JSON.stringify(input) ?? "null";
      const encoded = encoder.encode(json);
      if (encoded.byteLength > MAX_INPUT_BYTES) {
        throw new PolicyFailure(`policy input is ${encoded.byteLength} bytes, more than the ${MAX_INPUT_BYTES} allowed`);
      }
      let resultSet: unknown;
      try {
        resultSet = policy.evaluate(exactBuffer(encoded), id);
      } catch (error) {
        throw new PolicyFailure(`policy evaluation failed: ${describe(error)}`);
      }
      const parsed = PolicyResultSet.safeParse(resultSet);
      if (!parsed.success) {
        if (Array.isArray(resultSet) && resultSet.length === 0) throw new PolicyFailure(`policy left ${entrypoint} undefined`);
        const issue = parsed.error.issues[0];
        const where = issue ? issue.path.slice(2).join(".") || "decision" : "decision";
        throw new PolicyFailure(`policy output is malformed at ${where}: ${issue?.message ?? "invalid"}`);
      }
      return parsed.data[0].result;
    },
  };
}

// opa-wasm copies an ArrayBuffer whole, so hand it one holding exactly the encoded bytes.
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const { buffer } = bytes;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) return buffer;
  return bytes.slice().buffer;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

// opa-wasm throws strings (opa_abort) as well as Errors; both become one short line.
function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error) ?? String(error);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
