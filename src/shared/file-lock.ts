import { closeSync, openSync } from "node:fs";
import { AegisError } from "./errors.ts";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

type Flock = (fd: number, operation: number) => number;
let flockFn: Flock | undefined;

/**
 * flock(2) through bun:ffi. flock (not a lock file with a pid) because the kernel drops it
 * when the holder dies, so a kill -9 never leaves a file locked. Loaded lazily so CLI
 * commands that take no lock stay light. Used by the audit log and the secret store.
 */
async function flock(): Promise<Flock> {
  if (flockFn) return flockFn;
  const { dlopen, FFIType } = await import("bun:ffi");
  const libc = process.platform === "darwin" ? "libc.dylib" : "libc.so.6";
  try {
    const lib = dlopen(libc, { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
    flockFn = (fd, operation) => lib.symbols.flock(fd, operation);
  } catch (error) {
    throw new AegisError("unavailable", `cannot load flock(2) from ${libc}: ${(error as Error).message}`, { cause: error });
  }
  return flockFn;
}

/** An exclusive or shared advisory lock on one file, re-acquirable for each batch. */
export class FileLock {
  private readonly fd: number;
  private held = false;

  private constructor(
    private readonly path: string,
    private readonly call: Flock,
  ) {
    this.fd = openSync(path, "a+", 0o600);
  }

  /** Opens (creating) the lock file. */
  static async open(path: string): Promise<FileLock> {
    return new FileLock(path, await flock());
  }

  /**
   * Waits for the lock with a non-blocking retry loop so the event loop keeps running, and
   * gives up after `timeoutMs` rather than hanging a gate decision forever.
   */
  async acquire(options: { shared?: boolean; timeoutMs?: number; what?: string } = {}): Promise<void> {
    if (this.held) throw new AegisError("internal", `lock ${this.path} acquired twice by one holder`);
    const operation = (options.shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    let pause = 1;
    while (this.call(this.fd, operation) !== 0) {
      if (Date.now() > deadline) {
        const what = options.what ?? "the audit log";
        throw new AegisError("unavailable", `${what} is locked by another process (${this.path})`, {
          hint: `another aegisclaw process is stuck holding ${what}; check \`ps\` for it`,
        });
      }
      await Bun.sleep(pause);
      pause = Math.min(pause * 2, 20);
    }
    this.held = true;
  }

  /** Releases the lock (idempotent). */
  release(): void {
    if (!this.held) return;
    this.call(this.fd, LOCK_UN);
    this.held = false;
  }

  /** Releases and closes the file. */
  close(): void {
    this.release();
    closeSync(this.fd);
  }
}
