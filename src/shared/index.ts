/** Leaf utilities every domain may import: error type and canonical JSON. No dependencies. */
export { AegisError, exitCodeFor, isAegisError, type ErrorCode } from "./errors.ts";
export { canonicalHash, canonicalJson } from "./canonical-json.ts";
