/** Pure units: the seccomp profile's shape and the attach-stream demultiplexer. */
import { describe, expect, test } from "bun:test";
import { createDemuxer, type StreamName } from "../../src/sandbox/docker/demux.ts";
import { SECCOMP_DENIED_SYSCALLS, SECCOMP_DENY_ERRNO, SECCOMP_PROFILE } from "../../src/sandbox/index.ts";

interface Rule {
  names: readonly string[];
  action: string;
  errnoRet?: number;
  args?: ReadonlyArray<{ index: number; value: number; valueTwo: number; op: string }>;
}
const rules: readonly Rule[] = SECCOMP_PROFILE.syscalls;
const allowed = new Set(rules.filter((r) => r.action === "SCMP_ACT_ALLOW").flatMap((r) => r.names));

describe("seccomp profile", () => {
  test("seccomp profile: is an allow-list (unknown syscalls are refused)", () => {
    expect(SECCOMP_PROFILE.defaultAction).toBe("SCMP_ACT_ERRNO");
    for (const name of ["read", "write", "execve", "clone", "exit_group", "openat", "mmap", "wait4"]) expect(allowed.has(name)).toBe(true);
  });

  test("seccomp profile: the required escape syscalls are denied with ENOSYS and never allowed", () => {
    const required = ["ptrace", "mount", "umount2", "unshare", "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "init_module", "finit_module", "delete_module", "kexec_load", "open_by_handle_at", "userfaultfd", "process_vm_readv", "process_vm_writev", "pivot_root", "chroot", "io_uring_setup", "io_uring_enter", "io_uring_register"];
    for (const name of required) expect(SECCOMP_DENIED_SYSCALLS).toContain(name);
    const deny = rules.filter((r) => r.action === "SCMP_ACT_ERRNO");
    expect(deny.every((r) => r.errnoRet === SECCOMP_DENY_ERRNO && SECCOMP_DENY_ERRNO === 38)).toBe(true);
    for (const name of SECCOMP_DENIED_SYSCALLS) expect(`${name} allowed: ${allowed.has(name)}`).toBe(`${name} allowed: false`);
  });

  test("seccomp profile: clone is allowed only without namespace flags, personality only for safe values", () => {
    const clone = rules.filter((r) => r.names.includes("clone"));
    expect(clone).toHaveLength(1);
    expect(clone[0]?.args).toEqual([{ index: 0, value: 0x7e020000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }]);
    const personality = rules.filter((r) => r.names.includes("personality"));
    expect(personality.every((r) => r.args?.length === 1 && r.args[0]?.op === "SCMP_CMP_EQ")).toBe(true);
    // Every argument-filtered syscall appears only in filtered rules (no unconditional allow sneaks in).
    for (const name of ["clone", "personality", "socket"]) {
      expect(rules.filter((r) => r.names.includes(name)).every((r) => (r.args?.length ?? 0) > 0)).toBe(true);
    }
  });
});

/** Encodes payloads as Docker's multiplexed frames. */
function frames(parts: Array<[number, string]>): Uint8Array {
  const chunks = parts.map(([type, text]) => {
    const payload = new TextEncoder().encode(text);
    const frame = new Uint8Array(8 + payload.length);
    frame[0] = type;
    new DataView(frame.buffer).setUint32(4, payload.length, false);
    frame.set(payload, 8);
    return frame;
  });
  return Uint8Array.from(chunks.flatMap((c) => [...c]));
}

describe("attach stream demuxer", () => {
  const input = frames([[1, "hello "], [2, "oops"], [1, "world"], [0, "stdin-echo"], [2, ""], [1, "!"]]);

  test("demux: splits stdout and stderr whatever the chunk boundaries", () => {
    for (const size of [1, 2, 3, 7, 8, 9, 13, input.length]) {
      const out: Record<StreamName, string> = { stdout: "", stderr: "" };
      const push = createDemuxer((stream, bytes) => (out[stream] += new TextDecoder().decode(bytes)));
      for (let i = 0; i < input.length; i += size) push(input.subarray(i, i + size));
      expect(out).toEqual({ stdout: "hello world!", stderr: "oops" });
    }
  });

  test("demux: forwards a long frame piecewise as it arrives", () => {
    const big = frames([[1, "x".repeat(1000)]]);
    const seen: number[] = [];
    const push = createDemuxer((_, bytes) => seen.push(bytes.length));
    push(big.subarray(0, 108));
    expect(seen).toEqual([100]);
    push(big.subarray(108));
    expect(seen).toEqual([100, 900]);
  });
});

describe("sandbox index", () => {
  test("sandbox index: importing it and creating a runtime loads no Docker client code", () => {
    const script = `import { createDockerRuntime } from "./src/sandbox/index.ts"; createDockerRuntime();
      console.log(Object.keys(require.cache).filter((k) => k.includes("docker-runtime") || k.includes("engine-client")).length);`;
    const probe = Bun.spawnSync([process.execPath, "-e", script], { cwd: `${import.meta.dir}/../..`, stdout: "pipe", stderr: "pipe" });
    expect(probe.stderr.toString()).toBe("");
    expect(probe.stdout.toString().trim()).toBe("0");
  });
});
