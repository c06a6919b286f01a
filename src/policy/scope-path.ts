import { targetError, unsafeCharacter } from "./scope-text.ts";

// Linux limits (PATH_MAX, NAME_MAX): anything longer cannot name a real file, so it is a mistake
// or an attack on some consumer's buffer, not a path to match.
const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;

/**
 * Normalizes an absolute path lexically: `.` and empty components (duplicate or trailing slashes)
 * dropped, `..` applied. Throws bad-input for a relative path, a `..` that would climb above `/`
 * (POSIX would silently clamp it; a scope that tries is a mistake or an attack), unsafe characters
 * and over-long paths. Unicode is not NFC/NFD-normalized: Linux compares names byte for byte, so
 * two spellings are two files. Symlinks are not touched here (see resolveScopePath).
 */
export function normalizeAbsolutePath(raw: string): string {
  const unsafe = unsafeCharacter(raw);
  if (unsafe !== undefined) throw targetError(`path ${unsafe}`, "write the path in plain UTF-8 without control characters");
  if (!raw.startsWith("/")) {
    throw targetError("path must be absolute (start with /)", "write the full path, e.g. /home/me/project; ~ and relative paths are not expanded");
  }
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.pop() === undefined) throw targetError("path climbs above / with ..", "remove the .. components");
      continue;
    }
    if (Buffer.byteLength(part) > MAX_NAME_BYTES) throw targetError(`path component is longer than ${MAX_NAME_BYTES} bytes`);
    parts.push(part);
  }
  const path = `/${parts.join("/")}`;
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw targetError(`path is longer than ${MAX_PATH_BYTES} bytes`);
  return path;
}

/**
 * True when `child` is `parent` or inside it, compared at component boundaries: `/data` contains
 * `/data/x` but not `/database`. Both must already be normalized.
 */
export function pathWithin(parent: string, child: string): boolean {
  if (parent === "/") return child.startsWith("/");
  return child === parent || child.startsWith(`${parent}/`);
}
