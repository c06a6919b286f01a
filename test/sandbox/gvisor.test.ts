/**
 * gVisor (runsc) through the SandboxRuntime port: every property is observed from inside a
 * real runsc sandbox. One probe run answers the read-only questions, to keep runsc starts few.
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { containerExists, expectNoLeftovers } from "./support.ts";
import { gsh, gvisor, ociRuntimeOf, requireGvisor, type Collected } from "./gvisor-support.ts";

let probe: Collected;

beforeAll(async () => {
  await requireGvisor();
  probe = await gsh(
    [
      'echo "kernel=$(uname -r)"',
      'echo "uid=$(id -u):$(id -g)"',
      "grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status | tr -d '\\t'",
      'echo "nnp=$(setpriv -d | sed -n "s/^no_new_privs: *//p")"',
      "echo \"interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ,)\"",
      "echo x > /pwned; echo write-root=$?",
      "echo x > /etc/passwd; echo write-etc=$?",
      "echo data > /tmp/f && echo write-tmp=$?",
    ].join("\n"),
  );
}, 60_000);
afterEach(() => expectNoLeftovers());

/** One `key=value` line of the probe's output. */
function seen(key: string): string | undefined {
  return probe.stdout
    .split("\n")
    .find((line) => line.startsWith(`${key}=`) || line.startsWith(`${key}:`))
    ?.slice(key.length + 1);
}

describe("gvisor sandbox", () => {
  test("gvisor runtime: the probe exits 0 and its container is gone", () => {
    expect(probe.exitCode, probe.stderr).toBe(0);
    expect(containerExists(probe.containerId)).toBe(false);
  });

  test("gvisor runtime: uname -r is gVisor's 4.4.0, not the host kernel", () => {
    expect(seen("kernel")).toBe("4.4.0");
  });

  test("gvisor runtime: runs as uid/gid 65534", () => {
    expect(seen("uid")).toBe("65534:65534");
  });

  test("gvisor runtime: no effective capabilities and an empty bounding set", () => {
    expect(seen("CapEff")).toBe("0000000000000000");
    expect(seen("CapBnd")).toBe("0000000000000000");
  });

  test("gvisor runtime: seccomp filter mode 2 (runsc --oci-seccomp applies the profile)", () => {
    expect(seen("Seccomp")).toBe("2");
  });

  test("gvisor runtime: no_new_privs is 1 (prctl; gVisor's /proc/self/status has no NoNewPrivs line)", () => {
    expect(seen("nnp")).toBe("1");
  });

  test("gvisor runtime: only the loopback interface exists", () => {
    expect(seen("interfaces")).toBe("lo,");
  });

  test("gvisor runtime: / and /etc are not writable, /tmp is", () => {
    expect(seen("write-root")).not.toBe("0");
    expect(seen("write-etc")).not.toBe("0");
    expect(seen("write-tmp")).toBe("0");
  });

  test("gvisor runtime: unshare -U fails (seccomp is enforced inside runsc)", async () => {
    const run = await gsh("unshare -U true");
    expect(run.exitCode).toBe(1);
    // gVisor answers EPERM: runsc does not honour the profile's errnoRet (notes/stack.md §4).
    expect(run.stderr).toContain("unshare(");
  }, 30_000);

  test("gvisor runtime: a run past its timeout exits 124 and its container is removed", async () => {
    const run = await gsh("sleep 30", { timeoutMs: 1500 });
    expect(run.exitCode).toBe(124);
    expect(run.timedOut).toBe(true);
    expect(containerExists(run.containerId)).toBe(false);
  }, 30_000);

  test("gvisor runtime: killAll kills a running runsc sandbox, whose run sees 137", async () => {
    const runId = `gvisor-killall-${process.pid}-${Date.now()}`;
    const running = gsh("echo started; sleep 30", { runId, timeoutMs: 25_000 });
    const deadline = performance.now() + 15_000;
    let containerId: string | undefined;
    while (containerId === undefined && performance.now() < deadline) {
      containerId = (await gvisor.listRunning()).find((sandbox) => sandbox.runId === runId)?.containerId;
      if (containerId === undefined) await Bun.sleep(100);
    }
    expect(containerId, "the runsc sandbox never showed up as running").toBeDefined();
    expect(ociRuntimeOf(containerId ?? "")).toBe("runsc");
    expect(await gvisor.killAll()).toBeGreaterThanOrEqual(1);
    const result = await running;
    expect(result.exitCode).toBe(137);
    expect(result.timedOut).toBe(false);
    expect(containerExists(result.containerId)).toBe(false);
  }, 30_000);
});
