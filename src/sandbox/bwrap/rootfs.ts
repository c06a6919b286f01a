/**
 * bwrap has no images. The one image it can run, the base image `aegisclaw/base:busybox`
 * (SKILL_BASE_IMAGE; scripts/build-base-image.sh builds the Docker one), is rebuilt here with
 * the same layout from the host's static busybox: `/bin/busybox` plus one symlink per applet,
 * `/etc/passwd` and `/etc/group` with root and nobody, PATH=/bin.
 *
 * The small files live in `<stateDir>/bwrap/rootfs/base-busybox` (built in a temp directory and
 * renamed into place, so a half-built rootfs is never used). They reach the sandbox as copies
 * through file descriptors (`--ro-bind-data`), because bwrap runs as uid 65534 when AegisClaw is
 * root and could not open paths under the 0700 state directory itself; the busybox binary is
 * bound read-only from the host, where every user can reach it.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AegisError } from "../../shared/index.ts";

/** The only image the bwrap runtime runs; equal to SKILL_BASE_IMAGE (a test checks it). */
export const BWRAP_BASE_IMAGE = "aegisclaw/base:busybox";
/** Where the host's static busybox is expected (Debian: apt-get install -y busybox-static). */
export const HOST_BUSYBOX = "/bin/busybox";
/** The image's PATH (scripts/build-base-image.sh: ENV PATH=/bin). */
export const ROOTFS_PATH = "/bin";
const DIR_NAME = "base-busybox";
const FORMAT = "1";

/** The prepared base rootfs: what run-bwrap.ts turns into bwrap arguments. */
export interface BaseRootfs {
  /** The host's static busybox (symlinks resolved); bound read-only at /bin/busybox. */
  busybox: string;
  /** Applet names, each a symlink /bin/<name> -> busybox. */
  applets: string[];
  /** Host files copied into the sandbox (path inside -> file on the host). */
  files: Array<{ target: string; source: string }>;
}

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n";
const GROUP = "root:x:0:\nnogroup:x:65534:\n";
const APPLET = /^[a-z0-9][a-z0-9_.[-]*$/;

/** Why the host cannot provide the base rootfs, or undefined when it can. Never throws. */
export function baseRootfsProblem(busybox = HOST_BUSYBOX): string | undefined {
  try {
    const real = realpathSync.native(busybox);
    if (!statSync(real).isFile()) return `${busybox} is not a file`;
    if (!isStaticElf(real)) return `${busybox} is not a static build (the rootfs has no libc)`;
    return undefined;
  } catch {
    return `${busybox} is missing`;
  }
}

/** Builds the rootfs files on first use (atomically) and returns them; throws `unavailable` when the host lacks a static busybox. */
export function prepareBaseRootfs(stateDir: string, busybox = HOST_BUSYBOX): BaseRootfs {
  const problem = baseRootfsProblem(busybox);
  if (problem) throw new AegisError("unavailable", `the bwrap base rootfs cannot be built: ${problem}`, { hint: "apt-get install -y busybox-static" });
  const real = realpathSync.native(busybox);
  const parent = join(stateDir, "bwrap", "rootfs");
  const dir = join(parent, DIR_NAME);
  if (!complete(dir)) build(parent, dir, real);
  const applets = readFileSync(join(dir, "applets"), "utf8").split("\n").filter((name) => APPLET.test(name) && name !== "busybox");
  return {
    busybox: real,
    applets,
    files: [
      { target: "/etc/passwd", source: join(dir, "etc", "passwd") },
      { target: "/etc/group", source: join(dir, "etc", "group") },
    ],
  };
}

function complete(dir: string): boolean {
  try {
    return readFileSync(join(dir, "format"), "utf8") === FORMAT;
  } catch {
    return false;
  }
}

/** Writes into a temp directory and renames it into place; a concurrent builder's result is kept. */
function build(parent: string, dir: string, busybox: string): void {
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const temp = join(parent, `.build-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    mkdirSync(join(temp, "etc"), { recursive: true, mode: 0o755 });
    const list = Bun.spawnSync([busybox, "--list"], { stdout: "pipe", stderr: "pipe", env: {} });
    if (list.exitCode !== 0) throw new Error(`${busybox} --list failed: ${list.stderr.toString().trim()}`);
    const applets = list.stdout.toString().split("\n").filter((name) => APPLET.test(name));
    if (!applets.includes("sh")) throw new Error(`${busybox} has no sh applet`);
    writeFileSync(join(temp, "applets"), `${applets.join("\n")}\n`);
    writeFileSync(join(temp, "etc", "passwd"), PASSWD, { mode: 0o644 });
    writeFileSync(join(temp, "etc", "group"), GROUP, { mode: 0o644 });
    writeFileSync(join(temp, "format"), FORMAT);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // an older or broken build
    renameSync(temp, dir);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    if (complete(dir)) return; // another process finished first
    throw new AegisError("unavailable", `cannot build the bwrap base rootfs in ${dir}: ${(error as Error).message}`, { hint: "check that the AegisClaw state directory is writable" });
  }
}

/** True for an ELF file without a PT_INTERP program header, i.e. one that needs no dynamic loader. */
function isStaticElf(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const header = Buffer.alloc(64);
    if (readSync(fd, header, 0, 64, 0) < 64 || header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return false;
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    return true;
  } finally {
    closeSync(fd);
  }
}
