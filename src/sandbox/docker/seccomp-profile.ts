/**
 * AegisClaw's seccomp profile, applied to every Docker sandbox.
 *
 * A custom profile REPLACES Docker's built-in default rather than adding to it, so this is a
 * complete allow-list written in the spirit of moby's default: unknown syscalls fail with
 * EPERM, normal userland (files, memory, signals, threads, timers, pipes, local sockets) works.
 * On top of that, syscalls that are escape or kernel-attack surface are listed explicitly with
 * ENOSYS (38). The distinct errno is deliberate: "Function not implemented" from `unshare` or
 * `mount` proves this profile is in force (Docker's default would say EPERM, and unconfined
 * would succeed). The profile lives in TypeScript so `bun build --compile` embeds it.
 *
 * Choices beyond moby's default (see docs/sandbox.md):
 * - only x86_64 and aarch64 are listed, so 32-bit compat syscalls (int 0x80) are killed;
 * - io_uring is denied (it bypasses seccomp for the operations it submits);
 * - `socket` is limited to AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK (no AF_VSOCK, AF_PACKET...);
 * - name_to_handle_at, fanotify, kcmp, pidfd_getfd and the new mount API are denied;
 * - mknod/mknodat may create FIFOs, sockets and regular files only, never device nodes: runc
 *   refuses those for want of CAP_MKNOD, but gVisor did not (escape suite, mknod-device).
 */

/** ENOSYS: what the explicit deny list returns, so tests can tell our profile apart. */
export const SECCOMP_DENY_ERRNO = 38;

/** Namespace flags of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** Syscalls a normal program needs; none of them grants more than the container's own rights. */
const ALLOWED = [
  // files and directories
  "access", "faccessat", "faccessat2", "chdir", "fchdir", "chmod", "fchmod", "fchmodat", "chown", "fchown",
  "fchownat", "lchown", "close", "close_range", "creat", "dup", "dup2", "dup3", "fcntl", "fdatasync", "fsync",
  "syncfs", "sync", "sync_file_range", "flock", "fadvise64", "fallocate", "ftruncate", "truncate", "getcwd",
  "getdents", "getdents64", "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "mkdir", "mkdirat",
  "rmdir", "rename", "renameat", "renameat2", "open", "openat", "openat2", "lseek",
  "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev", "pwritev2",
  "readlink", "readlinkat", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "umask",
  "utime", "utimes", "utimensat", "futimesat", "copy_file_range", "sendfile", "splice", "tee", "vmsplice",
  "readahead", "getxattr", "fgetxattr", "lgetxattr", "listxattr", "flistxattr", "llistxattr", "setxattr",
  "fsetxattr", "lsetxattr", "removexattr", "fremovexattr", "lremovexattr", "inotify_init", "inotify_init1",
  "inotify_add_watch", "inotify_rm_watch", "ioctl",
  // memory
  "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock", "mlock2", "mlockall",
  "munlock", "munlockall", "membarrier", "memfd_create", "pkey_alloc", "pkey_free", "pkey_mprotect",
  // processes, threads, identity (no capabilities remain, so set*id can only drop)
  "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "kill", "tkill", "tgkill",
  "getpid", "getppid", "gettid", "getpgid", "getpgrp", "setpgid", "getsid", "setsid", "getuid", "geteuid",
  "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid", "setgid", "setreuid", "setregid",
  "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups", "capget", "capset", "prctl", "arch_prctl",
  "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "futex", "futex_waitv", "getrlimit",
  "setrlimit", "prlimit64", "getrusage", "getpriority", "setpriority", "ioprio_get", "ioprio_set",
  "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
  "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
  "sched_get_priority_min", "sched_rr_get_interval", "pidfd_open", "pidfd_send_signal", "seccomp",
  "get_thread_area", "set_thread_area", "uname", "sysinfo", "getcpu", "getrandom", "restart_syscall",
  // signals
  "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait",
  "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4", "pause",
  // time and timers (reading only; setting the clock is not allowed)
  "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time", "times",
  "adjtimex", "alarm", "getitimer", "setitimer", "timer_create", "timer_delete", "timer_getoverrun",
  "timer_gettime", "timer_settime", "timerfd_create", "timerfd_gettime", "timerfd_settime",
  // waiting and events
  "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
  "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "pipe", "pipe2",
  // System V / POSIX IPC (private to the container's IPC namespace) and Linux AIO
  "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl", "shmget", "shmat",
  "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
  "mq_getsetattr", "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
  // sockets (the network namespace has only `lo`; `socket` itself is filtered by family below)
  "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername", "getsockopt",
  "setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
];

/**
 * Escape and kernel-attack surface, answered with ENOSYS. Most also need capabilities we drop,
 * but seccomp stops them before the kernel parses their arguments. clone3 is here because its
 * flags live in memory seccomp cannot inspect; ENOSYS makes libc fall back to the filtered clone.
 */
const DENIED = [
  "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
  "mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
  "fsmount", "fspick", "mount_setattr", "unshare", "setns", "clone3",
  "keyctl", "add_key", "request_key",
  "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
  "init_module", "finit_module", "delete_module", "create_module", "kexec_load", "kexec_file_load",
  "open_by_handle_at", "name_to_handle_at", "fanotify_init", "fanotify_mark",
  "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "settimeofday", "clock_settime",
  "clock_adjtime", "iopl", "ioperm", "modify_ldt", "uselib", "ustat", "sysfs", "_sysctl", "vhangup",
  "lookup_dcookie", "nfsservctl",
];

/** mknod's file-type bits (S_IFMT) and the types it may create: regular file (0 or S_IFREG), FIFO, socket. */
const S_IFMT = 0o170000;
const MKNOD_TYPES = [0, 0o100000, 0o010000, 0o140000];

/** Address families `socket` may create: AF_UNIX, AF_INET, AF_INET6, AF_NETLINK. */
const SOCKET_FAMILIES = [1, 2, 10, 16];

/** personality(2) values moby allows: PER_LINUX, PER_LINUX32, UNAME26 variants and the query value. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/** The seccomp profile in Docker's JSON format (passed as text in `SecurityOpt`). */
export const SECCOMP_PROFILE = {
  defaultAction: "SCMP_ACT_ERRNO",
  architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
  syscalls: [
    { names: ALLOWED, action: "SCMP_ACT_ALLOW" },
    // clone is allowed only without namespace flags: (flags & CLONE_NAMESPACE_FLAGS) == 0.
    { names: ["clone"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }] },
    ...SOCKET_FAMILIES.map((family) => ({
      names: ["socket"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: family, valueTwo: 0, op: "SCMP_CMP_EQ" }],
    })),
    // The mode is mknod's second argument and mknodat's third; a device type falls to the default (EPERM).
    ...MKNOD_TYPES.flatMap((type) => [
      { names: ["mknod"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, value: S_IFMT, valueTwo: type, op: "SCMP_CMP_MASKED_EQ" }] },
      { names: ["mknodat"], action: "SCMP_ACT_ALLOW", args: [{ index: 2, value: S_IFMT, valueTwo: type, op: "SCMP_CMP_MASKED_EQ" }] },
    ]),
    ...PERSONALITIES.map((persona) => ({
      names: ["personality"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: persona, valueTwo: 0, op: "SCMP_CMP_EQ" }],
    })),
    { names: DENIED, action: "SCMP_ACT_ERRNO", errnoRet: SECCOMP_DENY_ERRNO },
  ],
} as const;

/** The syscalls answered with ENOSYS, for doctor/posture output and tests. */
export const SECCOMP_DENIED_SYSCALLS: readonly string[] = DENIED;

/** The profile as the JSON text Docker's API expects after `seccomp=`. */
export const SECCOMP_PROFILE_JSON = JSON.stringify(SECCOMP_PROFILE);
