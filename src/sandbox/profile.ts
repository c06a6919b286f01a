import { containerOptions, SANDBOX_USER, tmpfsOptions } from "./docker/container-config.ts";
import { SECCOMP_DENIED_SYSCALLS } from "./docker/seccomp-profile.ts";
import { validateLimits } from "./limits.ts";
import type { SandboxLimits, SandboxSpec } from "./types.ts";

/** What a sandbox would get, in words a person checks before approving (`simulate`). */
export interface SandboxProfile {
  runtime: string;
  image: string;
  argv: string[];
  user: string;
  rootFilesystem: "read-only";
  network: string;
  /** tmpfs /tmp plus each granted bind mount (`options` is `ro` or `rw`; `source` the host path). */
  mounts: Array<{ target: string; type: string; options: string; source?: string }>;
  secrets: string[];
  capabilities: string;
  noNewPrivileges: boolean;
  seccomp: string;
  limits: SandboxLimits & { timeoutMs: number };
}

/**
 * Describes the profile from the very create request the Docker runtime would send, so what
 * `simulate` shows cannot drift from what `run` applies. Validates limits like a real run.
 */
export function describeProfile(spec: SandboxSpec, runtime = "docker", ociRuntime?: string): SandboxProfile {
  validateLimits(spec.limits);
  const options = containerOptions(spec, ociRuntime);
  const host = options.HostConfig ?? {};
  const tmpfs = Object.entries(host.Tmpfs ?? { "/tmp": tmpfsOptions(spec.limits.tmpfsBytes) });
  return {
    runtime: ociRuntime ? `${runtime} (${ociRuntime})` : `${runtime} (runc)`,
    image: spec.image,
    argv: spec.argv,
    user: options.User ?? SANDBOX_USER,
    rootFilesystem: "read-only",
    network: host.NetworkMode ?? "none",
    mounts: [
      ...tmpfs.map(([target, mountOptions]) => ({ target, type: "tmpfs", options: mountOptions })),
      ...(host.Mounts ?? []).map((mount) => ({ target: mount.Target, type: mount.Type, options: mount.ReadOnly ? "ro" : "rw", source: mount.Source })),
    ],
    secrets: [],
    capabilities: (host.CapDrop ?? []).includes("ALL") && (host.CapAdd ?? []).length === 0 ? "none (all dropped)" : "SOME",
    noNewPrivileges: (host.SecurityOpt ?? []).includes("no-new-privileges"),
    seccomp: `AegisClaw allow-list profile; ${SECCOMP_DENIED_SYSCALLS.length} dangerous syscalls answer ENOSYS`,
    limits: { ...spec.limits, timeoutMs: spec.timeoutMs },
  };
}
