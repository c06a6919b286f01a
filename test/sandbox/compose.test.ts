/** Multi-container runs below the CLI: the Gate's validate stage, the run network's checks and leftover cleanup. */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import type { ContainerInspectInfo } from "dockerode";
import { Config, type RunRequest } from "../../src/core/index.ts";
import { approvalRequestFor } from "../../src/core/gate-approval.ts";
import { NO_HISTORY, prepareRun } from "../../src/core/gate-prepare.ts";
import { createRunNetwork, removeRunNetworks } from "../../src/sandbox/docker/compose-network.ts";
import { containerOptions, hardeningProblems } from "../../src/sandbox/docker/container-config.ts";
import { startedAddress } from "../../src/sandbox/docker/egress-config.ts";
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

  test("compose gate: each service gets only its own net.outbound and secrets; policy and the approval see them all, each with its service", () => {
    const site = dir("site3");
    const inbox = dir("inbox3");
    const request = twoServices(site, inbox, {
      grants: ["shell.exec:/skill/fetch", `files.read:${inbox}`, "net.outbound:api.example.com", "secrets.read:CLIENT_TOKEN"],
      services: [{ name: "server", argv: ["/skill/serve", site], grants: ["shell.exec:/skill/serve", `files.read:${site}`, "net.outbound:db.example.com:5432", "secrets.read:SERVER_TOKEN"] }],
    });
    const prepared = prepareRun(request, config, "docker", false, NO_HISTORY, home);
    const actor = { name: "tester", source: "cli" };
    expect(prepared.spec.egress).toEqual({ allow: ["net.outbound:api.example.com"], actor, requestHash: prepared.hash, service: "client" });
    expect(prepared.spec.secrets).toEqual({ names: ["CLIENT_TOKEN"] });
    expect(prepared.spec.compose?.sidecars).toEqual([
      {
        name: "server",
        argv: ["/skill/serve", site],
        mounts: [{ source: site, target: site, readOnly: true }],
        secrets: { names: ["SERVER_TOKEN"] },
        egress: { allow: ["net.outbound:db.example.com:5432"], actor, requestHash: prepared.hash, service: "server" },
      },
    ]);
    const requested = prepared.policyInput.requested;
    expect(requested.map((scope) => scope.scope)).toEqual([
      "shell.exec:/skill/fetch",
      `files.read:${inbox}`,
      "net.outbound:api.example.com",
      "secrets.read:CLIENT_TOKEN",
      "shell.exec:/skill/serve",
      `files.read:${site}`,
      "net.outbound:db.example.com:5432",
      "secrets.read:SERVER_TOKEN",
    ]);
    expect(requested.filter((scope) => scope.kind === "net.outbound" || scope.kind === "secrets.read").every((scope) => scope.granted)).toBe(true);
    expect(prepared.summary).toMatchObject({ egress: ["net.outbound:api.example.com", "net.outbound:db.example.com:5432"], secrets: ["CLIENT_TOKEN", "SERVER_TOKEN"] });
    const approval = approvalRequestFor(prepared, { kind: "ask", risk: "high", reasons: [] }, 1000);
    expect(approval.scopes.map((scope) => scope.scope)).toContain("net.outbound:db.example.com:5432 (service server)");
    expect(approval.scopes.map((scope) => scope.scope)).toContain("secrets.read:CLIENT_TOKEN (service client)");
    // Moving a secret from one service to the other is another request.
    const moved = twoServices(site, inbox, { ...request, grants: [...(request.grants ?? []), "secrets.read:SERVER_TOKEN"], services: [{ name: "server", argv: ["/skill/serve", site], grants: ["shell.exec:/skill/serve", `files.read:${site}`] }] });
    expect(prepareRun(moved, config, "docker", false, NO_HISTORY, home).hash).not.toBe(prepared.hash);
  });

  test("compose gate: gVisor and bwrap (even for a service's egress), and malformed service lists are refused", () => {
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
    const egressSidecar = twoServices(site, inbox, { services: [{ name: "server", argv: ["/skill/serve"], grants: ["shell.exec:/skill/serve", "net.outbound:example.com:443"] }] });
    refused(egressSidecar, "gvisor", "unavailable", "multi-container runs cannot use the gvisor runtime");
    refused(egressSidecar, "bwrap", "unavailable", "multi-container runs cannot use the bwrap runtime");
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

  test("compose hardening: a service granted egress is on exactly its run network and the egress network with its own proxy; no other service joins it", () => {
    const runNetwork = { name: "aegisclaw-run-r-test", id: "abc", gateway: "172.30.0.1", alias: "server" };
    const attachment = { network: "aegisclaw-egress", networkId: "egress-id", gateway: "10.213.37.1", proxyUrl: "http://10.213.37.1:28700" };
    const egress = { allow: ["net.outbound:example.com"], actor: { name: "tester", source: "cli" }, requestHash: "c".repeat(64), service: "server" };
    const granted: SandboxSpec = { runId: "r-test", image: "img", argv: ["/x"], timeoutMs: 1000, limits: DEFAULT_LIMITS, runNetwork, egress };
    const options = containerOptions(granted, undefined, attachment);
    expect(options.Env).toContain("HTTPS_PROXY=http://10.213.37.1:28700");
    expect(options.HostConfig?.NetworkMode).toBe(runNetwork.name);
    expect(options.HostConfig?.Dns).toEqual([runNetwork.gateway]);
    const stored = (spec: SandboxSpec, networks: string[]) =>
      ({
        Config: { ...options, Labels: options.Labels },
        HostConfig: { ...options.HostConfig, Runtime: "runc" },
        NetworkSettings: { Networks: Object.fromEntries(networks.map((name) => [name, { Aliases: name === runNetwork.name ? ["server"] : [] }])) },
        Mounts: [],
      }) as unknown as ContainerInspectInfo;
    const networkProblems = (spec: SandboxSpec, networks: string[], joined = attachment) => hardeningProblems(spec, stored(spec, networks), undefined, joined).filter((problem) => /network|alias/.test(problem));
    expect(networkProblems(granted, [runNetwork.name, "aegisclaw-egress"])).toEqual([]);
    expect(networkProblems(granted, [runNetwork.name])[0]).toStartWith("only the run network aegisclaw-run-r-test and aegisclaw-egress");
    expect(networkProblems(granted, [runNetwork.name, "aegisclaw-egress", "bridge"])[0]).toStartWith("only the run network");
    // A service without the grant: the egress network is a problem, and no attachment is ever accepted for it.
    const { egress: _egress, ...ungranted } = granted;
    expect(networkProblems(ungranted, [runNetwork.name, "aegisclaw-egress"])[0]).toStartWith("only the run network aegisclaw-run-r-test (");
    expect(() => containerOptions(ungranted, undefined, attachment)).toThrow("must come together");
    expect(() => containerOptions(granted, undefined)).toThrow("must come together");
    // After start: the egress address counts only on exactly those two networks.
    const started = (networks: Record<string, unknown>) => ({ NetworkSettings: { Networks: networks } }) as unknown as ContainerInspectInfo;
    const endpoint = { NetworkID: "egress-id", IPAddress: "10.213.37.9" };
    expect(startedAddress(started({ "aegisclaw-egress": endpoint, [runNetwork.name]: {} }), attachment, runNetwork.name)).toBe("10.213.37.9");
    expect(() => startedAddress(started({ "aegisclaw-egress": endpoint, [runNetwork.name]: {}, bridge: {} }), attachment, runNetwork.name)).toThrow("not attached to exactly the egress network");
    expect(() => startedAddress(started({ "aegisclaw-egress": { ...endpoint, NetworkID: "other" }, [runNetwork.name]: {} }), attachment, runNetwork.name)).toThrow("not attached to exactly the egress network");
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
