import { containerOptions, SANDBOX_USER, tmpfsOptions } from "./docker/container-config.ts";
import { SECCOMP_DENIED_SYSCALLS } from "./docker/seccomp-profile.ts";
import { EGRESS_GATEWAY, EGRESS_NETWORK, EGRESS_PROXY_PORTS } from "./egress/network.ts";
import type { EgressAttachment } from "./egress/session.ts";
import { validateLimits } from "./limits.ts";
import { plannedSecretDir, serviceSecretId } from "./secret-dir.ts";
import { SECRETS_TARGET, type SandboxLimits, type SandboxSidecar, type SandboxSpec } from "./types.ts";

/** What a sandbox would get, in words a person checks before approving (`simulate`). */
export interface SandboxProfile {
  runtime: string;
  image: string;
  argv: string[];
  user: string;
  rootFilesystem: "read-only";
  /** `none`, or the egress network with the hosts the proxy admits. */
  network: string;
  /** Present when the run is granted net.outbound: the only way out, and what it lets through. */
  egress?: { network: string; proxy: string; allow: string[]; dns: string };
  /** Multi-container runs: the services started beside this one, each with its own command, mounts, hosts and secrets (same hardening). */
  services?: Array<{ name: string; argv: string[]; mounts: Array<{ target: string; type: string; options: string; source?: string }>; egress?: string[]; secrets?: string[] }>;
  /** tmpfs /tmp plus each granted bind mount (`options` is `ro` or `rw`; `source` the host path), and `/run/secrets` when secrets are granted. */
  mounts: Array<{ target: string; type: string; options: string; source?: string }>;
  /** Names of the secrets delivered as files in /run/secrets (never values). */
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
  if (runtime === "bwrap") return describeBwrapProfile(spec);
  // The run's proxy port is chosen when it starts; the plan shows the network as it will be.
  const planned: EgressAttachment | undefined = spec.egress
    ? { network: EGRESS_NETWORK, networkId: "", gateway: EGRESS_GATEWAY, proxyUrl: `http://${EGRESS_GATEWAY}:${EGRESS_PROXY_PORTS.first}` }
    : undefined;
  // Likewise the secret directory is written only after the decision; the plan shows where.
  const secrets = spec.secrets ? { ...spec.secrets, source: spec.secrets.source ?? plannedSecretDir(spec.runId) } : undefined;
  const options = containerOptions({ ...spec, ...(secrets ? { secrets } : {}) }, ociRuntime, planned);
  const host = options.HostConfig ?? {};
  const allow = spec.egress?.allow ?? [];
  const tmpfs = Object.entries(host.Tmpfs ?? { "/tmp": tmpfsOptions(spec.limits.tmpfsBytes) });
  return {
    runtime: ociRuntime ? `${runtime} (${ociRuntime})` : `${runtime} (runc)`,
    image: spec.image,
    argv: spec.argv,
    user: options.User ?? SANDBOX_USER,
    rootFilesystem: "read-only",
    network: spec.compose
      ? `aegisclaw-run-${spec.runId} (internal, no host address; shared only with this run's services ${spec.compose.sidecars.map((sidecar) => sidecar.name).join(", ")}; this one is ${spec.compose.service})${spec.egress ? `, plus ${EGRESS_NETWORK} to this service's own proxy` : ""}`
      : spec.egress
        ? `${host.NetworkMode ?? "?"} (internal; only via the AegisClaw egress proxy to ${allow.join(", ")})`
        : (host.NetworkMode ?? "none"),
    ...(spec.compose ? { services: spec.compose.sidecars.map((sidecar) => describeSidecar(spec.runId, sidecar)) } : {}),
    ...(spec.egress
      ? {
          egress: {
            network: `${host.NetworkMode ?? "?"} (internal, no route out; sandboxes cannot reach each other)`,
            proxy: `http://${EGRESS_GATEWAY}:<one port of ${EGRESS_PROXY_PORTS.first}-${EGRESS_PROXY_PORTS.last}> for this run only (HTTP_PROXY, HTTPS_PROXY)`,
            allow,
            dns: "none in the sandbox; the proxy resolves names and refuses private, loopback, link-local and metadata addresses unless granted by IP",
          },
        }
      : {}),
    mounts: [
      ...tmpfs.map(([target, mountOptions]) => ({ target, type: "tmpfs", options: mountOptions })),
      ...(host.Mounts ?? []).map((mount) => ({ target: mount.Target, type: mount.Type, options: mount.ReadOnly ? "ro" : "rw", source: mount.Source })),
    ],
    secrets: secrets?.names ?? [],
    capabilities: (host.CapDrop ?? []).includes("ALL") && (host.CapAdd ?? []).length === 0 ? "none (all dropped)" : "SOME",
    noNewPrivileges: (host.SecurityOpt ?? []).includes("no-new-privileges"),
    seccomp: `AegisClaw allow-list profile; ${SECCOMP_DENIED_SYSCALLS.length} dangerous syscalls answer ENOSYS`,
    limits: { ...spec.limits, timeoutMs: spec.timeoutMs },
  };
}

/** A sidecar as `simulate` shows it: its command, its own mounts (its secrets' directory too), hosts and secret names. */
function describeSidecar(runId: string, sidecar: SandboxSidecar): NonNullable<SandboxProfile["services"]>[number] {
  const secrets = sidecar.secrets?.names ?? [];
  const mounts = (sidecar.mounts ?? []).map((mount) => ({ target: mount.target, type: "bind", options: mount.readOnly ? "ro" : "rw", source: mount.source }));
  if (secrets.length > 0) mounts.push({ target: SECRETS_TARGET, type: "bind", options: "ro", source: sidecar.secrets?.source ?? plannedSecretDir(serviceSecretId(runId, sidecar.name)) });
  return { name: sidecar.name, argv: sidecar.argv, mounts, ...(sidecar.egress ? { egress: sidecar.egress.allow } : {}), ...(secrets.length > 0 ? { secrets } : {}) };
}

/** The bwrap runtime's profile (bwrap/bwrap-args.ts builds the same from the spec; docs/sandbox.md). */
function describeBwrapProfile(spec: SandboxSpec): SandboxProfile {
  const secrets = spec.secrets?.names ?? [];
  return {
    runtime: "bwrap (bubblewrap)",
    image: spec.image,
    argv: spec.argv,
    user: "65534:65534 (the same uid on the host)",
    rootFilesystem: "read-only",
    network: "none (only lo; bwrap refuses net.outbound)",
    mounts: [
      // bwrap 0.8 cannot pass tmpfs mount flags: /tmp is not noexec under bwrap.
      { target: "/tmp", type: "tmpfs", options: `rw,size=${spec.limits.tmpfsBytes}` },
      ...(spec.mounts ?? []).map((mount) => ({ target: mount.target, type: "bind", options: mount.readOnly ? "ro" : "rw", source: mount.source })),
      ...(secrets.length > 0 ? [{ target: SECRETS_TARGET, type: "copied files", options: "ro" }] : []),
    ],
    secrets,
    capabilities: "none (all dropped)",
    noNewPrivileges: true,
    seccomp: `AegisClaw allow-list profile compiled to BPF; ${SECCOMP_DENIED_SYSCALLS.length} dangerous syscalls answer ENOSYS`,
    limits: { ...spec.limits, timeoutMs: spec.timeoutMs },
  };
}
