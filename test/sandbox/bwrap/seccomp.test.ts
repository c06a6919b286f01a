/**
 * The cBPF compiler: the program is run twice over — by a small interpreter here against
 * synthetic seccomp_data (every branch, including ones busybox cannot reach such as x32 and
 * foreign architectures), and by the kernel under bwrap with real syscalls.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { compileSeccomp, type SeccompProfileJson } from "../../../src/sandbox/bwrap/seccomp-bpf.ts";
import { SYSCALLS_X86_64 } from "../../../src/sandbox/bwrap/syscalls-x86-64.ts";
import { SECCOMP_PROFILE } from "../../../src/sandbox/index.ts";
import { failure } from "../../helpers/errors.ts";
import { expectNoLeftovers, sh } from "./support.ts";

const ALLOW = 0x7fff0000;
const KILL = 0x80000000;
const ERRNO = (n: number) => 0x00050000 | n;
const X86_64 = 0xc000003e;
const I386 = 0x40000003;

/** Executes a classic BPF seccomp program (the opcodes the compiler emits) on one call. */
function evaluate(program: Uint8Array, call: { nr: number; arch?: number; args?: bigint[] }): number {
  const data = new DataView(new ArrayBuffer(64));
  data.setUint32(0, call.nr, true);
  data.setUint32(4, call.arch ?? X86_64, true);
  (call.args ?? []).forEach((arg, i) => data.setBigUint64(16 + 8 * i, arg, true));
  const code = new DataView(program.buffer, program.byteOffset, program.byteLength);
  let a = 0;
  for (let pc = 0; pc < program.length / 8; ) {
    const op = code.getUint16(pc * 8, true);
    const jt = code.getUint8(pc * 8 + 2);
    const jf = code.getUint8(pc * 8 + 3);
    const k = code.getUint32(pc * 8 + 4, true);
    pc++;
    switch (op) {
      case 0x20: a = data.getUint32(k, true); break;
      case 0x54: a = (a & k) >>> 0; break;
      case 0x15: pc += a === k ? jt : jf; break;
      case 0x35: pc += a >= k ? jt : jf; break;
      case 0x06: return k;
      default: throw new Error(`unexpected opcode ${op.toString(16)}`);
    }
  }
  throw new Error("fell off the end of the program");
}

const compiled = compileSeccomp(SECCOMP_PROFILE);
const nr = (name: string) => {
  const value = SYSCALLS_X86_64[name];
  if (value === undefined) throw new Error(`no syscall ${name}`);
  return value;
};
const run = (name: string, args: bigint[] = [], arch?: number) => evaluate(compiled.program, { nr: nr(name), args, ...(arch === undefined ? {} : { arch }) });

describe("bwrap seccomp compiler (interpreted)", () => {
  test("seccomp compiler: allowed syscalls allow, the deny list answers ENOSYS, the rest EPERM", () => {
    expect(run("read")).toBe(ALLOW);
    expect(run("openat")).toBe(ALLOW);
    for (const name of ["unshare", "mount", "ptrace", "bpf", "setns", "clone3", "io_uring_setup", "kexec_load", "reboot"]) expect(run(name)).toBe(ERRNO(38));
    // In neither list: the profile's default.
    for (const name of ["vserver", "set_mempolicy", "mbind", "migrate_pages"]) expect(run(name)).toBe(ERRNO(1));
    expect(evaluate(compiled.program, { nr: 999 })).toBe(ERRNO(1));
  });

  test("seccomp compiler: a foreign architecture and x32 syscall numbers kill the process", () => {
    expect(run("read", [], I386)).toBe(KILL);
    expect(evaluate(compiled.program, { nr: 0x40000000 + nr("read") })).toBe(KILL);
    expect(evaluate(compiled.program, { nr: 0x40000000 + nr("unshare") })).toBe(KILL);
  });

  test("seccomp compiler: clone is allowed only without namespace flags, compared on all 64 bits", () => {
    expect(run("clone", [0x01200011n])).toBe(ALLOW); // fork-like flags
    expect(run("clone", [0x10000000n])).toBe(ERRNO(1)); // CLONE_NEWUSER
    expect(run("clone", [0x40000000n | 0x11n])).toBe(ERRNO(1)); // CLONE_NEWNET
    expect(run("clone", [0x1_0000_0000n])).toBe(ALLOW); // high bits are outside the mask
  });

  test("seccomp compiler: socket families and personality are compared exactly, high half included", () => {
    for (const family of [1n, 2n, 10n, 16n]) expect(run("socket", [family])).toBe(ALLOW);
    for (const family of [17n, 40n, 0x1_0000_0001n]) expect(run("socket", [family])).toBe(ERRNO(1)); // AF_PACKET, AF_VSOCK, garbage high half
    expect(run("personality", [0xffffffffn])).toBe(ALLOW);
    expect(run("personality", [0xffff_ffff_ffff_ffffn])).toBe(ERRNO(1));
    expect(run("personality", [0x0400000n])).toBe(ERRNO(1)); // READ_IMPLIES_EXEC
  });

  test("seccomp compiler: mknod/mknodat only for regular files, FIFOs and sockets", () => {
    expect(run("mknod", [0n, 0o010644n])).toBe(ALLOW); // FIFO, mode in arg 1
    expect(run("mknod", [0n, 0o020644n])).toBe(ERRNO(1)); // character device
    expect(run("mknodat", [0n, 0n, 0o060644n])).toBe(ERRNO(1)); // block device, mode in arg 2
    expect(run("mknodat", [0n, 0n, 0o140644n])).toBe(ALLOW); // socket
  });

  test("seccomp compiler: names unknown on x86_64 are skipped, anything unsupported refuses to compile", async () => {
    expect(compiled.skipped).toEqual(["umount"]);
    expect(compiled.program.length % 8).toBe(0);
    const base: SeccompProfileJson = { defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"], syscalls: [] };
    const refuse = async (profile: SeccompProfileJson, text: string) => {
      const error = await failure(Promise.resolve().then(() => compileSeccomp(profile)));
      expect(error.code).toBe("internal");
      expect(error.message).toContain(text);
    };
    await refuse({ ...base, architectures: ["SCMP_ARCH_AARCH64"] }, "SCMP_ARCH_X86_64");
    await refuse({ ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_LOG" }] }, "SCMP_ACT_LOG");
    await refuse({ ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, op: "SCMP_CMP_GT" }] }] }, "SCMP_CMP_GT");
    await refuse({ ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ERRNO" }] }, "conflicting");
  });
});

describe("bwrap seccomp filter (kernel)", () => {
  afterEach(() => expectNoLeftovers());

  test("seccomp filter: unshare, mount and chroot fail with ENOSYS from the AegisClaw filter", async () => {
    for (const command of ["unshare -U true", "mount -t tmpfs none /tmp", "chroot / true"]) {
      const result = await sh(command);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain("Function not implemented");
    }
  });

  test("seccomp filter: mknod of a device node fails, a FIFO works, and a normal pipeline runs", async () => {
    const result = await sh("mknod /tmp/null c 1 3; echo dev=$?; mkfifo /tmp/fifo && echo fifo=ok; mknod /tmp/p p && echo mknod-fifo=ok; seq 1 100 | grep 7 | sort -r | head -n 2 | tr '\\n' ' '");
    expect(result.stdout).toContain("dev=1");
    expect(result.stderr).toContain("Operation not permitted");
    expect(result.stdout).toContain("fifo=ok\nmknod-fifo=ok\n");
    expect(result.stdout).toContain("97 87 ");
    expect(result.exitCode).toBe(0);
  });
});
