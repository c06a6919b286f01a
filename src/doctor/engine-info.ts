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
