/**
 * Installed skills: `$AEGISCLAW_HOME/skills/<name>/manifest.yaml` (the manifest as given,
 * signature included) and `install.json` (the image id AegisClaw built or found, and when).
 * A skill directory is replaced as a whole (written beside it, then swapped), so a reader sees
 * the old skill or the new one, never half of each.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { AegisError, fsyncDir, writeFileAtomic } from "../shared/index.ts";
import { SKILL_NAME_PATTERN } from "./manifest.ts";
import { MANIFEST_FILE, parseManifest, type ParsedManifest } from "./manifest-file.ts";

const INSTALL_FILE = "install.json";
/** A docker-compose skill's compose file, as installed (whatever its name in the source directory). */
const INSTALLED_COMPOSE_FILE = "compose.yaml";

/** What AegisClaw recorded when it installed a skill. */
export const InstallRecord = z
  .object({
    name: z.string().regex(SKILL_NAME_PATTERN),
    version: z.string(),
    imageId: z.string().regex(/^sha256:[0-9a-f]{64}$/).describe("The exact image every run uses (never the tag)."),
    image: z.string().describe("The tag it was given."),
    installedAt: z.string(),
    source: z.string().describe("The directory it was installed from."),
  })
  .strict();
export type InstallRecord = z.infer<typeof InstallRecord>;

/** An installed skill, read back and validated. */
export interface InstalledSkill {
  name: string;
  dir: string;
  parsed: ParsedManifest;
  record: InstallRecord;
}

/** The installed skills under one `skills/` directory. Construction does no I/O. */
export class SkillRegistry {
  constructor(readonly root: string) {}

  /** The trust store's path inside this directory (skill names cannot contain dots, so it never clashes). */
  get trustFile(): string {
    return join(this.root, "trust.json");
  }

  /** Every installed skill, by name. */
  list(): InstalledSkill[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root)
      .filter((name) => SKILL_NAME_PATTERN.test(name) && existsSync(join(this.root, name, INSTALL_FILE)))
      .sort()
      .map((name) => this.get(name));
  }

  /** True when a skill of this name is installed. */
  has(name: string): boolean {
    return SKILL_NAME_PATTERN.test(name) && existsSync(join(this.root, name, INSTALL_FILE));
  }

  /** One installed skill; not installed is bad input, a damaged record an integrity error. */
  get(name: string): InstalledSkill {
    if (!this.has(name)) {
      throw new AegisError("bad-input", `skill ${name} is not installed`, { hint: "see `aegisclaw skills list`; install one with `aegisclaw skills add DIR`" });
    }
    const dir = join(this.root, name);
    const composeFile = join(dir, INSTALLED_COMPOSE_FILE);
    const compose = existsSync(composeFile) ? { text: readFileSync(composeFile, "utf8"), file: composeFile } : undefined;
    const parsed = parseManifest(readFileSync(join(dir, MANIFEST_FILE), "utf8"), join(dir, MANIFEST_FILE), compose);
    let record: InstallRecord | undefined;
    try {
      record = InstallRecord.parse(JSON.parse(readFileSync(join(dir, INSTALL_FILE), "utf8")));
    } catch {
      record = undefined;
    }
    if (!record || record.name !== name || parsed.manifest.name !== name) {
      throw new AegisError("integrity", `the installed skill ${name} is damaged (${join(dir, INSTALL_FILE)})`, { hint: "install it again: `aegisclaw skills add DIR --yes`" });
    }
    return { name, dir, parsed, record };
  }

  /** Installs (or replaces) a skill atomically. */
  write(parsed: ParsedManifest, record: InstallRecord): InstalledSkill {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const name = parsed.manifest.name;
    const unique = `${process.pid}-${Math.random().toString(16).slice(2)}`;
    const staging = join(this.root, `.${name}.new-${unique}`);
    mkdirSync(staging, { mode: 0o700 });
    try {
      writeFileAtomic(join(staging, MANIFEST_FILE), parsed.text);
      if (parsed.compose) writeFileAtomic(join(staging, INSTALLED_COMPOSE_FILE), parsed.compose.text);
      writeFileAtomic(join(staging, INSTALL_FILE), `${JSON.stringify(record, null, 2)}\n`);
      const target = join(this.root, name);
      const old = join(this.root, `.${name}.old-${unique}`);
      if (existsSync(target)) renameSync(target, old);
      renameSync(staging, target);
      fsyncDir(this.root);
      rmSync(old, { recursive: true, force: true });
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    return this.get(name);
  }
}
