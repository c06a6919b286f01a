/** Leaf utilities every domain may import: error type, canonical JSON, atomic file writes. No dependencies. */
export { AegisError, exitCodeFor, isAegisError, type ErrorCode } from "./errors.ts";
export { canonicalHash, canonicalJson } from "./canonical-json.ts";
export { fsyncDir, writeFileAtomic } from "./atomic-write.ts";
export { FileLock } from "./file-lock.ts";
export { fileSignature, PROBE_WINDOW_MS, SETTLED_MS, SignatureProbe, type FileSignature } from "./file-signature.ts";
export { entriesOfGoneProcesses, ownerGone, processAlive } from "./process-alive.ts";
