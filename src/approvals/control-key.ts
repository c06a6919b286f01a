import { timingSafeEqual } from "node:crypto";
import { closeSync, existsSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AegisError } from "../shared/index.ts";

/** Directory of the per-process control sockets, under `$AEGISCLAW_HOME/run/`. */
export function controlDir(runDir: string): string {
  return join(runDir, "ctl");
}

/** Creates `run/ctl/` with mode 0700: only the home's owner can reach the sockets inside. */
export function ensureControlDir(runDir: string): string {
  const dir = controlDir(runDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || (stat.mode & 0o077) !== 0 || stat.uid !== process.getuid?.()) {
    throw new AegisError("integrity", `${dir} must be a directory of mode 0700 owned by you`, { hint: `remove it; AegisClaw recreates it: rm -r ${dir}` });
  }
  return dir;
}

/**
 * The shared secret every control-socket client presents first. Bun exposes no SO_PEERCRED,
 * so the peer check is twofold: the kernel lets only the owner (and root) connect to a 0600
 * socket in a 0700 directory, and only someone who can read this 0600 file knows the key.
 */
export function controlKey(runDir: string): string {
  const path = join(runDir, "control.key");
  if (!existsSync(path)) publishKey(path);
  const stat = lstatSync(path);
  if (!stat.isFile() || (stat.mode & 0o077) !== 0 || stat.uid !== process.getuid?.()) {
    throw new AegisError("integrity", `${path} must be a regular file of mode 0600 owned by you`, { hint: `remove it; AegisClaw recreates it: rm ${path}` });
  }
  const key = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-f]{64}$/.test(key)) throw new AegisError("integrity", `${path} is not a control key`, { hint: `remove it; AegisClaw recreates it: rm ${path}` });
  return key;
}

/**
 * Creates the key file whole or not at all: written under a name of its own, then hard-linked
 * into place (link(2) never replaces an existing file). Processes starting together on a fresh
 * home (a burst of `aegisclaw run`) then either create it or read a complete key, never an
 * empty file another one has created and not yet written.
 */
function publishKey(path: string): void {
  const staged = `${path}.${process.pid}.${crypto.randomUUID()}`;
  const fd = openSync(staged, "wx", 0o600);
  try {
    try {
      writeSync(fd, crypto.getRandomValues(new Uint8Array(32)).toHex());
    } finally {
      closeSync(fd);
    }
    linkSync(staged, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    rmSync(staged, { force: true });
  }
}

/** Constant-time comparison of a presented key with the real one. */
export function keyMatches(presented: unknown, key: string): boolean {
  if (typeof presented !== "string" || presented.length !== key.length) return false;
  return timingSafeEqual(Buffer.from(presented), Buffer.from(key));
}
