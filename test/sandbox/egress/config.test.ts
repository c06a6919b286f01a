/** Pure units of egress: the container's network settings and their check, the profile, the fence and network checks. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerInspectInfo } from "dockerode";
import { containerOptions, hardeningProblems } from "../../../src/sandbox/docker/container-config.ts";
import { startedAddress } from "../../../src/sandbox/docker/egress-config.ts";
import { EGRESS_CHAIN, fenceProblems, wildcardListeners, type RuleSet } from "../../../src/sandbox/egress/fence.ts";
import { EGRESS_BRIDGE, EGRESS_NETWORK, EGRESS_SUBNET, networkProblems, type EgressNetwork } from "../../../src/sandbox/egress/network.ts";
import type { EgressAttachment } from "../../../src/sandbox/egress/session.ts";
import { DEFAULT_LIMITS, describeProfile, EGRESS_GATEWAY, EGRESS_PROXY_PORTS, type SandboxSpec } from "../../../src/sandbox/index.ts";
import { tempDir } from "../../helpers/temp-home.ts";

const attachment: EgressAttachment = { network: EGRESS_NETWORK, networkId: "net-id-1", gateway: EGRESS_GATEWAY, proxyUrl: `http://${EGRESS_GATEWAY}:28711` };
const spec = (egress: boolean, env?: Record<string, string>): SandboxSpec => ({
  runId: "r-egress",
  image: "img",
  argv: ["true"],
  timeoutMs: 1000,
  limits: DEFAULT_LIMITS,
  ...(env ? { env } : {}),
  ...(egress ? { egress: { allow: ["net.outbound:example.com", "net.outbound:*.example.org:8443"], actor: { name: "me", source: "cli" }, requestHash: "b".repeat(64) } } : {}),
});

/** What the engine reports after start for a faithfully applied egress create request. */
function inspected(s: SandboxSpec, egress: EgressAttachment | undefined, change: (info: ContainerInspectInfo) => void = () => undefined): ContainerInspectInfo {
  const options = containerOptions(s, undefined, egress);
  const networks = egress ? { [egress.network]: { NetworkID: egress.networkId, IPAddress: "10.213.37.9" } } : { none: {} };
  const info = {
    Config: { User: options.User, Entrypoint: null, Cmd: s.argv, Labels: options.Labels },
    HostConfig: { ...options.HostConfig, Runtime: "runc", Mounts: [] },
    Mounts: [],
    NetworkSettings: { Networks: networks },
    State: { Running: true },
  } as unknown as ContainerInspectInfo;
  change(info);
  return info;
}

describe("egress container settings", () => {
  test("config: an egress run is on the egress network only, with the proxy in its environment and DNS on the fenced gateway", () => {
    const options = containerOptions(spec(true), undefined, attachment);
    expect(options.NetworkDisabled).toBe(false);
    expect(options.HostConfig).toMatchObject({ NetworkMode: EGRESS_NETWORK, Dns: [EGRESS_GATEWAY], DnsSearch: [], DnsOptions: [], Sysctls: { "net.ipv6.conf.all.disable_ipv6": "1" }, PortBindings: {}, ExtraHosts: [] });
    for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) expect(options.Env).toContain(`${name}=${attachment.proxyUrl}`);
    expect(options.Env).toContain("NO_PROXY=");
    expect(options.Env).toContain("no_proxy=");
  });

  test("config: without egress there is no network and no proxy variable", () => {
    const options = containerOptions(spec(false), undefined);
    expect(options.NetworkDisabled).toBe(true);
    expect(options.HostConfig?.NetworkMode).toBe("none");
    expect((options.Env ?? []).some((entry) => /proxy/i.test(entry))).toBe(false);
  });

  test("config: egress without its attachment (or the reverse), and proxy variables in spec.env, are refused", () => {
    expect(() => containerOptions(spec(true), undefined)).toThrow("needs its egress network");
    expect(() => containerOptions(spec(false), undefined, attachment)).toThrow("run without egress");
    expect(() => containerOptions(spec(true, { HTTPS_PROXY: "http://evil:1" }), undefined, attachment)).toThrow("not allowed");
    expect(() => containerOptions(spec(false, { no_proxy: "*" }), undefined)).toThrow("not allowed");
  });

  test("config: a faithfully applied egress container passes the hardening check", () => {
    expect(hardeningProblems(spec(true), inspected(spec(true), attachment), undefined, attachment)).toEqual([]);
    expect(hardeningProblems(spec(false), inspected(spec(false), undefined), undefined)).toEqual([]);
  });

  const tampered: Array<[string, (info: ContainerInspectInfo) => void]> = [
    ["bridge network", (info) => (info.HostConfig.NetworkMode = "bridge")],
    ["host network", (info) => (info.HostConfig.NetworkMode = "host")],
    ["a second network", (info) => Object.assign(info.NetworkSettings.Networks, { bridge: {} })],
    ["another DNS server", (info) => (info.HostConfig.Dns = ["8.8.8.8"])],
    ["no DNS setting (embedded DNS would forward from the host's resolvers)", (info) => (info.HostConfig.Dns = [])],
    ["IPv6 left on", (info) => (info.HostConfig.Sysctls = {})],
    ["a published port", (info) => (info.HostConfig.PortBindings = { "80/tcp": [{ HostPort: "8080" }] })],
    ["extra hosts", (info) => (info.HostConfig.ExtraHosts = ["metadata:169.254.169.254"])],
  ];
  test.each(tampered)("config: an egress container with %s is refused", (_, change) => {
    expect(hardeningProblems(spec(true), inspected(spec(true), attachment, change), undefined, attachment).length).toBeGreaterThan(0);
  });

  test("config: a run without egress that landed on any network is refused", () => {
    const onEgress = inspected(spec(false), undefined, (info) => {
      info.HostConfig.NetworkMode = EGRESS_NETWORK;
      info.NetworkSettings.Networks = { [EGRESS_NETWORK]: {} } as unknown as ContainerInspectInfo["NetworkSettings"]["Networks"];
    });
    expect(hardeningProblems(spec(false), onEgress, undefined).join()).toContain("no network");
  });

  test("config: after start the address counts only on exactly the verified network", () => {
    expect(startedAddress(inspected(spec(true), attachment), attachment)).toBe("10.213.37.9");
    const wrongId = inspected(spec(true), attachment, (info) => Object.assign(info.NetworkSettings.Networks[EGRESS_NETWORK] ?? {}, { NetworkID: "other" }));
    expect(() => startedAddress(wrongId, attachment)).toThrow("not attached to exactly");
    const noAddress = inspected(spec(true), attachment, (info) => Object.assign(info.NetworkSettings.Networks[EGRESS_NETWORK] ?? {}, { IPAddress: "" }));
    expect(() => startedAddress(noAddress, attachment)).toThrow();
    const twoNetworks = inspected(spec(true), attachment, (info) => Object.assign(info.NetworkSettings.Networks, { bridge: { NetworkID: "x", IPAddress: "172.17.0.5" } }));
    expect(() => startedAddress(twoNetworks, attachment)).toThrow();
  });

  test("profile: simulate shows the egress network, the proxy and the allowlist; no egress shows none", () => {
    const profile = describeProfile(spec(true));
    expect(profile.network).toContain(EGRESS_NETWORK);
    expect(profile.network).toContain("net.outbound:example.com, net.outbound:*.example.org:8443");
    expect(profile.egress?.allow).toEqual(["net.outbound:example.com", "net.outbound:*.example.org:8443"]);
    expect(profile.egress?.proxy).toContain(`${EGRESS_PROXY_PORTS.first}-${EGRESS_PROXY_PORTS.last}`);
    expect(describeProfile(spec(false))).toMatchObject({ network: "none" });
    expect(describeProfile(spec(false)).egress).toBeUndefined();
  });
});

describe("egress fence and network checks", () => {
  const network: EgressNetwork = { id: "n", name: EGRESS_NETWORK, bridge: EGRESS_BRIDGE, gateway: EGRESS_GATEWAY, subnet: EGRESS_SUBNET };
  const ports = `${EGRESS_PROXY_PORTS.first}:${EGRESS_PROXY_PORTS.last}`;
  const good = (): { v4: RuleSet; v6: RuleSet } => ({
    v4: new Map([
      ["INPUT", ["-P INPUT ACCEPT", `-A INPUT -i ${EGRESS_BRIDGE} -j ${EGRESS_CHAIN}`, "-A INPUT -i lo -j ACCEPT"]],
      [EGRESS_CHAIN, [`-N ${EGRESS_CHAIN}`, `-A ${EGRESS_CHAIN} -d ${EGRESS_GATEWAY}/32 -p tcp -m tcp --dport ${ports} -j ACCEPT`, `-A ${EGRESS_CHAIN} -j DROP`]],
      ["FORWARD", ["-P FORWARD DROP", "-A FORWARD -j DOCKER-USER", "-A FORWARD -j DOCKER-ISOLATION-STAGE-1"]],
      ["DOCKER-USER", ["-N DOCKER-USER", "-A DOCKER-USER -j RETURN"]],
      ["DOCKER-ISOLATION-STAGE-1", ["-N DOCKER-ISOLATION-STAGE-1", `-A DOCKER-ISOLATION-STAGE-1 ! -s ${EGRESS_SUBNET} -o ${EGRESS_BRIDGE} -j DROP`, `-A DOCKER-ISOLATION-STAGE-1 ! -d ${EGRESS_SUBNET} -i ${EGRESS_BRIDGE} -j DROP`]],
    ]),
    v6: new Map([["INPUT", ["-P INPUT ACCEPT", `-A INPUT -i ${EGRESS_BRIDGE} -j DROP`]]]),
  });

  test("fence: the rules setup-egress.sh installs pass", () => {
    const { v4, v6 } = good();
    expect(fenceProblems(network, v4, v6)).toEqual([]);
    expect(fenceProblems(network, v4, undefined)).toEqual([]);
  });

  const broken: Array<[string, (rules: { v4: RuleSet; v6: RuleSet }) => void]> = [
    ["no jump", ({ v4 }) => v4.set("INPUT", ["-P INPUT ACCEPT"])],
    ["an ACCEPT before the jump", ({ v4 }) => v4.set("INPUT", ["-P INPUT ACCEPT", "-A INPUT -j ACCEPT", `-A INPUT -i ${EGRESS_BRIDGE} -j ${EGRESS_CHAIN}`])],
    ["no chain", ({ v4 }) => v4.delete(EGRESS_CHAIN)],
    ["a chain without the final DROP", ({ v4 }) => v4.set(EGRESS_CHAIN, [`-N ${EGRESS_CHAIN}`, `-A ${EGRESS_CHAIN} -d ${EGRESS_GATEWAY}/32 -p tcp -m tcp --dport ${ports} -j ACCEPT`])],
    ["a chain admitting every port", ({ v4 }) => v4.set(EGRESS_CHAIN, [`-N ${EGRESS_CHAIN}`, `-A ${EGRESS_CHAIN} -d ${EGRESS_GATEWAY}/32 -p tcp -j ACCEPT`, `-A ${EGRESS_CHAIN} -j DROP`])],
    ["a chain for another gateway", ({ v4 }) => v4.set(EGRESS_CHAIN, [`-N ${EGRESS_CHAIN}`, `-A ${EGRESS_CHAIN} -d 10.0.0.1/32 -p tcp -m tcp --dport ${ports} -j ACCEPT`, `-A ${EGRESS_CHAIN} -j DROP`])],
    ["Docker's isolation missing (dockerd --iptables=false)", ({ v4 }) => v4.delete("DOCKER-ISOLATION-STAGE-1")],
    ["DOCKER-USER accepting", ({ v4 }) => v4.set("DOCKER-USER", ["-N DOCKER-USER", "-A DOCKER-USER -j ACCEPT"])],
    ["FORWARD accepting before isolation", ({ v4 }) => v4.set("FORWARD", ["-P FORWARD DROP", "-A FORWARD -j ACCEPT", "-A FORWARD -j DOCKER-ISOLATION-STAGE-1"])],
    ["no IPv6 drop", ({ v6 }) => v6.set("INPUT", ["-P INPUT ACCEPT"])],
  ];
  test.each(broken)("fence: %s is a problem", (_, breakIt) => {
    const rules = good();
    breakIt(rules);
    expect(fenceProblems(network, rules.v4, rules.v6).length).toBeGreaterThan(0);
  });

  test("fence: listeners on all addresses inside the proxy range are found; others are not", () => {
    const dir = tempDir();
    const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");
    const line = (address: string, port: number, state: string) => `   0: ${address}:${hex(port)} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0`;
    const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
    writeFileSync(join(dir, "tcp"), [header, line("00000000", EGRESS_PROXY_PORTS.first + 3, "0A"), line("0125D50A", EGRESS_PROXY_PORTS.first + 4, "0A"), line("00000000", 22, "0A"), line("00000000", EGRESS_PROXY_PORTS.first + 5, "01")].join("\n"));
    writeFileSync(join(dir, "tcp6"), [header, line("00000000000000000000000000000000", EGRESS_PROXY_PORTS.last, "0A")].join("\n"));
    expect(wildcardListeners(dir)).toEqual([EGRESS_PROXY_PORTS.first + 3, EGRESS_PROXY_PORTS.last]);
    const empty = join(tempDir(), "none");
    mkdirSync(empty);
    expect(wildcardListeners(empty)).toEqual([]);
  });

  test("network: an existing network of that name must be internal, non-ICC, IPv4-only on our bridge", () => {
    const ok = { Id: "x", Driver: "bridge", Internal: true, EnableIPv6: false, IPAM: { Config: [{ Subnet: EGRESS_SUBNET, Gateway: EGRESS_GATEWAY }] }, Options: { "com.docker.network.bridge.name": EGRESS_BRIDGE, "com.docker.network.bridge.enable_icc": "false", "com.docker.network.bridge.enable_ip_masquerade": "false" } };
    expect(networkProblems(ok)).toEqual([]);
    expect(networkProblems({ ...ok, Internal: false }).join()).toContain("--internal");
    expect(networkProblems({ ...ok, EnableIPv6: true }).join()).toContain("IPv6");
    expect(networkProblems({ ...ok, Options: { ...ok.Options, "com.docker.network.bridge.enable_icc": "true" } }).join()).toContain("enable_icc");
    expect(networkProblems({ ...ok, Driver: "macvlan" }).join()).toContain("driver");
  });

  test("script: scripts/setup-egress.sh uses exactly the code's network, bridge, subnet, ports and chain", () => {
    const script = readFileSync(join(import.meta.dir, "..", "..", "..", "scripts", "setup-egress.sh"), "utf8");
    const value = (name: string) => new RegExp(`^${name}=(\\S+)$`, "m").exec(script)?.[1];
    expect(value("NETWORK")).toBe(EGRESS_NETWORK);
    expect(value("BRIDGE")).toBe(EGRESS_BRIDGE);
    expect(value("SUBNET")).toBe(EGRESS_SUBNET);
    expect(value("GATEWAY")).toBe(EGRESS_GATEWAY);
    expect(value("PORTS")).toBe(`${EGRESS_PROXY_PORTS.first}:${EGRESS_PROXY_PORTS.last}`);
    expect(value("CHAIN")).toBe(EGRESS_CHAIN);
  });
});
