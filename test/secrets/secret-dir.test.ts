/** The host side of secret delivery: the tmpfs directory, its modes, erasure, sweeping, and the container's mount. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { containerOptions, hardeningProblems } from "../../src/sandbox/docker/container-config.ts";
import { createSecretDir, DEFAULT_LIMITS, describeProfile, secretsBaseDir, sweepStaleSecretDirs, verifySecretDir, type SandboxSpec } from "../../src/sandbox/index.ts";
import { isAegisError, type AegisError } from "../../src/shared/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

const bases: string[] = [];
/** A fresh base directory on /dev/shm (tmpfs), removed after this file. */
function shmBase(): string {
  const base = `/dev/shm/aegisclaw-test-${process.pid}-${bases.length}`;
  bases.push(base);
  return base;
}
afterAll(() => {
  for (const base of bases) rmSync(base, { recursive: true, force: true });
});

function thrown(work: () => unknown): AegisError {
  try {
    work();
  } catch (error) {
    if (isAegisError(error)) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

const values = new Map([
  ["API_KEY", "api-key-value-123456"],
  ["PEM", "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"],
]);

describe("secret directory", () => {
  test("secret dir: files hold the exact values, 0400 in a 0500 directory owned by 65534 (as root), inside a 0700 base", () => {
    const base = shmBase();
    const dir = createSecretDir("r-test-1", values, base);
    expect(dir.path).toBe(join(base, `r-test-1.${process.pid}`));
    expect(lstatSync(base).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir.path).sort()).toEqual(["API_KEY", "PEM"]);
    expect(readFileSync(join(dir.path, "PEM"), "utf8")).toBe(values.get("PEM") ?? "");
    const root = process.getuid?.() === 0;
    const file = lstatSync(join(dir.path, "API_KEY"));
    expect(file.mode & 0o777).toBe(root ? 0o400 : 0o444);
    expect(lstatSync(dir.path).mode & 0o777).toBe(root ? 0o500 : 0o555);
    if (root) expect([file.uid, file.gid, lstatSync(dir.path).uid]).toEqual([65534, 65534, 65534]);
    expect(() => verifySecretDir({ names: ["PEM", "API_KEY"], source: dir.path })).not.toThrow();
    dir.remove();
    expect(existsSync(dir.path)).toBe(false);
    dir.remove(); // idempotent
  });

  test("secret dir: a base that is not on tmpfs, open to others, a symlink or someone else's is refused (unavailable)", () => {
    const onDisk = join(tempDir(), "base");
    const disk = thrown(() => createSecretDir("r-x", values, onDisk));
    expect(disk.code).toBe("unavailable");
    expect(disk.message).toContain("is not on tmpfs");
    expect(readdirSync(onDisk)).toEqual([]);

    const open = shmBase();
    mkdirSync(open);
    chmodSync(open, 0o755);
    expect(thrown(() => createSecretDir("r-x", values, open)).message).toContain("accessible to other users (mode 755)");

    const link = shmBase();
    const target = shmBase();
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, link);
    expect(thrown(() => createSecretDir("r-x", values, link)).message).toContain("is not a directory");
    expect(readdirSync(target)).toEqual([]);

    if (process.getuid?.() === 0) {
      const foreign = shmBase();
      mkdirSync(foreign, { mode: 0o700 });
      chownSync(foreign, 65534, 65534);
      expect(thrown(() => createSecretDir("r-x", values, foreign)).message).toContain("belongs to uid 65534");
    }
  });

  test("secret dir: verifySecretDir refuses a directory that gained, lost or swapped an entry", () => {
    const base = shmBase();
    const dir = createSecretDir("r-verify", values, base);
    expect(thrown(() => verifySecretDir({ names: ["API_KEY"], source: dir.path })).message).toContain("does not hold exactly the granted secrets");
    expect(thrown(() => verifySecretDir({ names: ["API_KEY"] })).code).toBe("internal");
    dir.remove();
    expect(thrown(() => verifySecretDir({ names: ["API_KEY", "PEM"], source: dir.path })).code).toBe("unavailable");
  });

  test("secret dir: directories left by a dead process are swept; those of live processes are kept", () => {
    const base = shmBase();
    createSecretDir("r-live", values, base);
    const dead = Bun.spawnSync(["true"]).pid;
    mkdirSync(join(base, `r-dead.${dead}`));
    writeFileSync(join(base, `r-dead.${dead}`, "API_KEY"), "left-behind-value");
    mkdirSync(join(base, "unrelated"));
    expect(sweepStaleSecretDirs(base)).toEqual([`r-dead.${dead}`]);
    expect(readdirSync(base).sort()).toEqual([`r-live.${process.pid}`, "unrelated"]);
  });

  test("secret dir: invalid names never become file names", () => {
    expect(thrown(() => createSecretDir("r-x", new Map([["../escape", "value-123456"]]), shmBase())).code).toBe("bad-input");
    expect(thrown(() => createSecretDir("../x", values, shmBase())).code).toBe("internal");
  });

  test("secret dir: the default base is $AEGISCLAW_SECRETS_RUNDIR, else $XDG_RUNTIME_DIR/aegisclaw-secrets, else /dev/shm", () => {
    expect(secretsBaseDir({ AEGISCLAW_SECRETS_RUNDIR: "/x/y", XDG_RUNTIME_DIR: "/run/user/1" })).toBe("/x/y");
    expect(secretsBaseDir({ XDG_RUNTIME_DIR: "/run/user/1" })).toBe("/run/user/1/aegisclaw-secrets");
    expect(secretsBaseDir({})).toBe(`/dev/shm/aegisclaw-secrets-${process.getuid?.()}`);
  });
});

describe("secrets mount in the container config", () => {
  const spec: SandboxSpec = { runId: "r-1", image: "img", argv: ["true"], timeoutMs: 1000, limits: DEFAULT_LIMITS, secrets: { names: ["API_KEY"], source: "/dev/shm/base/r-1.1" } };

  test("container: the secrets directory is one read-only rprivate bind at /run/secrets; nothing about it in Env, Cmd or Labels", () => {
    const options = containerOptions(spec, undefined);
    expect(options.HostConfig?.Mounts).toEqual([{ Type: "bind", Source: "/dev/shm/base/r-1.1", Target: "/run/secrets", ReadOnly: true, BindOptions: { Propagation: "rprivate" } }]);
    expect(JSON.stringify([options.Env, options.Cmd, options.Labels])).not.toContain("API_KEY");
    expect(() => containerOptions({ ...spec, secrets: { names: ["API_KEY"] } }, undefined)).toThrow("directory was not prepared");
    expect(() => containerOptions({ ...spec, mounts: [{ source: "/srv", target: "/run/secrets/API_KEY", readOnly: true }] }, undefined)).toThrow("reserved for granted secrets");
  });

  test("container: hardeningProblems wants exactly that mount, read-only", () => {
    const options = containerOptions(spec, undefined);
    const stored = (mounts: Array<{ RW: boolean; Source: string }>) =>
      ({
        Config: { User: "65534:65534", Entrypoint: [], Cmd: spec.argv, Labels: { "io.aegisclaw.managed": "true", "io.aegisclaw.run": "r-1" } },
        HostConfig: { ...options.HostConfig, Runtime: "runc" },
        Mounts: mounts.map((mount) => ({ Type: "bind", Source: mount.Source, Destination: "/run/secrets", RW: mount.RW, Propagation: "rprivate" })),
      }) as unknown as Parameters<typeof hardeningProblems>[1];
    const mountProblems = (info: Parameters<typeof hardeningProblems>[1]) => hardeningProblems(spec, info, undefined).filter((problem) => problem.includes("mounts"));
    expect(mountProblems(stored([{ RW: false, Source: "/dev/shm/base/r-1.1" }]))).toEqual([]);
    expect(mountProblems(stored([{ RW: true, Source: "/dev/shm/base/r-1.1" }]))).toHaveLength(1);
    expect(mountProblems(stored([]))).toHaveLength(1);
    expect(hardeningProblems({ ...spec, secrets: undefined }, stored([{ RW: false, Source: "/dev/shm/base/r-1.1" }]), undefined).some((problem) => problem.startsWith("no mounts"))).toBe(true);
  });

  test("profile: describeProfile lists the names and the planned mount", () => {
    const profile = describeProfile({ ...spec, secrets: { names: ["API_KEY"] } });
    expect(profile.secrets).toEqual(["API_KEY"]);
    expect(profile.mounts).toContainEqual({ target: "/run/secrets", type: "bind", options: "ro", source: expect.stringMatching(new RegExp(`/r-1\\.${process.pid}$`)) });
  });
});
