/**
 * Checks, before every egress run, that the host is fenced off from the egress network: the
 * firewall rules scripts/setup-egress.sh installs are in force (and first), Docker's isolation
 * of the internal network is in place, and nothing but AegisClaw proxies listens on the proxy
 * ports for the sandbox to reach. Verified, never assumed: any doubt refuses the run.
 */
import { readFileSync } from "node:fs";
import { EGRESS_PROXY_PORTS, type EgressNetwork } from "./network.ts";

/** The filter chain holding the fence, jumped to first from INPUT for the egress bridge. */
export const EGRESS_CHAIN = "AEGISCLAW-EGRESS";
/** How to put the fence (back) in place. */
export const FENCE_FIX = "run bash scripts/setup-egress.sh as root (it installs the firewall rules; they do not survive a reboot)";

const IPTABLES_TIMEOUT_MS = 5000;

/** The rules as `iptables -S` prints them, chain by chain. */
export type RuleSet = Map<string, string[]>;

/** Every way the firewall falls short of the fence; empty means it holds. */
export function fenceProblems(network: EgressNetwork, ipv4: RuleSet, ipv6: RuleSet | undefined): string[] {
  const problems: string[] = [];
  const ports = `${EGRESS_PROXY_PORTS.first}:${EGRESS_PROXY_PORTS.last}`;
  const jump = `-A INPUT -i ${network.bridge} -j ${EGRESS_CHAIN}`;
  const input = (ipv4.get("INPUT") ?? []).filter((line) => line.startsWith("-A "));
  if (input[0] !== jump) problems.push(`the first INPUT rule is not "${jump}" (it is ${JSON.stringify(input[0] ?? "none")})`);
  const chain = (ipv4.get(EGRESS_CHAIN) ?? []).filter((line) => line.startsWith("-A "));
  const wanted = [`-A ${EGRESS_CHAIN} -d ${network.gateway}/32 -p tcp -m tcp --dport ${ports} -j ACCEPT`, `-A ${EGRESS_CHAIN} -j DROP`];
  if (JSON.stringify(chain) !== JSON.stringify(wanted)) problems.push(`chain ${EGRESS_CHAIN} is not exactly [${wanted.join(", ")}] (it is ${JSON.stringify(chain)})`);
  // Docker's own isolation of the --internal network: nothing leaves the bridge except to the host.
  const isolation = ipv4.get("DOCKER-ISOLATION-STAGE-1") ?? [];
  for (const rule of [`-A DOCKER-ISOLATION-STAGE-1 ! -s ${network.subnet} -o ${network.bridge} -j DROP`, `-A DOCKER-ISOLATION-STAGE-1 ! -d ${network.subnet} -i ${network.bridge} -j DROP`]) {
    if (!isolation.includes(rule)) problems.push(`Docker's isolation rule "${rule}" is missing (is dockerd running with iptables enabled?)`);
  }
  const forward = (ipv4.get("FORWARD") ?? []).filter((line) => line.startsWith("-A ") && line !== "-A FORWARD -j DOCKER-USER");
  if (forward[0] !== "-A FORWARD -j DOCKER-ISOLATION-STAGE-1") problems.push("FORWARD does not go through DOCKER-ISOLATION-STAGE-1 first");
  if ((ipv4.get("DOCKER-USER") ?? []).some((line) => line.includes("-j ACCEPT"))) problems.push("DOCKER-USER accepts traffic before Docker's isolation rules");
  if (ipv6 !== undefined) {
    const drop = `-A INPUT -i ${network.bridge} -j DROP`;
    const first = (ipv6.get("INPUT") ?? []).find((line) => line.startsWith("-A "));
    if (first !== drop) problems.push(`the first ip6tables INPUT rule is not "${drop}"`);
  }
  return problems;
}

/**
 * Reads the filter table with `iptables -S` (needs root or CAP_NET_ADMIN); undefined for
 * ip6tables when that binary is absent. Throws when iptables cannot be read.
 */
export function readRules(binary: "iptables" | "ip6tables"): RuleSet | undefined {
  const path = Bun.which(binary) ?? Bun.which(binary, { PATH: "/usr/sbin:/sbin:/usr/bin:/bin" });
  if (!path) {
    if (binary === "ip6tables") return undefined;
    throw new Error("iptables is not installed");
  }
  const result = Bun.spawnSync([path, "-w", "-S"], { stdout: "pipe", stderr: "pipe", timeout: IPTABLES_TIMEOUT_MS });
  if (result.exitCode !== 0) throw new Error(`${binary} -S failed: ${result.stderr.toString().trim().slice(0, 200) || `exit ${result.exitCode}`}`);
  const rules: RuleSet = new Map();
  for (const line of result.stdout.toString().split("\n")) {
    const chain = /^-[APN] (\S+)/.exec(line)?.[1];
    if (chain) rules.set(chain, [...(rules.get(chain) ?? []), line]);
  }
  return rules;
}

/**
 * Ports of the proxy range on which something listens on every address (0.0.0.0 or ::): such
 * a program would be reachable from sandboxes through the fence. AegisClaw's proxies bind the
 * gateway address only, so they never appear here.
 */
export function wildcardListeners(procNet = "/proc/net"): number[] {
  const found = new Set<number>();
  for (const file of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`${procNet}/${file}`, "utf8");
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== "0A" || !local) continue; // 0A = LISTEN
      const [address = "", portHex = ""] = local.split(":");
      const port = Number.parseInt(portHex, 16);
      const wildcard = /^0+$/.test(address);
      if (wildcard && port >= EGRESS_PROXY_PORTS.first && port <= EGRESS_PROXY_PORTS.last) found.add(port);
    }
  }
  return [...found].sort((a, b) => a - b);
}
