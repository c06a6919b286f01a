/**
 * The network part of the container definition, and its check: no network at all, or, for a
 * run granted net.outbound, the internal egress network only, with the run's proxy in the
 * environment, DNS pointed at an address the fence drops, and IPv6 off.
 */
import type { ContainerCreateOptions, ContainerInspectInfo, HostConfig } from "dockerode";
import { AegisError } from "../../shared/index.ts";
import type { EgressAttachment } from "../egress/session.ts";
import type { SandboxSpec } from "../types.ts";

/** The variables proxy-aware clients (curl, wget, git, pip, npm, Go, Python) read. */
export const PROXY_ENV_NAMES: readonly string[] = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"];
const NO_IPV6 = "net.ipv6.conf.all.disable_ipv6";

/** The container's network settings and proxy variables for `spec` with `egress` (or none). */
export function networkSettings(
  spec: SandboxSpec,
  egress: EgressAttachment | undefined,
): { env: string[]; host: HostConfig; networkDisabled: boolean; networking?: ContainerCreateOptions["NetworkingConfig"] } {
  if (spec.runNetwork !== undefined) return runNetworkSettings(spec, egress);
  if (spec.egress === undefined) {
    if (egress !== undefined) throw new AegisError("internal", "an egress network was given for a run without egress");
    return { env: [], host: { NetworkMode: "none" }, networkDisabled: true };
  }
  if (egress === undefined) throw new AegisError("internal", "a run with egress needs its egress network and proxy");
  const proxy = egress.proxyUrl;
  return {
    // NO_PROXY empty: nothing bypasses the proxy (there is no other way out anyway).
    env: [`HTTP_PROXY=${proxy}`, `HTTPS_PROXY=${proxy}`, `http_proxy=${proxy}`, `https_proxy=${proxy}`, "NO_PROXY=", "no_proxy="],
    host: {
      NetworkMode: egress.network,
      // Docker's embedded DNS forwards from the sandbox's own namespace to these servers; the
      // gateway's port 53 is dropped by the fence, so no name is ever resolved for the sandbox
      // (DNS would be a way out). The proxy resolves names itself.
      Dns: [egress.gateway],
      DnsOptions: [],
      DnsSearch: [],
      Sysctls: { [NO_IPV6]: "1" },
      PortBindings: {},
      PublishAllPorts: false,
      ExtraHosts: [],
    },
    networkDisabled: false,
  };
}

/** Differences between the network the engine stored and the one asked for. */
export function networkProblems(spec: SandboxSpec, info: ContainerInspectInfo, egress: EgressAttachment | undefined): string[] {
  const host = info.HostConfig;
  const problems: string[] = [];
  const expect = (what: string, ok: boolean, actual: unknown) => {
    if (!ok) problems.push(`${what} (engine has ${JSON.stringify(actual)})`);
  };
  const networks = Object.keys(info.NetworkSettings?.Networks ?? {});
  if (spec.runNetwork !== undefined) return runNetworkProblems(spec.runNetwork, info);
  if (spec.egress === undefined || egress === undefined) {
    expect("no network", host.NetworkMode === "none" && networks.every((name) => name === "none"), host.NetworkMode);
    return problems;
  }
  expect(`only network ${egress.network}`, host.NetworkMode === egress.network && networks.length === 1 && networks[0] === egress.network, { mode: host.NetworkMode, networks });
  expect(`DNS only ${egress.gateway}`, JSON.stringify(host.Dns ?? []) === JSON.stringify([egress.gateway]) && (host.DnsSearch ?? []).length === 0 && (host.DnsOptions ?? []).length === 0, host.Dns);
  expect("IPv6 disabled", host.Sysctls?.[NO_IPV6] === "1", host.Sysctls);
  expect("no published ports", Object.keys(host.PortBindings ?? {}).length === 0 && host.PublishAllPorts !== true, host.PortBindings);
  expect("no extra hosts", (host.ExtraHosts ?? []).length === 0, host.ExtraHosts);
  expect("no links", (host.Links ?? []).length === 0, host.Links);
  return problems;
}

/**
 * After start: the container is attached to the verified egress network (by id) and nothing
 * else, and has an address there. Returns that address; throws unavailable otherwise.
 */
export function startedAddress(info: ContainerInspectInfo, egress: EgressAttachment): string {
  const networks = info.NetworkSettings?.Networks ?? {};
  const names = Object.keys(networks);
  const endpoint = networks[egress.network];
  if (names.length !== 1 || !endpoint || endpoint.NetworkID !== egress.networkId || !endpoint.IPAddress) {
    throw new AegisError("unavailable", `sandbox refused: it is not attached to exactly the egress network ${egress.network} (${egress.networkId.slice(0, 12)}): ${JSON.stringify(names)}`, {
      hint: "was the network replaced while the run started? run it again",
    });
  }
  return endpoint.IPAddress;
}

/**
 * A container of a multi-container run: on the run's private network only (internal, and the
 * host holds no address on it), named by its service, DNS pointed at the network's gateway
 * address (which nothing answers), IPv6 off. Service names resolve through the engine's
 * embedded resolver, which answers them itself.
 */
function runNetworkSettings(spec: SandboxSpec, egress: EgressAttachment | undefined) {
  const network = spec.runNetwork;
  if (network === undefined) throw new AegisError("internal", "runNetworkSettings without a run network");
  if (spec.egress !== undefined || egress !== undefined) throw new AegisError("internal", "a container on a run network cannot have egress (not supported yet)");
  return {
    env: [],
    host: { NetworkMode: network.name, Dns: [network.gateway], DnsOptions: [], DnsSearch: [], Sysctls: { [NO_IPV6]: "1" }, PortBindings: {}, PublishAllPorts: false, ExtraHosts: [] } satisfies HostConfig,
    networkDisabled: false,
    networking: { EndpointsConfig: { [network.name]: { Aliases: [network.alias] } } },
  };
}

/** Differences between what the engine stored and a container alone on its run network. */
function runNetworkProblems(network: NonNullable<SandboxSpec["runNetwork"]>, info: ContainerInspectInfo): string[] {
  const host = info.HostConfig;
  const problems: string[] = [];
  const expect = (what: string, ok: boolean, actual: unknown) => {
    if (!ok) problems.push(`${what} (engine has ${JSON.stringify(actual)})`);
  };
  const networks = info.NetworkSettings?.Networks ?? {};
  const names = Object.keys(networks);
  expect(`only the run network ${network.name}`, host.NetworkMode === network.name && names.length === 1 && names[0] === network.name, { mode: host.NetworkMode, networks: names });
  expect(`alias ${network.alias}`, (networks[network.name]?.Aliases ?? []).includes(network.alias), networks[network.name]?.Aliases);
  expect(`DNS only ${network.gateway}`, JSON.stringify(host.Dns ?? []) === JSON.stringify([network.gateway]) && (host.DnsSearch ?? []).length === 0 && (host.DnsOptions ?? []).length === 0, host.Dns);
  expect("IPv6 disabled", host.Sysctls?.[NO_IPV6] === "1", host.Sysctls);
  expect("no published ports", Object.keys(host.PortBindings ?? {}).length === 0 && host.PublishAllPorts !== true, host.PortBindings);
  expect("no extra hosts", (host.ExtraHosts ?? []).length === 0, host.ExtraHosts);
  expect("no links", (host.Links ?? []).length === 0, host.Links);
  return problems;
}
