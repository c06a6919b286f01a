import { AegisError } from "../shared/index.ts";
import type { SandboxLimits } from "./types.ts";

const MIB = 1024 * 1024;

/** Limits used when the configuration does not say otherwise: small enough to contain a runaway. */
export const DEFAULT_LIMITS: SandboxLimits = Object.freeze({
  pids: 128,
  memoryBytes: 256 * MIB,
  cpus: 1,
  tmpfsBytes: 64 * MIB,
  outputBytes: 16 * MIB,
});

/**
 * Rejects limits that would silently mean "unlimited" to Docker (0, negative, NaN) or that the
 * engine refuses (memory below 6 MiB). A missing ceiling is never a valid request.
 */
export function validateLimits(limits: SandboxLimits): void {
  const integer = (name: keyof SandboxLimits, min: number) => {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < min) {
      throw new AegisError("bad-input", `sandbox limit ${name} must be an integer >= ${min}, got ${String(value)}`);
    }
  };
  integer("pids", 1);
  integer("memoryBytes", 6 * MIB);
  integer("tmpfsBytes", 1);
  integer("outputBytes", 1);
  if (!Number.isFinite(limits.cpus) || limits.cpus < 0.01) {
    throw new AegisError("bad-input", `sandbox limit cpus must be a number >= 0.01, got ${String(limits.cpus)}`);
  }
}
