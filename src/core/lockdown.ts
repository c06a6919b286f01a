import { readFileSync } from "node:fs";
import { z } from "zod";
import { AegisError } from "../shared/index.ts";
import { writeFileAtomic } from "../shared/index.ts";

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
 */
export class LockdownStore {
  constructor(private readonly file: string) {}

  read(): LockdownState {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { active: false };
      return { active: true, reason: `lockdown state unreadable (${(error as Error).message}); treated as locked` };
    }
    try {
      return LockdownState.parse(JSON.parse(text));
    } catch {
      return { active: true, reason: `lockdown state ${this.file} is malformed; treated as locked (run \`aegisclaw unlock\` to reset)` };
    }
  }

  isActive(): boolean {
    return this.read().active;
  }

  /** Persists the flag durably (fsync + atomic rename) before anything else reacts to it. */
  write(state: LockdownState): void {
    try {
      writeFileAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`);
    } catch (error) {
      throw new AegisError("internal", `cannot write lockdown state ${this.file}: ${(error as Error).message}`);
    }
  }
}
