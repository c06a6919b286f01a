/**
 * What a skill's Dockerfile may say. Installing a skill builds its image with the host's Docker
 * engine, so the Dockerfile is held to a small, offline, declarative subset: it starts from
 * AegisClaw's local base image and only copies files and sets metadata. No RUN (installing a
 * skill executes none of its code), no ADD (URLs, archive unpacking), no COPY --from (other
 * images), no VOLUME (the hardened sandbox refuses anonymous volumes), no parser directives
 * (a `# syntax=` line makes BuildKit fetch a frontend image).
 */
import { AegisError } from "../shared/index.ts";

/** The only base a skill image may start from (scripts/build-base-image.sh; no registry). */
export const SKILL_BASE_IMAGE = "aegisclaw/base:busybox";

const ALLOWED = new Set(["FROM", "COPY", "ENV", "LABEL", "WORKDIR"]);

/** Throws bad-input naming `file:line` for the first instruction outside the subset. */
export function lintDockerfile(text: string, file = "Dockerfile"): void {
  const fail = (line: number, message: string) =>
    new AegisError("bad-input", `${file}:${line}: ${message}`, {
      hint: `a skill's Dockerfile may only use FROM ${SKILL_BASE_IMAGE}, COPY, ENV, LABEL and WORKDIR (docs/skills.md)`,
    });
  const lines = text.split("\n");
  let froms = 0;
  for (let index = 0; index < lines.length; index++) {
    const start = index + 1;
    let line = (lines[index] ?? "").trim();
    if (/^#\s*[a-z]+\s*=/i.test(line) && froms === 0) throw fail(start, "parser directives are not allowed");
    if (line === "" || line.startsWith("#")) continue;
    // Join continuation lines; the instruction is judged as a whole.
    while (line.endsWith("\\") && index + 1 < lines.length) line = `${line.slice(0, -1)} ${(lines[++index] ?? "").trim()}`;
    const [instruction = "", ...rest] = line.split(/\s+/);
    const keyword = instruction.toUpperCase();
    if (!ALLOWED.has(keyword)) throw fail(start, `${keyword} is not allowed in a skill's Dockerfile`);
    if (keyword === "FROM") {
      if (rest.length !== 1 || rest[0] !== SKILL_BASE_IMAGE) throw fail(start, `FROM must be exactly ${SKILL_BASE_IMAGE} (local, offline)`);
      froms++;
      if (froms > 1) throw fail(start, "only one FROM (one stage) is allowed");
    } else if (froms === 0) {
      throw fail(start, `the first instruction must be FROM ${SKILL_BASE_IMAGE}`);
    }
    if (keyword === "COPY" && rest.some((word) => word.startsWith("--"))) throw fail(start, "COPY options (--from, --chown, ...) are not allowed");
  }
  if (froms === 0) throw fail(1, `the Dockerfile has no FROM ${SKILL_BASE_IMAGE}`);
}
