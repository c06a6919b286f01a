import { OCI_RUNTIMES, SANDBOX_RUNTIMES } from "../sandbox/index.ts";
import type { Check } from "./checks.ts";
import { dockerRuntimeRegistrations } from "./engine-info.ts";

/**
 * runtimes: every OCI runtime the engine has registered, and which of them AegisClaw can run
 * sandboxes with (`--runtime NAME`). Others (kata, firecracker, ...) are listed so a user sees
 * them, and said to be unused: this version self-tests and accepts only its own.
 */
export async function checkRuntimes(socketPath: string): Promise<Check> {
  const registrations = await dockerRuntimeRegistrations(socketPath);
  if (registrations === undefined) return { id: "runtimes", status: "warn", message: "cannot ask Docker for its runtimes", fix: "start Docker first" };
  const registered = Object.keys(registrations).sort();
  // `docker` runs with the engine's default runtime, runc.
  const ociOf = (name: (typeof SANDBOX_RUNTIMES)[number]) => OCI_RUNTIMES[name] ?? "runc";
  const usable = SANDBOX_RUNTIMES.filter((name) => registered.includes(ociOf(name)));
  const ours = new Set(SANDBOX_RUNTIMES.map(ociOf));
  const others = registered.filter((name) => !ours.has(name));
  const message = `usable: ${usable.map((name) => `${name} (${ociOf(name)})`).join(", ") || "none"}${others.length > 0 ? `; also registered, not used by this version: ${others.join(", ")}` : ""}`;
  return { id: "runtimes", status: usable.length > 0 ? "pass" : "fail", message, ...(usable.length > 0 ? {} : { fix: "check the Docker engine's runtimes (docker info)" }) };
}
