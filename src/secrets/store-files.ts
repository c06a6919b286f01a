import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { AegisError, writeFileAtomic } from "../shared/index.ts";
import type { SecretMeta } from "./backend.ts";
import { isSecretName } from "./names.ts";

/** Where the store keeps its files inside `secrets/`. */
export interface StorePaths {
  dir: string;
  identity: string;
  identityNew: string;
  index: string;
  lock: string;
  rotationMarker: string;
}

/** The fixed file names of a store directory. */
export function storePaths(dir: string): StorePaths {
  return {
    dir,
    identity: join(dir, "identity.txt"),
    identityNew: join(dir, "identity.txt.new"),
    index: join(dir, "index.json"),
    lock: join(dir, ".lock"),
    rotationMarker: join(dir, "rotation.json"),
  };
}

/** The file holding one secret. */
export function secretFile(dir: string, name: string): string {
  return join(dir, `${name}.age`);
}

/** Creates the store directory with mode 0700 (tightening an existing one). */
export function ensureStoreDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Names of the secrets on disk. The `.age` files are the source of truth; the index only adds
 * times, so a crash between writing a file and updating the index loses no secret.
 */
export function secretNamesOnDisk(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith(".age"))
    .map((file) => file.slice(0, -".age".length))
    .filter(isSecretName)
    .sort();
}

const IndexEntry = z.object({ created: z.string(), updated: z.string() });
const IndexFile = z.object({ version: z.literal(1), secrets: z.record(z.string(), IndexEntry) });
/** `secrets/index.json`: names and times only, never values. */
export type IndexFile = z.infer<typeof IndexFile>;

/** Reads the metadata index (empty when absent). */
export function readIndex(path: string): IndexFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { version: 1, secrets: {} };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = IndexFile.safeParse(parsed);
  if (!result.success) {
    throw new AegisError("bad-input", `${path} is not a valid secrets index`, {
      hint: "delete it: it holds only names and times, and is rebuilt from the .age files",
    });
  }
  return result.data;
}

/** Writes the metadata index atomically (mode 0600). */
export function writeIndex(path: string, index: IndexFile): void {
  writeFileAtomic(path, `${JSON.stringify(index, null, 2)}\n`, 0o600);
}

/** Metadata of the secrets on disk; a file missing from the index falls back to its mtime. */
export function listMeta(dir: string, index: IndexFile): SecretMeta[] {
  return secretNamesOnDisk(dir).map((name) => {
    const entry = index.secrets[name];
    if (entry) return { name, created: entry.created, updated: entry.updated };
    const time = statSync(secretFile(dir, name)).mtime.toISOString();
    return { name, created: time, updated: time };
  });
}
