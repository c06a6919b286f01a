import { statSync } from "node:fs";

/**
 * A file changed less than this long before it was looked at is never trusted to a cache: file
 * timestamps come from a coarse clock (a kernel tick on ext4 and most Linux file systems, whole
 * seconds on a few), so two changes inside one tick could leave the same inode, size and times
 * behind. Once a file is this old, any later change gets a later timestamp. Racy-git's rule.
 */
export const SETTLED_MS = 1000;

/** What {@link fileSignature} found. */
export interface FileSignature {
  /** Changes whenever any of the files is created, removed, replaced (rename) or written. */
  key: string;
  /** Every file (that exists) last changed more than SETTLED_MS ago: a cache may keep the key. */
  settled: boolean;
  /** The first path did not exist. */
  firstMissing: boolean;
}

/**
 * One stat per path (inode, size, mtime and ctime in nanoseconds), for caches that must see
 * every change any process makes, at the price of a syscall instead of a read and a parse. A
 * directory's own times change when an entry is added, removed or renamed in it. Errors other
 * than a missing file (EACCES, ELOOP, ...) are thrown: the caller decides what failing means.
 */
export function fileSignature(paths: readonly string[], now = Date.now()): FileSignature {
  let key = "";
  let settled = true;
  let firstMissing = false;
  for (const [index, path] of paths.entries()) {
    const stat = statSync(path, { bigint: true, throwIfNoEntry: false });
    if (!stat) {
      key += "-|";
      if (index === 0) firstMissing = true;
      continue;
    }
    key += `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}|`;
    if (now - Number(stat.ctimeMs) <= SETTLED_MS) settled = false;
  }
  return { key, settled, firstMissing };
}

/**
 * How long one stat answers for a cache that is asked many times a millisecond (every decision
 * checks the secret store and counts the actor's history). A change another process makes is
 * then seen up to this much later: for context and safety nets, never for authorisation (tokens
 * and the lockdown flag stat on every call).
 */
export const PROBE_WINDOW_MS = 1;

/** {@link fileSignature} of fixed paths, taken at most once per `windowMs`. */
export class SignatureProbe {
  private last: { at: number; signature: FileSignature } | undefined;

  constructor(
    readonly paths: readonly string[],
    private readonly windowMs = PROBE_WINDOW_MS,
  ) {}

  read(): FileSignature {
    const now = performance.now();
    if (this.last && now - this.last.at < this.windowMs) return this.last.signature;
    const signature = fileSignature(this.paths);
    this.last = { at: now, signature };
    return signature;
  }
}
