/**
 * Escape attempts against the bwrap runtime: every property is observed from inside a real
 * sandbox, and every refusal is a real run that must not start.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSecretDir } from "../../../src/sandbox/index.ts";
import { SKILL_BASE_IMAGE } from "../../../src/skills/dockerfile.ts";
import { BWRAP_BASE_IMAGE } from "../../../src/sandbox/bwrap/index.ts";
import { failure } from "../../helpers/errors.ts";
import { collect, expectNoLeftovers, sh, sharedDir } from "./support.ts";

afterEach(() => expectNoLeftovers());

const field = (text: string, key: string) => new RegExp(`^${key}:\\s*(\\S+)`, "m").exec(text)?.[1];

describe("bwrap sandbox hardening", () => {
  test("bwrap runtime: uid/gid 65534, no capabilities, seccomp mode 2, no_new_privs", async () => {
    const run = await sh("id -u; id -g; cat /proc/self/status");
    expect(run.stdout).toStartWith("65534\n65534\n");
    for (const key of ["CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"]) expect(field(run.stdout, key)).toBe("0000000000000000");
    expect(field(run.stdout, "Seccomp")).toBe("2");
    expect(field(run.stdout, "NoNewPrivs")).toBe("1");
  });

  test("bwrap runtime: seen from the host, every process of the sandbox runs as uid 65534, never root", async () => {
    const seen: string[] = [];
    const run = await sh("echo ready; sleep 1", {
      onStdout: () => {
        // bwrap's monitor, its pid-1 reaper and the command: all in the run's cgroup.
        for (const name of readdirSync("/sys/fs/cgroup/unified/aegisclaw").filter((n) => n.split(".")[1] === String(process.pid))) {
          for (const pid of readFileSync(`/sys/fs/cgroup/unified/aegisclaw/${name}/cgroup.procs`, "utf8").split("\n").filter(Boolean)) {
            seen.push(/^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.slice(1).join(",") ?? "?");
          }
        }
      },
    });
    expect(run.exitCode).toBe(0);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const expected = process.getuid?.() === 0 ? "65534" : String(process.getuid?.());
    expect(new Set(seen)).toEqual(new Set([[expected, expected, expected, expected].join(",")]));
  });

  test("bwrap runtime: only lo exists and nothing outside can be reached", async () => {
    const run = await sh("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; wget -T 2 -q -O- http://1.1.1.1/ 2>&1; echo rc=$?");
    expect(run.stdout).toStartWith("lo\n");
    expect(run.stdout).not.toContain("rc=0");
  });

  test("bwrap runtime: the root is read-only, /tmp is writable and limited to tmpfsBytes", async () => {
    const run = await sh("touch /pwned; echo root=$?; echo x >> /etc/passwd; echo etc=$?; mkdir /bin/evil; echo bin=$?; echo x > /dev/evil; echo dev=$?; echo ok > /tmp/f && cat /tmp/f; dd if=/dev/zero of=/tmp/fill bs=1024 count=4096 2>&1; du -k /tmp/fill", { limits: { tmpfsBytes: 1024 * 1024 } });
    expect(run.stdout).toContain("root=1\netc=1\nbin=1\ndev=1\nok\n");
    expect(run.stderr).toContain("Read-only file system");
    expect(run.stdout).toContain("No space left on device");
    const used = Number(/^(\d+)\s+\/tmp\/fill/m.exec(run.stdout)?.[1]);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(1024);
  });

  test("bwrap runtime: no host file is visible except the granted ones", async () => {
    const run = await sh("for p in /etc/shadow /root /home /var/run/docker.sock /run/docker.sock /usr /lib /sys/fs/cgroup /run/secrets; do [ -e $p ] && echo visible:$p; done; ls /; ls /etc; echo done");
    expect(run.stdout).not.toContain("visible:");
    expect(run.stdout).toContain("bin\ndev\netc\nproc\ntmp\nwork\n");
    expect(run.stdout).toContain("group\npasswd\n");
  });

  test("bwrap runtime: only the sandbox's own processes are visible (private pid namespace)", async () => {
    const run = await sh("ls /proc | grep -c '^[0-9]'; cat /proc/1/cmdline | tr '\\0' ' '");
    const [count = "", init = ""] = run.stdout.split("\n");
    // pid 1 (bwrap's reaper), sh, ls, grep (and cat, once ls is done): never the host's hundreds.
    expect(Number(count)).toBeLessThan(8);
    expect(init).toMatch(/^\S*bwrap --unshare-all /);
  });

  test("bwrap runtime: the environment is PATH plus spec.env, and only stdio fds are open", async () => {
    const run = await sh("env | sort; ls /proc/self/fd", { env: { GREETING: "hello" } });
    expect(run.stdout).toContain("GREETING=hello\nPATH=/bin\nPWD=/tmp\n");
    expect(run.stdout).not.toContain("HOME=");
    // 0-2 plus the fd ls holds on /proc/self/fd itself.
    expect(run.stdout.trim().split("\n").slice(-4)).toEqual(["0", "1", "2", "3"]);
  });

  test("bwrap runtime: the base image is the skills' base image, and any other image is refused", async () => {
    expect(BWRAP_BASE_IMAGE).toBe(SKILL_BASE_IMAGE);
    const error = await failure(collect({ image: "alpine:3" }));
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("only the base image");
    expect(error.hint).toContain("--runtime docker");
  });

  test("bwrap runtime: a run with egress is refused, never given the host network", async () => {
    const error = await failure(collect({ egress: { allow: ["net.outbound:example.com:443"], actor: { name: "t", source: "test" }, requestHash: "x" } }));
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("egress");
    expect(error.hint).toContain("--runtime docker or --runtime gvisor");
  });
});

describe("bwrap grants", () => {
  const shared = sharedDir();
  afterAll(() => shared.remove());

  test("bwrap grants: a read-only bind cannot be written, a read-write bind can", async () => {
    const ro = join(shared.path, "ro");
    const rw = join(shared.path, "rw");
    mkdirSync(ro);
    mkdirSync(rw, { mode: 0o777 });
    Bun.spawnSync(["chmod", "0777", rw]);
    writeFileSync(join(ro, "data.txt"), "read me\n");
    const run = await sh(`cat ${ro}/data.txt; echo evil > ${ro}/data.txt; echo ro=$?; echo written > ${rw}/out.txt; echo rw=$?`, {
      mounts: [
        // The target is the granted host path (the same path inside, as on Docker).
        { source: ro, target: ro, readOnly: true },
        { source: rw, target: rw, readOnly: false },
      ],
    });
    expect(run.stdout).toStartWith("read me\nro=1\nrw=0\n");
    expect(statSync(join(rw, "out.txt")).uid).toBe(process.getuid?.() === 0 ? 65534 : (process.getuid?.() ?? -1));
    expect(readFileSync(join(ro, "data.txt"), "utf8")).toBe("read me\n");
    expect(readFileSync(join(rw, "out.txt"), "utf8")).toBe("written\n");
  });

  test("bwrap grants: a grant whose symlink now points elsewhere is refused before anything runs", async () => {
    const decided = join(shared.path, "decided");
    const other = join(shared.path, "other");
    const link = join(shared.path, "link");
    mkdirSync(decided);
    mkdirSync(other);
    symlinkSync(decided, link);
    unlinkSync(link);
    symlinkSync(other, link);
    const error = await failure(sh("echo ran", { mounts: [{ source: decided, target: link, readOnly: true }] }));
    expect(error.code).toBe("denied");
    expect(error.message).toContain("symlink changed");
  });

  test("bwrap grants: a grant uid 65534 cannot reach is refused with the directory to fix", async () => {
    if (process.getuid?.() !== 0) return; // only root starts bwrap as 65534
    const closed = mkdtempSync(join(shared.path, "closed-"));
    Bun.spawnSync(["chmod", "0700", closed]);
    const inner = join(closed, "work");
    mkdirSync(inner);
    const error = await failure(sh("true", { mounts: [{ source: inner, target: inner, readOnly: true }] }));
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain(`${closed} is not searchable`);
    expect(error.hint).toContain(`chmod o+x ${closed}`);
  });

  test("bwrap grants: mount targets over the sandbox's own paths are refused", async () => {
    for (const target of ["/tmp", "/etc/passwd", "/run/secrets", "/bin"]) {
      const error = await failure(sh("true", { mounts: [{ source: shared.path, target, readOnly: true }] }));
      expect(error.code).toBe("bad-input");
    }
  });

  test("bwrap grants: secrets are readable files under /run/secrets, and nothing else is there", async () => {
    const base = join("/dev/shm", `aegisclaw-bwrap-test-secrets-${process.pid}`);
    const runId = `secret-run-${process.pid}`;
    const dir = createSecretDir(runId, new Map([["API_TOKEN", "canary-7f3a"], ["OTHER", "second"]]), base);
    try {
      let hostArgv = "";
      // grep -f reads the value from the file, so no argv in the sandbox holds it; the host side is scanned while it runs.
      const run = await sh("ls -A /run/secrets; cat /run/secrets/API_TOKEN; echo; echo x > /run/secrets/API_TOKEN; echo write=$?; for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done | grep -c -F -f /run/secrets/API_TOKEN; sleep 0.3", {
        secrets: { names: ["API_TOKEN", "OTHER"], source: dir.path },
        onStdout: () => {
          for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
            try {
              hostArgv += `${readFileSync(`/proc/${pid}/cmdline`, "utf8")}\n`;
            } catch {
              // exited meanwhile
            }
          }
        },
      });
      expect(run.stdout).toBe("API_TOKEN\nOTHER\ncanary-7f3a\nwrite=1\n0\n");
      expect(hostArgv).toContain("bwrap");
      expect(hostArgv).not.toContain("canary-7f3a");
    } finally {
      dir.remove();
      rmSync(base, { recursive: true, force: true });
    }
    expect(existsSync(dir.path)).toBe(false);
  });

  test("bwrap grants: a secret directory that no longer holds exactly the granted names is refused", async () => {
    const base = join("/dev/shm", `aegisclaw-bwrap-test-secrets2-${process.pid}`);
    const dir = createSecretDir(`secret-run2-${process.pid}`, new Map([["API_TOKEN", "v"]]), base);
    try {
      const error = await failure(sh("true", { secrets: { names: ["API_TOKEN", "MISSING"], source: dir.path } }));
      expect(error.code).toBe("unavailable");
    } finally {
      dir.remove();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
