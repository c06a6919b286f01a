/**
 * The warm pool on the real engine: a pooled container behaves like a fresh hardened sandbox,
 * serves exactly one run and is removed after it; claims are exclusive; runs it does not
 * match, and containers that only look pooled, go cold.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ContainerInspectInfo } from "dockerode";
import { assemble } from "../../src/app.ts";
import { Config, homeLayout, ensureHomeDirectories } from "../../src/core/index.ts";
import { initAuditDir, recentEntries } from "../../src/audit/index.ts";
import { DockerRuntime } from "../../src/sandbox/docker/docker-runtime.ts";
import { EngineClient } from "../../src/sandbox/docker/engine-client.ts";
import { attachWithStdin } from "../../src/sandbox/docker/attach-stdin.ts";
import { claimByRename, claimPooled, imageFacts, isIdle, listPooled, type Refusal } from "../../src/sandbox/docker/warm-pool-claim.ts";
import { DEFAULT_POOL_MAX_AGE_MS, notPoolable, poolKey, pooledProblems, poolProcessProblems } from "../../src/sandbox/docker/warm-pool-key.ts";
import { createRunMarkerGate, notSendable, POOL_ARGV, POOL_REFUSED_EXIT, runHeader, runMarker, runNonce } from "../../src/sandbox/docker/warm-pool-script.ts";
import { WarmPool } from "../../src/sandbox/docker/warm-pool.ts";
import { DEFAULT_LIMITS, type SandboxSpec } from "../../src/sandbox/index.ts";
import { BASE_IMAGE, requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { containerExists } from "./support.ts";

const SOCKET = "/var/run/docker.sock";
const engine = new EngineClient(SOCKET);
const refusals: Refusal[] = [];
const runtime = new DockerRuntime({ onPoolRefused: (refusal) => refusals.push(refusal) });
const pool = new WarmPool({ images: [BASE_IMAGE], limits: DEFAULT_LIMITS, size: 1 });
const SKILL_IMAGE = "aegisclaw/skill-code-runner:1.0.0";

let counter = 0;
const spec = (argv: string[], extra: Partial<SandboxSpec> = {}): SandboxSpec => ({
  runId: `warm-test-${process.pid}-${++counter}`,
  image: BASE_IMAGE,
  argv,
  timeoutMs: 20_000,
  limits: DEFAULT_LIMITS,
  ...extra,
});

interface Ran {
  exitCode: number;
  bytes: Buffer;
  warm: boolean;
  stdout: string;
  stderr: string;
  containerId: string;
  timedOut: boolean;
  aborted: boolean;
  outputTruncated: boolean;
  stdoutBytes: number;
}

async function run(what: SandboxSpec, options: { signal?: AbortSignal; onStdout?: () => void } = {}): Promise<Ran> {
  let stdout = "";
  let stderr = "";
  const chunks: Uint8Array[] = [];
  const result = await runtime.run(what, {
    stdout: (chunk) => {
      chunks.push(chunk.slice());
      stdout += new TextDecoder().decode(chunk, { stream: true });
      options.onStdout?.();
    },
    stderr: (chunk) => void (stderr += new TextDecoder().decode(chunk)),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { ...result, warm: result.warm === true, stdout, stderr, bytes: Buffer.concat(chunks) };
}

/** Fills this test's pool of `size` idle containers for the base image and returns their ids. */
async function filled(size = 1): Promise<string[]> {
  const filler = size === 1 ? pool : new WarmPool({ images: [BASE_IMAGE], limits: DEFAULT_LIMITS, size });
  await filler.fill();
  const idle = (await listPooled(engine)).filter((c) => isIdle(c) && c.State === "running").map((c) => c.Id);
  expect(idle.length).toBeGreaterThanOrEqual(size);
  return idle;
}

/** Every pooled container on the engine (ours: no other suite creates them). */
async function removeAllPooled(): Promise<void> {
  for (const c of await listPooled(engine)) await engine.request("DELETE", `/containers/${c.Id}`, { query: { force: 1 } }).catch(() => undefined);
}

function docker(args: string[]): string {
  const proc = Bun.spawnSync(["docker", ...args], { stdout: "pipe", stderr: "pipe" });
  expect(proc.exitCode, proc.stderr.toString()).toBe(0);
  return proc.stdout.toString().trim();
}

async function baseKey(limits = DEFAULT_LIMITS): Promise<string> {
  const facts = await imageFacts(engine, BASE_IMAGE);
  if (!facts) throw new Error("base image missing");
  return poolKey({ imageId: facts.id, ociRuntime: undefined, limits });
}

beforeAll(async () => {
  await requireDocker();
  await removeAllPooled();
});
afterEach(async () => {
  await removeAllPooled();
  refusals.length = 0;
});
afterAll(removeAllPooled);

describe("warm pool", () => {
  test("warm pool: a warm run gives the same output and exit code as a cold one", async () => {
    const script = ["sh", "-c", 'echo "out $1 $GREETING"; echo err >&2; pwd; exit 3', "sh", "a b"];
    const env = { GREETING: "hello world" };
    await filled();
    const warm = await run(spec(script, { env }));
    const cold = await run(spec(script, { env }));
    expect(warm.warm).toBe(true);
    expect(cold.warm).toBe(false);
    for (const result of [warm, cold]) {
      expect(result.exitCode).toBe(3);
      expect(result.stdout).toBe("out a b hello world\n/tmp\n");
      expect(result.stderr).toBe("err\n");
    }
  });

  test("warm pool: the command is PID 1 and its argv arrives byte-exact, as in a cold run", async () => {
    const args = [
      "two words", "'single' \"double\"", "$(echo injected)", "`echo injected`", "; echo injected #", "a\nb", "trailing\n\n", "", "\n", " ",
      "ünïcödé 日本 🦀", "x".repeat(64 * 1024), "-n", "=", "end", "0 1", "c2g=", "*", "\\", "$HOME",
    ];
    // `; exit` keeps sh as PID 1 (busybox sh execs a last simple command in place).
    const argv = ["sh", "-c", 'printf "pid=%s\\n" "$$"; cat /proc/1/cmdline; exit', "sh", ...args];
    const expected = Buffer.concat([Buffer.from("pid=1\n"), Buffer.from(`${argv.join("\0")}\0`)]);
    await filled();
    const warm = await run(spec(argv));
    const cold = await run(spec(argv));
    expect([warm.warm, cold.warm]).toEqual([true, false]);
    for (const result of [warm, cold]) {
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toBe("");
      expect(result.bytes.equals(expected)).toBe(true);
    }
  });

  test("warm pool: the run's env arrives exactly, and the command sees the same environment as a cold one", async () => {
    const env = { SPACES: "a b  c", NEWLINES: "x\n\n", EMPTY: "", SHELLISH: "$(id) `id` 'q' \"dq\" ; | & >", UTF8: "ünï 🦀", EQUALS: "a=b=c", IFS: "x", HOME: "/tmp/home" };
    const argv = ["cat", "/proc/self/environ"];
    const entries = (result: Ran) => result.bytes.toString("utf8").split("\0").filter((entry) => entry !== "" && !entry.startsWith("HOSTNAME=")).sort();
    await filled();
    const warm = await run(spec(argv, { env }));
    const cold = await run(spec(argv, { env }));
    expect([warm.warm, cold.warm, warm.exitCode, cold.exitCode]).toEqual([true, false, 0, 0]);
    for (const [name, value] of Object.entries(env)) expect(entries(warm)).toContain(`${name}=${value}`);
    expect(entries(warm)).toEqual(entries(cold));
    // A name the pool script keeps for itself never reaches a pooled container: such a run goes cold.
    const reserved = await run(spec(["sh", "-c", 'printf %s "$aegisclaw_e"'], { env: { aegisclaw_e: "5" } }));
    expect([reserved.warm, reserved.exitCode, reserved.stdout]).toEqual([false, 0, "5"]);
  });

  test("warm pool: the command has no stdin (reads EOF at once, as in a cold run)", async () => {
    await filled();
    const argv = ["sh", "-c", "cat; echo cat=$?; readlink /proc/self/fd/0"];
    const warm = await run(spec(argv, { timeoutMs: 10_000 }));
    const cold = await run(spec(argv, { timeoutMs: 10_000 }));
    expect([warm.warm, warm.timedOut, warm.exitCode]).toEqual([true, false, 0]);
    expect(warm.stdout).toStartWith("cat=0\n");
    expect(warm.stdout).toBe(cold.stdout);
  });

  test("warm pool: the pool script refuses hostile headers and runs nothing", async () => {
    const nonce = runNonce();
    const b64 = (value: string) => Buffer.from(value).toString("base64");
    // The command every header below tries to run: it would print PWNED and exit 42.
    const payload = [b64("sh"), b64("-c"), b64("echo PWNED; exit 42")];
    const valid = `${nonce}\n0 3\n${payload.join("\n")}\nend\n`;
    const hostile: Record<string, string> = {
      "no space in the counts": `${nonce}\n3\n${payload.join("\n")}\nend\n`,
      "zero arguments": `${nonce}\n0 0\nend\n`,
      "leading zero": `${nonce}\n0 03\n${payload.join("\n")}\nend\n`,
      "five-digit count": `${nonce}\n0 10000\n${payload.join("\n")}\nend\n`,
      "count is shell code": `${nonce}\n$(echo 0) 3\n${payload.join("\n")}\nend\n`,
      "nonce is shell code": `$(echo PWNED >&2)\n0 3\n${payload.join("\n")}\nend\n`,
      "nonce in capitals": `${nonce.toUpperCase()}\n0 3\n${payload.join("\n")}\nend\n`,
      "short nonce": `${nonce.slice(1)}\n0 3\n${payload.join("\n")}\nend\n`,
      "base64 with a foreign character": `${nonce}\n0 3\n${payload[0]}\n${payload[1]}\n\`echo PWNED\`\nend\n`,
      "base64 of the wrong length": `${nonce}\n0 3\n${payload[0]}\n${payload[1]}\nZWNobw\nend\n`,
      "padding inside base64": `${nonce}\n0 3\n${payload[0]}\nL=Wq\n${payload[2]}\nend\n`,
      "more lines than counted": `${nonce}\n0 2\n${payload.join("\n")}\nend\n`,
      "fewer lines than counted": `${nonce}\n0 4\n${payload.join("\n")}\nend\n`,
      "no end line": `${nonce}\n0 3\n${payload.join("\n")}\n`,
      "env without =": `${nonce}\n1 3\n${b64("NOVALUE")}\n${payload.join("\n")}\nend\n`,
      "env name with a space": `${nonce}\n1 3\n${b64("A B=1")}\n${payload.join("\n")}\nend\n`,
      "env name the script uses": `${nonce}\n1 3\n${b64("aegisclaw_e=0")}\n${payload.join("\n")}\nend\n`,
      "env sets PATH": `${nonce}\n1 3\n${b64("PATH=/tmp")}\n${payload.join("\n")}\nend\n`,
      "metacharacters as a line": `${nonce}\n0 3\n; echo PWNED\n${payload.join("\n")}\nend\n`,
    };
    const send = async (header: string) => {
      const [container] = await filled();
      const ctx = { engine, socketPath: SOCKET, ociRuntime: undefined };
      expect(await claimByRename(ctx.engine, container ?? "")).toBe(true);
      let output = "";
      const attach = await attachWithStdin(SOCKET, container ?? "", (chunk) => void (output += Buffer.from(chunk).toString("latin1")));
      await attach.write(new TextEncoder().encode(header));
      attach.closeStdin();
      const { StatusCode } = await engine.json<{ StatusCode: number }>("POST", `/containers/${container}/wait`);
      await Promise.race([attach.ended, Bun.sleep(2000)]);
      attach.close();
      await engine.request("DELETE", `/containers/${container}`, { query: { force: 1 } }).catch(() => undefined);
      return { status: StatusCode, output };
    };
    // The harness can see a run: the well-formed header runs the payload.
    const control = await send(valid);
    expect(control.status).toBe(42);
    expect(control.output).toContain("PWNED");
    for (const [name, header] of Object.entries(hostile)) {
      const result = await send(header);
      expect({ name, status: result.status, ran: result.output.includes("PWNED") }).toEqual({ name, status: POOL_REFUSED_EXIT, ran: false });
      expect(result.output).toContain("refused a malformed run header");
    }
    // Stdin closed before a whole header arrived: refused as well.
    const [container] = await filled();
    const attach = await attachWithStdin(SOCKET, container ?? "", () => {});
    await attach.write(new TextEncoder().encode(`${nonce}\n0 3\n`));
    attach.close();
    const { StatusCode } = await engine.json<{ StatusCode: number }>("POST", `/containers/${container}/wait`);
    expect(StatusCode).toBe(POOL_REFUSED_EXIT);
  }, 120_000);

  test("warm pool: a pooled container someone else wrote a header to first is never passed off as the run", async () => {
    const [container] = await filled();
    // An intruder with Docker API access attaches to the idle container and runs its own command.
    const intruder = await attachWithStdin(SOCKET, container ?? "", () => {});
    await intruder.write(runHeader(runNonce(), ["sh", "-c", "echo intruder; sleep 1; echo intruder"], {}));
    intruder.close();
    let seen = "";
    const attempt = runtime.run(spec(["echo", "mine"]), { stdout: (chunk) => void (seen += new TextDecoder().decode(chunk)), stderr: () => {} });
    // Whether our attach saw the intruder's output (killed at once) or only its exit: refused either way.
    await expect(attempt).rejects.toThrow("wrote to its stdin first");
    expect(seen).toBe("");
    expect(containerExists(container ?? "")).toBe(false);
  }, 30_000);

  test("warm pool: an image without sh is never pooled (the filler probes it) and its runs go cold", async () => {
    const image = `aegisclaw/test-no-sh:${process.pid}`;
    // (busybox's sh runs its own base64 applet even without /bin/base64: without sh is the case to test.)
    const dockerfile = `FROM ${BASE_IMAGE}\nRUN ["/bin/busybox", "rm", "/bin/sh"]\n`;
    const build = Bun.spawnSync(["docker", "build", "-q", "-t", image, "-"], { stdin: new TextEncoder().encode(dockerfile), stdout: "pipe", stderr: "pipe" });
    expect(build.exitCode, build.stderr.toString()).toBe(0);
    try {
      const logs: string[] = [];
      const filler = new WarmPool({ images: [image], limits: DEFAULT_LIMITS, size: 1, log: (line) => logs.push(line) });
      expect(await filler.fill()).toBe(0);
      expect(await listPooled(engine)).toEqual([]);
      expect(logs.join("\n")).toContain(`image ${image} has no working busybox`);
      expect(await filler.fill()).toBe(0);
      const result = await run(spec(["echo", "cold"], { image }));
      expect([result.warm, result.exitCode, result.stdout]).toEqual([false, 0, "cold\n"]);
    } finally {
      Bun.spawnSync(["docker", "rmi", "-f", image], { stdout: "ignore", stderr: "ignore" });
    }
  });

  test("warm pool: an idle pooled container runs only its script, waiting; top shows exactly that", async () => {
    const [container] = await filled();
    const top = await engine.json<{ Titles: string[]; Processes: string[][] }>("GET", `/containers/${container}/top`);
    expect(poolProcessProblems(top)).toEqual([]);
    const cmd = top.Titles.indexOf("CMD");
    expect(top.Processes.map((row) => row[cmd])).toEqual([POOL_ARGV.join(" ")]);
    docker(["exec", "-d", container ?? "", "sleep", "600"]);
    expect(poolProcessProblems(await engine.json("GET", `/containers/${container}/top`)).join("; ")).toContain("only the waiting pool script running");
  });

  test("warm pool: the command runs as uid 65534 with no capabilities, seccomp, no-new-privileges, read-only root, only lo", async () => {
    await filled();
    const probe = [
      "id -u; id -g",
      "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|Seccomp|NoNewPrivs):' /proc/self/status",
      "touch /etc/pwned 2>/dev/null && echo root-writable || echo root-read-only",
      "ls /sys/class/net | tr '\\n' ' '; echo",
      "cp /bin/busybox /tmp/bb && /tmp/bb true 2>/dev/null; echo tmp-exec=$?",
      "unshare -U true 2>/dev/null; echo unshare=$?",
    ].join("; ");
    const result = await run(spec(["sh", "-c", probe]));
    expect(result.warm).toBe(true);
    const lines = result.stdout.split("\n");
    expect(lines.slice(0, 2)).toEqual(["65534", "65534"]);
    for (const cap of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) expect(result.stdout).toMatch(new RegExp(`${cap}:\\s+0000000000000000`));
    expect(result.stdout).toMatch(/Seccomp:\s+2\b/);
    expect(result.stdout).toMatch(/NoNewPrivs:\s+1\b/);
    expect(result.stdout).toContain("root-read-only");
    expect(result.stdout).toContain("\nlo \n");
    expect(result.stdout).toContain("tmp-exec=126");
    expect(result.stdout).not.toContain("unshare=0");
  });

  test("warm pool: the claimed container is removed after the run and the next run gets another one", async () => {
    const [first] = await filled();
    const one = await run(spec(["sh", "-c", "echo one > /tmp/left-behind; sleep 30 & echo started"]));
    expect(one.warm).toBe(true);
    expect(one.containerId).toBe(first ?? "");
    expect(containerExists(one.containerId)).toBe(false);
    await filled();
    const two = await run(spec(["sh", "-c", "cat /tmp/left-behind 2>/dev/null || echo clean"]));
    expect(two.warm).toBe(true);
    expect(two.containerId).not.toBe(one.containerId);
    expect(two.stdout).toBe("clean\n");
    expect(containerExists(two.containerId)).toBe(false);
    // With the pool empty again, the next run goes cold (nothing is ever handed out twice).
    expect((await run(spec(["true"]))).warm).toBe(false);
  });

  test("warm pool: concurrent claimers never get the same container", async () => {
    const ids = await filled(3);
    // The primitive: eight claimers renaming one container at once, exactly one wins.
    const target = ids[0] ?? "";
    const wins = await Promise.all(Array.from({ length: 8 }, () => claimByRename(engine, target)));
    expect(wins.filter(Boolean).length).toBe(1);
    // Whole claims: ten runs' claims race for the two containers left; each is won at most once.
    const ctx = { engine, socketPath: SOCKET, ociRuntime: undefined };
    const claims = await Promise.all(Array.from({ length: 10 }, () => claimPooled(ctx, spec(["true"]))));
    const won = claims.filter((claim) => claim !== undefined).map((claim) => claim.containerId);
    expect(won.length).toBeGreaterThanOrEqual(1);
    expect(won.length).toBeLessThanOrEqual(2);
    expect(new Set(won).size).toBe(won.length);
    expect(won).not.toContain(target);
  });

  test("warm pool: runs with mounts, secrets, egress, other limits or another image never use the pool", async () => {
    const [pooled] = await filled();
    const dir = tempDir();
    mkdirSync(join(dir, "data"));
    const data = join(dir, "data");
    const withMount = await run(spec(["ls", data], { mounts: [{ source: data, target: data, readOnly: true }] }));
    expect(withMount.exitCode).toBe(0);
    expect(withMount.warm).toBe(false);
    const otherLimits = await run(spec(["true"], { limits: { ...DEFAULT_LIMITS, pids: 64 } }));
    expect(otherLimits.warm).toBe(false);
    const otherImage = await run(spec(["true"], { image: SKILL_IMAGE }));
    expect(otherImage.exitCode).toBe(0);
    expect(otherImage.warm).toBe(false);
    // Secrets and egress need a prepared directory / proxy to run at all; the claim refuses them first.
    const ctx = { engine, socketPath: SOCKET, ociRuntime: undefined };
    const secrets = spec(["true"], { secrets: { names: ["TOKEN"], source: "/nonexistent" } });
    const egress = spec(["true"], { egress: { allow: ["net.outbound:example.com:443"], actor: { name: "t", source: "cli" }, requestHash: "0".repeat(64) } });
    expect(notPoolable(secrets)).toBe("secrets");
    expect(notPoolable(egress)).toBe("network egress");
    // Any field the pool does not know (sidecars, a run network, whatever comes next) keeps a run out.
    expect(notPoolable({ ...spec(["true"]), runNetwork: { name: "n", alias: "a" } } as SandboxSpec)).toBe("spec fields runNetwork");
    expect(notPoolable(spec(["true"], { env: { A: "1" }, mounts: [], labels: { x: "y" } }))).toBeUndefined();
    expect(await claimPooled(ctx, secrets)).toBeUndefined();
    expect(await claimPooled(ctx, egress)).toBeUndefined();
    // A gVisor run never takes a runc container either: the OCI runtime is part of the key.
    expect(await claimPooled({ ...ctx, ociRuntime: "runsc" }, spec(["true"]))).toBeUndefined();
    // None of that touched the pooled container: it is still idle, and the next plain run takes it.
    expect((await listPooled(engine)).filter(isIdle).map((c) => c.Id)).toEqual([pooled ?? ""]);
    expect((await run(spec(["true"]))).warm).toBe(true);
  });

  test("warm pool: a look-alike container without the hardening is refused, removed, and the run goes cold", async () => {
    const key = await baseKey();
    const fake = docker([
      "run", "-d", "--name", `aegisclaw-pool-fake${process.pid}`, "--network", "none", "--entrypoint", "",
      "--label", "io.aegisclaw.managed=true", "--label", `io.aegisclaw.pool=${key}`, "--label", "io.aegisclaw.run=pool-fake",
      "--label", `io.aegisclaw.pid=${process.pid}`, BASE_IMAGE, "sleep", "2147483647",
    ]);
    const result = await run(spec(["sh", "-c", "id -u"]));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("65534\n");
    expect(result.warm).toBe(false);
    expect(result.containerId).not.toBe(fake);
    expect(containerExists(fake)).toBe(false);
    expect(refusals.map((r) => r.containerId)).toEqual([fake]);
    const problems = refusals[0]?.problems.join("; ") ?? "";
    for (const missing of ["user 65534:65534", "read-only root filesystem", "all capabilities dropped", "AegisClaw seccomp profile", "pids limit"]) expect(problems).toContain(missing);
  });

  test("warm pool: a pooled container someone is exec'd into, or whose env was changed, is refused", async () => {
    const [busy] = await filled();
    // A process planted beside the future run (docker exec -d) would share its container.
    docker(["exec", "-d", busy ?? "", "sleep", "600"]);
    const first = await run(spec(["echo", "ok"]));
    expect(first.stdout).toBe("ok\n");
    expect(first.warm).toBe(false);
    expect(containerExists(busy ?? "")).toBe(false);
    expect(refusals[0]?.problems.join("; ")).toContain("never exec'd into");
    // Hardened in every other way, but with LD_PRELOAD that every exec would inherit.
    const key = await baseKey();
    const tampered = docker([
      "run", "-d", "--name", `aegisclaw-pool-env${process.pid}`, "--network", "none", "--entrypoint", "", "--read-only", "--cap-drop", "ALL",
      "--user", "65534:65534", "-e", "LD_PRELOAD=/tmp/evil.so", "--label", "io.aegisclaw.managed=true", "--label", `io.aegisclaw.pool=${key}`,
      "--label", "io.aegisclaw.run=pool-env", BASE_IMAGE, "sleep", "2147483647",
    ]);
    const second = await run(spec(["echo", "ok"]));
    expect(second.warm).toBe(false);
    expect(containerExists(tampered)).toBe(false);
    expect(refusals[1]?.problems.join("; ")).toContain("environment as created");
  });

  test("warm pool: a pooled container past the max age is refused", async () => {
    const [id] = await filled();
    const info = await engine.json<ContainerInspectInfo>("GET", `/containers/${id}/json`);
    const facts = await imageFacts(engine, BASE_IMAGE);
    const profile = { imageId: facts?.id ?? "", ociRuntime: undefined, limits: DEFAULT_LIMITS };
    // As the claimer sees it right after its rename (the claim name is part of the check).
    const claimed = { ...info, Name: `/aegisclaw-claimed-${info.Id}` };
    expect(pooledProblems(claimed, profile, facts?.env ?? [], Date.now(), DEFAULT_POOL_MAX_AGE_MS)).toEqual([]);
    const later = Date.parse(info.Created) + DEFAULT_POOL_MAX_AGE_MS + 1000;
    expect(pooledProblems(claimed, profile, facts?.env ?? [], later, DEFAULT_POOL_MAX_AGE_MS).join("; ")).toContain("younger than 600 s");
    // And an unclaimed one (its pool name) is not a claimed pooled container.
    expect(pooledProblems(info, profile, facts?.env ?? [], Date.now(), DEFAULT_POOL_MAX_AGE_MS).join("; ")).toContain("claimed under our claim name");
  });

  test("warm pool: the filler replaces a killed pooled container, backs off from one that stopped by itself, and reports a missing image", async () => {
    const logs: string[] = [];
    const filler = new WarmPool({ images: [BASE_IMAGE, "aegisclaw/no-such-image:0"], limits: DEFAULT_LIMITS, size: 1, log: (line) => logs.push(line) });
    expect(await filler.fill()).toBe(1);
    // One killed from outside (lockdown, `docker kill`: 137) is simply replaced.
    const [killed] = (await listPooled(engine)).map((c) => c.Id);
    docker(["kill", killed ?? ""]);
    expect(await filler.fill()).toBe(1);
    expect(containerExists(killed ?? "")).toBe(false);
    // One whose PID 1 ended by itself is removed, and nothing is started until the next sweep
    // (each replacement would end the same way).
    await removeAllPooled();
    const key = await baseKey();
    const stopped = docker(["run", "-d", "--name", `aegisclaw-pool-exits${process.pid}`, "--network", "none", "--entrypoint", "", "--label", "io.aegisclaw.managed=true", "--label", `io.aegisclaw.pool=${key}`, BASE_IMAGE, "sh", "-c", "exit 1"]);
    docker(["wait", stopped]);
    expect(await filler.fill()).toBe(0);
    expect(containerExists(stopped)).toBe(false);
    expect(await listPooled(engine)).toEqual([]);
    expect(logs.join("\n")).toContain("image aegisclaw/no-such-image:0 is not present");
    expect(logs.join("\n")).toContain(`pooled containers of ${BASE_IMAGE} stopped by themselves`);
    expect(() => new WarmPool({ images: [BASE_IMAGE], limits: DEFAULT_LIMITS, size: 9 })).toThrow("warm pool size must be an integer from 0 to 8");
  });

  test("warm pool: timeout (124), abort (130) and the output limit work on warm runs", async () => {
    await filled();
    const timedOut = await run(spec(["sleep", "30"], { timeoutMs: 1500 }));
    expect([timedOut.warm, timedOut.exitCode, timedOut.timedOut]).toEqual([true, 124, true]);
    expect(containerExists(timedOut.containerId)).toBe(false);

    await filled();
    const cancel = new AbortController();
    const aborted = await run(spec(["sh", "-c", "echo ready; sleep 30"]), { signal: cancel.signal, onStdout: () => cancel.abort() });
    expect([aborted.warm, aborted.exitCode, aborted.aborted]).toEqual([true, 130, true]);
    expect(containerExists(aborted.containerId)).toBe(false);

    await filled();
    const flood = await run(spec(["sh", "-c", "while :; do echo 0123456789abcdef; done"], { limits: { ...DEFAULT_LIMITS, outputBytes: 5000 } }));
    // outputBytes is enforced by us per run, not by the container, so this run still matches the pool.
    expect([flood.warm, flood.outputTruncated, flood.stdoutBytes, flood.timedOut]).toEqual([true, true, 5000, false]);
    expect(containerExists(flood.containerId)).toBe(false);
  });

  test("warm pool: killAll removes idle pooled containers and stops warm runs (137); listRunning does not count idle ones", async () => {
    const ids = await filled(2);
    const running = await runtime.listRunning();
    for (const id of ids) expect(running.map((r) => r.containerId)).not.toContain(id);
    expect(await runtime.killAll()).toBeGreaterThanOrEqual(2);
    expect(await listPooled(engine)).toEqual([]);
    // A warm run in progress is stopped by killAll like a cold one: 137, no flag of ours.
    await filled();
    let killing: Promise<number> | undefined;
    const killed = await run(spec(["sh", "-c", "echo started; sleep 30"]), { onStdout: () => void (killing ??= runtime.killAll()) });
    await killing;
    expect([killed.warm, killed.exitCode, killed.timedOut, killed.aborted, killed.outputTruncated]).toEqual([true, 137, false, false, false]);
    expect(containerExists(killed.containerId)).toBe(false);
  });

  test("warm pool: a refused pooled container is recorded in the audit log (a `sandbox` entry naming it and what was wrong)", async () => {
    const home = join(tempDir(), "home");
    const layout = homeLayout(home);
    ensureHomeDirectories(layout);
    await initAuditDir(layout.audit);
    const config = Config.parse({ version: 1, policy: { grants: ["shell.exec"] }, sandbox: { image: BASE_IMAGE } });
    const app = assemble(layout, config);
    const { limitsFrom } = await import("../../src/core/index.ts");
    const actor = { name: "tester", source: "cli" as const };
    const gateRun = async () => (await app.gate()).run({ actor, argv: ["true"] }, { stdout: () => {}, stderr: () => {} });
    try {
      // The self-test first (its limits differ, so it never claims from the pool).
      expect((await gateRun()).exitCode).toBe(0);
      const fake = docker([
        "run", "-d", "--name", `aegisclaw-pool-audit${process.pid}`, "--network", "none", "--entrypoint", "",
        "--label", "io.aegisclaw.managed=true", "--label", `io.aegisclaw.pool=${await baseKey(limitsFrom(config))}`, "--label", "io.aegisclaw.run=pool-fake",
        "--label", `io.aegisclaw.pid=${process.pid}`, BASE_IMAGE, "sleep", "2147483647",
      ]);
      expect((await gateRun()).exitCode).toBe(0);
      expect(containerExists(fake)).toBe(false);
      const entry = await eventually(async () => recentEntries(layout.audit).find((candidate) => candidate.type === "sandbox"));
      expect(entry.actor).toEqual({ name: "aegisclaw", source: "system" });
      expect(entry.sandbox).toMatchObject({ event: "pool-refused", container: fake });
      expect((entry.sandbox as { problems: string[] }).problems.join("; ")).toContain("AegisClaw seccomp profile");
      expect(entry.note).toContain(`REFUSED pooled container ${fake.slice(0, 12)}`);
    } finally {
      await app.close();
    }
  });

  test("warm pool: serve's wiring fills from config, a Gate run takes the pooled container, the pool refills, and lockdown stops refilling", async () => {
    const home = join(tempDir(), "home");
    const layout = homeLayout(home);
    ensureHomeDirectories(layout);
    await initAuditDir(layout.audit);
    const config = Config.parse({ version: 1, policy: { grants: ["shell.exec"] }, sandbox: { image: BASE_IMAGE, warmPool: { size: 1 } } });
    const app = assemble(layout, config);
    const { keepWarmPool } = await import("../../src/app.ts");
    const actor = { name: "tester", source: "cli" as const };
    const gateRun = async (argv: string[]) => {
      let out = "";
      const outcome = await (await app.gate()).run({ actor, argv }, { stdout: (chunk) => void (out += new TextDecoder().decode(chunk)), stderr: () => {} });
      return { exitCode: outcome.exitCode, out };
    };
    // The runtime's self-test (a run like any other) happens here, before there is a pool.
    expect(await gateRun(["echo", "cold"])).toEqual({ exitCode: 0, out: "cold\n" });
    const logs: string[] = [];
    const handle = await keepWarmPool(app, (line) => logs.push(line));
    try {
      expect(handle).toBeDefined();
      const [pooled] = await eventually(async () => {
        const idle = (await listPooled(engine)).filter((c) => isIdle(c) && c.State === "running");
        return idle.length === 1 ? idle.map((c) => c.Id) : undefined;
      });
      // The command is PID 1, as in a cold run (the pool script exec'd it).
      expect(await gateRun(["sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; true"])).toEqual({ exitCode: 0, out: "sh -c tr '\\0' ' ' < /proc/1/cmdline; true " });
      // ...and the audit says so: the first run's result was cold, this one's warm.
      const results = recentEntries(layout.audit).filter((entry) => entry.type === "result");
      expect(results.map((entry) => (entry.result as { warm?: boolean } | undefined)?.warm ?? false)).toEqual([false, true]);
      // The Gate's run matched the pool (same limits as config): its container is gone...
      expect(containerExists(pooled ?? "")).toBe(false);
      // ...and the filler, told by the engine's events, made a new one.
      await eventually(async () => ((await listPooled(engine)).some((c) => isIdle(c) && c.Id !== pooled) ? true : undefined));
      app.lockdown.write({ active: true, since: new Date().toISOString(), reason: "test" });
      // Let any fill in flight finish (it joins it), then lockdown's kill: nothing comes back.
      await handle?.fill();
      await app.runtime.killAll();
      expect(await handle?.fill()).toBe(0);
      expect(await listPooled(engine)).toEqual([]);
      expect(logs).toEqual([]);
    } finally {
      await handle?.stop();
      await app.close();
    }
  });
});

describe("warm pool protocol", () => {
  const frame = (type: number, text: string | Uint8Array) => {
    const payload = typeof text === "string" ? new TextEncoder().encode(text) : text;
    const bytes = new Uint8Array(8 + payload.length);
    bytes[0] = type;
    new DataView(bytes.buffer).setUint32(4, payload.length, false);
    bytes.set(payload, 8);
    return bytes;
  };
  const collect = () => {
    const got: string[] = [];
    let mismatches = 0;
    const decode = (raw: Uint8Array) => {
      for (let i = 0; i < raw.length; ) {
        const length = new DataView(raw.buffer, raw.byteOffset + i + 4, 4).getUint32(0, false);
        got.push(`${raw[i] === 1 ? "out" : "err"}:${new TextDecoder().decode(raw.subarray(i + 8, i + 8 + length))}`);
        i += 8 + length;
      }
    };
    return { got, decode, mismatch: () => void mismatches++, mismatches: () => mismatches };
  };

  test("warm pool protocol: the marker gate strips our marker, split anywhere, and releases held stderr after it", () => {
    const nonce = runNonce();
    const marker = runMarker(nonce);
    const sink = collect();
    const gate = createRunMarkerGate(nonce, sink.decode, sink.mismatch);
    const stream = new Uint8Array([...frame(2, "early err"), ...frame(1, marker.subarray(0, 10)), ...frame(1, new Uint8Array([...marker.subarray(10), ...new TextEncoder().encode("hello")]))]);
    for (let i = 0; i < stream.length; i += 3) gate.push(stream.subarray(i, i + 3));
    expect(gate.state).toBe("open");
    // Payloads are forwarded piecewise: compare per stream, and the held stderr came first.
    const text = (prefix: string) => sink.got.filter((piece) => piece.startsWith(prefix)).map((piece) => piece.slice(4)).join("");
    expect([text("err:"), text("out:")]).toEqual(["early err", "hello"]);
    expect(sink.got.findIndex((piece) => piece.startsWith("out:"))).toBeGreaterThan(sink.got.findLastIndex((piece) => piece.startsWith("err:")));
    expect(sink.mismatches()).toBe(0);
  });

  test("warm pool protocol: another nonce, other output first, or a flood of stderr closes the gate for good", () => {
    for (const first of [frame(1, runMarker(runNonce())), frame(1, "intruder\n"), frame(2, "x".repeat(70_000))]) {
      const sink = collect();
      const gate = createRunMarkerGate(runNonce(), sink.decode, sink.mismatch);
      gate.push(first);
      gate.push(frame(1, "more"));
      expect([gate.state, sink.got, sink.mismatches()]).toEqual(["mismatch", [], 1]);
    }
  });

  test("warm pool protocol: the header encodes every value as one base64 line; unsendable runs are named", () => {
    const nonce = "0123456789abcdef0123456789abcdef";
    const header = new TextDecoder().decode(runHeader(nonce, ["echo", "", "a\nb"], { A: "1" }));
    expect(header).toBe(`${nonce}\n1 3\nQT0x\nZWNobw==\n\nYQpi\nend\n`);
    expect(notSendable(["echo", "a\0b"], {})).toBe("a NUL byte");
    expect(notSendable(["echo"], { aegisclaw_x: "1" })).toBe("an env name starting with aegisclaw_");
    expect(notSendable(["echo"], { A: "1" })).toBeUndefined();
    expect(() => runHeader("not-a-nonce", ["echo"], {})).toThrow("nonce");
  });
});

describe("warm pool config", () => {
  test("config: sandbox.warmPool is optional, bounded, strict, and off when absent or size 0", async () => {
    const base = { version: 1 };
    expect(Config.parse(base).sandbox.warmPool).toBeUndefined();
    expect(Config.parse({ ...base, sandbox: { warmPool: {} } }).sandbox.warmPool).toEqual({ size: 0, images: [] });
    expect(Config.safeParse({ ...base, sandbox: { warmPool: { size: 9 } } }).success).toBe(false);
    expect(Config.safeParse({ ...base, sandbox: { warmPool: { size: -1 } } }).success).toBe(false);
    expect(Config.safeParse({ ...base, sandbox: { warmPool: { size: 1, reuse: true } } }).success).toBe(false);
    const { keepWarmPool } = await import("../../src/app.ts");
    for (const sandbox of [{}, { warmPool: { size: 0 } }]) {
      const layout = homeLayout(join(tempDir(), "home"));
      const app = assemble(layout, Config.parse({ ...base, sandbox }));
      expect(await keepWarmPool(app, () => {})).toBeUndefined();
      await app.close();
    }
    expect(await listPooled(engine)).toEqual([]);
  });
});

/** Polls until `check` returns a value (at most 15 s). */
async function eventually<T>(check: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await Bun.sleep(100);
  }
  throw new Error("condition not met within 15 s");
}
