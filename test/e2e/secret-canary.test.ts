/**
 * The canary suite (issue 7), with the compiled binary, real Docker and a real age store: a run
 * granted a canary secret prints it raw, base64, hex, split over several writes, to stderr, in
 * its exit message and inside a long line; afterwards no form of it is in any output channel or
 * any file under $AEGISCLAW_HOME except the encrypted store.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { aegis, backgroundAegis, BINARY, initHomeWith, jsonLines, useCompiledBinary, type CliResult } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";
import { homeLeaks, leakedForms } from "../secrets/delivery-support.ts";
import { secretsBaseDir } from "../../src/sandbox/index.ts";

useCompiledBinary();

const CANARY = "CANARY-e2e-9d41f7b2c6a0e3";

/** Prints the canary in every way the issue lists, then fails with it in its last words. */
const SCRIPT = [
  "S=$(cat /run/secrets/CANARY)",
  `printf 'raw: %s\\n' "$S"`,
  `printf 'b64: '; printf '%s' "$S" | base64`,
  `printf 'basic: '; printf 'agent:%s' "$S" | base64`,
  `printf 'hex: '; printf '%s' "$S" | od -An -tx1 | tr -d ' \\n'; echo`,
  `printf 'split: %s' "$(echo "$S" | cut -c1-6)"; sleep 0.3; printf '%s' "$(echo "$S" | cut -c7-15)"; sleep 0.3; printf '%s\\n' "$(echo "$S" | cut -c16-)"`,
  `printf 'err: %s\\n' "$S" >&2`,
  `head -c 100000 /dev/zero | tr '\\0' x; printf '%s' "$S"; head -c 100000 /dev/zero | tr '\\0' y; echo`,
  `echo "fatal: token $S was rejected" >&2`,
  "exit 3",
].join("\n");

async function withStdin(home: string, args: string[], stdin: string): Promise<CliResult> {
  const proc = Bun.spawn([BINARY, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home }, stdin: new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** Approves the first pending request from "another shell" and returns its id. */
async function approveFirst(home: string, outputs: CliResult[]): Promise<string> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const listed = await aegis(home, ["approvals", "list", "--json"]);
    outputs.push(listed);
    const pending = JSON.parse(listed.stdout).pending as Array<{ id: string }>;
    if (pending[0]) {
      outputs.push(await aegis(home, ["approvals", "list"]));
      const approved = await aegis(home, ["approvals", "approve", pending[0].id]);
      outputs.push(approved);
      expect(approved.exitCode).toBe(0);
      return pending[0].id;
    }
    await Bun.sleep(100);
  }
  throw new Error("no pending approval appeared");
}

describe("canary suite (compiled binary, real Docker, real age)", () => {
  beforeAll(requireDocker);

  test("canary: every form the run prints is redacted on stdout, stderr, --json, logs, explain and in every file of the home", async () => {
    const home = await initHomeWith("standard");
    const outputs: CliResult[] = [];
    outputs.push(await aegis(home, ["secrets", "init"]));
    outputs.push(await withStdin(home, ["secrets", "set", "CANARY"], `${CANARY}\n`));
    expect(outputs.map((output) => output.exitCode)).toEqual([0, 0]);

    const run = backgroundAegis(home, ["run", "--scope", "secrets.read:CANARY", "--", "sh", "-c", SCRIPT]);
    const runId = await approveFirst(home, outputs);
    const result = await run.done;
    outputs.push(result);
    expect(result.exitCode).toBe(3);
    const marker = "[REDACTED:secret:CANARY]";
    expect(result.stdout).toContain(`raw: ${marker}\n`);
    expect(result.stdout).toContain(`b64: ${marker}\n`);
    expect(result.stdout).toMatch(/basic: \S*\[REDACTED:secret:CANARY\]/);
    expect(result.stdout).toContain(`hex: ${marker}\n`);
    expect(result.stdout).toContain(`split: ${marker}\n`);
    expect(result.stdout).toContain(`${"x".repeat(100000)}${marker}${"y".repeat(100000)}\n`);
    expect(result.stderr).toContain(`err: ${marker}\n`);
    expect(result.stderr).toContain(`fatal: token ${marker} was rejected\n`);

    // A second run, --json, granted nothing: the value is still known to the store, so even a
    // copy that reaches the sandbox another way is redacted (here it is rebuilt from halves).
    const half = CANARY.length / 2;
    const json = await aegis(home, ["run", "--json", "--", "sh", "-c", `printf '%s%s\\n' ${CANARY.slice(0, half)} ${CANARY.slice(half)}`]);
    outputs.push(json);
    expect(jsonLines(json.stdout)[0]).toMatchObject({ type: "output", text: `${marker}\n` });

    outputs.push(await aegis(home, ["logs"]), await aegis(home, ["logs", "--json"]), await aegis(home, ["logs", "explain", runId]), await aegis(home, ["logs", "verify"]));
    outputs.push(await aegis(home, ["secrets", "list", "--json"]), await aegis(home, ["simulate", "--scope", "secrets.read:CANARY", "--", "cat", "/run/secrets/CANARY"]));
    for (const output of outputs) expect(leakedForms(`${output.stdout}${output.stderr}`, CANARY)).toEqual([]);
    expect(homeLeaks(home, CANARY)).toEqual([]);

    const entries = jsonLines((await aegis(home, ["logs", "--json"])).stdout).filter((entry) => entry.runId === runId);
    expect(entries.map((entry) => entry.type)).toEqual(["decision", "approval", "result"]);
    expect(entries[0]?.request).toMatchObject({ secrets: ["CANARY"], requested: ["shell.exec:sh", "secrets.read:CANARY"] });
    expect(entries[2]?.redactionKinds).toEqual({ "secret:CANARY": 8 }); // raw, b64, basic, hex, split, err, long line, fatal
    // The run's tmpfs directory is gone, and so is its container.
    expect(readdirSync(secretsBaseDir()).filter((name) => name.startsWith(`${runId}.`))).toEqual([]);
    expect(existsSync(secretsBaseDir())).toBe(true);
    expect(Bun.spawnSync(["docker", "ps", "-aq", "--filter", `label=io.aegisclaw.run=${runId}`]).stdout.toString().trim()).toBe("");
  }, 120_000);

  test("canary: simulate names the secret; a run asking for one that is not stored exits 65 and records nothing", async () => {
    const home = await initHomeWith("standard");
    await aegis(home, ["secrets", "init"]);
    const simulated = await aegis(home, ["simulate", "--scope", "secrets.read:CANARY", "--", "cat", "/run/secrets/CANARY"]);
    expect(simulated.stdout).toMatch(/secrets\s+CANARY/);
    expect(simulated.stdout).toContain("/run/secrets (bind ro from");
    const before = jsonLines((await aegis(home, ["logs", "--json"])).stdout).length;
    const missing = await aegis(home, ["run", "--scope", "secrets.read:CANARY", "--", "cat", "/run/secrets/CANARY"]);
    expect(missing.exitCode).toBe(65);
    expect(missing.stderr).toContain("aegisclaw secrets set CANARY");
    expect(jsonLines((await aegis(home, ["logs", "--json"])).stdout).length).toBe(before);
  }, 60_000);
});
