/**
 * Shared helpers of the escape suite: a bounded `aegisclaw run` and a generator of tiny static
 * x86_64 programs that issue exactly one syscall (for the syscalls busybox has no applet for).
 */
import { expect } from "bun:test";
import { chmodSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, type CliResult } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/temp-home.ts";

/**
 * Runs the compiled binary with its own home, bounded so a stuck sandbox (runsc) fails the
 * test instead of hanging it. A run killed by another suite's lockdown is retried (twice at
 * most): lockdown kills every AegisClaw container on the engine, which proves nothing here.
 */
export async function aegis(home: string, args: string[], options: { killExpected?: boolean } = {}): Promise<CliResult> {
  for (let attempt = 0; ; attempt++) {
    const proc = Bun.spawn([BINARY, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: 90_000,
    });
    const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    // Another suite's lockdown shows up here as 75 (our home locked) or as a bare SIGKILL (137)
    // with no note from AegisClaw about why it ended the run (timeout, output limit).
    const lockedOut = exitCode === 75 || (exitCode === 137 && !options.killExpected && !stderr.includes("aegisclaw: "));
    if (!lockedOut || attempt >= 2) return { exitCode, stdout, stderr };
    await Bun.sleep(2000);
  }
}

/** One syscall argument: a number, or bytes placed in the program whose address is passed. */
export type SyscallArg = number | bigint | Uint8Array;

/** x86_64 Linux errno values the attempts are expected to end with. */
export const ERRNO = { EPERM: 1, ENOSYS: 38 } as const;

const BASE = 0x400000n;
const HEADER_BYTES = 64 + 56;
const ARG_REGISTERS = [
  [0x48, 0xbf], // mov rdi, imm64
  [0x48, 0xbe], // mov rsi, imm64
  [0x48, 0xba], // mov rdx, imm64
  [0x49, 0xba], // mov r10, imm64
  [0x49, 0xb8], // mov r8, imm64
  [0x49, 0xb9], // mov r9, imm64
] as const;
/**
 * After the syscall: exit(0) when it returned >= 0 (it worked: an escape), else exit(errno).
 * test rax,rax; js err; xor edi,edi; jmp out; err: mov rdi,rax; neg rdi; out: mov eax,60; syscall
 */
const EXIT_WITH_ERRNO = [0x48, 0x85, 0xc0, 0x78, 0x04, 0x31, 0xff, 0xeb, 0x06, 0x48, 0x89, 0xc7, 0x48, 0xf7, 0xdf, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05];
const CODE_BYTES = 10 + ARG_REGISTERS.length * 10 + 2 + EXIT_WITH_ERRNO.length;

/**
 * A minimal static ELF executable for x86_64 Linux that issues syscall `number` with `args`
 * and exits with 0 when the call succeeded or with its errno when it failed. Hand-assembled so
 * the suite needs no compiler and the attempt is exactly one raw syscall, no libc in between.
 */
export function syscallProgram(number: number, args: SyscallArg[] = []): Uint8Array {
  if (args.length > ARG_REGISTERS.length) throw new Error("a syscall takes at most 6 arguments");
  const data: number[] = [];
  const values = args.map((arg) => {
    if (!(arg instanceof Uint8Array)) return BigInt.asUintN(64, BigInt(arg));
    while (data.length % 8 !== 0) data.push(0);
    const address = BASE + BigInt(HEADER_BYTES + CODE_BYTES + data.length);
    data.push(...arg);
    return address;
  });
  const code: number[] = [0x48, 0xb8, ...le(BigInt(number), 8)]; // mov rax, imm64
  ARG_REGISTERS.forEach((opcode, index) => code.push(...opcode, ...le(values[index] ?? 0n, 8)));
  code.push(0x0f, 0x05, ...EXIT_WITH_ERRNO); // syscall, then exit as above
  const size = HEADER_BYTES + code.length + data.length;
  const header = [
    0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...le(0n, 8), // ELF64, little-endian, SysV
    ...le(2n, 2), ...le(0x3en, 2), ...le(1n, 4), // ET_EXEC, x86_64, version 1
    ...le(BASE + BigInt(HEADER_BYTES), 8), ...le(64n, 8), ...le(0n, 8), // entry, phoff, shoff
    ...le(0n, 4), ...le(64n, 2), ...le(56n, 2), ...le(1n, 2), ...le(0n, 2), ...le(0n, 2), ...le(0n, 2),
    // PT_LOAD of the whole file, read + write + execute (some calls write back into their arguments)
    ...le(1n, 4), ...le(7n, 4), ...le(0n, 8), ...le(BASE, 8), ...le(BASE, 8),
    ...le(BigInt(size), 8), ...le(BigInt(size), 8), ...le(0x1000n, 8),
  ];
  return Uint8Array.from([...header, ...code, ...data]);
}

/** A NUL-terminated string as syscall argument bytes. */
export function cString(text: string): Uint8Array {
  return new TextEncoder().encode(`${text}\0`);
}

/** `size` bytes of zeros with `fields` (offset -> little-endian value of `width` bytes) set. */
export function struct(size: number, fields: Array<[offset: number, width: number, value: number | bigint]>): Uint8Array {
  const bytes = new Uint8Array(size);
  for (const [offset, width, value] of fields) bytes.set(le(BigInt.asUintN(width * 8, BigInt(value)), width), offset);
  return bytes;
}

function le(value: bigint, width: number): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < width; i++) bytes.push(Number((value >> BigInt(8 * i)) & 0xffn));
  return bytes;
}

/**
 * Writes each program (mode 0755) into a fresh directory the sandbox can be granted
 * (files.read) and returns that directory. The suite targets x86_64, where CI runs.
 */
export function programDirectory(programs: Record<string, Uint8Array>): string {
  expect(process.arch, "the syscall programs are x86_64 machine code").toBe("x64");
  const dir = join(realpathSync(tempDir()), "programs");
  mkdirSync(dir, { mode: 0o755 });
  for (const [name, bytes] of Object.entries(programs)) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    chmodSync(path, 0o755);
  }
  return dir;
}
