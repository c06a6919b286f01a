import { beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireDocker } from "../helpers/docker.ts";
import { aegis, jsonLines, tempHome, useCompiledBinary } from "../helpers/cli.ts";

useCompiledBinary();

async function initHome(template = "standard"): Promise<string> {
  const home = tempHome();
  const init = await aegis(home, ["init", "--yes", "--template", template]);
  expect(init.exitCode).toBe(0);
  return home;
}

async function logEntries(home: string): Promise<Array<Record<string, unknown>>> {
  const logs = await aegis(home, ["logs", "--json"]);
  expect(logs.exitCode).toBe(0);
  return jsonLines(logs.stdout);
}

describe("run through the Gate (compiled binary, real Docker)", () => {
  let home: string;
  beforeAll(async () => {
    await requireDocker();
    home = await initHome();
  });

  test("run: streams the command's output and exits 0; decision and result are audited and verify", async () => {
    const result = await aegis(home, ["run", "--", "echo", "Hello Safe World"]);
    expect(result.stdout).toBe("Hello Safe World\n");
    expect(result.exitCode).toBe(0);
    const entries = await logEntries(home);
    const decision = entries.findLast((entry) => entry.type === "decision");
    const outcome = entries.findLast((entry) => entry.type === "result");
    expect((decision?.decision as { kind: string }).kind).toBe("allow");
    expect(outcome?.runId).toBe(decision?.runId);
    expect((outcome?.result as { exitCode: number }).exitCode).toBe(0);
    expect(Number(outcome?.seq)).toBeGreaterThan(Number(decision?.seq));
    expect((await aegis(home, ["logs", "verify"])).exitCode).toBe(0);
  });

  test("run: the command's exit code and stderr pass through", async () => {
    const result = await aegis(home, ["run", "--", "sh", "-c", "echo oops >&2; exit 3"]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("oops");
  });

  test("run: the sandbox is hardened (non-root, no caps, seccomp, no new privileges, lo only)", async () => {
    const result = await aegis(home, ["run", "--", "sh", "-c", "id -u; grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; ls /sys/class/net"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^65534\n/);
    expect(result.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(result.stdout).toMatch(/Seccomp:\s+2/);
    expect(result.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(result.stdout.trim().endsWith("lo")).toBe(true);
  });

  test("run: sandbox run-sandbox IMAGE CMD is the same pipeline", async () => {
    const result = await aegis(home, ["sandbox", "run-sandbox", "aegisclaw/base:busybox", "sh", "-c", "echo hi"]);
    expect(result.stdout).toBe("hi\n");
    expect(result.exitCode).toBe(0);
  });

  test("run: --timeout kills the sandbox, exits 124 and the result says so", async () => {
    const result = await aegis(home, ["run", "--timeout", "1s", "--", "sleep", "30"]);
    expect(result.exitCode).toBe(124);
    expect(result.stderr).toContain("timed out");
    const outcome = (await logEntries(home)).findLast((entry) => entry.type === "result");
    expect((outcome?.result as { timedOut: boolean }).timedOut).toBe(true);
  });

  test("run: --json prints output events and a result object", async () => {
    const result = await aegis(home, ["run", "--json", "--", "echo", "--json"]);
    const lines = jsonLines(result.stdout);
    expect(lines[0]).toMatchObject({ type: "output", stream: "stdout", text: "--json\n" });
    expect(lines.at(-1)).toMatchObject({ type: "result", exitCode: 0 });
  });

  test("run: an unknown scope, or a secret the store does not hold, exits 65 and runs nothing", async () => {
    for (const [scope, says] of [["shell.everything", "shell.everything"], ["secrets.read:API_KEY", "secret store"]] as const) {
      const result = await aegis(home, ["run", "--scope", scope, "--", "echo", "nope"]);
      expect(result.exitCode).toBe(65);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(says);
    }
  });

  test("run: a missing image exits 69 and says how to build the base image", async () => {
    const result = await aegis(home, ["run", "--image", "aegisclaw/absent:none", "--", "true"]);
    expect(result.exitCode).toBe(69);
    expect(result.stderr).toContain("build-base-image");
  });

  test("run: Docker unreachable exits 69 with a fix hint, and the failure is audited", async () => {
    const down = await initHome();
    const configPath = join(down, "config.yaml");
    writeFileSync(configPath, (await Bun.file(configPath).text()).replace("/var/run/docker.sock", "/nonexistent/docker.sock"));
    const result = await aegis(down, ["run", "--", "true"]);
    expect(result.exitCode).toBe(69);
    expect(result.stderr).toContain("fix:");
    const outcome = (await logEntries(down)).findLast((entry) => entry.type === "result");
    expect((outcome?.result as { error?: string }).error).toContain("Docker");
  });
});

describe("scope policy", () => {
  test("policy: without a grant the run is denied (77), one line says what and why, and it is audited", async () => {
    await requireDocker();
    const home = await initHome("standard");
    const configPath = join(home, "config.yaml");
    writeFileSync(configPath, (await Bun.file(configPath).text()).replace("grants: [shell.exec]", "grants: []"));
    const denied = await aegis(home, ["run", "--", "echo", "hi"]);
    expect(denied.exitCode).toBe(77);
    expect(denied.stdout).toBe("");
    expect(denied.stderr.trim().split("\n")).toHaveLength(1);
    expect(denied.stderr).toContain("shell.exec:echo");
    const decision = (await logEntries(home)).findLast((entry) => entry.type === "decision");
    expect((decision?.decision as { kind: string }).kind).toBe("deny");

    const allowed = await aegis(home, ["run", "--scope", "shell.exec:echo", "--", "echo", "hi"]);
    expect(allowed.exitCode).toBe(0);
    const otherProgram = await aegis(home, ["run", "--scope", "shell.exec:echo", "--", "sh", "-c", "echo hi"]);
    expect(otherProgram.exitCode).toBe(77);
    expect((await aegis(home, ["logs", "verify"])).exitCode).toBe(0);
  });
});
