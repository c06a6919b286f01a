import { runtimeNameForOci, runtimeNameProblem } from "../sandbox/index.ts";
import type { Check } from "./checks.ts";
import { dockerRuntimeRegistrations } from "./engine-info.ts";

/**
 * runtimes: every OCI runtime the engine has registered, and the `--runtime NAME` that runs
 * sandboxes on it. runc and runsc go by their built-in names (docker, gvisor); any other
 * registered runtime (kata, firecracker, ...) goes by its own, self-tested before its first run.
 */
export async function checkRuntimes(socketPath: string): Promise<Check> {
  const registrations = await dockerRuntimeRegistrations(socketPath);
  if (registrations === undefined) return { id: "runtimes", status: "warn", message: "cannot ask Docker for its runtimes", fix: "start Docker first" };
  const registered = Object.keys(registrations).sort();
  const usable = registered.flatMap((oci) => {
    const name = runtimeNameForOci(oci);
    return runtimeNameProblem(name) === undefined ? [name === oci ? `${name} (self-tested before its first run)` : `${name} (${oci})`] : [];
  });
  const unusable = registered.filter((oci) => runtimeNameProblem(runtimeNameForOci(oci)) !== undefined);
  const message = `usable with --runtime: ${usable.join(", ") || "none"}${unusable.length > 0 ? `; registered under names AegisClaw does not accept: ${unusable.join(", ")}` : ""}`;
  return { id: "runtimes", status: usable.length > 0 ? "pass" : "fail", message, ...(usable.length > 0 ? {} : { fix: "check the Docker engine's runtimes (docker info)" }) };
}
