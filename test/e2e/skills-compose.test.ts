/** A two-service (docker-compose) skill, signed here, installed and run for real through the compiled binary and Docker. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { aegis, backgroundAegis, initHomeWith, jsonLines, useCompiledBinary } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { copySkill, publisherKey, removeTestImages } from "../skills/helpers.ts";

useCompiledBinary();

const FIXTURE = join(import.meta.dir, "..", "fixtures", "skills", "web-pair");
let home: string;
let key: string;

/** A directory the sandbox user (65534) can read, holding `files`. */
function readableDir(name: string, files: Record<string, string> = {}): string {
  const dir = join(realpathSync(tempDir()), name);
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text, { mode: 0o644 });
  return dir;
}

/** The web-pair skill's two path parameters, bound as `skills run` takes them. */
function paths(site: string, inbox: string): string[] {
  return ["--path", `site=${site}`, "--path", `inbox=${inbox}`];
}

function docker(...args: string[]): string {
  const result = Bun.spawnSync(["docker", ...args], { stdout: "pipe", stderr: "pipe" });
  expect(result.exitCode, result.stderr.toString()).toBe(0);
  return result.stdout.toString().trim();
}

/** Containers and networks of a run still on the engine (both must be none once it has ended). */
function leftovers(runId: string): string[] {
  const containers = docker("ps", "-aq", "--filter", `label=io.aegisclaw.run=${runId}`);
  const networks = docker("network", "ls", "-q", "--filter", `label=io.aegisclaw.run=${runId}`);
  return [...containers.split("\n"), ...networks.split("\n")].filter((id) => id !== "");
}

/** The audit entries of the run whose decision is the last one for `command`. */
async function runEntries(command: string): Promise<Array<Record<string, unknown>>> {
  const entries = jsonLines((await aegis(home, ["logs", "--json"])).stdout);
  const decision = entries.findLast((entry) => entry.type === "decision" && (entry.request as { skill?: { command?: string } } | undefined)?.skill?.command === command);
  return entries.filter((entry) => entry.runId === decision?.runId);
}

/** Waits until the latest `command` run has a running server container; answers the run id and that container. */
async function runningServer(command: string): Promise<{ runId: string; container: string }> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const runId = (await runEntries(command))[0]?.runId;
    if (typeof runId === "string") {
      const container = docker("ps", "-q", "--filter", `label=io.aegisclaw.run=${runId}`, "--filter", "label=io.aegisclaw.service=server");
      const client = docker("ps", "-q", "--filter", `label=io.aegisclaw.run=${runId}`, "--filter", "label=io.aegisclaw.service=client");
      if (container !== "" && client !== "") return { runId, container };
    }
    await Bun.sleep(100);
  }
  throw new Error(`no running ${command} run appeared`);
}

function ipOf(container: string): string {
  return docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container);
}

describe("docker-compose skill (two services, real Docker)", () => {
  beforeAll(async () => {
    await requireDocker();
    home = await initHomeWith("standard");
    const keys = await publisherKey(home);
    key = keys.key;
    expect((await aegis(home, ["skills", "trust", "add", keys.pub, "--name", "tester"])).exitCode).toBe(0);
    const { dir } = copySkill(FIXTURE);
    const signed = await aegis(home, ["skills", "sign", dir, "--key", key]);
    expect(signed.exitCode, signed.stderr).toBe(0);
    const added = await aegis(home, ["skills", "add", dir]);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toContain("installed web-pair");
    expect(added.stdout).toContain("signed by tester");
  }, 120_000);
  afterAll(removeTestImages);

  test("compose fetch: the client reads the server's page by its service name; each sees only its own mount; all removed after", async () => {
    const site = readableDir("site", { "page.txt": "site page\n" });
    const inbox = readableDir("inbox", { "note.txt": "inbox note\n" });
    const result = await aegis(home, ["skills", "run", "web-pair", "fetch", ...paths(site, inbox), "--", site, inbox]);
    // The sidecar's own output, on stderr, line by line under its name; nothing else.
    expect(result.stderr).toBe("[server] server ready on 8080\n");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("page: served-by-server: site page\n");
    expect(result.stdout).toContain("inbox: inbox note\n");
    expect(result.stdout).toContain(`server-missing ${inbox}\n`);
    expect(result.stdout).toContain(`client-missing ${site}\n`);
    expect(result.stdout).toContain(`client-sees ${inbox}\n`);
    const [decision, outcome] = await runEntries("fetch");
    const request = decision?.request as Record<string, unknown>;
    // One decision for the whole run: every service's scopes were requested (policy and a person see them all).
    expect(request.requested).toEqual(["shell.exec:/skill/fetch", `files.read:${inbox}`, "shell.exec:/skill/serve", `files.read:${site}`]);
    expect(request.services).toEqual([
      { name: "client", argv: ["/skill/fetch", inbox, site, inbox], scopes: ["shell.exec:/skill/fetch", "shell.exec:/skill/reach", "shell.exec:/skill/hold", `files.read:${inbox}`], mounts: [{ source: inbox, target: inbox, mode: "ro" }] },
      { name: "server", argv: ["/skill/serve", site], scopes: ["shell.exec:/skill/serve", `files.read:${site}`], mounts: [{ source: site, target: site, mode: "ro" }] },
    ]);
    expect(outcome).toMatchObject({ type: "result", result: { exitCode: 0 } });
    expect(leftovers(String(decision?.runId))).toEqual([]);
  }, 60_000);

  test("compose reach: the server answers; neither service reaches the host or the outside (internal network, no host address on it)", async () => {
    const listener = Bun.serve({ hostname: "0.0.0.0", port: 0, fetch: () => new Response("host service\n") });
    try {
      const hostAddresses = Object.values(networkInterfaces())
        .flat()
        .filter((address) => address !== undefined && address.family === "IPv4" && !address.internal)
        .map((address) => address?.address ?? "");
      expect(hostAddresses.length).toBeGreaterThan(0);
      // The host service really answers on those addresses (from the host).
      expect(await (await fetch(`http://${hostAddresses[0]}:${listener.port}/`)).text()).toBe("host service\n");
      const targets = [...hostAddresses.map((address) => `${address}:${listener.port}`), "1.1.1.1:80"];
      const site = readableDir("site2");
      const inbox = readableDir("inbox2");
      const result = await aegis(home, ["skills", "run", "web-pair", "reach", ...paths(site, inbox), "--", ...targets]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain("reachable server:8080\nserver-reachable 127.0.0.1:8080\n");
      for (const target of targets) {
        expect(result.stdout).toContain(`\nunreachable ${target}\n`);
        expect(result.stdout).toContain(`\nserver-unreachable ${target}\n`);
      }
    } finally {
      listener.stop(true);
    }
  }, 60_000);

  test("compose isolation: neither service of a run reaches another run's services; both leave nothing behind", async () => {
    const site = readableDir("site3");
    const inbox = readableDir("inbox3");
    const held = backgroundAegis(home, ["skills", "run", "web-pair", "hold", ...paths(site, inbox)]);
    try {
      const { runId, container } = await runningServer("hold");
      const address = ipOf(container);
      expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const probe = await aegis(home, ["skills", "run", "web-pair", "reach", ...paths(site, inbox), "--", `${address}:8080`]);
      expect(probe.exitCode, probe.stderr).toBe(0);
      expect(probe.stdout).toContain("reachable server:8080\n");
      expect(probe.stdout).toContain(`\nunreachable ${address}:8080\n`);
      expect(probe.stdout).toContain(`\nserver-unreachable ${address}:8080\n`);
      writeFileSync(join(inbox, "release"), "");
      const done = await held.done;
      expect(done.exitCode, done.stderr).toBe(0);
      expect(done.stdout).toBe("holding\nreleased\n");
      expect(leftovers(runId)).toEqual([]);
      expect(leftovers(String((await runEntries("reach"))[0]?.runId))).toEqual([]);
    } finally {
      held.proc.kill();
    }
  }, 60_000);

  test("compose timeout: the run is killed at its timeout and every container and the network are removed", async () => {
    const site = readableDir("site4");
    const inbox = readableDir("inbox4");
    const result = await aegis(home, ["skills", "run", "web-pair", "hold", "--timeout", "3s", ...paths(site, inbox)]);
    expect(result.exitCode).toBe(124);
    const [decision, outcome] = await runEntries("hold");
    expect(outcome).toMatchObject({ type: "result", result: { timedOut: true } });
    expect(leftovers(String(decision?.runId))).toEqual([]);
  }, 60_000);

  test("compose lockdown: lockdown kills every service of the run and removes its network", async () => {
    const site = readableDir("site5");
    const inbox = readableDir("inbox5");
    const held = backgroundAegis(home, ["skills", "run", "web-pair", "hold", ...paths(site, inbox)]);
    try {
      const { runId } = await runningServer("hold");
      expect((await aegis(home, ["lockdown", "--reason", "compose test"])).exitCode).toBe(0);
      const done = await held.done;
      expect(done.exitCode).toBe(75);
      expect(leftovers(runId)).toEqual([]);
      const [, outcome] = await runEntries("hold");
      expect(outcome).toMatchObject({ type: "result", result: { killedBy: "lockdown" } });
    } finally {
      held.proc.kill();
      expect((await aegis(home, ["unlock"])).exitCode).toBe(0);
    }
  }, 60_000);

  test("compose runtime: gVisor is refused with a clear error before anything is recorded", async () => {
    const site = readableDir("site6");
    const inbox = readableDir("inbox6");
    const before = (await aegis(home, ["logs", "--json"])).stdout;
    const result = await aegis(home, ["skills", "run", "web-pair", "fetch", "--runtime", "gvisor", ...paths(site, inbox)]);
    expect(result.exitCode).toBe(69);
    expect(result.stderr).toContain("multi-container runs cannot use the gvisor runtime");
    expect((await aegis(home, ["logs", "--json"])).stdout).toBe(before);
  });

  test("compose simulate: shows the run network and each sidecar's command and mounts; records nothing", async () => {
    const site = readableDir("site7");
    const inbox = readableDir("inbox7");
    const before = (await aegis(home, ["logs", "--json"])).stdout;
    const result = await aegis(home, ["simulate", "skill", "web-pair", "fetch", ...paths(site, inbox)]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/network {7}aegisclaw-run-r-[a-z0-9-]+ \(internal, no host address; shared only with this run's services server; this one is client\)/);
    expect(result.stdout).toContain(`service       server: /skill/serve ${site}; mounts ${site} (bind ro); same hardening`);
    expect(result.stdout).toContain(`${inbox} (bind ro from ${inbox})`);
    expect(result.stdout).not.toContain(`${site} (bind ro from`);
    expect((await aegis(home, ["logs", "--json"])).stdout).toBe(before);
  });

  test("compose add: malformed compose files and manifests are refused (exit 65) and nothing is installed", async () => {
    const outside = join(realpathSync(tempDir()), "compose.yaml");
    writeFileSync(outside, readFileSync(join(FIXTURE, "compose.yaml"), "utf8"));
    const cases: Array<[string, (dir: string) => void, string]> = [
      ["privileged", (dir) => edit(dir, "compose.yaml", (text) => text.replace("    environment:", "    privileged: true\n    environment:")), "services.server.privileged: privileged is refused"],
      ["volumes", (dir) => edit(dir, "compose.yaml", (text) => text.replace("    environment:", "    volumes: [/:/host]\n    environment:")), "services.server.volumes: volumes is refused"],
      ["cycle", (dir) => edit(dir, "compose.yaml", (text) => text.replace("    environment:", "    depends_on: [client]\n    environment:")), "dependency cycle: server -> client -> server"],
      ["scope", (dir) => edit(dir, "compose.yaml", (text) => text.replace("[/skill/serve,", "[/skill/hold,")), "program /skill/hold is not allowed by a scope of service server"],
      [
        "escape",
        (dir) => {
          symlinkSync(outside, join(dir, "linked.yaml"));
          edit(dir, "manifest.yaml", (text) => text.replace("compose_file: compose.yaml", "compose_file: linked.yaml"));
        },
        "compose_file: linked.yaml leads outside the skill directory",
      ],
    ];
    for (const [name, breakIt, expected] of cases) {
      const { dir } = copySkill(FIXTURE, { name: `web-pair-${name}` });
      breakIt(dir);
      const added = await aegis(home, ["skills", "add", dir, "--yes"]);
      expect(added.exitCode, `${name}: ${added.stderr}`).toBe(65);
      expect(added.stderr).toContain(expected);
    }
    const listed = JSON.parse((await aegis(home, ["skills", "list", "--json"])).stdout);
    expect(listed.skills.map((skill: { name: string }) => skill.name)).toEqual(["web-pair"]);
    expect(listed.skills[0].services).toEqual({ server: ["shell.exec:/skill/serve", "files.read:{site}"], client: ["shell.exec:/skill/fetch", "shell.exec:/skill/reach", "shell.exec:/skill/hold", "files.read:{inbox}"] });
  }, 60_000);
});

function edit(dir: string, file: string, change: (text: string) => string): void {
  const path = join(dir, file);
  writeFileSync(path, change(readFileSync(path, "utf8")));
}
