/** Reading and writing `manifest.yaml`: YAML with line numbers, schema errors as file:line: field. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { AegisError } from "../shared/index.ts";
import { SkillManifest, type ManifestSignature } from "./manifest.ts";

/** The manifest file name inside a skill directory. */
export const MANIFEST_FILE = "manifest.yaml";

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
  return parseManifest(text, file);
}

/**
 * Parses and validates manifest text. The signature covers the data as written (not the
 * schema's output with defaults filled in), so a later version adding a default cannot break
 * existing signatures, and comments or formatting never matter.
 */
export function parseManifest(text: string, file = MANIFEST_FILE): ParsedManifest {
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
  return { manifest: result.data, signed, signature: result.data.signature, file, text };
}

/** The manifest text with `signature` set to `block` (comments and layout kept). */
export function withSignature(parsed: ParsedManifest, block: ManifestSignature): string {
  const document = parseDocument(parsed.text);
  document.set("signature", document.createNode({ ...block }));
  const text = document.toString({ flowCollectionPadding: false, lineWidth: 0 });
  parseManifest(text, parsed.file);
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
