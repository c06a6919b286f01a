/** Reading and writing `manifest.yaml`: YAML with line numbers, schema errors as file:line: field. */
import { lstatSync, readFileSync, realpathSync } from "node:fs";
import { join, sep } from "node:path";
import { LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { AegisError } from "../shared/index.ts";
import { checkComposeServices } from "./compose-check.ts";
import { parseComposeFile, type ComposeFile } from "./compose-file.ts";
import { isComposePath, SkillManifest, type ManifestSignature } from "./manifest.ts";

/** The manifest file name inside a skill directory. */
export const MANIFEST_FILE = "manifest.yaml";

/**
 * Where a docker-compose skill's compose file goes in the signed data: a key no manifest can
 * have (the schema refuses unknown keys), so the signature covers the manifest and the compose
 * file together, and existing signatures of docker skills are unchanged.
 */
export const COMPOSE_SIGNED_KEY = "$compose";

/** A compose file's text and where it came from. */
export interface ComposeSource {
  text: string;
  file: string;
}

/** A validated manifest and the data its signature covers. */
export interface ParsedManifest {
  manifest: SkillManifest;
  /** The manifest exactly as written, as data, without `signature`: what a signature covers. */
  signed: Record<string, unknown>;
  signature: ManifestSignature | undefined;
  /** The file it came from (for messages). */
  file: string;
  /** The YAML text (kept so `sign` can add the block without losing comments). */
  text: string;
  /** platform docker-compose: the parsed compose file (its data is part of `signed`). */
  compose?: ComposeFile;
}

/** Reads `<dir>/manifest.yaml`. */
export function loadManifest(dir: string): ParsedManifest {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new AegisError("bad-input", `cannot read ${file}: ${(error as Error).message}`, { hint: "a skill directory holds manifest.yaml and a Dockerfile (docs/skills.md)" });
  }
  const composePath = composeFileOf(text);
  return parseManifest(text, file, composePath === undefined ? undefined : readComposeSource(dir, composePath, file));
}

/** `compose_file` of a docker-compose manifest when it is a plausible path (the schema reports the rest). */
function composeFileOf(text: string): string | undefined {
  const data: unknown = parseDocument(text).toJS();
  if (typeof data !== "object" || data === null) return undefined;
  const { platform, compose_file: path } = data as Record<string, unknown>;
  if (platform !== "docker-compose" || typeof path !== "string") return undefined;
  return isComposePath(path) ? path : undefined;
}

/** Reads the compose file, which must be a regular file inside the skill directory once symlinks are resolved. */
function readComposeSource(dir: string, path: string, manifestFile: string): ComposeSource {
  const file = join(dir, path);
  const refuse = (why: string): never => {
    throw new AegisError("bad-input", `${manifestFile}: compose_file: ${path} ${why}`, { hint: "the compose file is a regular file inside the skill directory (docs/skills.md)" });
  };
  let real: string;
  let root: string;
  try {
    real = realpathSync(file);
    root = realpathSync(dir);
  } catch {
    return refuse("does not exist");
  }
  if (!real.startsWith(`${root}${sep}`)) refuse("leads outside the skill directory (through a symlink)");
  if (!lstatSync(real).isFile()) refuse("is not a regular file");
  try {
    return { text: readFileSync(real, "utf8"), file };
  } catch (error) {
    return refuse(`cannot be read: ${(error as Error).message}`);
  }
}

/**
 * Parses and validates manifest text. The signature covers the data as written (not the
 * schema's output with defaults filled in), so a later version adding a default cannot break
 * existing signatures, and comments or formatting never matter.
 */
export function parseManifest(text: string, file = MANIFEST_FILE, composeSource?: ComposeSource): ParsedManifest {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const yamlError = document.errors[0];
  if (yamlError) {
    const line = lines.linePos(yamlError.pos[0]).line;
    throw new AegisError("bad-input", `${file}${line ? `:${line}` : ""}: invalid YAML: ${yamlError.message.split("\n")[0]}`, {
      hint: "fix the YAML syntax at that line (indentation, quotes, colons)",
    });
  }
  const data: unknown = document.toJS() ?? {};
  const result = SkillManifest.safeParse(data);
  if (!result.success) throw issueError(result.error.issues, document, lines, file);
  const { signature: _signature, ...signed } = data as Record<string, unknown>;
  const parsed: ParsedManifest = { manifest: result.data, signed, signature: result.data.signature, file, text };
  if (result.data.platform !== "docker-compose") return parsed;
  if (composeSource === undefined) {
    throw new AegisError("bad-input", `${file}: compose_file: the compose file ${result.data.compose_file ?? ""} was not found with the manifest`, { hint: "a docker-compose skill directory holds manifest.yaml, its compose file and a Dockerfile" });
  }
  const compose = parseComposeFile(composeSource.text, composeSource.file);
  checkComposeServices(result.data, compose, (path) => lineOf(document, lines, path), file);
  return { ...parsed, signed: { ...signed, [COMPOSE_SIGNED_KEY]: compose.data }, compose };
}

/** The manifest text with `signature` set to `block` (comments and layout kept). */
export function withSignature(parsed: ParsedManifest, block: ManifestSignature): string {
  const document = parseDocument(parsed.text);
  document.set("signature", document.createNode({ ...block }));
  const text = document.toString({ flowCollectionPadding: false, lineWidth: 0 });
  parseManifest(text, parsed.file, parsed.compose ? { text: parsed.compose.text, file: parsed.compose.file } : undefined);
  return text;
}

function issueError(issues: z.core.$ZodIssue[], document: Document, lines: LineCounter, file: string): AegisError {
  const issue = issues[0];
  if (!issue) return new AegisError("bad-input", `${file}: invalid manifest`);
  // An unknown key is reported on its own line, not on the line of the object holding it.
  const at = issue.code === "unrecognized_keys" && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
  const line = lineOf(document, lines, at);
  const field = issue.path.map(String).join(".") || "(top level)";
  const message = issue.code === "invalid_type" && issue.message.endsWith("received undefined") ? "required but missing" : issue.message;
  return new AegisError("bad-input", `${file}${line ? `:${line}` : ""}: ${field}: ${message}`, {
    hint: "see docs/skills.md for the manifest format",
  });
}

function lineOf(document: Document, lines: LineCounter, path: PropertyKey[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = document.getIn(path.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
