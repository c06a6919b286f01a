/** Multi-container runs below the CLI: the Gate's validate stage, the run network's checks and leftover cleanup. */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import type { ContainerInspectInfo } from "dockerode";
import { Config, type RunRequest } from "../../src/core/index.ts";
import { NO_HISTORY, prepareRun } from "../../src/core/gate-prepare.ts";
import { createRunNetwork, removeRunNetworks } from "../../src/sandbox/docker/compose-network.ts";
import { containerOptions, hardeningProblems } from "../../src/sandbox/docker/container-config.ts";
import { EngineClient } from "../../src/sandbox/docker/engine-client.ts";
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.ts";
import type { SandboxSpec } from "../../src/sandbox/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";

const SOCKET = "/var/run/docker.sock";

function dir(name: string): string {
  const path = join(realpathSync(tempDir()), name);
  mkdirSync(path);
  chmodSync(path, 0o755);
  return path;
}

function twoServices(site: string, inbox: string, extra: Partial<RunRequest> = {}): RunRequest {
  return {
    actor: { name: "tester", source: "cli" },
    argv: ["/skill/fetch", inbox],
    grants: ["shell.exec:/skill/fetch", `files.read:${inbox}`],
    service: "client",
    services: [{ name: "server", argv: ["/skill/serve", site], grants: ["shell.exec:/skill/serve", `files.read:${site}`] }],
    ...extra,
  };
}

describe("multi-container runs", () => {
  const config = Config.parse({ version: 1 });
  const home = join(tempDir(), "home");

  test("compose gate: every service's scopes are requested; each container gets only its own mounts; the hash covers them", () => {
    const site = dir("site");
    const inbox = dir("inbox");
    const prepared = prepareRun(twoServices(site, inbox), config, "docker", false, NO_HISTORY, home);
    expect(prepared.policyInput.requested.map((scope) => scope.scope)).toEqual(["shell.exec:/skill/fetch", `files.read:${inbox}`, "shell.exec:/skill/serve", `files.read:${site}`]);
    expect(prepared.policyInput.requested.every((scope) => scope.kind === "shell.exec" || scope.granted)).toBe(true);
    expect(prepared.spec.mounts).toEqual([{ source: inbox, target: inbox, readOnly: true }]);
    expect(prepared.spec.compose).toEqual({ service: "client", sidecars: [{ name: "server", argv: ["/skill/serve", site], mounts: [{ source: site, target: site, readOnly: true }] }] });
    expect(prepared.summary.services).toEqual([
      { name: "client", argv: ["/skill/fetch", inbox], scopes: ["shell.exec:/skill/fetch", `files.read:${inbox}`], mounts: [{ source: inbox, target: inbox, mode: "ro" }] },
      { name: "server", argv: ["/skill/serve", site], scopes: ["shell.exec:/skill/serve", `files.read:${site}`], mounts: [{ source: site, target: site, mode: "ro" }] },
    ]);
    const other = dir("other");
    const moved = twoServices(site, inbox);
    moved.services = [{ name: "server", argv: ["/skill/serve", site], grants: ["shell.exec:/skill/serve", `files.read:${other}`] }];
    expect(prepareRun(moved, config, "docker", false, NO_HISTORY, home).hash).not.toBe(prepared.hash);
  });

  test("compose gate: secrets and egress on any service, gVisor and bwrap, and malformed service lists are refused", () => {
    const site = dir("site2");
    const inbox = dir("inbox2");
    const refused = (request: RunRequest, runtime: string, code: "bad-input" | "unavailable", text: string) => {
      try {
        prepareRun(request, config, runtime, false, NO_HISTORY, home);
      } catch (error) {
        expect(isAegisError(error, code)).toBe(true);
        expect((error as Error).message).toContain(text);
        return;
      }
      throw new Error("accepted");
    };
    const secretSidecar = twoServices(site, inbox, { services: [{ name: "server", argv: ["/skill/serve"], grants: ["secrets.read:TOKEN"] }] });
    refused(secretSidecar, "docker", "bad-input", "service server: secrets.read is not supported in multi-container runs yet");
    refused(twoServices(site, inbox, { grants: ["net.outbound:example.com:443"] }), "docker", "bad-input", "service client: net.outbound is not supported");
    refused(twoServices(site, inbox), "gvisor", "unavailable", "multi-container runs cannot use the gvisor runtime");
    refused(twoServices(site, inbox), "bwrap", "unavailable", "multi-container runs cannot use the bwrap runtime");
    refused(twoServices(site, inbox, { service: undefined }), "docker", "bad-input", "service: a run with services names its own service");
    refused(twoServices(site, inbox, { service: "server" }), "docker", "bad-input", "services: service names must be unique");
    refused(twoServices(site, inbox, { services: undefined }), "docker", "bad-input", "service: only for a run with services");
    refused(twoServices(site, inbox, { service: "Client!" }), "docker", "bad-input", "expected a lower-case service name");
  });

  test("compose hardening: a container must be on exactly its run network under its alias, with the unanswered DNS", () => {
    const spec: SandboxSpec = { runId: "r-test", image: "img", argv: ["/x"], timeoutMs: 1000, limits: DEFAULT_LIMITS, runNetwork: { name: "aegisclaw-run-r-test", id: "abc", gateway: "172.30.0.1", alias: "server" } };
    const options = containerOptions(spec, undefined);
    expect(options.HostConfig?.NetworkMode).toBe("aegisclaw-run-r-test");
    expect(options.HostConfig?.Dns).toEqual(["172.30.0.1"]);
    expect(options.NetworkingConfig).toEqual({ EndpointsConfig: { "aegisclaw-run-r-test": { Aliases: ["server"] } } });
    const stored = (mode: string, networks: Record<string, { Aliases: string[] }>) =>
      ({ Config: { ...options, Labels: options.Labels }, HostConfig: { ...options.HostConfig, NetworkMode: mode, Runtime: "runc" }, NetworkSettings: { Networks: networks }, Mounts: [] }) as unknown as ContainerInspectInfo;
    const networkProblems = (info: ContainerInspectInfo) => hardeningProblems(spec, info, undefined).filter((problem) => /network|alias/.test(problem));
    expect(networkProblems(stored("aegisclaw-run-r-test", { "aegisclaw-run-r-test": { Aliases: ["server"] } }))).toEqual([]);
    expect(networkProblems(stored("bridge", { bridge: { Aliases: [] } }))[0]).toStartWith("only the run network aegisclaw-run-r-test");
    expect(networkProblems(stored("aegisclaw-run-r-test", { "aegisclaw-run-r-test": { Aliases: ["server"] }, bridge: { Aliases: [] } }))[0]).toStartWith("only the run network");
    expect(networkProblems(stored("aegisclaw-run-r-test", { "aegisclaw-run-r-test": { Aliases: ["client"] } }))[0]).toStartWith("alias server");
  });

  test("compose network: internal, no host address, labelled; a network left by a dead process is removed, a live one's is not", async () => {
    await requireDocker();
    const engine = new EngineClient(SOCKET);
    const runId = `r-test-${process.pid}-${Date.now().toString(36)}`;
    const live = await createRunNetwork(engine, SOCKET, runId);
    const info = await engine.json<{ Internal: boolean; Options: Record<string, string>; Labels: Record<string, string> }>("GET", `/networks/${live.id}`);
    expect(info.Internal).toBe(true);
    expect(info.Options["com.docker.network.bridge.inhibit_ipv4"]).toBe("true");
    expect(info.Labels).toMatchObject({ "io.aegisclaw.managed": "true", "io.aegisclaw.run-network": "true", "io.aegisclaw.run": runId, "io.aegisclaw.pid": String(process.pid) });
    const exited = Bun.spawnSync(["true"]).pid;
    const orphan = await engine.json<{ Id: string }>("POST", "/networks/create", {
      body: { Name: `aegisclaw-run-${runId}-orphan`, Internal: true, Labels: { "io.aegisclaw.managed": "true", "io.aegisclaw.run-network": "true", "io.aegisclaw.run": `${runId}-orphan`, "io.aegisclaw.pid": String(exited) } },
    });
    const exists = async (id: string) => (await engine.request("GET", `/networks/${id}`).then(() => true, () => false));
    try {
      // Younger than the minimum age, even a dead process's network stays (it may be another PID namespace's).
      await removeRunNetworks(engine, false);
      expect(await exists(orphan.Id)).toBe(true);
      await removeRunNetworks(engine, false, 0);
      expect(await exists(orphan.Id)).toBe(false);
      expect(await exists(live.id)).toBe(true);
    } finally {
      await engine.request("DELETE", `/networks/${live.id}`).catch(() => undefined);
      await engine.request("DELETE", `/networks/${orphan.Id}`).catch(() => undefined);
    }
  });
});
