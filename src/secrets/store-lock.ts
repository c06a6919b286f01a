import { FileLock } from "../shared/index.ts";

/**
 * Runs `work` holding the store lock: exclusive for writers, shared for readers. Without it a
 * `set` racing a `rotate` could write a file to the old identity just before it is replaced.
 * flock(2): a killed process never leaves the store locked.
 */
export async function withStoreLock<T>(path: string, mode: "shared" | "exclusive", work: () => Promise<T>): Promise<T> {
  const lock = await FileLock.open(path);
  try {
    await lock.acquire({ shared: mode === "shared", timeoutMs: 10_000, what: "the secret store" });
    return await work();
  } finally {
    lock.close();
  }
}
