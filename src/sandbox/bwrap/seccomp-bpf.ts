/**
 * Compiles the Docker-format SECCOMP_PROFILE (docker/seccomp-profile.ts) into the classic BPF
 * program bwrap's `--seccomp FD` loads, so the bwrap and Docker runtimes enforce one policy.
 *
 * Semantics follow libseccomp, which is what Docker uses to load the same profile:
 * - a foreign architecture (seccomp_data.arch != AUDIT_ARCH_X86_64, e.g. int 0x80 i386 calls)
 *   and x32 syscall numbers (bit 30 set, same audit arch) kill the process;
 * - rules of one syscall are tried in order; each rule's argument conditions are ANDed and
 *   compare all 64 bits (both halves); the first rule that matches decides;
 * - a syscall with no matching rule, or absent from the profile, gets the default action;
 * - names unknown on x86_64 (e.g. `umount`) are skipped, as libseccomp does;
 * - anything the compiler does not understand (another action or comparison) throws: a filter
 *   that silently dropped a rule would be weaker than the Docker one.
 */
import { AegisError } from "../../shared/index.ts";
import { SYSCALLS_X86_64 } from "./syscalls-x86-64.ts";

/** The subset of Docker's seccomp JSON format the compiler reads. */
export interface SeccompProfileJson {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: readonly string[];
  syscalls: ReadonlyArray<{
    names: readonly string[];
    action: string;
    errnoRet?: number;
    args?: ReadonlyArray<{ index: number; value: number; valueTwo?: number; op: string }>;
  }>;
}

/** linux/audit.h: EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
const AUDIT_ARCH_X86_64 = 0xc000003e;
/** x32 ABI syscalls share the x86_64 audit arch and are told apart by this bit. */
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;

// linux/seccomp.h return values.
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;

// linux/filter.h opcodes.
const LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K

// struct seccomp_data offsets (little-endian: the low half of an argument comes first).
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const argOffset = (index: number, half: "low" | "high") => 16 + 8 * index + (half === "low" ? 0 : 4);

/** The kernel refuses longer programs (BPF_MAXINSNS). */
const MAX_INSTRUCTIONS = 4096;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

interface Condition {
  index: number;
  /** Compared after AND with `mask` (all ones for SCMP_CMP_EQ). */
  mask: number;
  value: number;
}

interface Rule {
  action: number;
  conditions: Condition[];
}

/** A compiled filter: the bytes for bwrap and what was skipped, for tests and doctor output. */
export interface CompiledSeccomp {
  program: Uint8Array;
  instructions: number;
  /** Profile names with no syscall number on x86_64 (skipped like libseccomp does). */
  skipped: string[];
}

/** Compiles `profile` for x86_64. Throws `internal` for anything it cannot express exactly. */
export function compileSeccomp(profile: SeccompProfileJson, table: Readonly<Record<string, number>> = SYSCALLS_X86_64): CompiledSeccomp {
  if (!profile.architectures.includes("SCMP_ARCH_X86_64")) fail("the profile does not list SCMP_ARCH_X86_64");
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const rules = new Map<number, Rule[]>();
  const skipped = new Set<string>();
  for (const entry of profile.syscalls) {
    const action = actionValue(entry.action, entry.errnoRet);
    const conditions = (entry.args ?? []).map(condition);
    for (const name of entry.names) {
      const nr = Object.hasOwn(table, name) ? table[name] : undefined;
      if (nr === undefined) {
        skipped.add(name);
        continue;
      }
      const list = rules.get(nr) ?? [];
      list.push({ action, conditions });
      rules.set(nr, list);
    }
  }
  const code: Instruction[] = [
    load(OFFSET_ARCH),
    jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
    ret(RET_KILL_PROCESS),
    load(OFFSET_NR),
    jump(JGE_K, X32_SYSCALL_BIT, 0, 1),
    ret(RET_KILL_PROCESS),
  ];
  for (const [nr, list] of [...rules].sort(([a], [b]) => a - b)) {
    const block = syscallBlock(ordered(nr, list), defaultAction);
    if (block.length > 255) fail(`the rules of syscall ${nr} compile to ${block.length} instructions, more than one BPF jump can skip`);
    code.push(jump(JEQ_K, nr, 0, block.length), ...block);
  }
  code.push(ret(defaultAction));
  if (code.length > MAX_INSTRUCTIONS) fail(`the filter has ${code.length} instructions; the kernel accepts at most ${MAX_INSTRUCTIONS}`);
  return { program: encode(code), instructions: code.length, skipped: [...skipped].sort() };
}

/**
 * The syscall's rules with unconditional ones first. Two unconditional rules with different
 * actions (a name both allowed and denied) are a profile bug: refuse rather than pick one.
 */
function ordered(nr: number, list: Rule[]): Rule[] {
  const plain = list.filter((rule) => rule.conditions.length === 0);
  if (new Set(plain.map((rule) => rule.action)).size > 1) fail(`syscall ${nr} has conflicting unconditional actions`);
  return [...plain.slice(0, 1), ...list.filter((rule) => rule.conditions.length > 0)];
}

/**
 * One syscall's code, entered with the syscall number in A and always ending in a return:
 * each rule checks its conditions (a failed check jumps to the next rule), then returns its action.
 */
function syscallBlock(list: Rule[], defaultAction: number): Instruction[] {
  const block: Instruction[] = [];
  for (const rule of list) {
    if (rule.conditions.length === 0) {
      block.push(ret(rule.action));
      return block; // an unconditional rule decides; later rules are unreachable
    }
    const checks = rule.conditions.flatMap(conditionChecks);
    // Each check is [load, (and), jeq]; a failed jeq skips the remaining checks and this rule's return.
    let remaining = checks.length + 1;
    for (const check of checks) {
      remaining--;
      block.push(check.code === JEQ_K ? { ...check, jt: 0, jf: remaining } : check);
    }
    block.push(ret(rule.action));
  }
  block.push(ret(defaultAction));
  return block;
}

/** Loads, masks and compares both 32-bit halves of one 64-bit argument. */
function conditionChecks(c: Condition): Instruction[] {
  const out: Instruction[] = [];
  for (const half of ["high", "low"] as const) {
    const mask = half === "high" ? high(c.mask) : low(c.mask);
    const value = half === "high" ? high(c.value) : low(c.value);
    out.push(load(argOffset(c.index, half)));
    if (mask !== 0xffffffff) out.push({ code: AND_K, jt: 0, jf: 0, k: mask });
    out.push(jump(JEQ_K, value, 0, 0));
  }
  return out;
}

function condition(arg: { index: number; value: number; valueTwo?: number; op: string }): Condition {
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) fail(`argument index ${arg.index} is not 0-5`);
  for (const n of [arg.value, arg.valueTwo ?? 0]) {
    if (!Number.isSafeInteger(n) || n < 0) fail(`argument value ${n} is not a non-negative integer`);
  }
  switch (arg.op) {
    case "SCMP_CMP_EQ":
      return { index: arg.index, mask: 2 ** 64 - 1, value: arg.value };
    case "SCMP_CMP_MASKED_EQ":
      // Docker's format: `value` is the mask, `valueTwo` the expected result of the AND.
      return { index: arg.index, mask: arg.value, value: arg.valueTwo ?? 0 };
    default:
      return fail(`comparison ${arg.op} is not supported by the bwrap seccomp compiler`);
  }
}

function actionValue(action: string, errno: number | undefined): number {
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return RET_ALLOW;
    case "SCMP_ACT_ERRNO": {
      const value = errno ?? EPERM;
      if (!Number.isInteger(value) || value < 1 || value > 4095) fail(`errno ${value} is out of range`);
      return RET_ERRNO | value;
    }
    default:
      return fail(`action ${action} is not supported by the bwrap seccomp compiler`);
  }
}

// 64-bit halves without BigInt: values are at most 2^64-1 (the EQ mask), kept exact where it matters.
function high(value: number): number {
  return value >= 2 ** 64 - 1 ? 0xffffffff : Math.floor(value / 2 ** 32) >>> 0;
}

function low(value: number): number {
  return value >= 2 ** 64 - 1 ? 0xffffffff : value % 2 ** 32 >>> 0;
}

function load(offset: number): Instruction {
  return { code: LD_W_ABS, jt: 0, jf: 0, k: offset };
}

function jump(code: number, k: number, jt: number, jf: number): Instruction {
  return { code, jt, jf, k: k >>> 0 };
}

function ret(k: number): Instruction {
  return { code: RET_K, jt: 0, jf: 0, k: k >>> 0 };
}

/** struct sock_filter[] in host (little-endian) byte order, as prctl(PR_SET_SECCOMP) reads it. */
function encode(code: Instruction[]): Uint8Array {
  const bytes = new Uint8Array(code.length * 8);
  const view = new DataView(bytes.buffer);
  code.forEach((instruction, i) => {
    view.setUint16(i * 8, instruction.code, true);
    view.setUint8(i * 8 + 2, instruction.jt);
    view.setUint8(i * 8 + 3, instruction.jf);
    view.setUint32(i * 8 + 4, instruction.k, true);
  });
  return bytes;
}

function fail(why: string): never {
  throw new AegisError("internal", `cannot compile the seccomp profile for bwrap: ${why}`, { hint: "the profile in src/sandbox/docker/seccomp-profile.ts uses something the bwrap compiler (src/sandbox/bwrap/seccomp-bpf.ts) must learn first" });
}
