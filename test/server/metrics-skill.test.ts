import { expect, test } from "bun:test";
import type { EventEnvelope } from "../../src/core/index.ts";
import { ServerMetrics } from "../../src/server/metrics.ts";
import { tempDir } from "../helpers/temp-home.ts";

const event = (type: string, data: Record<string, unknown>) => ({ id: 1, type, time: new Date().toISOString(), data }) as unknown as EventEnvelope;

test("metrics: skill executions are labelled with the skill the run started, plain commands with none", async () => {
  const metrics = new ServerMetrics({ auditDir: tempDir(), lockdownActive: () => false, pendingApprovals: () => 0 });
  metrics.observe(event("run.started", { runId: "r-1", argv: ["/skill/run-sh"], image: "i", runtime: "docker", skill: "code-runner" }));
  metrics.observe(event("run.started", { runId: "r-2", argv: ["true"], image: "i", runtime: "docker" }));
  metrics.observe(event("run.finished", { runId: "r-1", exitCode: 0, durationMs: 5, timedOut: false }));
  metrics.observe(event("run.finished", { runId: "r-2", exitCode: 1, durationMs: 5, timedOut: false }));
  const text = await metrics.registry.metrics();
  expect(text).toContain('aegisclaw_skill_executions_total{skill="code-runner",status="ok"} 1');
  expect(text).toContain('aegisclaw_skill_executions_total{skill="none",status="failed"} 1');
});
