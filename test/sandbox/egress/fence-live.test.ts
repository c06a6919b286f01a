/**
 * The fence on this machine: installed by scripts/setup-egress.sh, verified before every egress
 * run. Breaking it is simulated without opening anything: a harmless rule put in front of the
 * jump (a DROP), or a listener on all addresses in the proxy range; both must refuse the run.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { join } from "node:path";
import { EGRESS_CHAIN, fenceProblems, readRules } from "../../../src/sandbox/egress/fence.ts";
import { EGRESS_BRIDGE, EGRESS_NETWORK, EGRESS_PROXY_PORTS } from "../../../src/sandbox/egress/network.ts";
import { requireDocker } from "../../helpers/docker.ts";
import { egressRun } from "./support.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");
const iptables = (...args: string[]) => Bun.spawnSync(["iptables", "-w", ...args], { stdout: "pipe", stderr: "pipe" });

function liveNetwork() {
  const inspect = Bun.spawnSync(["docker", "network", "inspect", "-f", "{{.Id}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}", EGRESS_NETWORK], { stdout: "pipe" });
  const [id = "", subnet = "", gateway = ""] = inspect.stdout.toString().trim().split(" ");
  return { id, name: EGRESS_NETWORK, bridge: EGRESS_BRIDGE, subnet, gateway };
}

beforeAll(async () => {
  await requireDocker();
  // The fence is machine set-up (scripts/setup.sh); running it again is a no-op when in place.
  const setup = Bun.spawnSync(["bash", join(ROOT, "scripts", "setup-egress.sh")], { stdout: "pipe", stderr: "pipe" });
  expect(setup.exitCode, setup.stderr.toString()).toBe(0);
});

describe("egress fence on this host", () => {
  test("fence: the installed rules pass the check, and setup-egress.sh run again changes nothing", () => {
    const before = [iptables("-S").stdout.toString(), Bun.spawnSync(["ip6tables", "-w", "-S"], { stdout: "pipe" }).stdout.toString()];
    expect(fenceProblems(liveNetwork(), readRules("iptables") ?? new Map(), readRules("ip6tables"))).toEqual([]);
    const again = Bun.spawnSync(["bash", join(ROOT, "scripts", "setup-egress.sh")], { stdout: "pipe", stderr: "pipe" });
    expect(again.exitCode, again.stderr.toString()).toBe(0);
    const after = [iptables("-S").stdout.toString(), Bun.spawnSync(["ip6tables", "-w", "-S"], { stdout: "pipe" }).stdout.toString()];
    // Docker may add its own rules for other networks meanwhile; ours must be byte-identical.
    const ours = (text: string) => text.split("\n").filter((line) => line.includes(EGRESS_BRIDGE) || line.includes(EGRESS_CHAIN));
    expect(ours(after[0] ?? "")).toEqual(ours(before[0] ?? ""));
    expect(ours(after[1] ?? "")).toEqual(ours(before[1] ?? ""));
    expect(ours(after[0] ?? "").filter((line) => line.includes("-j AEGISCLAW-EGRESS"))).toHaveLength(1);
  });

  test("fence: with any rule in front of the jump the egress run is refused (unavailable) and names the fix", async () => {
    const rule = ["INPUT", "-i", EGRESS_BRIDGE, "-p", "tcp", "--dport", "1", "-j", "DROP"];
    expect(iptables("-I", rule[0] ?? "INPUT", "1", ...rule.slice(1)).exitCode).toBe(0);
    try {
      const refused = await egressRun(["net.outbound:127.0.0.1:9"], "echo ran").catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: "unavailable", message: expect.stringContaining("not fenced off"), hint: expect.stringContaining("setup-egress.sh") });
    } finally {
      expect(iptables("-D", ...rule).exitCode).toBe(0);
    }
    expect((await egressRun(["net.outbound:127.0.0.1:9"], "echo ran")).stdout).toBe("ran\n");
  });

  test("fence: a program listening on all addresses inside the proxy range refuses egress runs", async () => {
    let server: net.Server | undefined;
    let port = EGRESS_PROXY_PORTS.last;
    for (; port >= EGRESS_PROXY_PORTS.first && !server; port--) {
      const candidate = net.createServer();
      const ok = await new Promise<boolean>((resolve) => {
        candidate.once("error", () => resolve(false));
        candidate.listen(port, "0.0.0.0", () => resolve(true));
      });
      if (ok) server = candidate;
    }
    expect(server).toBeDefined();
    try {
      const refused = await egressRun(["net.outbound:127.0.0.1:9"], "echo ran").catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: "unavailable", message: expect.stringContaining(`listens on all addresses on port ${port + 1}`) });
    } finally {
      server?.close();
    }
  });
});
