import { readFileSync } from "node:fs";
import { z } from "zod";
import { AegisError, fileSignature, type FileSignature, writeFileAtomic } from "../shared/index.ts";

/** The persisted lockdown flag (`state/lockdown.json`). */
export const LockdownState = z
  .object({
    active: z.boolean(),
    reason: z.string().optional(),
    since: z.string().optional(),
    actor: z.string().optional(),
  })
  .strict();
export type LockdownState = z.infer<typeof LockdownState>;

/**
 * Reads and writes the lockdown flag. Fail closed: a flag file that exists but cannot be read
 * or parsed counts as locked, so corrupting it never unlocks anything.
 *
 * Every read stats the file (one syscall per decision) and reuses the parsed flag only while
 * its inode, size, mtime and ctime are unchanged, so a lockdown written by any process (an
 * atomic rename: a new inode and ctime) is seen by the very next read, as with a full re-read.
 */
export class LockdownStore {
  private cache: { key: string; state: LockdownState } | undefined;

  constructor(private readonly file: string) {}

  read(): LockdownState {
    let signature: FileSignature;
    try {
      signature = fileSignature([this.file]);
    } catch (error) {
      return { active: true, reason: `lockdown state unreadable (${(error as Error).message}); treated as locked` };
    }
    if (signature.firstMissing) return { active: false };
    const { key } = signature;
    if (this.cache?.key === key) return { ...this.cache.state };
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { active: false };
      return { active: true, reason: `lockdown state unreadable (${(error as Error).message}); treated as locked` };
    }
    let state: LockdownState;
    try {
      state = LockdownState.parse(JSON.parse(text));
    } catch {
      return { active: true, reason: `lockdown state ${this.file} is malformed; treated as locked (run \`aegisclaw unlock\` to reset)` };
    }
    // Only a well-formed flag that had settled before it was read is kept (see SETTLED_MS).
    this.cache = signature.settled ? { key, state } : undefined;
    return { ...state };
  }

  isActive(): boolean {
    return this.read().active;
  }

  /** Persists the flag durably (fsync + atomic rename) before anything else reacts to it. */
  write(state: LockdownState): void {
    this.cache = undefined;
    try {
      writeFileAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`);
    } catch (error) {
      throw new AegisError("internal", `cannot write lockdown state ${this.file}: ${(error as Error).message}`);
    }
  }
}
