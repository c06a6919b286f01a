import { AegisError } from "../../shared/index.ts";
import type { Decision } from "../engine.ts";
import type { OpaEngine, OpaInput } from "./types.ts";
import type { WasmPolicy } from "./wasm-policy.ts";

type WasmPolicyModule = typeof import("./wasm-policy.ts");

/** Options for {@link createOpaEngineFromWasm}. */
export interface WasmEngineOptions {
  /** Name shown in decisions and logs, e.g. `opa:standard`. */
  name?: string;
}

/**
 * An engine for a user-supplied policy.wasm (the `/policy.wasm` of `opa build -t wasm -e
 * <entrypoint>`). `bytes` may be a function so that reading the file also waits for first use.
 * Nothing is compiled until the first evaluation or an explicit `load()`.
 */
export function createOpaEngineFromWasm(bytes: Uint8Array | ArrayBuffer | (() => Uint8Array), entrypoint: string, options: WasmEngineOptions = {}): OpaEngine {
  const name = options.name ?? `opa:${entrypoint}`;
  let policy: WasmPolicy | undefined;
  // A load failure is permanent for these bytes, so it is kept and reported on every call.
  let loadError: Error | undefined;

  const ensureLoaded = (): WasmPolicy => {
    if (policy) return policy;
    if (loadError) throw loadError;
    try {
      // Loaded here, synchronously, so that importing the policy domain costs nothing.
      const module = require("./wasm-policy.ts") as WasmPolicyModule;
      const raw = typeof bytes === "function" ? bytes() : bytes;
      policy = module.loadWasmPolicy(raw instanceof Uint8Array ? raw : new Uint8Array(raw), entrypoint);
      return policy;
    } catch (error) {
      loadError = error instanceof Error ? error : new Error(String(error));
      throw loadError;
    }
  };

  const evaluate = (input: OpaInput): Decision => {
    try {
      return ensureLoaded().evaluate(input);
    } catch (error) {
      // A trap can leave the instance's heap or globals half-updated; start from a fresh
      // instance next time rather than trust it.
      if (!loadError) policy = undefined;
      return policyError(name, error);
    }
  };

  return {
    name,
    entrypoint,
    evaluate,
    decide: async (input) => evaluate(input),
    load() {
      try {
        ensureLoaded();
      } catch (error) {
        throw new AegisError("bad-input", `policy ${name}: ${message(error)}`, { cause: error });
      }
    },
  };
}

/** The fail-closed decision for anything that goes wrong while loading or evaluating. */
function policyError(name: string, error: unknown): Decision {
  return { kind: "deny", risk: "high", reasons: [{ rule: "policy.error", message: `policy ${name} failed, so the action is denied: ${message(error)}` }] };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
