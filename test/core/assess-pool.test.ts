import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createApp, type App } from "../../src/app.ts";
import { AuditLog, readEntries } from "../../src/audit/index.ts";
import { startAssessPool, type AssessPool, type Gate, type RunRequest } from "../../src/core/index.ts";
import { NO_HISTORY } from "../../src/core/gate-prepare.ts";
import type { UserPolicySource } from "../../src/policy/index.ts";
import { AegisError, isAegisError } from "../../src/shared/index.ts";
import { aegis, BINARY, firstLine, useCompiledBinary } from "../helpers/cli.ts";
import { eventually, tempHome } from "../server/helpers.ts";

const actor = { name: "pool-tester", source: "api" as const };
const opened: Array<{ app: App; pool: AssessPool }> = [];

async function fixture(options: { template?: "strict" | "standard" | "permissive"; userPolicies?: UserPolicySource[] } = {}) {
  const { home, config } = await tempHome(options.template ?? "standard");
  const app = createApp(home, { config });
  const pool = await startAssessPool({ size: 2, home, config: app.config, userPolicies: options.userPolicies ?? [...app.userPolicies], history: app.history, log: () => {} });
  opened.push({ app, pool });
  return { home, app, pool, local: await app.gate(), pooled: await app.gate({ assessor: pool }) };
}

async function outcome(gate: Gate, input: RunRequest) {
  try {
    const verdict = await gate.decide(input);
    return { verdict: verdict.verdict, kind: verdict.decision.kind, rules: verdict.reasons.map((reason) => reason.rule), lockdown: verdict.lockdown };
  } catch (error) {
    return { error: isAegisError(error) ? `${error.code}: ${error.message}` : `not an AegisError: ${String(error)}` };
  }
}

afterAll(async () => {
  for (const { app, pool } of opened.splice(0)) {
    await pool.close();
    await app.close();
  }
});

describe("decision workers", () => {
  test("assess-pool: workers decide exactly as the main thread: allow, deny, and bad input with its code and message", async () => {
    const { local, pooled } = await fixture();
    // Nothing here asks: an ask would wait for a person.
    const inputs: RunRequest[] = [
      { argv: ["true"], actor },
      { argv: ["ls", "-l"], actor, grants: ["files.read:/etc/hostname"] },
      { argv: ["true"], actor, runtime: "no-such-runtime!" },
      { argv: ["cat", "/proc/1/environ"], actor, grants: ["files.read:/proc"] },
      { argv: [], actor },
      { argv: ["true"], actor, grants: ["no.such-scope:x"] },
    ];
    for (const input of inputs) {
      const [mine, theirs] = [await outcome(local, input), await outcome(pooled, input)];
      expect({ input: input.argv, ...theirs }).toEqual({ input: input.argv, ...mine });
    }
    // Not vacuous: the inputs above reach different outcomes.
    const kinds = new Set(await Promise.all(inputs.map(async (input) => JSON.stringify(await outcome(local, input)).slice(0, 24))));
    expect(kinds.size).toBeGreaterThan(2);
  });

  test("assess-pool: a request JSON cannot carry is refused as bad input, and the requests batched with it are decided", async () => {
    const { pool } = await fixture();
    const odd = { argv: ["true"], actor, timeoutMs: 10n } as unknown as RunRequest;
    const [before, refused, after] = await Promise.allSettled([pool.assess({ argv: ["true"], actor }, "docker"), pool.assess(odd, "docker"), pool.assess({ argv: ["ls"], actor }, "docker")]);
    expect(before.status === "fulfilled" && before.value.decision.kind).toBe("allow");
    expect(refused.status === "rejected" && (refused.reason as AegisError).code).toBe("bad-input");
    expect(after.status === "fulfilled" && after.value.prepared.request.argv).toEqual(["ls"]);
  });

  test("assess-pool: a lockdown engaged after the workers started is seen by the very next decision", async () => {
    const { app, pooled } = await fixture();
    expect((await outcome(pooled, { argv: ["true"], actor })).verdict).toBe("allow");
    app.lockdown.write({ active: true, reason: "pool test" });
    expect(await outcome(pooled, { argv: ["true"], actor })).toMatchObject({ verdict: "deny", lockdown: true, rules: ["lockdown"] });
    app.lockdown.write({ active: false });
    expect((await outcome(pooled, { argv: ["true"], actor })).verdict).toBe("allow");
  });

  test("assess-pool: workers use the user policies the main thread loaded (sent, never re-read from disk)", async () => {
    // The home has no user policies on disk; only what the main thread hands over counts.
    const { pooled } = await fixture({ userPolicies: [{ name: "user:frozen", denies: "frozen for this test" }] });
    const result = await outcome(pooled, { argv: ["true"], actor });
    expect(result).toMatchObject({ verdict: "deny", kind: "deny" });
    expect(result.rules).toContain("policy.user-unbuilt");
  });

  test("assess-pool: decisions the main thread recorded, and another process's, count in the workers' history", async () => {
    const { pool, pooled, app } = await fixture();
    for (let i = 0; i < 5; i++) await pooled.decide({ argv: ["true"], actor });
    const { prepared } = await pool.assess({ argv: ["true"], actor }, "docker");
    expect(prepared.policyInput.history.recentDecisions).toBe(5);
    // Another writer's handle on the same log (what a CLI run in another shell has).
    const other = await AuditLog.open(app.layout.audit);
    for (let i = 0; i < 3; i++) await other.append({ type: "decision", actor, decision: { kind: "deny", reasons: [] } });
    await other.close();
    const { prepared: later } = await pool.assess({ argv: ["true"], actor }, "docker");
    expect(later.policyInput.history).toMatchObject({ recentDecisions: 8, recentDenies: 3 });
  });

  test("assess-pool: after close nothing is decided: requests are refused with an error, never a verdict", async () => {
    const { pool } = await fixture();
    await pool.close();
    const refused = await pool.assess({ argv: ["true"], actor }, "docker").then(
      () => "decided",
      (error: unknown) => (error instanceof AegisError ? error.code : String(error)),
    );
    expect(refused).toBe("unavailable");
  });

  test("assess-pool: a request whose worker dies is answered with an error, never a verdict, and the worker is replaced", async () => {
    const { home, config } = await tempHome();
    const logs: string[] = [];
    const crashing = new URL("../fixtures/workers/crashing-assess-worker.ts", import.meta.url);
    const pool = await startAssessPool({ size: 1, home, config, userPolicies: [], history: NO_HISTORY, log: (line) => logs.push(line), workerUrl: crashing });
    const app = createApp(home, { config });
    opened.push({ app, pool });
    const gate = await app.gate({ assessor: pool });
    for (const argv of [["crash"], ["exit"]]) {
      const error = await gate.decide({ argv, actor }).then(
        (verdict) => verdict,
        (thrown: unknown) => thrown,
      );
      expect(isAegisError(error, "internal")).toBe(true);
      expect((error as Error).message).toBe("the decision worker failed; nothing was decided");
      // Replaced: the next request finds a worker again (this fixture's, which dies again).
      await eventually(() => (logs.length >= 1 ? true : undefined));
      await Bun.sleep(200);
    }
    expect(logs.filter((line) => line.includes("starting a new one"))).toHaveLength(2);
    // Nothing was decided, so nothing was recorded.
    expect([...readEntries(join(home, "audit"))].filter((entry) => entry.type === "decision")).toEqual([]);
  });

  test("assess-pool: a size that is not a positive integer is refused before any thread starts", async () => {
    const { home, config } = await tempHome();
    for (const size of [0, -1, 1.5, Number.NaN]) {
      const error = await startAssessPool({ size, home, config, userPolicies: [], history: NO_HISTORY, log: () => {} }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(isAegisError(error, "usage")).toBe(true);
    }
  });
});

describe("decision workers in the compiled binary", () => {
  useCompiledBinary();

  test("serve (compiled): starts its decision workers from the binary itself, whatever the working directory, and decides through them", async () => {
    const home = join((await tempHome()).home, "..", "bin-home");
    expect((await aegis(home, ["init", "--yes"])).exitCode).toBe(0);
    const token = JSON.parse((await aegis(home, ["token", "create", "--role", "operator", "--name", "pool", "--json"])).stdout).token as string;
    // An empty working directory: the worker must come from the binary, never from a file on disk.
    const cwd = (await tempHome()).home;
    const proc = Bun.spawn([BINARY, "serve", "--port", "0", "--json", "--decision-workers", "2"], {
      cwd: join(cwd, ".."),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const { url } = JSON.parse(await firstLine(proc.stdout)) as { url: string };
      const decide = (argv: string[]) =>
        fetch(`${url}/api/v1/decide`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Origin: url }, body: JSON.stringify({ argv }) });
      const allowed = await decide(["true"]);
      expect(allowed.status).toBe(200);
      expect(((await allowed.json()) as { verdict: string }).verdict).toBe("allow");
      const bad = await decide([]);
      expect(bad.status).toBe(400);
    } finally {
      proc.kill("SIGINT");
      expect(await proc.exited).toBe(0);
    }
    expect(await new Response(proc.stderr).text()).toContain("2 decision worker(s)");
  });
});
