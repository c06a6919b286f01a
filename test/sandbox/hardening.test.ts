/**
 * Escape-attempt tests: every hardening property is proven from inside a real sandbox,
 * not by reading our own configuration back.
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { requireDocker } from "../helpers/docker.ts";
import { expectNoLeftovers, sh } from "./support.ts";

beforeAll(requireDocker);
afterEach(() => expectNoLeftovers());

/** The value of one field of /proc/self/status as the sandboxed process sees it. */
async function procStatus(field: string): Promise<string> {
  const run = await sh(`grep '^${field}:' /proc/self/status`);
  expect(run.exitCode).toBe(0);
  return run.stdout.split(":")[1]?.trim() ?? "";
}

describe("docker sandbox hardening", () => {
  test("docker runtime: runs as uid/gid 65534, never root", async () => {
    const run = await sh("id -u; id -g");
    expect(run.stdout).toBe("65534\n65534\n");
  });

  test("docker runtime: no effective, permitted or bounding capabilities", async () => {
    expect(await procStatus("CapEff")).toBe("0000000000000000");
    expect(await procStatus("CapPrm")).toBe("0000000000000000");
    expect(await procStatus("CapBnd")).toBe("0000000000000000");
  });

  test("docker runtime: seccomp filter mode and no-new-privileges are set", async () => {
    expect(await procStatus("Seccomp")).toBe("2");
    expect(await procStatus("NoNewPrivs")).toBe("1");
  });

  test("docker runtime: root filesystem is read-only (/ and /etc)", async () => {
    const run = await sh("touch /pwned; echo rc=$?; echo x >> /etc/passwd; echo rc=$?; mkdir /bin/evil; echo rc=$?");
    expect(run.stdout).toBe("rc=1\nrc=1\nrc=1\n");
    expect(run.stderr).toContain("Read-only file system");
  });

  test("docker runtime: /tmp is writable but noexec", async () => {
    const run = await sh("echo data > /tmp/f && cat /tmp/f && cp /bin/busybox /tmp/bb && chmod +x /tmp/bb && /tmp/bb echo escaped; echo rc=$?");
    expect(run.stdout).toStartWith("data\n");
    expect(run.stdout).not.toContain("escaped");
    expect(run.stdout).toContain("rc=126");
    expect(run.stderr).toContain("Permission denied");
  });

  test("docker runtime: /tmp tmpfs size follows limits.tmpfsBytes", async () => {
    const run = await sh("dd if=/dev/zero of=/tmp/fill bs=1024 count=4096 2>&1; echo rc=$?", { limits: { tmpfsBytes: 1024 * 1024, memoryBytes: 64 * 1024 * 1024 } });
    expect(run.stdout).toContain("No space left on device");
  });

  test("docker runtime: only the loopback interface exists", async () => {
    const run = await sh("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; ip -o link | cut -d: -f2 | tr -d ' '");
    expect(run.stdout).toBe("lo\nlo\n");
  });

  test("docker runtime: our seccomp profile answers unshare and mount with ENOSYS", async () => {
    const unshare = await sh("unshare -U true");
    expect(unshare.exitCode).not.toBe(0);
    // ENOSYS (not Docker's default EPERM) proves the profile in force is AegisClaw's.
    expect(unshare.stderr).toContain("Function not implemented");
    const mount = await sh("mount -t tmpfs none /tmp");
    expect(mount.exitCode).not.toBe(0);
    expect(mount.stderr).toContain("Function not implemented");
  });

  test("docker runtime: chroot is refused by seccomp", async () => {
    const run = await sh("chroot / true");
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("Function not implemented");
  });

  test("docker runtime: the pids limit stops a fork bomb and the run still ends in time", async () => {
    const run = await sh("for i in $(seq 1 500); do sleep 5 & done; echo all-forked", { limits: { pids: 64 }, timeoutMs: 30_000 });
    expect(run.stderr).toContain("can't fork");
    // busybox sh gives up on the failed fork; the 500 sleeps never all existed.
    expect(run.stdout).not.toContain("all-forked");
    expect(run.exitCode).not.toBe(0);
    expect(run.timedOut).toBe(false);
    // The host is fine: this process can still fork.
    expect(Bun.spawnSync(["true"]).exitCode).toBe(0);
  });

  test("docker runtime: pids and memory limits are in the cgroup, without swap", async () => {
    const cgroup = "/sys/fs/cgroup";
    const run = await sh(
      `cat ${cgroup}/pids/pids.max 2>/dev/null || cat ${cgroup}/pids.max; ` +
        `cat ${cgroup}/memory/memory.limit_in_bytes 2>/dev/null || cat ${cgroup}/memory.max; ` +
        `cat ${cgroup}/memory/memory.memsw.limit_in_bytes 2>/dev/null || cat ${cgroup}/memory.swap.max`,
      { limits: { pids: 50, memoryBytes: 48 * 1024 * 1024 } },
    );
    const [pids, memory, swap] = run.stdout.trim().split("\n");
    expect(pids).toBe("50");
    expect(memory).toBe(String(48 * 1024 * 1024));
    // cgroup v1 reports memory+swap (equal to memory = no swap); v2 reports swap alone (0).
    expect([String(48 * 1024 * 1024), "0"]).toContain(swap ?? "missing");
  });

  test("docker runtime: exceeding the memory limit is OOM-killed and reported", async () => {
    const run = await sh("head -c 200000000 /dev/zero | tail -c 150000000 > /dev/null", { limits: { memoryBytes: 32 * 1024 * 1024 } });
    expect(run.exitCode).toBe(137);
    expect(run.oomKilled).toBe(true);
  });

  test("docker runtime: the command sees only spec.env and PATH, not the host environment", async () => {
    process.env.AEGISCLAW_TEST_CANARY = "host-secret-canary";
    try {
      const run = await sh("env", { env: { GREETING: "hello world" } });
      expect(run.stdout).toContain("GREETING=hello world\n");
      expect(run.stdout).toContain("PATH=");
      expect(run.stdout).not.toContain("host-secret-canary");
    } finally {
      delete process.env.AEGISCLAW_TEST_CANARY;
    }
  });
});
