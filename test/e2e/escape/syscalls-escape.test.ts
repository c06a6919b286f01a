/**
 * Escape attempts through syscalls, run by `aegisclaw run` (compiled binary) in the real
 * hardened container, under runc and under gVisor. Under runc, AegisClaw's seccomp profile
 * answers its deny list with ENOSYS (38, "Function not implemented"), which proves that profile
 * (not Docker's default, not none) is in force; syscalls outside its allow-list and
 * capability checks answer EPERM (1). runsc 2022-12 applies the same profile (--oci-seccomp)
 * but ignores errnoRet, so under gVisor the denied calls answer EPERM.
 * Syscalls busybox has no applet for are issued by tiny static programs (support.ts), granted
 * read-only; each exits with the call's errno, or 0 had the call worked.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { tempHome, useCompiledBinary } from "../../helpers/cli.ts";
import { requireDocker } from "../../helpers/docker.ts";
import { requireGvisor } from "../../sandbox/gvisor-support.ts";
import { type Attempt, batchResults, batchScript, expectFailed } from "./attempts.ts";
import { aegis, cString, ERRNO, programDirectory, struct, syscallProgram, type SyscallArg } from "./support.ts";

useCompiledBinary();

const ENOSYS = /Function not implemented/;
const EPERM = /Operation not permitted/;

/** Busybox applets that reach for an escape syscall. */
const APPLETS: Attempt[] = [
  { id: "mount-tmpfs", tries: "mount(2) a tmpfs", command: "mount -t tmpfs none /tmp", docker: { exit: 255, output: ENOSYS }, gvisor: { exit: 1, output: /permission denied \(are you root\?\)/ } },
  { id: "unshare-user", tries: "unshare(CLONE_NEWUSER): become root in a new user namespace", command: "unshare -U true", docker: { exit: 1, output: ENOSYS }, gvisor: { exit: 1, output: EPERM } },
  { id: "unshare-mount", tries: "unshare(CLONE_NEWNS): a private mount namespace", command: "unshare -m true", docker: { exit: 1, output: ENOSYS }, gvisor: { exit: 1, output: EPERM } },
  { id: "unshare-net", tries: "unshare(CLONE_NEWNET): a network namespace of its own", command: "unshare -n true", docker: { exit: 1, output: ENOSYS }, gvisor: { exit: 1, output: EPERM } },
  // gVisor has no /proc/PID/ns files at all, so nsenter fails one step earlier there.
  { id: "setns-pid1", tries: "setns(2) into pid 1's mount namespace (nsenter)", command: "nsenter -t 1 -m true", docker: { exit: 1, output: /setns\(\): can't reassociate to namespace 'mnt': Function not implemented/ }, gvisor: { exit: 1, output: /can't open '\/proc\/1\/ns\/mnt': No such file or directory/ } },
  { id: "chroot", tries: "chroot(2)", command: "chroot / true", docker: { exit: 1, output: ENOSYS }, gvisor: { exit: 1, output: EPERM } },
  { id: "pivot-root", tries: "pivot_root(2)", command: "pivot_root /tmp /tmp", docker: { exit: 1, output: ENOSYS }, gvisor: { exit: 1, output: EPERM } },
  { id: "swapon", tries: "swapon(2) a file", command: "echo x > /tmp/swap; swapon /tmp/swap", docker: { exit: 1, output: ENOSYS }, gvisor: { exit: 1, output: EPERM } },
  { id: "reboot", tries: "reboot(2) the machine", command: "reboot -f", docker: { exit: 1, output: ENOSYS }, gvisor: { exit: 1, output: EPERM } },
  // busybox date prints the date it wanted even when setting it failed: the year check is the proof.
  { id: "set-clock", tries: "clock_settime(2): set the host's clock", command: `date -s "2020-01-01 00:00:00" > /dev/null; [ "$(date +%Y)" = 2020 ]`, docker: { exit: 1, output: /can't set date: Function not implemented/ }, gvisor: { exit: 1, output: /can't set date: Operation not permitted/ } },
  { id: "adjtimex", tries: "clock_adjtime(2): slew the host's clock", command: "adjtimex -o 10", docker: { exit: 1, output: ENOSYS }, gvisor: { exit: 1, output: EPERM } },
  { id: "insmod", tries: "init_module(2): load a kernel module (insmod)", command: "echo x > /tmp/evil.ko; insmod /tmp/evil.ko", docker: { exit: 38, output: /can't insert '\/tmp\/evil.ko': kernel does not support requested operation/ }, gvisor: { exit: 1, output: EPERM } },
  { id: "raw-socket-ping", tries: "a raw ICMP socket (ping 127.0.0.1)", command: "ping -c 1 -W 1 127.0.0.1", docker: { exit: 1, output: /ping: permission denied \(are you root\?\)/ }, gvisor: { exit: 1, output: /ping: permission denied \(are you root\?\)/ } },
  { id: "packet-socket-arping", tries: "an AF_PACKET socket (arping)", command: "arping -c 1 -I lo 127.0.0.1", docker: { exit: 1, output: /arping: socket: Operation not permitted/ }, gvisor: { exit: 1, output: /arping: socket: Operation not permitted/ } },
  { id: "sethostname", tries: "sethostname(2)", command: "hostname evil", docker: { exit: 1, output: /sethostname: Operation not permitted/ }, gvisor: { exit: 1, output: /sethostname: Operation not permitted/ } },
  { id: "syslog-dmesg", tries: "syslog(2): read the kernel log (dmesg)", command: "dmesg", docker: { exit: 1, output: /klogctl: Function not implemented/ }, gvisor: { exit: 1, output: /klogctl: Operation not permitted/ } },
];

interface ProgramAttempt {
  id: string;
  tries: string;
  syscall: number;
  args: SyscallArg[];
  /** The errno under runc; under gVisor every one of these answers EPERM. */
  docker: number;
}

const iovec = struct(16, [[0, 8, 0x400000], [8, 8, 8]]);

/** Raw syscalls (x86_64 numbers) with realistic arguments: had the filter let them through, most would work. */
const PROGRAMS: ProgramAttempt[] = [
  { id: "ptrace-attach-pid1", tries: "ptrace(PTRACE_ATTACH) another process (pid 1)", syscall: 101, args: [16, 1, 0, 0], docker: ERRNO.ENOSYS },
  { id: "process-vm-readv-pid1", tries: "process_vm_readv(2): read another process's memory (pid 1)", syscall: 310, args: [1, iovec, 1, iovec, 1, 0], docker: ERRNO.ENOSYS },
  { id: "keyctl-session", tries: "keyctl(KEYCTL_JOIN_SESSION_KEYRING): the kernel keyring", syscall: 250, args: [1, 0], docker: ERRNO.ENOSYS },
  { id: "add-key", tries: "add_key(2): store a key in the kernel keyring", syscall: 248, args: [cString("user"), cString("aegisclaw-escape"), cString("x"), 1, -2], docker: ERRNO.ENOSYS },
  { id: "bpf-map-create", tries: "bpf(BPF_MAP_CREATE)", syscall: 321, args: [0, struct(72, [[0, 4, 1], [4, 4, 4], [8, 4, 4], [12, 4, 1]]), 72], docker: ERRNO.ENOSYS },
  { id: "perf-event-open", tries: "perf_event_open(2) on a software clock", syscall: 298, args: [struct(64, [[0, 4, 1], [4, 4, 64]]), 0, -1, -1, 0], docker: ERRNO.ENOSYS },
  { id: "finit-module", tries: "finit_module(2): load a kernel module from a file descriptor", syscall: 313, args: [0, cString(""), 0], docker: ERRNO.ENOSYS },
  { id: "kexec-load", tries: "kexec_load(2): boot another kernel", syscall: 246, args: [0, 0, 0, 0], docker: ERRNO.ENOSYS },
  { id: "open-by-handle-at", tries: "open_by_handle_at(2) (the 'shocker' escape)", syscall: 304, args: [0, struct(16, [[0, 4, 8], [4, 4, 1], [8, 4, 2]]), 0], docker: ERRNO.ENOSYS },
  { id: "userfaultfd", tries: "userfaultfd(2) (kernel exploit primitive)", syscall: 323, args: [0], docker: ERRNO.ENOSYS },
  { id: "io-uring-setup", tries: "io_uring_setup(2) (bypasses seccomp for its operations)", syscall: 425, args: [1, struct(120, [])], docker: ERRNO.ENOSYS },
  { id: "fsopen", tries: "fsopen(2): the new mount API", syscall: 430, args: [cString("tmpfs"), 0], docker: ERRNO.ENOSYS },
  { id: "open-tree", tries: "open_tree(2): clone a mount", syscall: 428, args: [-100, cString("/"), 1], docker: ERRNO.ENOSYS },
  { id: "iopl", tries: "iopl(3): raw I/O port access", syscall: 172, args: [3], docker: ERRNO.ENOSYS },
  { id: "ioperm", tries: "ioperm(2) on port 0x80", syscall: 173, args: [0x80, 1, 1], docker: ERRNO.ENOSYS },
  { id: "acct", tries: "acct(2): process accounting to a file", syscall: 163, args: [cString("/tmp/acct")], docker: ERRNO.ENOSYS },
  // clone is allowed only without namespace flags; the mismatch falls to the default action, EPERM.
  { id: "clone-newuser", tries: "clone(CLONE_NEWUSER) directly, not via unshare", syscall: 56, args: [0x10000000 | 17, 0, 0, 0, 0], docker: ERRNO.EPERM },
  // socket() is allowed for AF_UNIX/INET/INET6/NETLINK only.
  { id: "socket-vsock", tries: "an AF_VSOCK socket (talk to the hypervisor)", syscall: 41, args: [40, 1, 0], docker: ERRNO.EPERM },
];

/** Each program run as an attempt of the batch; its exit status is the syscall's errno. */
function programAttempts(dir: string): Attempt[] {
  return PROGRAMS.map((program) => ({ id: program.id, tries: program.tries, command: `${dir}/${program.id}`, docker: { exit: program.docker }, gvisor: { exit: ERRNO.EPERM } }));
}

for (const runtime of ["docker", "gvisor"] as const) {
  describe(`syscall escapes (compiled binary, ${runtime})`, () => {
    let results: ReturnType<typeof batchResults>;
    let stdout = "";
    beforeAll(async () => {
      await (runtime === "gvisor" ? requireGvisor() : requireDocker());
      const home = tempHome();
      expect((await aegis(home, ["init", "--yes", "--template", "permissive"])).exitCode).toBe(0);
      const dir = programDirectory({ ...Object.fromEntries(PROGRAMS.map((p) => [p.id, syscallProgram(p.syscall, p.args)])), control: syscallProgram(39) });
      // The control program (getpid) proves the programs run at all: exit 0 is success.
      const script = `${dir}/control; echo "control=$?|"\n${batchScript([...APPLETS, ...programAttempts(dir)])}`;
      const run = await aegis(home, ["run", "--runtime", runtime, "--scope", `files.read:${dir}`, "--", "sh", "-c", script]);
      expect(run.stderr).toBe("");
      expect(run.exitCode).toBe(0);
      stdout = run.stdout;
      results = batchResults(run.stdout);
      expect(results.get("control")?.exit).toBe(0);
    }, 120_000);

    test(`${runtime}: every attempt printed an outcome`, () => {
      expect([...results.keys()].sort()).toEqual(["control", ...APPLETS.map((a) => a.id), ...PROGRAMS.map((p) => p.id)].sort());
      expect(stdout).not.toContain("Segmentation fault");
    });

    for (const attempt of APPLETS) {
      test(`${runtime}: ${attempt.tries} fails`, () => {
        const expected = runtime === "gvisor" ? attempt.gvisor : attempt.docker;
        if (!expected) throw new Error(`${attempt.id} has no ${runtime} expectation`);
        expectFailed(results, attempt.id, expected);
      });
    }

    for (const program of PROGRAMS) {
      const errno = runtime === "gvisor" ? ERRNO.EPERM : program.docker;
      test(`${runtime}: ${program.tries} fails with ${errno === ERRNO.EPERM ? "EPERM" : "ENOSYS"}`, () => {
        expectFailed(results, program.id, { exit: errno });
      });
    }
  });
}
