/** secrets.read through the Gate with real Docker, a real age store and the standard template. */
import { beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { NO_HISTORY, prepareRun } from "../../src/core/gate-prepare.ts";
import { Config } from "../../src/core/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { requireGvisor } from "../sandbox/gvisor-support.ts";
import { deliveryFixture, leakedForms } from "./delivery-support.ts";
import { failure } from "../helpers/errors.ts";

const CANARY = "CANARY-deliver-7f3a9c1e52b4d8-value";
const OTHER = "other-secret-value-0c4e8a2f";

/** Waits for the container of `runId` and returns its `docker inspect` JSON. */
async function inspectWhileRunning(runId: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const id = Bun.spawnSync(["docker", "ps", "-q", "--filter", `label=io.aegisclaw.run=${runId}`]).stdout.toString().trim();
    if (id !== "") return Bun.spawnSync(["docker", "inspect", id]).stdout.toString();
    await Bun.sleep(50);
  }
  throw new Error(`no container for ${runId}`);
}

/** Everything `ps` and /proc show about every process on the host: argv and environment. */
function hostProcessText(): string {
  let text = Bun.spawnSync(["ps", "-eww", "-o", "pid,args"]).stdout.toString();
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    for (const file of ["cmdline", "environ"]) {
      try {
        text += Buffer.from(readFileSync(`/proc/${pid}/${file}`)).toString("latin1");
      } catch {
        // the process ended meanwhile
      }
    }
  }
  return text;
}

describe("secret delivery (Gate, real Docker, real age)", () => {
  beforeAll(requireDocker);

  test("delivery: a granted secret is a read-only 0400 file of uid 65534 at /run/secrets/NAME; the output shows only the marker", async () => {
    const f = await deliveryFixture({ CANARY });
    const script = "cat /run/secrets/CANARY; echo; wc -c < /run/secrets/CANARY; sha256sum /run/secrets/CANARY; stat -c '%a %u %g' /run/secrets/CANARY /run/secrets; touch /run/secrets/new 2>&1; echo x >> /run/secrets/CANARY 2>&1; true";
    const result = await f.run(["sh", "-c", script], { grants: ["secrets.read:CANARY"] });
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("[REDACTED:secret:CANARY]");
    expect(lines[1]?.trim()).toBe(String(CANARY.length));
    expect(lines[2]).toBe(`${createHash("sha256").update(CANARY).digest("hex")}  /run/secrets/CANARY`);
    expect(lines[3]).toBe("400 65534 65534");
    expect(lines[4]).toBe("500 65534 65534");
    expect(result.stdout).toContain("Read-only file system");
    expect(leakedForms(result.stdout + result.stderr, CANARY)).toEqual([]);
    expect(leakedForms(JSON.stringify(f.events), CANARY)).toEqual([]); // what consoles, web, SSE and metrics receive
    const types = f.entries().map((entry) => entry.type);
    expect(types).toEqual(["decision", "approval", "result"]);
    const [decision, , outcome] = f.entries();
    expect(decision?.request).toMatchObject({ requested: ["shell.exec:sh", "secrets.read:CANARY"], secrets: ["CANARY"] });
    expect(decision?.decision?.kind).toBe("ask");
    expect(outcome?.redactions).toBe(1);
    expect(outcome?.redactionKinds).toEqual({ "secret:CANARY": 1 });
    expect(f.specs[0]?.secrets).toEqual({ names: ["CANARY"], source: expect.stringMatching(new RegExp(`/${result.runId}\\.${process.pid}$`)) });
    expect(existsSync(f.specs[0]?.secrets?.source ?? "/")).toBe(false);
  });

  test("delivery: only granted secrets are delivered; a run without secrets.read has no /run/secrets", async () => {
    const f = await deliveryFixture({ CANARY, OTHER });
    const granted = await f.run(["sh", "-c", "ls /run/secrets; cat /run/secrets/OTHER 2>&1 || echo no-other"], { grants: ["secrets.read:CANARY"] });
    expect(granted.stdout).toBe("CANARY\ncat: can't open '/run/secrets/OTHER': No such file or directory\nno-other\n");
    const none = await f.run(["sh", "-c", "ls -d /run/secrets 2>&1 || echo none"]);
    expect(none.stdout).toContain("none");
    expect(f.specs[1]?.secrets).toBeUndefined();
    // A value that was not granted is still redacted when it shows up (here: a file grant would do it).
    const both = await f.run(["sh", "-c", `printf '%s-%s\\n' other-secret value-0c4e8a2f`]);
    expect(both.stdout).toBe("[REDACTED:secret:OTHER]\n");
  });

  test("delivery: while it runs, the value is in no docker inspect field, no host ps line, no /proc cmdline or environ", async () => {
    const f = await deliveryFixture({ CANARY });
    const running = f.run(["sh", "-c", "cat /run/secrets/CANARY >/dev/null; echo ready; sleep 3"], { grants: ["secrets.read:CANARY"] });
    await Bun.sleep(200);
    const runId = await waitForRunId(f.events);
    const inspect = await inspectWhileRunning(runId);
    const processes = hostProcessText();
    const result = await running;
    expect(result.stdout).toBe("ready\n");
    expect(leakedForms(inspect, CANARY)).toEqual([]);
    expect(leakedForms(processes, CANARY)).toEqual([]);
    const info = JSON.parse(inspect)[0] as { Mounts: Array<{ Type: string; Source: string; Destination: string; RW: boolean }>; Config: { Env: string[] } };
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: "bind", Source: f.specs[0]?.secrets?.source, Destination: "/run/secrets", RW: false })]);
    expect(info.Config.Env.every((pair) => !pair.includes("CANARY"))).toBe(true);
  });

  test("delivery: the secret directory is erased after a failure, a timeout, a lockdown and a runtime error", async () => {
    const f = await deliveryFixture({ CANARY });
    const grants = ["secrets.read:CANARY"];
    const failed = await f.run(["sh", "-c", "echo fatal: $(cat /run/secrets/CANARY) >&2; exit 3"], { grants });
    expect(failed.exitCode).toBe(3);
    expect(failed.stderr).toBe("fatal: [REDACTED:secret:CANARY]\n");
    const timedOut = await f.run(["sleep", "30"], { grants, timeoutMs: 1500 });
    expect(timedOut.exitCode).toBe(124);
    const locked = f.run(["sh", "-c", "echo up; sleep 30"], { grants, onStdout: () => f.lockdown.write({ active: true, reason: "test", since: new Date().toISOString(), actor: "tester" }) });
    expect((await locked).exitCode).toBe(130);
    f.lockdown.write({ active: false, since: new Date().toISOString(), actor: "tester" });
    const broken = await failure(f.run(["true"], { grants, image: "aegisclaw/absent:none" }));
    expect(broken.code).toBe("unavailable");
    expect(f.specs.length).toBe(4);
    for (const spec of f.specs) expect(existsSync(spec.secrets?.source ?? "/")).toBe(false);
    expect(f.entries().filter((entry) => entry.type === "result").map((entry) => entry.result?.killedBy ?? "none")).toEqual(["none", "timeout", "lockdown", "none"]);
  }, 60_000);

  test("delivery: a missing secret, or a store without identity, is bad input before the decision: nothing recorded, nothing runs", async () => {
    const f = await deliveryFixture({ CANARY });
    const missing = await failure(f.run(["true"], { grants: ["secrets.read:ABSENT"] }));
    expect(missing.code).toBe("bad-input");
    expect(missing.message).toContain("secrets.read:ABSENT");
    expect(missing.hint).toContain("aegisclaw secrets set ABSENT");
    rmSync(f.store.paths.identity);
    const noStore = await failure(f.run(["true"], { grants: ["secrets.read:CANARY"] }));
    expect(noStore.code).toBe("bad-input");
    expect(noStore.hint).toContain("aegisclaw secrets init");
    expect(f.entries()).toEqual([]);
    expect(f.specs).toEqual([]);
  });

  test("delivery: a secrets directory that is not on tmpfs refuses the run before the decision (unavailable)", async () => {
    const f = await deliveryFixture({ CANARY });
    const previous = process.env.AEGISCLAW_SECRETS_RUNDIR;
    process.env.AEGISCLAW_SECRETS_RUNDIR = `${f.home}/on-disk`;
    try {
      const error = await failure(f.run(["true"], { grants: ["secrets.read:CANARY"] }));
      expect(error.code).toBe("unavailable");
      expect(error.message).toContain("is not on tmpfs");
      expect(error.hint).toContain("AEGISCLAW_SECRETS_RUNDIR");
    } finally {
      if (previous === undefined) delete process.env.AEGISCLAW_SECRETS_RUNDIR;
      else process.env.AEGISCLAW_SECRETS_RUNDIR = previous;
    }
    expect(f.entries()).toEqual([]);
    expect(f.specs).toEqual([]);
  });

  test("delivery: a command line that carries a stored value (raw or encoded) is refused before the decision", async () => {
    const f = await deliveryFixture({ CANARY });
    for (const argv of [["echo", CANARY], ["echo", `x${Buffer.from(CANARY).toString("base64")}`], ["echo", Buffer.from(CANARY).toString("hex")]]) {
      const error = await failure(f.run(argv));
      expect(error.code).toBe("bad-input");
      expect(error.message).toContain("contains the value of secret CANARY");
      expect(leakedForms(`${error.message} ${error.hint}`, CANARY)).toEqual([]);
    }
    expect(f.entries()).toEqual([]);
  });

  test("delivery: a granted value too short to redact is refused after the decision; nothing runs and the result says why", async () => {
    const f = await deliveryFixture({ PIN: "0042" });
    const error = await failure(f.run(["cat", "/run/secrets/PIN"], { grants: ["secrets.read:PIN"] }));
    expect(error.code).toBe("bad-input");
    expect(error.message).toContain("secret PIN is too short to redact safely");
    expect(f.specs).toEqual([]);
    const result = f.entries().find((entry) => entry.type === "result");
    expect(result?.result?.error).toContain("too short");
    expect(JSON.stringify(f.entries())).not.toContain("0042");
  });

  test("delivery: a sealed store fails closed without a passphrase (before the decision) and delivers with one", async () => {
    const sealed = await deliveryFixture({ CANARY }, { passphrase: "sealed store words" });
    const refused = await failure(sealed.run(["true"], { grants: ["secrets.read:CANARY"] }));
    expect(refused.code).toBe("usage");
    expect(refused.hint).toContain("AEGISCLAW_SECRETS_PASSPHRASE");
    expect(sealed.entries()).toEqual([]);
    const unlocked = await deliveryFixture({ CANARY }, { passphrase: "sealed store words", resolverPassphrase: "sealed store words" });
    const result = await unlocked.run(["sh", "-c", "cat /run/secrets/CANARY"], { grants: ["secrets.read:CANARY"] });
    expect(result.stdout).toBe("[REDACTED:secret:CANARY]");
  });

  test("delivery: simulate names the secrets and the /run/secrets mount, and reads no value", async () => {
    const f = await deliveryFixture({ CANARY });
    const simulation = await f.gate.simulate({ actor, argv: ["cat", "/run/secrets/CANARY"], grants: ["secrets.read:CANARY"] });
    expect(simulation.sandbox.secrets).toEqual(["CANARY"]);
    expect(simulation.sandbox.mounts).toContainEqual(expect.objectContaining({ target: "/run/secrets", type: "bind", options: "ro" }));
    expect(simulation.outcome).toBe("ask");
    expect(simulation.policyInput.requested).toContainEqual({ scope: "secrets.read:CANARY", kind: "secrets.read", target: "CANARY", risk: "critical", granted: true, grantedBy: "secrets.read:CANARY" });
  });
});

describe("secrets in the validate stage", () => {
  const config = Config.parse({ version: 1, policy: { grants: ["shell.exec", "secrets.read:API_KEY"] } });
  const prepare = (grants: string[], runtime = "docker") => prepareRun({ actor, argv: ["true"], grants }, config, runtime, false, NO_HISTORY, "/nonexistent-home");

  test("prepare: a config grant of secrets.read only grants; the run's own scope requests it, names sorted, hash bound", () => {
    expect(prepare([]).spec.secrets).toBeUndefined();
    const prepared = prepare(["secrets.read:B_KEY", "secrets.read:API_KEY", "secrets.read:B_KEY"]);
    expect(prepared.spec.secrets).toEqual({ names: ["API_KEY", "B_KEY"] });
    expect(prepared.summary.secrets).toEqual(["API_KEY", "B_KEY"]);
    expect(prepared.policyInput.requested.filter((scope) => scope.kind === "secrets.read").map((scope) => [scope.scope, scope.grantedBy])).toEqual([
      ["secrets.read:B_KEY", "secrets.read:B_KEY"],
      ["secrets.read:API_KEY", "secrets.read:API_KEY"],
    ]);
    expect(prepare(["secrets.read:API_KEY"]).hash).not.toBe(prepare(["secrets.read:B_KEY"]).hash);
    expect(prepare(["secrets.read:API_KEY"], "gvisor").spec.secrets).toEqual({ names: ["API_KEY"] });
    expect(JSON.stringify(prepared)).not.toContain("value");
  });
});

describe("secret delivery under gVisor", () => {
  beforeAll(requireGvisor);

  test("delivery (gvisor): the file is readable, read-only and erased afterwards, as under runc", async () => {
    const f = await deliveryFixture({ CANARY });
    const result = await f.run(["sh", "-c", "sha256sum /run/secrets/CANARY; stat -c '%a %u' /run/secrets/CANARY; (echo x > /run/secrets/CANARY) 2>&1; cat /run/secrets/CANARY"], { grants: ["secrets.read:CANARY"], runtime: "gvisor" });
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(`${createHash("sha256").update(CANARY).digest("hex")}  /run/secrets/CANARY`);
    expect(lines[1]).toBe("400 65534");
    expect(lines[2]).toMatch(/Read-only file system|Permission denied/);
    expect(lines[3]).toBe("[REDACTED:secret:CANARY]");
    expect(f.entries()[0]?.request).toMatchObject({ runtime: "gvisor", secrets: ["CANARY"] });
    expect(existsSync(f.specs.at(-1)?.secrets?.source ?? "/")).toBe(false);
  }, 60_000);
});

const actor = { name: "tester", source: "cli" as const };

async function waitForRunId(events: Array<{ type: string; data: unknown }>): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const started = events.find((event) => event.type === "run.started");
    if (started) return (started.data as { runId: string }).runId;
    await Bun.sleep(25);
  }
  throw new Error("the run never started");
}
