/**
 * The bwrap command line of one run: the same scope semantics as the Docker runtime's
 * container-config.ts, expressed as bwrap operations. What must not or cannot be named by
 * path is handed over as inherited file descriptors: the granted mounts' sources, pinned by the
 * runner (mount-pin.ts) and numbered from FIRST_MOUNT_FD in the order of `spec.mounts`, then the
 * data (the seccomp filter, /etc files, secret values) in the order of `dataFiles`.
 */
import { AegisError } from "../../shared/index.ts";
import { SECRETS_TARGET, type SandboxMount, type SandboxSpec } from "../types.ts";
import { ROOTFS_PATH, type BaseRootfs } from "./rootfs.ts";

/** fd 3 is the join wrapper's status pipe; the seccomp filter is fd 4; the pinned mounts, then the data files follow. */
export const SECCOMP_FD = 4;
export const FIRST_MOUNT_FD = 5;
/** The sandbox user and group, as on Docker (nobody:nogroup). */
export const SANDBOX_ID = 65534;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NORMALIZED_ABSOLUTE = /^(\/[^/\0]+)+$/;
const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

/** The argv after `bwrap`, and the host files whose descriptors it refers to. */
export interface BwrapInvocation {
  args: string[];
  /** Opened read-only by the runner and passed as the fds after the mounts' (FIRST_MOUNT_FD + number of mounts, ...). */
  dataFiles: string[];
}

/**
 * Builds the invocation. Mount and env values were validated by the Gate; they are checked
 * again here because a malformed one would change what bwrap does (e.g. a target of /tmp).
 */
export function bwrapInvocation(spec: SandboxSpec, rootfs: BaseRootfs): BwrapInvocation {
  if (spec.argv.length === 0) throw new AegisError("bad-input", "sandbox argv is empty; give the command to run");
  const mounts = spec.mounts ?? [];
  const dataFiles: string[] = [];
  const data = (source: string) => String(FIRST_MOUNT_FD + mounts.length + dataFiles.push(source) - 1);
  const args = [
    // Every namespace (user, mount, pid, ipc, uts, net, cgroup): the network namespace has only lo.
    "--unshare-all",
    "--die-with-parent",
    // setsid: no controlling terminal to push input into (TIOCSTI).
    "--new-session",
    "--cap-drop", "ALL",
    "--uid", String(SANDBOX_ID),
    "--gid", String(SANDBOX_ID),
    "--hostname", "sandbox",
    // The root is bwrap's own empty tmpfs; the image is bound into it and / is made read-only last.
    "--ro-bind", rootfs.busybox, "/bin/busybox",
    ...rootfs.applets.flatMap((applet) => ["--symlink", "busybox", `/bin/${applet}`]),
    ...rootfs.files.flatMap((file) => ["--perms", "0444", "--ro-bind-data", data(file.source), file.target]),
    "--dir", "/work",
    "--proc", "/proc",
    // A minimal /dev (null, zero, full, random, urandom, tty, pts); its tmpfs is made read-only
    // so /tmp stays the only writable place, with its size limit.
    "--dev", "/dev",
    "--remount-ro", "/dev",
    "--perms", "1777", "--size", String(spec.limits.tmpfsBytes), "--tmpfs", "/tmp",
    ...mountArgs(mounts),
    ...secretArgs(spec, data),
    "--remount-ro", "/",
    "--chdir", "/tmp",
    "--clearenv",
    "--setenv", "PATH", ROOTFS_PATH,
    ...envArgs(spec.env ?? {}),
    "--seccomp", String(SECCOMP_FD),
    "--",
    ...spec.argv,
  ];
  return { args, dataFiles };
}

/**
 * files.read -> --ro-bind-fd, files.write -> --bind-fd, from each source's pinned fd. bwrap
 * mounts where the fd leads now (a rename since the pin is followed) and dies ("Race condition
 * binding dirfd") before running anything when the mount is not the fd's inode. Targets unique
 * and never over our own mounts.
 */
function mountArgs(mounts: readonly SandboxMount[]): string[] {
  const targets = new Set<string>();
  return mounts.flatMap((mount, index) => {
    for (const path of [mount.source, mount.target]) {
      if (!NORMALIZED_ABSOLUTE.test(path) || path.split("/").some((part) => part === "." || part === "..")) {
        throw new AegisError("bad-input", `sandbox mount path "${path}" must be absolute and normalized`);
      }
    }
    const reserved = ["/tmp", "/proc", "/dev", "/bin", "/etc", SECRETS_TARGET];
    if (reserved.some((path) => mount.target === path || mount.target.startsWith(`${path}/`) || path.startsWith(`${mount.target}/`))) {
      throw new AegisError("bad-input", `sandbox mount target ${mount.target} would cover the sandbox's own ${reserved.find((p) => mount.target === p || mount.target.startsWith(`${p}/`) || p.startsWith(`${mount.target}/`))}`);
    }
    if (targets.has(mount.target)) throw new AegisError("bad-input", `sandbox mount target ${mount.target} is given twice`);
    targets.add(mount.target);
    return [mount.readOnly ? "--ro-bind-fd" : "--bind-fd", String(FIRST_MOUNT_FD + index), mount.target];
  });
}

/** One read-only copy per granted secret under /run/secrets, read from an fd: never a path or a value in argv. */
function secretArgs(spec: SandboxSpec, data: (source: string) => string): string[] {
  const secrets = spec.secrets;
  if (!secrets || secrets.names.length === 0) return [];
  if (!secrets.source) throw new AegisError("internal", "secrets were granted but their directory was not prepared before the sandbox");
  return [...secrets.names].sort().flatMap((name) => {
    if (!SECRET_NAME.test(name)) throw new AegisError("bad-input", "a secret name is not a valid file name", { hint: "names are like GITHUB_TOKEN" });
    return ["--perms", "0444", "--ro-bind-data", data(`${secrets.source}/${name}`), `${SECRETS_TARGET}/${name}`];
  });
}

function envArgs(env: Record<string, string>): string[] {
  return Object.entries(env).flatMap(([name, value]) => {
    // PATH is ours; a name with "=" would smuggle a second variable.
    if (!ENV_NAME.test(name) || name === "PATH") throw new AegisError("bad-input", `sandbox env name "${name}" is not allowed`);
    return ["--setenv", name, value];
  });
}
