import { chmodSync, mkdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { AegisError } from "../shared/index.ts";

/** Where everything lives under `$AEGISCLAW_HOME` (DESIGN.md, "State on disk"). */
export interface HomeLayout {
  root: string;
  config: string;
  policies: string;
  skills: string;
  secrets: string;
  audit: string;
  state: string;
  run: string;
  lockdownFile: string;
}

/** Resolves `$AEGISCLAW_HOME` (default `~/.aegisclaw`) to an absolute path. */
export function resolveHome(env: Record<string, string | undefined> = process.env): string {
  const configured = env.AEGISCLAW_HOME;
  if (configured === undefined || configured === "") return join(homedir(), ".aegisclaw");
  if (configured.includes("\0")) throw new AegisError("bad-input", "AEGISCLAW_HOME contains a NUL byte");
  return isAbsolute(configured) ? configured : resolve(configured);
}

/** The fixed layout of a home directory. */
export function homeLayout(root: string): HomeLayout {
  return {
    root,
    config: join(root, "config.yaml"),
    policies: join(root, "policies"),
    skills: join(root, "skills"),
    secrets: join(root, "secrets"),
    audit: join(root, "audit"),
    state: join(root, "state"),
    run: join(root, "run"),
    lockdownFile: join(root, "state", "lockdown.json"),
  };
}

/** Creates the home's directories with mode 0700 (existing ones are tightened, never loosened). */
export function ensureHomeDirectories(layout: HomeLayout): void {
  for (const dir of [layout.root, layout.policies, layout.skills, layout.secrets, layout.state, layout.run]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
}

/** Fails with a fix hint when the home has not been initialised. */
export function requireInitialisedHome(layout: HomeLayout): void {
  if (!exists(layout.config)) {
    throw new AegisError("bad-input", `AegisClaw is not initialised: ${layout.config} does not exist`, {
      hint: "run `aegisclaw init` (or `aegisclaw init --yes` in scripts)",
    });
  }
}

/** True when `path` exists (any type). */
export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
