/**
 * The mapping rules from Docker API answers to xray's views, on answers in the engine's own
 * shapes (cgroup v1 and v2 stats, runc and gVisor `top`). The live engine is in live.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { SECCOMP_PROFILE } from "../../src/sandbox/index.ts";
import { cpuPercent, memoryBytes, mountsOf, networkOf, processesOf, seccompOf, securityOf } from "../../src/xray/report.ts";

const TITLES = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];

describe("xray report mapping", () => {
  test("xray: cpu percent is the container's share of host CPU time times the CPU count", () => {
    const stats = {
      cpu_stats: { cpu_usage: { total_usage: 1_200_000_000 }, system_cpu_usage: 24_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 20_000_000_000 },
    };
    // 0.2 s of CPU over 4 s of host time on 2 CPUs = 10%.
    expect(cpuPercent(stats)).toBe(10);
    const perCpu = { ...stats, cpu_stats: { cpu_usage: { total_usage: 1_200_000_000, percpu_usage: [1, 2, 3, 4] }, system_cpu_usage: 24_000_000_000 } };
    expect(cpuPercent(perCpu)).toBe(20);
  });

  test("xray: a one-shot sample without a previous reading has no cpu percent (null, not 0)", () => {
    const oneShot = {
      cpu_stats: { cpu_usage: { total_usage: 21_674_984 }, system_cpu_usage: 18_122_050_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 0 } },
    };
    expect(cpuPercent(oneShot)).toBeNull();
    expect(cpuPercent({})).toBeNull();
  });

  test("xray: memory in use leaves out reclaimable page cache (cgroup v1 and v2)", () => {
    expect(memoryBytes({ memory_stats: { usage: 2_301_952, stats: { total_inactive_file: 1_720_320, inactive_file: 1_720_320 } } })).toBe(581_632);
    expect(memoryBytes({ memory_stats: { usage: 5_000, stats: { inactive_file: 1_000 } } })).toBe(4_000);
    expect(memoryBytes({ memory_stats: { usage: 5_000 } })).toBe(5_000);
    expect(memoryBytes({})).toBeNull();
  });

  test("xray: network is null without interfaces and summed over them otherwise", () => {
    expect(networkOf({})).toBeNull();
    expect(networkOf({ networks: {} })).toBeNull();
    expect(networkOf({ networks: { eth0: { rx_bytes: 10, tx_bytes: 1 }, eth1: { rx_bytes: 5, tx_bytes: 2 } } })).toEqual({ rxBytes: 15, txBytes: 3 });
  });

  test("xray: the seccomp profile is named, not dumped", () => {
    expect(seccompOf(["no-new-privileges", `seccomp=${JSON.stringify(SECCOMP_PROFILE)}`])).toBe("aegisclaw");
    expect(seccompOf(["seccomp=unconfined"])).toBe("unconfined");
    expect(seccompOf([])).toBe("engine default");
    expect(seccompOf(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'])).toMatch(/^custom \(sha256 [0-9a-f]{12}\)$/);
    expect(seccompOf(["seccomp=unconfined", "seccomp=unconfined"])).toBe("2 conflicting seccomp options");
  });

  test("xray: security reads what the engine holds, and missing limits are null", () => {
    const security = securityOf({ Id: "x", Config: { User: "" }, HostConfig: { SecurityOpt: ["no-new-privileges:true"], PidsLimit: 0, Memory: 0, NetworkMode: "bridge" } });
    expect(security).toEqual({ user: "", readOnlyRootfs: false, capDrop: [], capAdd: [], seccomp: "engine default", noNewPrivileges: true, networkMode: "bridge", pidsLimit: null, memoryLimitBytes: null });
  });

  test("xray: mounts list binds with their mode and the tmpfs mounts the engine keeps in HostConfig", () => {
    const mounts = mountsOf({
      Id: "x",
      Mounts: [{ Type: "bind", Source: "/srv/data", Destination: "/data", RW: false }],
      HostConfig: { Tmpfs: { "/tmp": "rw,noexec,nosuid,nodev,size=67108864", "/ro": "ro,size=1" } },
    });
    expect(mounts).toEqual([
      { source: "/srv/data", target: "/data", readOnly: true },
      { source: "tmpfs", target: "/tmp", readOnly: false },
      { source: "tmpfs", target: "/ro", readOnly: true },
    ]);
  });

  test("xray: a staged mount shows the granted host path its label names; a malformed label maps nothing", () => {
    const staged = "/run/aegisclaw/mounts/123.0123456789abcdef/0";
    const info = (label: string) => ({
      Id: "x",
      Config: { Labels: { "io.aegisclaw.staged-sources": label } },
      Mounts: [
        { Type: "bind", Source: staged, Destination: "/data", RW: false },
        { Type: "bind", Source: "/srv/other", Destination: "/other", RW: true },
      ],
    });
    expect(mountsOf(info(JSON.stringify({ [staged]: "/srv/data" })))).toEqual([
      { source: "/srv/data", target: "/data", readOnly: true },
      { source: "/srv/other", target: "/other", readOnly: false },
    ]);
    for (const bad of ["not json", "[1]", JSON.stringify({ [staged]: 7 })]) expect(mountsOf(info(bad))[0]?.source).toBe(staged);
  });

  test("xray: runc's process list is kept when it contains the container's init", () => {
    const top = { Titles: TITLES, Processes: [["nobody", "25656", "25632", "7", "10:38", "?", "00:00:00", "sleep 60"]] };
    expect(processesOf(top, { Id: "x", State: { Pid: 25656 }, HostConfig: { Runtime: "runc" } })).toEqual({ processes: [{ pid: "25656", user: "nobody", command: "sleep 60" }] });
  });

  test("xray: gVisor's process list (host processes picked by sandbox PIDs) is dropped with a note", () => {
    // What the engine answered for a runsc sandbox on this machine: the HOST's PID 1.
    const top = { Titles: TITLES, Processes: [["root", "1", "0", "0", "08:05", "?", "00:00:24", "/process_api --firecracker-init"]] };
    const listed = processesOf(top, { Id: "x", State: { Pid: 26615 }, HostConfig: { Runtime: "runsc" } });
    expect(listed.processes).toEqual([]);
    expect(listed.note).toContain("gVisor");
    expect(processesOf({ Titles: ["X"], Processes: [] }, { Id: "x" }).note).toContain("unexpected columns");
  });
});
