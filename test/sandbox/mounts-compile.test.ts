/** Pure units of file-scope mounts: compilation, forbidden paths, the mount-time re-check, the create request and its verification. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerInspectInfo } from "dockerode";
import { bindMounts, containerOptions, hardeningProblems } from "../../src/sandbox/docker/container-config.ts";
import { compileMounts, DEFAULT_LIMITS, describeProfile, forbiddenMountReason, verifyMountSources, type MountGuard, type MountRequest, type SandboxMount, type SandboxSpec } from "../../src/sandbox/index.ts";
import { AegisError } from "../../src/shared/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

/** A scratch tree: data/ (with a file), home/ as $AEGISCLAW_HOME, sock/docker.sock as the socket. */
function tree() {
  const root = realpathSync(tempDir());
  const data = join(root, "data");
  mkdirSync(data);
  writeFileSync(join(data, "file.txt"), "x");
  mkdirSync(join(root, "home", "audit"), { recursive: true });
  mkdirSync(join(root, "sock"));
  writeFileSync(join(root, "sock", "docker.sock"), "");
  const guard: MountGuard = { home: join(root, "home"), dockerSocket: join(root, "sock", "docker.sock") };
  return { root, data, guard };
}

function request(path: string, readOnly = true): MountRequest {
  return { scope: `${readOnly ? "files.read" : "files.write"}:${path}`, path, written: path, readOnly };
}

function failure(fn: () => unknown): AegisError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AegisError) return error;
    throw error;
  }
  throw new Error("expected an AegisError");
}

function spec(mounts: SandboxMount[]): SandboxSpec {
  return { runId: "r-test", image: "img", argv: ["true"], timeoutMs: 1000, limits: DEFAULT_LIMITS, mounts };
}

/** What the engine would report for a faithfully applied create request (plus `extra` mounts). */
function inspected(s: SandboxSpec, applied: SandboxMount[] = s.mounts ?? []): ContainerInspectInfo {
  const options = containerOptions(s, undefined);
  return {
    Config: { User: options.User, Entrypoint: null, Cmd: s.argv, Labels: options.Labels },
    HostConfig: { ...options.HostConfig, Runtime: "runc", Mounts: bindMounts(applied) },
    Mounts: applied.map((m) => ({ Type: "bind", Source: m.source, Destination: m.target, Mode: "", RW: !m.readOnly, Propagation: "rprivate" })),
  } as unknown as ContainerInspectInfo;
}

describe("mounts: compile", () => {
  test("mounts: files.read is a read-only bind of the canonical path at the granted path; files.write is writable", () => {
    const { root, data, guard } = tree();
    symlinkSync(data, join(root, "alias"));
    const mounts = compileMounts([request(join(root, "alias")), request(join(data, "file.txt"), false)], guard);
    expect(mounts).toEqual([
      { source: data, target: join(root, "alias"), readOnly: true },
      { source: join(data, "file.txt"), target: join(data, "file.txt"), readOnly: false },
    ]);
  });

  test("mounts: a path requested read-only and writable is mounted once, writable", () => {
    const { data, guard } = tree();
    expect(compileMounts([request(data), request(data, false)], guard)).toEqual([{ source: data, target: data, readOnly: false }]);
  });

  test("mounts: a missing path is refused; for files.write the fix says to create it writable by 65534", () => {
    const { data, guard } = tree();
    const read = failure(() => compileMounts([request(join(data, "absent"))], guard));
    expect(read.code).toBe("bad-input");
    expect(read.message).toContain("[mount.missing]");
    const write = failure(() => compileMounts([request(join(data, "absent"), false)], guard));
    expect(write.hint).toContain("mkdir -p");
    expect(write.hint).toContain("65534");
  });

  test("mounts: only directories and regular files can be mounted", () => {
    const { data, guard } = tree();
    expect(Bun.spawnSync(["mkfifo", join(data, "fifo")]).exitCode).toBe(0);
    expect(failure(() => compileMounts([request(join(data, "fifo"))], guard)).message).toContain("[mount.file-type]");
  });

  test("mounts: .. after a symlink is refused (the target and the source would disagree)", () => {
    const { root, data, guard } = tree();
    mkdirSync(join(root, "other", "sub"), { recursive: true });
    symlinkSync(join(root, "other", "sub"), join(data, "link"));
    const written = `${data}/link/..`;
    const error = failure(() => compileMounts([{ scope: `files.read:${written}`, path: data, written, readOnly: true }], guard));
    expect(error.message).toContain("lead to different places");
  });
});

describe("mounts: forbidden paths", () => {
  const guard: MountGuard = { home: "/srv/aegis-home", dockerSocket: "/var/run/docker.sock" };
  const cases: Array<[string, string]> = [
    ["/", "mount.root"],
    ["/proc", "mount.proc"],
    ["/proc/1/root", "mount.proc"],
    ["/sys/fs/cgroup", "mount.sys"],
    ["/dev", "mount.dev"],
    ["/dev/sda", "mount.dev"],
    ["/run/user/1000", "mount.run"],
    ["/boot", "mount.boot"],
    ["/var/run/docker.sock", "mount.docker-socket"],
    ["/var/run", "mount.docker-socket"],
    ["/var", "mount.docker-socket"],
    ["/srv/aegis-home", "mount.aegisclaw-home"],
    ["/srv/aegis-home/audit/signing.key", "mount.aegisclaw-home"],
    ["/srv", "mount.aegisclaw-home"],
  ];
  for (const [path, rule] of cases) {
    test(`mounts: ${path} is refused by ${rule}`, () => {
      expect(forbiddenMountReason(path, guard)).toContain(`[${rule}]`);
    });
  }

  test("mounts: ordinary project paths and look-alike names are allowed", () => {
    for (const path of ["/home/me/project", "/srv/aegis-home2", "/procfs", "/tmp/work", "/var/lib/app"]) expect(forbiddenMountReason(path, guard)).toBeUndefined();
  });

  test("mounts: a custom socket's directory and the home are refused wherever they are", () => {
    const { root, guard: own } = tree();
    expect(failure(() => compileMounts([request(join(root, "sock"))], own)).message).toContain("[mount.docker-socket]");
    expect(failure(() => compileMounts([request(join(root, "home", "audit"))], own)).message).toContain("[mount.aegisclaw-home]");
    expect(failure(() => compileMounts([request(root)], own)).message).toContain("contains");
  });

  test("mounts: a symlink that resolves into a forbidden path is refused, naming where it leads", () => {
    const { data, root, guard: own } = tree();
    symlinkSync("/proc/self", join(data, "proc"));
    symlinkSync(join(root, "home"), join(data, "home"));
    const proc = failure(() => compileMounts([request(join(data, "proc"))], own));
    expect(proc.message).toContain("resolves to /proc/");
    expect(proc.message).toContain("[mount.proc]");
    expect(failure(() => compileMounts([request(join(data, "home"), false)], own)).message).toContain("[mount.aegisclaw-home]");
  });
});

describe("mounts: re-check before create", () => {
  test("mounts: an unchanged mount passes; a swapped symlink or a removed path is denied", () => {
    const { root, data, guard } = tree();
    mkdirSync(join(root, "elsewhere"));
    const link = join(root, "link");
    symlinkSync(data, link);
    const mounts = compileMounts([request(link)], guard);
    expect(() => verifyMountSources(mounts)).not.toThrow();
    rmSync(link);
    symlinkSync(join(root, "elsewhere"), link);
    const swapped = failure(() => verifyMountSources(mounts));
    expect(swapped.code).toBe("denied");
    expect(swapped.message).toContain(`now resolves to ${join(root, "elsewhere")}`);
    rmSync(link);
    expect(failure(() => verifyMountSources(mounts)).message).toContain("no longer exists");
  });
});

describe("mounts: create request and hardening check", () => {
  const ro: SandboxMount = { source: "/srv/data", target: "/data", readOnly: true };

  test("mounts: become HostConfig.Mounts rprivate binds; Binds stays empty", () => {
    const host = containerOptions(spec([ro]), undefined).HostConfig;
    expect(host?.Mounts).toEqual([{ Type: "bind", Source: "/srv/data", Target: "/data", ReadOnly: true, BindOptions: { Propagation: "rprivate" } }]);
    expect(host?.Binds).toEqual([]);
  });

  test("mounts: hand-built mounts over / or /tmp, duplicates and unnormalized paths are refused", () => {
    for (const bad of [[{ ...ro, target: "/tmp" }], [{ ...ro, target: "/" }], [ro, ro], [{ ...ro, source: "srv/data" }], [{ ...ro, target: "/data/../etc" }]]) {
      expect(failure(() => containerOptions(spec(bad), undefined)).code).toBe("bad-input");
    }
  });

  test("mounts: the hardening check accepts exactly the expected mounts", () => {
    expect(hardeningProblems(spec([ro]), inspected(spec([ro])), undefined)).toEqual([]);
    expect(hardeningProblems(spec([]), inspected(spec([])), undefined)).toEqual([]);
  });

  test("mounts: the hardening check flags an extra mount, a writable mount where read-only was asked, and a missing one", () => {
    const extra = hardeningProblems(spec([ro]), inspected(spec([ro]), [ro, { source: "/etc", target: "/etc", readOnly: true }]), undefined);
    expect(extra.join("\n")).toContain("exactly the granted mounts");
    const writable = hardeningProblems(spec([ro]), inspected(spec([ro]), [{ ...ro, readOnly: false }]), undefined);
    expect(writable.length).toBe(2);
    expect(writable.join("\n")).toContain("bind:/srv/data->/data:ro");
    expect(hardeningProblems(spec([ro]), inspected(spec([ro]), []), undefined).length).toBe(2);
    expect(hardeningProblems(spec([]), inspected(spec([]), [ro]), undefined).join("\n")).toContain("no mounts");
  });

  test("mounts: describeProfile lists each bind with its mode and host source", () => {
    const profile = describeProfile(spec([ro, { source: "/srv/out", target: "/out", readOnly: false }]));
    expect(profile.mounts).toContainEqual({ target: "/data", type: "bind", options: "ro", source: "/srv/data" });
    expect(profile.mounts).toContainEqual({ target: "/out", type: "bind", options: "rw", source: "/srv/out" });
    expect(profile.mounts[0]?.type).toBe("tmpfs");
  });
});
