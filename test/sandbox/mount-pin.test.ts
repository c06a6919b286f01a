/**
 * Pinned mounts (src/sandbox/mount-pin.ts, mount-stage.ts): from its last check on, a grant's
 * source is held by file descriptor, so a path swapped afterwards cannot change what the
 * sandbox gets. The swap here happens deterministically between the pin and the mount: the
 * case a re-check of the path (verifyMountSources) can never see.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pinMounts, pinSource, unpinMounts } from "../../src/sandbox/mount-pin.ts";
import { canStageMounts, engineMounts, stageMounts, sweepStaleStagedMounts } from "../../src/sandbox/mount-stage.ts";
import type { SandboxMount } from "../../src/sandbox/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { failure } from "../helpers/errors.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { sh } from "./support.ts";

const ROOT = process.getuid?.() === 0;

/** root/granted/granted.txt, root/forbidden/forbidden.txt; `granted` is what was decided. */
function tree() {
  const root = realpathSync(tempDir());
  const granted = join(root, "granted");
  const forbidden = join(root, "forbidden");
  mkdirSync(granted);
  mkdirSync(forbidden);
  writeFileSync(join(granted, "granted.txt"), "GRANTED\n");
  writeFileSync(join(forbidden, "forbidden.txt"), "FORBIDDEN\n");
  return { root, granted, forbidden };
}

/** The attack: the decided directory is renamed away and a symlink to another takes its name. */
function swap(granted: string, forbidden: string): void {
  renameSync(granted, `${granted}.away`);
  symlinkSync(forbidden, granted);
}

function ro(path: string): SandboxMount[] {
  return [{ source: path, target: path, readOnly: true }];
}

/** The AegisError pinMounts (or, for one mount, pinSource: no target re-check) throws for `mounts`. */
function pinFailure(mounts: SandboxMount[], pin: (mounts: SandboxMount[]) => unknown = pinMounts) {
  return failure(Promise.resolve().then(() => pin(mounts)));
}

const sourceOnly = (mounts: SandboxMount[]) => pinSource(mounts[0] ?? { source: "", target: "", readOnly: true });

/** Where this process's open fds lead that lie under `dir`. */
function fdsUnder(dir: string): string[] {
  return readdirSync("/proc/self/fd")
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ""; // closed meanwhile (readdir's own fd)
      }
    })
    .filter((path) => path.startsWith(`${dir}/`));
}

function mountPointsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point.startsWith(`${dir}/`));
}

describe("mount pin", () => {
  test("mount pin: a directory and a regular file are held open; the fd names the decided source and its inode", () => {
    const { root, granted } = tree();
    const file = join(root, "file.txt");
    writeFileSync(file, "file\n");
    const pins = pinMounts([...ro(granted), ...ro(file)]);
    try {
      expect(pins.map((pin) => pin.kind)).toEqual(["directory", "file"]);
      expect(pins.map((pin) => readlinkSync(`/proc/self/fd/${pin.fd}`))).toEqual([granted, file]);
      expect(pins[0]?.ino).toBe(statSync(granted, { bigint: true }).ino);
    } finally {
      unpinMounts(pins);
    }
  });

  test("mount pin: a source that is now a symlink, renamed, missing or not a file is denied, and no fd stays open", async () => {
    const { root, granted, forbidden } = tree();
    // Decided as the real directory, then swapped after the target re-check passed (the race):
    // the granted path itself is now a symlink. O_NOFOLLOW opens the link, never its target.
    swap(granted, forbidden);
    const link = await pinFailure(ro(granted), sourceOnly);
    expect(link.code).toBe("denied");
    expect(link.message).toContain(`${granted} is now a symlink`);
    // A directory on the way renamed and replaced by a symlink: the fd's own path says so.
    mkdirSync(join(`${granted}.away`, "inner"));
    const inner = join(granted, "inner");
    symlinkSync(`${granted}.away`, join(forbidden, "inner-parent"));
    const renamed = await pinFailure(ro(join(forbidden, "inner-parent", "inner")), sourceOnly);
    expect(renamed.code).toBe("denied");
    expect(renamed.message).toContain(`now leads to ${granted}.away/inner`);
    expect(existsSync(inner)).toBe(false);
    // Gone since the decision.
    const missing = await pinFailure(ro(join(root, "nowhere")), sourceOnly);
    expect(missing.code).toBe("denied");
    expect(missing.message).toContain("cannot be opened (ENOENT)");
    // A FIFO planted where a directory was decided: refused without opening it for reading.
    const fifo = join(root, "fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const special = await pinFailure(ro(fifo), sourceOnly);
    expect(special.message).toContain("no longer a directory or a regular file");
    // The first mount pinned fine, the second is refused: the first fd is closed again.
    const partial = await pinFailure([...ro(`${granted}.away`), ...ro(granted)]);
    expect(partial.code).toBe("denied");
    expect(fdsUnder(root)).toEqual([]);
  });

  test("mount pin: the target re-check still runs first (a swapped symlink in the granted path)", async () => {
    const { root, granted, forbidden } = tree();
    const link = join(root, "link");
    symlinkSync(granted, link);
    renameSync(link, `${link}.old`);
    symlinkSync(forbidden, link);
    const error = await pinFailure([{ source: granted, target: link, readOnly: true }]);
    expect(error.message).toContain("symlink changed");
  });
});

describe("mount staging for the engine (root)", () => {
  const base = join(realpathSync(tempDir()), "run", "mounts");
  afterAll(() => {
    // The base is a bind mount of itself (private); the temp dir clean-up must find a plain directory.
    if (existsSync(base)) Bun.spawnSync(["umount", base]);
  });

  test("mount staging: a path swapped for a symlink after the pin still stages the pinned directory, and a real container sees only it", async () => {
    if (!ROOT) return; // staging needs root; without it docs/sandbox.md states the remaining window
    const { granted, forbidden } = tree();
    const pins = pinMounts(ro(granted));
    swap(granted, forbidden);
    // Without the pin the engine would now mount the path, and get the forbidden directory.
    expect(readdirSync(granted)).toEqual(["forbidden.txt"]);
    const staged = await stageMounts(pins, base);
    unpinMounts(pins);
    try {
      const source = staged.mounts[0]?.source ?? "";
      expect(source.startsWith(`${base}/`)).toBe(true);
      expect(readdirSync(source)).toEqual(["granted.txt"]);
      expect(staged.mounts[0]?.target).toBe(granted);
      // A real container given the staged path (as the runtime does; here it is also the target,
      // since the granted path itself now leads elsewhere and the runtime would refuse it).
      const run = await sh(`cat ${source}/*`, { mounts: ro(source) });
      expect(run.stdout).toBe("GRANTED\n");
    } finally {
      await staged.release();
    }
  });

  test("mount staging: a file grant swapped after the pin is staged as the pinned file", async () => {
    if (!ROOT) return;
    const { root } = tree();
    const file = join(root, "notes.txt");
    writeFileSync(file, "pinned file\n");
    const pins = pinMounts([{ source: file, target: file, readOnly: false }]);
    renameSync(file, `${file}.away`);
    writeFileSync(file, "planted file\n");
    const staged = await stageMounts(pins, base);
    unpinMounts(pins);
    try {
      expect(readFileSync(staged.mounts[0]?.source ?? "", "utf8")).toBe("pinned file\n");
      expect(staged.mounts[0]?.readOnly).toBe(false);
    } finally {
      await staged.release();
    }
  });

  test("mount staging: the base is root-only and a private mount; release unmounts and removes every staging path", async () => {
    if (!ROOT) return;
    const { granted } = tree();
    const staged = await engineMounts(ro(granted), base, true);
    const dir = join(staged.mounts[0]?.source ?? "", "..");
    expect(staged.staged).toBe(true);
    expect(statSync(base).mode & 0o777).toBe(0o700);
    const own = readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((line) => line.split(" ")[4] === base) ?? "";
    expect(own).not.toBe("");
    expect(own).not.toContain("shared:");
    expect(mountPointsUnder(base)).toEqual([join(dir, "0")]);
    await staged.release();
    await staged.release(); // idempotent
    expect(mountPointsUnder(base)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(granted)).toEqual(["granted.txt"]);
  });

  test("mount staging: a dead process's staging directory is unmounted and removed; a live one's is kept", async () => {
    if (!ROOT) return;
    const { granted } = tree();
    const staged = await engineMounts(ro(granted), base, true);
    const dir = join(staged.mounts[0]?.source ?? "", "..");
    const dead = Bun.spawnSync(["true"]).pid;
    const orphan = join(base, `${dead}.0123456789abcdef`);
    // What a kill -9 leaves behind: a staged bind under a pid that no longer exists.
    renameSync(dir, orphan);
    const live = join(base, `${process.pid}.fedcba9876543210`);
    mkdirSync(live);
    expect(await sweepStaleStagedMounts(base)).toEqual([`${dead}.0123456789abcdef`]);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(mountPointsUnder(base)).toEqual([]);
    expect(readdirSync(granted)).toEqual(["granted.txt"]);
  });

  test("mount staging: without root the engine gets the decided paths, re-checked", async () => {
    const { root, granted, forbidden } = tree();
    const plain = await engineMounts(ro(granted), base, false);
    expect(plain).toMatchObject({ staged: false, mounts: ro(granted) });
    const link = join(root, "link");
    symlinkSync(forbidden, link);
    const error = await failure(engineMounts([{ source: granted, target: link, readOnly: true }], base, false));
    expect(isAegisError(error, "denied")).toBe(true);
  });

  test("mount staging: canStageMounts is true exactly for root with CAP_SYS_ADMIN", () => {
    const capabilities = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "0";
    expect(canStageMounts()).toBe(ROOT && (BigInt(`0x${capabilities}`) & (1n << 21n)) !== 0n);
  });
});

describe("bwrap --bind-fd with a pinned source", () => {
  test("bwrap pinned mount: a path swapped after the pin still binds the pinned directory", async () => {
    const { granted, forbidden } = tree();
    const pins = pinMounts(ro(granted));
    try {
      swap(granted, forbidden);
      // bwrap-args.ts hands bwrap the pinned fd exactly like this: --ro-bind-fd FD TARGET.
      const proc = Bun.spawn(
        ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--ro-bind-fd", "3", "/grant", "--", "/bin/sh", "-c", "cat /grant/*; ls /proc/self/fd"],
        { stdio: ["ignore", "pipe", "pipe", pins[0]?.fd ?? -1] },
      );
      const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect(stderr).toBe("");
      expect(status).toBe(0);
      // The pinned content, and bwrap closed the fd before running the command (0-2 plus ls's own).
      expect(stdout).toBe("GRANTED\n0\n1\n2\n3\n");
    } finally {
      unpinMounts(pins);
    }
  });
});
