import { describe, expect, test } from "bun:test";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { aegis, tempHome, useCompiledBinary } from "../helpers/cli.ts";

useCompiledBinary();

describe("cli basics (compiled binary)", () => {
  test("cli: --version prints the package version", async () => {
    const result = await aegis(tempHome(), ["--version"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(`aegisclaw ${pkg.version}`);
  });

  test("cli: --help lists the working commands and nothing unbuilt", async () => {
    const result = await aegis(tempHome(), ["--help"]);
    expect(result.exitCode).toBe(0);
    for (const command of ["init", "doctor", "run", "simulate", "sandbox", "logs", "policy", "secrets", "approvals", "lockdown", "unlock", "posture", "xray", "serve", "token", "mcp-server", "skills", "--listen"]) {
      expect(result.stdout).toContain(command);
    }
    for (const absent of ["completion"]) expect(result.stdout).not.toContain(absent);
  });

  test("cli: usage errors exit 64 with a hint", async () => {
    const home = tempHome();
    for (const args of [["frobnicate"], ["run", "--bogus", "--", "true"], ["run"], ["run", "--timeout", "soon", "--", "true"], ["sandbox", "explode"]]) {
      const result = await aegis(home, args);
      expect(result.exitCode, args.join(" ")).toBe(64);
      expect(result.stderr).toContain("aegisclaw: error:");
    }
  });

  test("cli: commands before init exit 65 and say to run init", async () => {
    const result = await aegis(tempHome(), ["run", "--", "true"]);
    expect(result.exitCode).toBe(65);
    expect(result.stderr).toContain("aegisclaw init");
  });

  test("cli: init --yes creates a private home, refuses a second init, --force rewrites config only", async () => {
    const home = tempHome();
    const first = await aegis(home, ["init", "--yes", "--template", "strict"]);
    expect(first.exitCode).toBe(0);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, "config.yaml")).mode & 0o777).toBe(0o600);
    expect(await Bun.file(join(home, "config.yaml")).text()).toContain("template: strict");
    const again = await aegis(home, ["init", "--yes"]);
    expect(again.exitCode).toBe(65);
    expect(again.stderr).toContain("--force");
    const forced = await aegis(home, ["init", "--yes", "--force", "--template", "standard"]);
    expect(forced.exitCode).toBe(0);
    expect(await Bun.file(join(home, "config.yaml")).text()).toContain("template: standard");
    const verify = await aegis(home, ["logs", "verify"]);
    expect(verify.exitCode).toBe(0);
  });

  test("cli: init rejects a bad template and a missing terminal without writing anything", async () => {
    const home = tempHome();
    expect((await aegis(home, ["init", "--yes", "--template", "lax"])).exitCode).toBe(64);
    const noTty = await aegis(home, ["init"]);
    expect(noTty.exitCode).toBe(64);
    expect(noTty.stderr).toContain("--yes");
    expect(await Bun.file(join(home, "config.yaml")).exists()).toBe(false);
  });

  test("cli: malformed config exits 65 naming file, line and field", async () => {
    const home = tempHome();
    expect((await aegis(home, ["init", "--yes"])).exitCode).toBe(0);
    writeFileSync(join(home, "config.yaml"), "version: 1\nsandbox:\n  limits:\n    pids: lots\n");
    const result = await aegis(home, ["run", "--", "true"]);
    expect(result.exitCode).toBe(65);
    expect(result.stderr).toContain(`${join(home, "config.yaml")}:4: sandbox.limits.pids`);
  });

  test("cli: doctor --json reports every check; a broken config fails it", async () => {
    const home = tempHome();
    await aegis(home, ["init", "--yes"]);
    const healthy = await aegis(home, ["doctor", "--json"]);
    const report = JSON.parse(healthy.stdout) as { ok: boolean; checks: Array<{ id: string; status: string }> };
    expect(report.checks.map((check) => check.id)).toEqual(["docker", "base-image", "gvisor", "runtimes", "egress", "bubblewrap", "home", "config", "policy", "audit", "disk", "lockdown", "openclaw"]);
    expect(healthy.exitCode).toBe(report.ok ? 0 : 1);
    expect(report.checks.find((check) => check.id === "docker")?.status).toBe("pass");
    expect(report.checks.find((check) => check.id === "audit")?.status).toBe("pass");
    expect(report.checks.find((check) => check.id === "policy")?.status).toBe("pass");
    writeFileSync(join(home, "config.yaml"), "version: 1\nbogus: true\n");
    const broken = await aegis(home, ["doctor", "--json"]);
    expect(broken.exitCode).toBe(1);
    expect(JSON.parse(broken.stdout).checks.find((check: { id: string }) => check.id === "config").status).toBe("fail");
  });
});

describe("logs verify with a pinned key (compiled binary)", () => {
  test("logs verify --pubkey: the log's own key passes, any other key fails, a malformed one is a usage error", async () => {
    const home = tempHome();
    await aegis(home, ["init", "--yes"]);
    const pubkey = (await aegis(home, ["logs", "pubkey"])).stdout.trim();
    expect(pubkey).toMatch(/^[0-9a-f]{64}$/);
    expect((await aegis(home, ["logs", "verify", "--pubkey", pubkey])).exitCode).toBe(0);
    const other = `${pubkey.slice(0, 63)}${pubkey.endsWith("0") ? "1" : "0"}`;
    const wrong = await aegis(home, ["logs", "verify", "--pubkey", other]);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toContain("FAILED verification");
    expect((await aegis(home, ["logs", "verify", "--pubkey", "xyz"])).exitCode).toBe(64);
  });
});
