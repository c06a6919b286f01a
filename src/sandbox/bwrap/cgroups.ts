/**
 * Resource limits for bwrap sandboxes. bwrap has none of its own, so every run gets cgroups of
 * its own under an `aegisclaw` parent, limits written first; the process that becomes bwrap
 * joins them before it execs bwrap (run-bwrap.ts), so bwrap, its pid-1 reaper and the command
 * are limited from their first instruction, and the cgroups are removed after the run.
 *
 * Two layouts are supported:
 * - hybrid (cgroup v1 controllers plus an empty v2 hierarchy at /sys/fs/cgroup/unified, e.g.
 *   Debian with systemd in hybrid mode): pids, memory and cpu are v1 cgroups; the v2 cgroup
 *   holds the same processes and is only there for `cgroup.kill`;
 * - unified (pure cgroup v2 at /sys/fs/cgroup): one cgroup holds limits and processes.
 * `cgroup.kill` (Linux 5.14+) SIGKILLs every process in a cgroup atomically, including ones
 * forked while it runs, so lockdown needs no pid bookkeeping and can never hit a reused pid.
 * Anything else (pure v1, no write access) makes the runtime unavailable: never run unlimited.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AegisError } from "../../shared/index.ts";
import type { SandboxLimits } from "../types.ts";

const ROOT = "/sys/fs/cgroup";
/** The parent cgroup name; every bwrap run lives directly below it. */
export const CGROUP_PARENT = "aegisclaw";
const CFS_PERIOD_US = 100_000;
/** bwrap's own processes in a run's cgroup: the monitor and the pid-1 reaper. */
export const BWRAP_OWN_PROCESSES = 2;

type Controller = "pids" | "memory" | "cpu";

/** Where the controllers are. `kill` is the v2 directory whose cgroup.kill ends a run. */
export interface CgroupLayout {
  kind: "hybrid" | "unified";
  /** Parent directory per controller, and of the v2 hierarchy used for cgroup.kill. */
  parents: Record<Controller | "kill", string>;
}

/** Finds the layout, or says why limits cannot be enforced here. Never throws. */
export function detectCgroups(root = ROOT): { layout?: CgroupLayout; problem?: string } {
  const unifiedControllers = readOr(join(root, "cgroup.controllers"), undefined);
  if (unifiedControllers !== undefined) {
    const have = unifiedControllers.split(/\s+/);
    const missing = (["pids", "memory", "cpu"] as const).filter((c) => !have.includes(c));
    if (missing.length > 0) return { problem: `cgroup v2 at ${root} lacks the ${missing.join(", ")} controller(s)` };
    const parent = join(root, CGROUP_PARENT);
    return { layout: { kind: "unified", parents: { pids: parent, memory: parent, cpu: parent, kill: parent } } };
  }
  const v1 = { pids: join(root, "pids"), memory: join(root, "memory"), cpu: join(root, "cpu") };
  const missing = Object.entries(v1).filter(([, dir]) => !existsSync(join(dir, "cgroup.procs")));
  if (missing.length > 0) return { problem: `no cgroup v2 and no v1 ${missing.map(([name]) => name).join(", ")} controller(s) under ${root}` };
  if (!existsSync(join(root, "unified", "cgroup.procs"))) return { problem: `cgroup v1 without the v2 hierarchy at ${root}/unified (needed for cgroup.kill)` };
  return {
    layout: {
      kind: "hybrid",
      parents: { pids: join(v1.pids, CGROUP_PARENT), memory: join(v1.memory, CGROUP_PARENT), cpu: join(v1.cpu, CGROUP_PARENT), kill: join(root, "unified", CGROUP_PARENT) },
    },
  };
}

/** Creates the parents (idempotent) and proves they are writable; throws `unavailable` otherwise. */
export function prepareCgroupParents(layout: CgroupLayout): void {
  try {
    for (const dir of new Set(Object.values(layout.parents))) mkdirSync(dir, { recursive: true });
    if (layout.kind === "unified") {
      // Controllers must be enabled on the way down before a child can use them.
      enableControllers(join(layout.parents.pids, ".."));
      enableControllers(layout.parents.pids);
    }
    // Creating and removing a child is the only honest writability test for cgroupfs.
    const probe = `probe-${process.pid}-${Date.now().toString(36)}`;
    for (const dir of new Set(Object.values(layout.parents))) {
      mkdirSync(join(dir, probe));
      rmdirSync(join(dir, probe));
    }
  } catch (error) {
    throw new AegisError("unavailable", `bwrap sandboxes cannot be limited: cannot create cgroups under ${layout.parents.pids} (${(error as Error).message})`, {
      hint: "run AegisClaw as root: the bwrap runtime creates its limit cgroups under /sys/fs/cgroup, and AegisClaw never runs a sandbox without pids/memory/cpu limits",
    });
  }
}

/** One run's cgroups. */
export class RunCgroups {
  private constructor(
    readonly name: string,
    private readonly layout: CgroupLayout,
  ) {}

  /** Creates the run's cgroups with `limits` written; on any failure removes what it made and throws. */
  static create(layout: CgroupLayout, name: string, limits: SandboxLimits): RunCgroups {
    const run = new RunCgroups(name, layout);
    try {
      for (const dir of run.dirs()) mkdirSync(dir);
      run.writeLimits(limits);
    } catch (error) {
      // Nothing has joined yet, so the directories are empty and go at once.
      for (const dir of run.dirs()) rmdirQuietly(dir);
      throw new AegisError("unavailable", `cannot set up the limits of bwrap sandbox ${name}: ${(error as Error).message}`, { hint: "check the cgroup filesystem (mount | grep cgroup) and that AegisClaw runs as root" });
    }
    return run;
  }

  /** The `cgroup.procs` files a process writes its pid to in order to join every one of the run's cgroups. */
  procsFiles(): string[] {
    return this.dirs().map((dir) => join(dir, "cgroup.procs"));
  }

  /** SIGKILLs every process of the run at once (cgroup.kill). Idempotent. */
  kill(): void {
    killCgroup(join(this.layout.parents.kill, this.name));
  }

  /** True when the kernel's OOM killer ended a process of this run. */
  oomKilled(): boolean {
    if (this.layout.kind === "unified") return counter(join(this.layout.parents.memory, this.name, "memory.events"), "oom_kill") > 0;
    return counter(join(this.layout.parents.memory, this.name, "memory.oom_control"), "oom_kill") > 0;
  }

  /** Kills what is left and removes the cgroups; waits briefly for the kernel to empty them. */
  remove(): Promise<void> {
    return removeRunCgroups(this.layout, this.name);
  }

  private dirs(): string[] {
    return [...new Set([this.layout.parents.pids, this.layout.parents.memory, this.layout.parents.cpu, this.layout.parents.kill])].map((parent) => join(parent, this.name));
  }

  private writeLimits(limits: SandboxLimits): void {
    const { pids, memory, cpu } = this.layout.parents;
    const quota = Math.max(1000, Math.round(limits.cpus * CFS_PERIOD_US));
    // bwrap's monitor and its pid-1 reaper sit in the cgroup too (neither is reachable from
    // inside), so they are added on top: the command gets the same `pids` budget as on Docker.
    const pidsMax = String(limits.pids + BWRAP_OWN_PROCESSES);
    if (this.layout.kind === "unified") {
      write(join(pids, this.name, "pids.max"), pidsMax);
      write(join(memory, this.name, "memory.max"), String(limits.memoryBytes));
      write(join(memory, this.name, "memory.swap.max"), "0");
      write(join(cpu, this.name, "cpu.max"), `${quota} ${CFS_PERIOD_US}`);
      return;
    }
    write(join(pids, this.name, "pids.max"), pidsMax);
    write(join(memory, this.name, "memory.limit_in_bytes"), String(limits.memoryBytes));
    // No swap on top: memsw (limit on memory+swap) exists only with swap accounting; swappiness 0
    // keeps the cgroup's anonymous memory out of swap where it does not.
    const memsw = join(memory, this.name, "memory.memsw.limit_in_bytes");
    if (existsSync(memsw)) write(memsw, String(limits.memoryBytes));
    write(join(memory, this.name, "memory.swappiness"), "0");
    write(join(cpu, this.name, "cpu.cfs_period_us"), String(CFS_PERIOD_US));
    write(join(cpu, this.name, "cpu.cfs_quota_us"), String(quota));
  }
}

/** Names of the runs below the parent (running or left behind), for killAll and listRunning. */
export function listRunCgroups(layout: CgroupLayout): string[] {
  try {
    return readdirSync(layout.parents.kill, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}

/** The number of processes in a run's cgroup (0 when it is gone). */
export function processCount(layout: CgroupLayout, name: string): number {
  return readOr(join(layout.parents.kill, name, "cgroup.procs"), "").split("\n").filter(Boolean).length;
}

/** When a run's cgroup was created (its directory's birth/change time). */
export function createdAt(layout: CgroupLayout, name: string): Date | undefined {
  try {
    return statSync(join(layout.parents.kill, name)).ctime;
  } catch {
    return undefined;
  }
}

/** Kills a run's processes and removes its cgroups, retrying while the kernel reaps them. */
export async function removeRunCgroups(layout: CgroupLayout, name: string): Promise<void> {
  const dirs = [...new Set(Object.values(layout.parents))].map((parent) => join(parent, name));
  for (const dir of dirs) {
    for (let attempt = 0; ; attempt++) {
      // Killed again on every attempt: a process that joined after the last kill dies too.
      killCgroup(join(layout.parents.kill, name));
      try {
        rmdirSync(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") break;
        // EBUSY: killed processes are still exiting (usually gone within a millisecond or two).
        if (code !== "EBUSY" || attempt >= 2000) throw new AegisError("internal", `cannot remove cgroup ${dir}: ${(error as Error).message}`);
        await Bun.sleep(1);
      }
    }
  }
}

function rmdirQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Already gone, or never made.
  }
}

function killCgroup(dir: string): void {
  try {
    writeFileSync(join(dir, "cgroup.kill"), "1");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new AegisError("unavailable", `cannot kill the processes of ${dir}: ${(error as Error).message}`, { hint: "cgroup.kill needs Linux 5.14 or newer" });
  }
}

function enableControllers(dir: string): void {
  const enabled = readOr(join(dir, "cgroup.subtree_control"), "").split(/\s+/);
  const wanted = ["pids", "memory", "cpu"].filter((c) => !enabled.includes(c));
  if (wanted.length > 0) writeFileSync(join(dir, "cgroup.subtree_control"), wanted.map((c) => `+${c}`).join(" "));
}

function write(file: string, value: string): void {
  writeFileSync(file, value);
  const back = readFileSync(file, "utf8").trim();
  // The kernel may round (e.g. to pages); a value that did not land at all is a refusal.
  if (back === "" || (back === "max" && value !== "max")) throw new Error(`${file} did not accept ${value}`);
}

function counter(file: string, key: string): number {
  for (const line of readOr(file, "").split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (name === key) return Number(value) || 0;
  }
  return 0;
}

function readOr<T extends string | undefined>(file: string, fallback: T): string | T {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}
