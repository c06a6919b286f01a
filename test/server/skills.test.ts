import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readEntries } from "../../src/audit/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { removeTestImages } from "../skills/helpers.ts";
import { body, startFixture, type ServerFixture } from "./helpers.ts";
import { installSkill } from "./skill-install.ts";
import { readEvents } from "./sse.ts";

type Listed = { skills: Array<{ name: string; signature: { status: string; publisher?: string }; commands: Array<{ name: string; description?: string; scopes: string[]; paths: string[] }> }> };

describe("server skills routes (real skills, real Docker)", () => {
  let f: ServerFixture;
  beforeAll(async () => {
    await requireDocker();
    f = await startFixture();
    await installSkill(f.home, "code-runner", { signed: true });
    await installSkill(f.home, "code-runner", { name: "raw-runner" });
  }, 180_000);
  afterAll(async () => {
    await f?.stop();
    removeTestImages();
  });

  test("skills: a viewer lists the installed skills with commands, scopes and the signature verified now", async () => {
    const response = await f.call("/api/v1/skills", { as: "viewer" });
    expect(response.status).toBe(200);
    const listed = (await body(response)) as unknown as Listed;
    expect(listed.skills.map((s) => [s.name, s.signature.status])).toEqual([
      ["code-runner", "valid"],
      ["raw-runner", "unsigned"],
    ]);
    expect(listed.skills[0]?.commands).toEqual([
      { name: "sh", description: expect.any(String), scopes: ["shell.exec:/skill/run-sh"], paths: [] },
      { name: "awk", description: expect.any(String), scopes: ["shell.exec:/skill/run-awk"], paths: [] },
    ]);
  });

  test("skills: an operator runs a signed skill's command; it is allowed, audited as the skill, and its output arrives over SSE", async () => {
    const created = await f.call("/api/v1/skills/code-runner/run", { as: "operator", method: "POST", json: { command: "sh", args: ["echo skill-says-$((6*7))"] } });
    const run = await body(created);
    expect(created.status, JSON.stringify(run)).toBe(201);
    expect(run).toMatchObject({ argv: ["/skill/run-sh", "echo skill-says-$((6*7))"], actor: { name: "otto", source: "api" }, decision: { kind: "allow" } });
    const events = await readEvents(await f.call(`/api/v1/runs/${run.runId}/output`, { as: "operator" }));
    expect(events.filter((e) => e.event === "output").map((e) => e.data.text).join("")).toContain("skill-says-42");
    expect(events.at(-1)).toMatchObject({ event: "end", data: { status: "finished", exitCode: 0 } });
    const decision = [...readEntries(f.app.layout.audit, { runId: String(run.runId), type: "decision" })][0];
    expect(JSON.stringify(decision)).toContain('"signature":"valid"');
  });

  test("skills: an unsigned skill under the standard template waits for a person (202)", async () => {
    const created = await f.call("/api/v1/skills/raw-runner/run", { as: "operator", method: "POST", json: { command: "awk", args: ["BEGIN { print 1 }"] } });
    const run = await body(created);
    expect(created.status, JSON.stringify(run)).toBe(202);
    expect(run.status).toBe("awaiting-approval");
    expect((await f.call(`/api/v1/runs/${run.runId}/cancel`, { as: "operator", method: "POST" })).status).toBe(202);
  });

  test("skills: viewer 403, unknown skill 404, bad body or unknown command 400", async () => {
    const run = (as: "viewer" | "operator", path: string, json: unknown) => f.call(path, { as, method: "POST", json });
    const viewer = await run("viewer", "/api/v1/skills/code-runner/run", { command: "sh", args: ["true"] });
    expect([viewer.status, ((await body(viewer)).error as { code: string }).code]).toEqual([403, "forbidden"]);
    expect((await run("operator", "/api/v1/skills/no-such-skill/run", {})).status).toBe(404);
    const extra = await run("operator", "/api/v1/skills/code-runner/run", { command: "sh", argv: ["x"] });
    expect(extra.status).toBe(400);
    expect((await run("operator", "/api/v1/skills/code-runner/run", { args: "echo hi" })).status).toBe(400);
    expect((await run("operator", "/api/v1/skills/code-runner/run", { paths: { repo: "relative/dir" } })).status).toBe(400);
    const unknown = await run("operator", "/api/v1/skills/code-runner/run", { command: "python" });
    expect([unknown.status, ((await body(unknown)).error as { code: string }).code]).toEqual([400, "usage"]);
    // Several commands and none named: a usage error listing them.
    expect((await run("operator", "/api/v1/skills/code-runner/run", {})).status).toBe(400);
    const strayPath = await run("operator", "/api/v1/skills/code-runner/run", { command: "sh", args: ["true"], paths: { repo: "/tmp" } });
    expect(strayPath.status).toBe(400);
  });

  test("skills: a signed skill whose installed manifest was edited is invalid: listed so, and its run is denied and audited", async () => {
    const manifest = join(f.app.layout.skills, "code-runner", "manifest.yaml");
    writeFileSync(manifest, readFileSync(manifest, "utf8").replace(/^description: .+$/m, "description: tampered with"));
    const listed = (await body(await f.call("/api/v1/skills", { as: "viewer" }))) as unknown as Listed;
    expect(listed.skills[0]?.signature.status).toBe("invalid");
    const denied = await f.call("/api/v1/skills/code-runner/run", { as: "operator", method: "POST", json: { command: "sh", args: ["echo never"] } });
    const answer = await body(denied);
    expect(denied.status, JSON.stringify(answer)).toBe(403);
    expect(JSON.stringify(answer)).toContain("signature does not verify");
    const last = [...readEntries(f.app.layout.audit, { type: "decision" })].at(-1);
    expect(JSON.stringify(last)).toContain("builtin.skill-signature-invalid");
  });
});
