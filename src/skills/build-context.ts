/**
 * The build context of a skill as a tar archive, made here rather than by `tar` so that it is
 * the same bytes for the same files: entries sorted, owner root, time zero, modes normalised
 * (0755 for directories and owner-executable files, else 0644). Only regular files and
 * directories: a symlink could point the engine's COPY at anything, so it is refused.
 * `manifest.yaml` is left out: signing adds a block to it, which must not change the image.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AegisError } from "../shared/index.ts";
import { MANIFEST_FILE } from "./manifest-file.ts";

const MAX_FILES = 10_000;
const MAX_BYTES = 64 * 1024 * 1024;
const BLOCK = 512;

interface Entry {
  name: string;
  directory: boolean;
  executable: boolean;
  content: Uint8Array;
}

/** The tar (ustar) of `dir` without manifest.yaml. Throws bad-input on symlinks, special files or size. */
export function buildContextTar(dir: string): Uint8Array {
  const entries: Entry[] = [];
  let total = 0;
  const walk = (relative: string) => {
    for (const name of readdirSync(join(dir, relative)).sort()) {
      const path = relative === "" ? name : `${relative}/${name}`;
      if (path === MANIFEST_FILE) continue;
      const stats = lstatSync(join(dir, path));
      if (stats.isDirectory()) {
        entries.push({ name: `${path}/`, directory: true, executable: true, content: new Uint8Array() });
        walk(path);
      } else if (stats.isFile()) {
        const content = new Uint8Array(readFileSync(join(dir, path)));
        total += content.length;
        entries.push({ name: path, directory: false, executable: (stats.mode & 0o100) !== 0, content });
      } else {
        throw new AegisError("bad-input", `${join(dir, path)}: only regular files and directories may be in a skill's directory (no symlinks)`);
      }
      if (entries.length > MAX_FILES || total > MAX_BYTES) {
        throw new AegisError("bad-input", `${dir}: a skill's directory may hold at most ${MAX_FILES} files and ${MAX_BYTES / 1024 / 1024} MiB`);
      }
    }
  };
  walk("");
  const chunks: Uint8Array[] = [];
  for (const entry of entries) {
    chunks.push(header(entry));
    if (entry.content.length > 0) {
      chunks.push(entry.content, new Uint8Array((BLOCK - (entry.content.length % BLOCK)) % BLOCK));
    }
  }
  chunks.push(new Uint8Array(BLOCK * 2));
  return Buffer.concat(chunks);
}

function header(entry: Entry): Uint8Array {
  const block = Buffer.alloc(BLOCK);
  const name = Buffer.from(entry.name);
  // ustar: names up to 100 bytes, or a prefix (155) + name (100) split at a slash.
  let prefix = Buffer.alloc(0);
  let short = name;
  if (name.length > 100) {
    const cut = entry.name.lastIndexOf("/", entry.name.length - 2);
    prefix = Buffer.from(entry.name.slice(0, cut));
    short = Buffer.from(entry.name.slice(cut + 1));
    if (cut < 0 || prefix.length > 155 || short.length > 100) throw new AegisError("bad-input", `path too long for a build context: ${entry.name}`);
  }
  short.copy(block, 0);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, "0");
  block.write(octal(entry.directory || entry.executable ? 0o755 : 0o644, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(entry.content.length, 12), 124);
  block.write(octal(0, 12), 136);
  block.write(entry.directory ? "5" : "0", 156);
  block.write("ustar\u000000", 257);
  prefix.copy(block, 345);
  block.fill(" ", 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${octal(sum, 7)}\u0000 `, 148);
  return block;
}
