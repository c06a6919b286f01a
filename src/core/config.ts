import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import type { AuditLogOptions } from "../audit/index.ts";
import { AegisError } from "../shared/index.ts";
import { writeFileAtomic } from "../shared/index.ts";
import { Config, defaultGrants, type PolicyTemplate } from "./config-schema.ts";
import { parseSize } from "./units.ts";

export { Config, PolicyTemplate, defaultGrants } from "./config-schema.ts";

/** Parses and validates config text; errors name the file, the field and the line. */
export function parseConfig(text: string, file = "config.yaml"): Config {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = document.errors[0];
  if (yamlError) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    throw new AegisError("bad-input", `${file}${line ? `:${line}` : ""}: invalid YAML: ${yamlError.message.split("\n")[0]}`, {
      hint: "fix the YAML syntax at that line (indentation, quotes, colons)",
    });
  }
  const result = Config.safeParse(document.toJS() ?? {});
  if (!result.success) throw configIssueError(result.error.issues, document, lineCounter, file);
  return result.data;
}

/** How the home's audit log is opened, from config.yaml's `audit` section (every writer the same). */
export function auditLogOptions(config: Config): AuditLogOptions {
  return { checkpointEvery: config.audit.checkpointEvery, segmentMaxBytes: parseSize(config.audit.segmentMaxBytes) ?? 64 * 1024 ** 2 };
}

/** Loads `config.yaml` from disk. */
export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new AegisError("bad-input", `cannot read ${path}: ${(error as Error).message}`, {
      hint: "run `aegisclaw init` to create it",
    });
  }
  return parseConfig(text, path);
}

function configIssueError(issues: z.core.$ZodIssue[], document: Document, lines: LineCounter, file: string): AegisError {
  const issue = issues[0];
  if (!issue) return new AegisError("bad-input", `${file}: invalid configuration`);
  const path = issue.path.map(String);
  const line = lineOf(document, lines, issue.path);
  const field = path.join(".") || "(top level)";
  const unknown = issue.code === "unrecognized_keys" ? ` ${issue.keys.join(", ")}` : "";
  return new AegisError("bad-input", `${file}${line ? `:${line}` : ""}: ${field}: ${issue.message}${unknown}`, {
    hint: "see the comments in a fresh `aegisclaw init` config for valid fields and values",
  });
}

function lineOf(document: Document, lines: LineCounter, path: PropertyKey[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = document.getIn(path.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/** The commented config.yaml that `init` writes. */
export function renderDefaultConfig(template: PolicyTemplate): string {
  const grants = defaultGrants(template);
  return `# AegisClaw configuration. Unknown keys are rejected; run \`aegisclaw doctor\` after editing.
version: 1
policy:
  # strict | standard | permissive
  template: ${template}
  # Scopes granted to every run in addition to --scope flags. Empty means none.
  grants: [${grants.join(", ")}]
sandbox:
  # docker (runc) | gvisor (runsc; register it with scripts/setup-gvisor.sh)
  runtime: docker
  # Local image; build it with scripts/build-base-image.sh (no registry is used).
  image: aegisclaw/base:busybox
  # Runs longer than this are killed and exit 124.
  timeout: 5m
  dockerSocket: /var/run/docker.sock
  limits:
    pids: 128
    memory: 256m
    cpus: 1
    tmpfs: 64m
    output: 16m
approvals:
  # A request that needs a person's approval is denied when nobody answers within this time.
  timeout: 120s
audit:
  # A signed checkpoint every N entries (also written on close).
  checkpointEvery: 1000
  segmentMaxBytes: 64m
`;
}

/**
 * Sets `policy.template` in config.yaml, keeping the user's comments and layout, and writes it
 * atomically only if the result still validates. Returns the previous template.
 */
export function setPolicyTemplate(path: string, template: PolicyTemplate): PolicyTemplate {
  const text = readFileSync(path, "utf8");
  const previous = parseConfig(text, path).policy.template;
  const document = parseDocument(text);
  document.setIn(["policy", "template"], template);
  const updated = String(document);
  parseConfig(updated, path);
  writeFileAtomic(path, updated);
  return previous;
}
