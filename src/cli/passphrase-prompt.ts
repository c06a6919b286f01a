import { AegisError } from "../shared/index.ts";
import type { CliContext } from "./context.ts";

/** Unlocks a passphrase-protected identity without a terminal. Environment variables are readable only by the same user (and root), via /proc/PID/environ. */
export const PASSPHRASE_ENV = "AEGISCLAW_SECRETS_PASSPHRASE";

/** The passphrase for an existing identity: environment first, then the terminal. */
export async function unlockPassphrase(ctx: CliContext): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV];
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) return hiddenPrompt("passphrase for the secret store: ", ctx);
  throw new AegisError("usage", "the secret store identity is passphrase-protected and there is no terminal to ask on", {
    hint: `set ${PASSPHRASE_ENV} (visible only to your user and root)`,
  });
}

/** A passphrase for a new identity: environment, or asked twice on the terminal. */
export async function newPassphrase(ctx: CliContext): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new AegisError("usage", "--passphrase needs a terminal to ask on, or the passphrase in the environment", { hint: `set ${PASSPHRASE_ENV}` });
  }
  const first = await hiddenPrompt("new passphrase for the secret store: ", ctx);
  if (first === "") throw new AegisError("bad-input", "the passphrase is empty", { hint: "choose several random words" });
  const second = await hiddenPrompt("repeat the passphrase: ", ctx);
  if (first !== second) throw new AegisError("bad-input", "the passphrases do not match; nothing was created", { hint: "run `aegisclaw secrets init --passphrase` again" });
  return first;
}

/**
 * Reads one line from the terminal with echo off (raw mode: the terminal echoes nothing, and
 * this loop echoes nothing). Ctrl-C cancels, backspace edits; raw mode is restored on every path.
 */
export async function hiddenPrompt(label: string, ctx: CliContext): Promise<string> {
  const stdin = process.stdin;
  ctx.stderr(label);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed: string[] = [];
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString("utf8")) {
          if (char === "\r" || char === "\n" || char === "\u0004") {
            stdin.off("data", onData);
            resolve(typed.join(""));
            return;
          }
          if (char === "\u0003") {
            stdin.off("data", onData);
            reject(new AegisError("usage", "cancelled; nothing was changed"));
            return;
          }
          if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
          else typed.push(char);
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    ctx.stderr("\n");
  }
}
