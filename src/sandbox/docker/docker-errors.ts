/** Translation of Docker client failures into AegisErrors with a message that says how to fix them. */
import { AegisError } from "../../shared/index.ts";

const CONNECT_CODES = new Set(["ENOENT", "ECONNREFUSED", "EACCES", "EPERM", "ECONNRESET", "ENOTSOCK", "FailedToOpenSocket", "ConnectionRefused"]);

/** The HTTP status of a Docker API error, if it is one. */
export function statusCodeOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("statusCode" in error)) return undefined;
  return typeof error.statusCode === "number" ? error.statusCode : undefined;
}

/** True when the engine could not be reached at all (no socket, refused, no permission). */
export function isConnectError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = "code" in error && typeof error.code === "string" ? error.code : "";
  if (CONNECT_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : "";
  return /connect|socket|ENOENT|ECONNREFUSED/i.test(message) && statusCodeOf(error) === undefined;
}

/** The error for an engine that does not answer; the same text doctor shows. */
export function unreachableError(socketPath: string, cause: unknown): AegisError {
  return new AegisError("unavailable", `Docker engine is not reachable at ${socketPath}`, {
    hint: "start it (e.g. `dockerd &` or `systemctl start docker`) and check `aegisclaw doctor`",
    cause,
  });
}

/** The error for a sandbox image that is not on this engine (nothing is ever pulled). */
export function missingImageError(image: string, cause?: unknown): AegisError {
  return new AegisError("unavailable", `sandbox image ${image} is not present`, {
    hint: "build the local base image: bash scripts/build-base-image.sh (install.sh does this)",
    cause,
  });
}

/** Wraps anything the Docker client threw; AegisErrors pass through unchanged. */
export function dockerError(error: unknown, socketPath: string, doing: string): AegisError {
  if (error instanceof AegisError) return error;
  if (isConnectError(error)) return unreachableError(socketPath, error);
  const detail = dockerMessage(error);
  return new AegisError("unavailable", `Docker engine failed while ${doing}: ${detail}`, { hint: "check `aegisclaw doctor` and the dockerd log", cause: error });
}

/** The engine's own message (EngineError carries it already). */
export function dockerMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
