/**
 * The registered OCI runtimes of the Docker engine (GET /info), fetched over the unix socket
 * with Bun's fetch so that doctor does not need the full Docker client.
 */
export async function dockerRuntimes(socketPath: string, timeoutMs = 3000): Promise<string[] | undefined> {
  try {
    const response = await fetch("http://docker/v1.41/info", { unix: socketPath, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    const info = (await response.json()) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {});
  } catch {
    return undefined;
  }
}

/** One OCI runtime as registered in daemon.json, as GET /info reports it. */
export interface RuntimeRegistration {
  path: string;
  runtimeArgs: string[];
}

/** The engine's OCI runtimes with their paths and runtimeArgs; undefined when Docker does not answer. */
export async function dockerRuntimeRegistrations(socketPath: string, timeoutMs = 3000): Promise<Record<string, RuntimeRegistration> | undefined> {
  try {
    const response = await fetch("http://docker/v1.41/info", { unix: socketPath, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    const info = (await response.json()) as { Runtimes?: Record<string, { path?: unknown; runtimeArgs?: unknown } | null> };
    const registrations: Record<string, RuntimeRegistration> = {};
    for (const [name, entry] of Object.entries(info.Runtimes ?? {})) {
      const args = Array.isArray(entry?.runtimeArgs) ? entry.runtimeArgs.filter((arg): arg is string => typeof arg === "string") : [];
      registrations[name] = { path: typeof entry?.path === "string" ? entry.path : "", runtimeArgs: args };
    }
    return registrations;
  } catch {
    return undefined;
  }
}
