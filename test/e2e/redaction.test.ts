import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { requireDocker } from "../helpers/docker.ts";
import { aegis, jsonLines, tempHome, useCompiledBinary } from "../helpers/cli.ts";

useCompiledBinary();

// Built inside the sandbox from two halves, so the whole token never appears in argv (which the
// audit log records as given) but does appear in the command's output.
const HEAD = "ghp_";
const TAIL = "Zq3xY7wPq9LmN2vB8kR4tJ6hF1dS5aG0cE7u";
const TOKEN = `${HEAD}${TAIL}`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

test("redaction: a credential printed by the sandbox never reaches stdout, stderr or the home; the count is audited", async () => {
  await requireDocker();
  const home = tempHome();
  expect((await aegis(home, ["init", "--yes"])).exitCode).toBe(0);
  const script = `printf 'token=%s%s done\\n' ${HEAD} ${TAIL}; printf '%s%s\\n' ${HEAD} ${TAIL} >&2; printf '%s' ${HEAD}; sleep 0.2; printf '%s\\n' ${TAIL}`;
  const result = await aegis(home, ["run", "--", "sh", "-c", script]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).not.toContain(TOKEN);
  expect(result.stderr).not.toContain(TOKEN);
  expect(result.stdout).toContain("token=[REDACTED:github-token] done");
  expect(result.stdout).toContain("[REDACTED:github-token]\n");
  const outcome = jsonLines((await aegis(home, ["logs", "--json"])).stdout).findLast((entry) => entry.type === "result");
  expect(outcome?.redactions).toBe(3);
  for (const file of filesUnder(home)) expect(readFileSync(file).includes(TOKEN), file).toBe(false);
});
