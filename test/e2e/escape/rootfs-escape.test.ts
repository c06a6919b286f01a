/**
 * Escape attempts against the sandbox's filesystem view: the read-only root, the kernel's
 * /proc and /sys knobs, setuid, device nodes, hard links out of a grant, the Docker socket
 * and host processes. Run by `aegisclaw run` (compiled binary) under runc and gVisor; under
 * gVisor the same attempts fail with gVisor's own answers (its VFS checks permissions first).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempHome, useCompiledBinary } from "../../helpers/cli.ts";
import { requireDocker } from "../../helpers/docker.ts";
import { tempDir } from "../../helpers/temp-home.ts";
import { requireGvisor } from "../../sandbox/gvisor-support.ts";
import { type Attempt, batchResults, batchScript, expectFailed } from "./attempts.ts";
import { aegis, syscallProgram } from "./support.ts";

useCompiledBinary();

const EROFS = /Read-only file system/;
const EACCES = /Permission denied/;
const ENOENT = /No such file or directory/;

/** The attempts; `ro` is a read-only grant holding note.txt and suid, `rw` a writable one. */
function attempts(ro: string, rw: string): Array<Attempt & { gvisorFinding?: string }> {
  return [
    { id: "write-root", tries: "create a file in /", command: "touch /pwned", docker: { exit: 1, output: EROFS }, gvisor: { exit: 1, output: EACCES } },
    { id: "add-root-user", tries: "append a root user to /etc/passwd", command: "echo 'evil::0:0::/:/bin/sh' >> /etc/passwd", docker: { exit: 1, output: /can't create \/etc\/passwd: Permission denied/ }, gvisor: { exit: 1, output: /can't create \/etc\/passwd: Permission denied/ } },
    { id: "replace-bin-sh", tries: "replace /bin/sh", command: "cp /bin/busybox /bin/sh", docker: { exit: 1, output: /can't create '\/bin\/sh': Read-only file system/ }, gvisor: { exit: 1, output: /can't create '\/bin\/sh': Permission denied/ } },
    { id: "core-pattern", tries: "set /proc/sys/kernel/core_pattern (host code execution on a crash)", command: "echo '|/tmp/x' > /proc/sys/kernel/core_pattern", docker: { exit: 1, output: EROFS }, gvisor: { exit: 1, output: EACCES } },
    { id: "proc-sys-net", tries: "enable IP forwarding in /proc/sys/net", command: "echo 1 > /proc/sys/net/ipv4/ip_forward", docker: { exit: 1, output: EROFS }, gvisor: { exit: 1, output: EACCES } },
    // This host kernel has no magic SysRq (no /proc/sysrq-trigger); where it exists Docker mounts it read-only.
    { id: "sysrq-trigger", tries: "crash/reboot the host via /proc/sysrq-trigger", command: "echo b > /proc/sysrq-trigger", docker: { exit: 1, output: /Read-only file system|can't create \/proc\/sysrq-trigger: nonexistent directory/ }, gvisor: { exit: 1, output: EACCES } },
    { id: "uevent-helper", tries: "set /sys/kernel/uevent_helper (host code execution on a uevent)", command: "echo /tmp/x > /sys/kernel/uevent_helper", docker: { exit: 1, output: EROFS }, gvisor: { exit: 1, output: EACCES } },
    // CVE-2022-0492: a writable cgroup v1 release_agent runs a program as root on the host.
    { id: "cgroup-release-agent", tries: "set a cgroup release_agent (CVE-2022-0492)", command: "echo /tmp/x > /sys/fs/cgroup/memory/release_agent", docker: { exit: 1, output: EROFS }, gvisor: { exit: 1, output: /nonexistent directory/ } },
    { id: "raise-pids-limit", tries: "raise its own pids.max", command: "echo max > /sys/fs/cgroup/pids/pids.max", docker: { exit: 1, output: EROFS }, gvisor: { exit: 1, output: /nonexistent directory/ } },
    // The sandbox sees the setuid-root bit (4755:0); the program calls setuid(0), which works only if
    // the bit took effect; no-new-privileges ignores it, so the call fails with EPERM (exit 1).
    { id: "setuid-root-binary", tries: "run a setuid-root program from a grant, then setuid(0)", command: `stat -c %a:%u ${ro}/suid && ${ro}/suid`, docker: { exit: 1, output: /^4755:0$/ }, gvisor: { exit: 1, output: /^4755:0$/ } },
    { id: "setuid-in-image", tries: "find a setuid/setgid binary in the image", command: `found=$(find / -xdev \\( -perm -4000 -o -perm -2000 \\) 2>/dev/null); echo "$found"; [ -n "$found" ]`, docker: { exit: 1, output: /^$/ }, gvisor: { exit: 1, output: /^$/ } },
    { id: "su-root", tries: "su to root", command: "su root -c id", docker: { exit: 1, output: /su: must be suid to work properly/ }, gvisor: { exit: 1, output: /su: must be suid to work properly/ } },
    {
      id: "mknod-device",
      tries: "create a device node (mknod c 1 3)",
      command: "mknod /tmp/null-node c 1 3",
      docker: { exit: 1, output: /mknod: \/tmp\/null-node: Operation not permitted/ },
      // Found by this suite: runsc let a process without CAP_MKNOD create device nodes; the
      // seccomp profile now refuses device types to mknod/mknodat under every runtime.
      gvisor: { exit: 1, output: /mknod: \/tmp\/null-node: Operation not permitted/ },
    },
    { id: "mknod-read-mem", tries: "read host memory through a new /dev/mem node (mknod c 1 1)", command: "mknod /tmp/mem c 1 1 && head -c 16 /tmp/mem > /tmp/mem.out", docker: { exit: 1, output: /mknod: \/tmp\/mem: Operation not permitted/ }, gvisor: { exit: 1, output: /mknod: \/tmp\/mem: Operation not permitted/ } },
    { id: "dev-mem", tries: "read /dev/mem (devmem)", command: "devmem 0x1000", docker: { exit: 1, output: /can't open '\/dev\/mem': No such file or directory/ }, gvisor: { exit: 1, output: /can't open '\/dev\/mem': No such file or directory/ } },
    { id: "dev-kmsg", tries: "read /dev/kmsg", command: "cat /dev/kmsg", docker: { exit: 1, output: /can't open '\/dev\/kmsg': No such file or directory/ }, gvisor: { exit: 1, output: /can't open '\/dev\/kmsg': No such file or directory/ } },
    // A hard link would make the read-only file writable through the writable grant (same inode).
    { id: "hardlink-out-of-readonly-grant", tries: "hard-link a read-only grant's file into a writable grant", command: `ln ${ro}/note.txt ${rw}/note-link`, docker: { exit: 1, output: /Invalid cross-device link/ }, gvisor: { exit: 1, output: /Invalid cross-device link/ } },
    { id: "hardlink-image-file", tries: "hard-link the image's /etc/passwd into a writable grant", command: `ln /etc/passwd ${rw}/passwd-link`, docker: { exit: 1, output: /Invalid cross-device link/ }, gvisor: { exit: 1, output: /Invalid cross-device link/ } },
    { id: "docker-socket", tries: "find the Docker socket in the sandbox", command: "ls -l /var/run/docker.sock /run/docker.sock", docker: { exit: 1, output: /\/var\/run\/docker.sock: No such file or directory.*\/run\/docker.sock: No such file or directory/ }, gvisor: { exit: 1, output: /\/var\/run\/docker.sock: No such file or directory.*\/run\/docker.sock: No such file or directory/ } },
    { id: "proc-1-root", tries: "read /etc/shadow through /proc/1/root", command: "cat /proc/1/root/etc/shadow", docker: { exit: 1, output: ENOENT }, gvisor: { exit: 1, output: EACCES } },
    { id: "host-process", tries: "see a host process (the test runner) in /proc", command: `ls /proc/${process.pid}/`, docker: { exit: 1, output: ENOENT }, gvisor: { exit: 1, output: ENOENT } },
  ];
}

for (const runtime of ["docker", "gvisor"] as const) {
  describe(`rootfs escapes (compiled binary, ${runtime})`, () => {
    let results: ReturnType<typeof batchResults>;
    let list: ReturnType<typeof attempts> = attempts("", "");
    let rw = "";
    beforeAll(async () => {
      await (runtime === "gvisor" ? requireGvisor() : requireDocker());
      const home = tempHome();
      expect((await aegis(home, ["init", "--yes", "--template", "permissive"])).exitCode).toBe(0);
      const base = realpathSync(tempDir());
      const ro = join(base, "ro");
      rw = join(base, "rw");
      mkdirSync(ro, { mode: 0o755 });
      mkdirSync(rw);
      chmodSync(rw, 0o777);
      writeFileSync(join(ro, "note.txt"), "read-only\n");
      // Owned by root (the tests run as root), setuid: calls setuid(0) and exits with its errno.
      writeFileSync(join(ro, "suid"), syscallProgram(105, [0]));
      chmodSync(join(ro, "suid"), 0o4755);
      list = attempts(ro, rw);
      const run = await aegis(home, ["run", "--runtime", runtime, "--scope", `files.read:${ro}`, "--scope", `files.write:${rw}`, "--", "sh", "-c", batchScript(list)]);
      expect(run.stderr).toBe("");
      expect(run.exitCode).toBe(0);
      results = batchResults(run.stdout);
    }, 120_000);

    test(`${runtime}: every attempt printed an outcome and left nothing in the writable grant`, () => {
      expect([...results.keys()].sort()).toEqual(list.map((a) => a.id).sort());
      expect(existsSync(join(rw, "note-link"))).toBe(false);
      expect(existsSync(join(rw, "passwd-link"))).toBe(false);
    });

    for (const attempt of attempts("", "")) {
      if (runtime === "gvisor" && attempt.gvisorFinding) {
        // KNOWN FINDING (reported): this attempt succeeds under gVisor. test.failing passes while it
        // does; once runsc refuses it this test fails, and it becomes a plain test.
        test.failing(`${runtime}: ${attempt.tries} fails [KNOWN FINDING: ${attempt.gvisorFinding}]`, () => {
          expectFailed(results, attempt.id, attempt.docker);
        });
        continue;
      }
      test(`${runtime}: ${attempt.tries} fails`, () => {
        const expected = runtime === "gvisor" ? attempt.gvisor : attempt.docker;
        if (!expected) throw new Error(`${attempt.id} has no ${runtime} expectation`);
        expectFailed(results, attempt.id, expected);
      });
    }
  });
}
