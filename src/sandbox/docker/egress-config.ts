/**
 * The network part of the container definition, and its check: no network at all, or, for a
 * run granted net.outbound, the internal egress network only, with the run's proxy in the
 * environment, DNS pointed at an address the fence drops, and IPv6 off. A service of a
 * multi-container run sits on its run's network, and joins the egress network only when that
 * service itself is granted net.outbound.
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
  return {
    env: proxyEnv(egress.proxyUrl),
    // Docker's embedded DNS forwards from the sandbox's own namespace to the gateway, whose
    // port 53 the fence drops, so no name is ever resolved for the sandbox (DNS would be a way
    // out). The proxy resolves names itself.
    host: privateNetworkHost(egress.network, egress.gateway),
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
  if (spec.runNetwork !== undefined) return runNetworkProblems(spec.runNetwork, info, spec.egress === undefined ? undefined : egress);
  if (spec.egress === undefined || egress === undefined) {
    const networks = Object.keys(info.NetworkSettings?.Networks ?? {});
    expect("no network", host.NetworkMode === "none" && networks.every((name) => name === "none"), host.NetworkMode);
    return problems;
  }
  return privateNetworkProblems(info, egress.network, egress.gateway, `network ${egress.network}`);
}

/**
 * A container alone on one private network: DNS only at the network's gateway address (which
 * answers nothing), IPv6 off, no published ports, extra hosts or links. The egress network and
 * a multi-container run's network both give their containers this.
 */
function privateNetworkHost(network: string, gateway: string): HostConfig {
  return { NetworkMode: network, Dns: [gateway], DnsOptions: [], DnsSearch: [], Sysctls: { [NO_IPV6]: "1" }, PortBindings: {}, PublishAllPorts: false, ExtraHosts: [] };
}

/**
 * Differences between what the engine stored and privateNetworkHost(network, gateway); `label`
 * names the network in them. `joined` is the one other network the container may be on (the
 * egress network of a multi-container run's service granted net.outbound).
 */
function privateNetworkProblems(info: ContainerInspectInfo, network: string, gateway: string, label: string, joined?: string): string[] {
  const host = info.HostConfig;
  const problems: string[] = [];
  const expect = (what: string, ok: boolean, actual: unknown) => {
    if (!ok) problems.push(`${what} (engine has ${JSON.stringify(actual)})`);
  };
  const networks = Object.keys(info.NetworkSettings?.Networks ?? {}).sort();
  const wanted = [network, ...(joined === undefined ? [] : [joined])].sort();
  expect(`only ${label}${joined === undefined ? "" : ` and ${joined}`}`, host.NetworkMode === network && JSON.stringify(networks) === JSON.stringify(wanted), { mode: host.NetworkMode, networks });
  expect(`DNS only ${gateway}`, JSON.stringify(host.Dns ?? []) === JSON.stringify([gateway]) && (host.DnsSearch ?? []).length === 0 && (host.DnsOptions ?? []).length === 0, host.Dns);
  expect("IPv6 disabled", host.Sysctls?.[NO_IPV6] === "1", host.Sysctls);
  expect("no published ports", Object.keys(host.PortBindings ?? {}).length === 0 && host.PublishAllPorts !== true, host.PortBindings);
  expect("no extra hosts", (host.ExtraHosts ?? []).length === 0, host.ExtraHosts);
  expect("no links", (host.Links ?? []).length === 0, host.Links);
  return problems;
}

/**
 * After start: the container is attached to the verified egress network (by id) and nothing
 * else (but its run network `alongside`, for a service of a multi-container run), and has an
 * address there. Returns that address; throws unavailable otherwise.
 */
export function startedAddress(info: ContainerInspectInfo, egress: EgressAttachment, alongside?: string): string {
  const networks = info.NetworkSettings?.Networks ?? {};
  const names = Object.keys(networks).sort();
  const wanted = [egress.network, ...(alongside === undefined ? [] : [alongside])].sort();
  const endpoint = networks[egress.network];
  if (JSON.stringify(names) !== JSON.stringify(wanted) || !endpoint || endpoint.NetworkID !== egress.networkId || !endpoint.IPAddress) {
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
 * embedded resolver, which answers them itself. A service granted net.outbound also gets its
 * own proxy in the environment and joins the egress network after create (egress-join.ts:
 * API 1.41 creates a container on one network only); its DNS stays the run network's.
 */
function runNetworkSettings(spec: SandboxSpec, egress: EgressAttachment | undefined) {
  const network = spec.runNetwork;
  if (network === undefined) throw new AegisError("internal", "runNetworkSettings without a run network");
  if ((spec.egress === undefined) !== (egress === undefined)) throw new AegisError("internal", "a service's egress grant and its egress network must come together");
  return {
    env: egress === undefined ? [] : proxyEnv(egress.proxyUrl),
    host: privateNetworkHost(network.name, network.gateway),
    networkDisabled: false,
    networking: { EndpointsConfig: { [network.name]: { Aliases: [network.alias] } } },
  };
}

/** The proxy variables; NO_PROXY empty: nothing bypasses the proxy (there is no other way out anyway). */
function proxyEnv(proxy: string): string[] {
  return [`HTTP_PROXY=${proxy}`, `HTTPS_PROXY=${proxy}`, `http_proxy=${proxy}`, `https_proxy=${proxy}`, "NO_PROXY=", "no_proxy="];
}

/** Differences between what the engine stored and a container on its run network (plus the egress network when granted), by its service name. */
function runNetworkProblems(network: NonNullable<SandboxSpec["runNetwork"]>, info: ContainerInspectInfo, egress: EgressAttachment | undefined): string[] {
  const problems = privateNetworkProblems(info, network.name, network.gateway, `the run network ${network.name}`, egress?.network);
  const aliases = info.NetworkSettings?.Networks?.[network.name]?.Aliases;
  if (!(aliases ?? []).includes(network.alias)) problems.push(`alias ${network.alias} (engine has ${JSON.stringify(aliases)})`);
  return problems;
}
