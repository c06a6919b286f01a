import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { redactionLabel } from "../../src/server/metrics.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { body, eventually, startFixture, type ServerFixture } from "./helpers.ts";
import { recordingKillAll } from "./samples.ts";

/** The metric families issue 9 requires, each of which must move under real traffic. */
const REQUIRED = [
  "aegisclaw_skill_executions_total",
  "aegisclaw_policy_decisions_total",
  "aegisclaw_sandbox_startup_seconds",
  "aegisclaw_policy_evaluation_seconds",
  "aegisclaw_active_executions",
  "aegisclaw_audit_entries_total",
  "aegisclaw_approvals_pending",
  "aegisclaw_lockdown_active",
  "aegisclaw_redactions_total",
];

/** Parses the exposition text into `name{labels}` -> value. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match?.[1] && match[2]) samples.set(match[1], Number(match[2]));
  }
  return samples;
}

describe("server metrics (real traffic, real Docker)", () => {
  let f: ServerFixture;
  let text = "";
  const scrape = async () => {
    const response = await f.call("/metrics", { as: "viewer" });
    expect(response.headers.get("content-type")).toContain("text/plain");
    text = await response.text();
    return parse(text);
  };
  beforeAll(async () => {
    await requireDocker();
    f = await startFixture({ app: recordingKillAll([]) });
  });
  afterAll(() => f?.stop());

  test("metrics: /metrics needs a token", async () => {
    expect((await f.call("/metrics")).status).toBe(401);
  });

  test("metrics: every required metric is really updated by traffic and read back", async () => {
    const before = await scrape();
    for (const name of REQUIRED) expect(text, name).toContain(`# TYPE ${name} `);

    // An ok run whose output needs a redaction, and a failing one.
    const ok = await body(await f.call("/api/v1/runs", { as: "operator", method: "POST", json: { argv: ["sh", "-c", 'echo "AKIA$(echo IOSFODNN7EXAMPLE)"'] } }));
    const failed = await body(await f.call("/api/v1/runs", { as: "operator", method: "POST", json: { argv: ["sh", "-c", "exit 3"] } }));
    // A run that is still going while we scrape.
    const slow = await body(await f.call("/api/v1/runs", { as: "operator", method: "POST", json: { argv: ["sleep", "30"] } }));
    await eventually(async () => (await body(await f.call(`/api/v1/runs/${slow.runId}`, { as: "viewer" }))).status === "running", 20_000, "the slow run");
    for (const run of [ok, failed]) await eventually(async () => (await body(await f.call(`/api/v1/runs/${run.runId}`, { as: "viewer" }))).finishedAt, 20_000, "runs to finish");
    const during = await scrape();
    expect(during.get("aegisclaw_active_executions")).toBe(1);
    await f.call(`/api/v1/runs/${slow.runId}/cancel`, { as: "operator", method: "POST" });

    // An ask that waits (files.write is high risk: the standard template asks), then a deny by a person.
    const dir = tempDir();
    const asking = f.call("/api/v1/decide", { as: "operator", method: "POST", json: { argv: ["true"], scopes: [`files.write:${dir}`] } });
    const pending = await eventually(async () => ((await body(await f.call("/api/v1/approvals", { as: "viewer" }))).pending as Array<{ id: string; requestHash: string }>)[0], 5000, "the ask");
    expect((await scrape()).get("aegisclaw_approvals_pending")).toBe(1);
    await f.call(`/api/v1/approvals/${pending.id}/deny`, { as: "operator", method: "POST", json: { requestHash: pending.requestHash } });
    expect((await asking).status).toBe(403);

    // Lockdown (the runtime's killAll is a recorder here), a decision under it, and the release.
    expect((await f.call("/api/v1/lockdown", { as: "admin", method: "POST", json: { reason: "metrics test" } })).status).toBe(200);
    expect((await scrape()).get("aegisclaw_lockdown_active")).toBe(1);
    expect((await f.call("/api/v1/decide", { as: "operator", method: "POST", json: { argv: ["true"] } })).status).toBe(423);
    expect((await f.call("/api/v1/unlock", { as: "admin", method: "POST" })).status).toBe(200);
    await eventually(async () => (await body(await f.call(`/api/v1/runs/${slow.runId}`, { as: "viewer" }))).finishedAt, 20_000, "the slow run to end");

    const after = await scrape();
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('aegisclaw_skill_executions_total{skill="none",status="ok"}')).toBe(1);
    expect(delta('aegisclaw_skill_executions_total{skill="none",status="failed"}')).toBe(1);
    expect(delta('aegisclaw_skill_executions_total{skill="none",status="killed"}')).toBe(1);
    expect(delta('aegisclaw_policy_decisions_total{decision="allow"}')).toBe(3);
    expect(delta('aegisclaw_policy_decisions_total{decision="ask"}')).toBe(1);
    expect(delta('aegisclaw_policy_decisions_total{decision="deny"}')).toBe(1);
    expect(delta("aegisclaw_sandbox_startup_seconds_count")).toBe(3);
    expect(delta("aegisclaw_sandbox_startup_seconds_sum")).toBeGreaterThan(0);
    // Lockdown decisions involve no policy evaluation, so they are not timed.
    expect(delta("aegisclaw_policy_evaluation_seconds_count")).toBe(4);
    expect(delta("aegisclaw_policy_evaluation_seconds_sum")).toBeGreaterThan(0);
    expect(after.get("aegisclaw_active_executions")).toBe(0);
    // 3 runs x (decision + result) + ask (decision + approval) + lockdown decision + lockdown + unlock.
    expect(delta("aegisclaw_audit_entries_total")).toBe(11);
    expect(after.get("aegisclaw_approvals_pending")).toBe(0);
    expect(after.get("aegisclaw_lockdown_active")).toBe(0);
    expect(delta('aegisclaw_redactions_total{kind="aws-access-key"}')).toBe(1);
  }, 90_000);

  test("metrics: the exposition passes `promtool check metrics` (Debian prometheus)", async () => {
    await scrape();
    const promtool = Bun.spawn(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(promtool.stdout).text(), new Response(promtool.stderr).text(), promtool.exited]);
    expect(`${out}${err}`.trim()).toBe("");
    expect(code).toBe(0);
  });
});

test("metrics: redaction kinds become bounded labels (secret names never become series)", () => {
  expect(redactionLabel("secret:GITHUB_TOKEN")).toBe("secret");
  expect(redactionLabel("secret:db\"} 1\nfake_metric 9")).toBe("secret");
  expect(redactionLabel("github-token")).toBe("github-token");
  expect(redactionLabel("Weird Kind")).toBe("other");
  expect(redactionLabel("x".repeat(80))).toBe("other");
});
