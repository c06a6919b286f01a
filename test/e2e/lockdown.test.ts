import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireDocker } from "../helpers/docker.ts";
import { aegis, BINARY, jsonLines, tempHome, useCompiledBinary } from "../helpers/cli.ts";

useCompiledBinary();

function runningAegisContainers(): string[] {
  const ps = Bun.spawnSync(["docker", "ps", "-q", "--filter", "label=io.aegisclaw.managed=true"], { stdout: "pipe" });
  return ps.stdout.toString().split("\n").filter(Boolean);
}

/** The run's own sandbox, not the runtime's short self-test container that may come first. */
function runningSleepSandboxes(): string[] {
  const ps = Bun.spawnSync(["docker", "ps", "--no-trunc", "--format", "{{.ID}} {{.Command}}", "--filter", "label=io.aegisclaw.managed=true"], { stdout: "pipe" });
  return ps.stdout.toString().split("\n").filter((line) => line.includes("sleep 60"));
}

test("lockdown: from a second process it kills a running sandbox (exit 75), persists across restarts, and unlock is audited", async () => {
  await requireDocker();
  const home = tempHome();
  expect((await aegis(home, ["init", "--yes"])).exitCode).toBe(0);

  const first = Bun.spawn([BINARY, "run", "--", "sleep", "60"], {
    env: { ...process.env, AEGISCLAW_HOME: home },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const deadline = Date.now() + 20_000;
  while (runningSleepSandboxes().length === 0 && Date.now() < deadline) await Bun.sleep(100);
  expect(runningSleepSandboxes().length).toBeGreaterThan(0);

  const lockdown = await aegis(home, ["lockdown", "--reason", "suspicious"]);
  expect(lockdown.exitCode).toBe(0);
  expect(lockdown.stderr).toContain("LOCKDOWN");
  expect(await first.exited).toBe(75);
  expect(await new Response(first.stderr).text()).toContain("lockdown");
  expect(runningAegisContainers()).toEqual([]);

  // A new process is a restart: the flag is on disk.
  const refused = await aegis(home, ["run", "--", "true"]);
  expect(refused.exitCode).toBe(75);
  expect(refused.stderr).toContain("suspicious");
  const doctor = JSON.parse((await aegis(home, ["doctor", "--json"])).stdout);
  expect(doctor.checks.find((check: { id: string }) => check.id === "lockdown").status).toBe("warn");

  expect((await aegis(home, ["unlock"])).exitCode).toBe(0);
  expect((await aegis(home, ["run", "--", "true"])).exitCode).toBe(0);

  const types = jsonLines((await aegis(home, ["logs", "--json"])).stdout).map((entry) => entry.type);
  expect(types).toContain("lockdown");
  expect(types).toContain("unlock");
  expect((await aegis(home, ["logs", "verify"])).exitCode).toBe(0);
});

test("lockdown: works even when config.yaml is broken (a human can always stop everything)", async () => {
  const home = tempHome();
  expect((await aegis(home, ["init", "--yes"])).exitCode).toBe(0);
  writeFileSync(join(home, "config.yaml"), "version: [\n");
  const lockdown = await aegis(home, ["lockdown"]);
  expect(lockdown.exitCode).toBe(0);
  expect(lockdown.stderr).toContain("using default settings");
  expect(await Bun.file(join(home, "state", "lockdown.json")).json()).toMatchObject({ active: true });
});
