/** The runtime port every sandbox backend (docker today; gVisor, bubblewrap later) implements. */

/** Resource ceilings of one sandboxed run. All are enforced by the kernel, not by convention. */
export interface SandboxLimits {
  /** Maximum number of processes/threads in the sandbox (cgroup pids.max). */
  pids: number;
  /** Memory ceiling in bytes; swap is not allowed on top of it. */
  memoryBytes: number;
  /** CPU share, in CPUs (0.5 = half a core). */
  cpus: number;
  /** Size of the writable, noexec `/tmp` in bytes. */
  tmpfsBytes: number;
  /** stdout+stderr bytes forwarded before the run is killed and flagged `outputTruncated`. */
  outputBytes: number;
}

/**
 * A host path bind-mounted into the sandbox (from a files.read / files.write grant). Built by
 * compileMounts; the runtime re-checks it just before creating the container.
 */
export interface SandboxMount {
  /** Canonical host path (symlinks resolved) at decision time. */
  source: string;
  /** The absolute path as granted; the same path inside the sandbox, and re-resolved on the host before create. */
  target: string;
  readOnly: boolean;
}

/** What to run. `argv` is visible to anyone who can inspect the container: never put secrets in it. */
export interface SandboxSpec {
  /** Identifier of the run, recorded as the `io.aegisclaw.run` label. */
  runId: string;
  image: string;
  argv: string[];
  /** The only environment the command sees besides PATH (and the image's own ENV). */
  env?: Record<string, string>;
  /** Wall-clock limit; the container is killed when it passes (exit code 124). */
  timeoutMs: number;
  limits: SandboxLimits;
  /** Host paths to bind-mount; absent or empty means none (the default: no host path is visible). */
  mounts?: SandboxMount[];
  /** Extra labels; the `io.aegisclaw.*` management labels cannot be overridden. */
  labels?: Record<string, string>;
  /**
   * Network egress through the AegisClaw proxy (egress/). Absent means no network at all
   * (only `lo`); present, the sandbox sits on the internal egress network and its only way
   * out is a proxy that admits exactly `allow`.
   */
  egress?: SandboxEgress;
  /**
   * Granted secrets, delivered as read-only files `/run/secrets/NAME` from a private tmpfs
   * directory on the host. Absent means no `/run/secrets` at all. Never holds a value.
   */
  secrets?: SandboxSecrets;
  /**
   * A multi-container run (a `platform: docker-compose` skill): this spec is the main service,
   * `compose.sidecars` run beside it, each in its own hardened container, all on a private
   * network of the run (docker/compose-run.ts). Absent: one container.
   */
  compose?: SandboxCompose;
  /**
   * The run's private network, set by the compose runner on each container's spec (never by
   * the Gate): the container joins it alone, reachable by `alias`. Absent: no run network.
   */
  runNetwork?: SandboxRunNetwork;
}

/** The services of a multi-container run besides the main one (see SandboxSpec.compose). */
export interface SandboxCompose {
  /** The main service's name: its alias on the run network. */
  service: string;
  /** Started before the main service, in this order (dependencies first); removed with the run. */
  sidecars: SandboxSidecar[];
}

/** One sidecar service: same image, limits and hardening as the main; only its own mounts. */
export interface SandboxSidecar {
  /** Service name: its alias on the run network. */
  name: string;
  argv: string[];
  env?: Record<string, string>;
  /** This service's own file grants; no other container of the run sees them. */
  mounts?: SandboxMount[];
  /** This service's own net.outbound grants: a proxy of its own, which admits only this container. */
  egress?: SandboxEgress;
  /** This service's own secrets, in a directory of its own (SandboxSpec.secrets). */
  secrets?: SandboxSecrets;
}

/** A run network as a container joins it. */
export interface SandboxRunNetwork {
  name: string;
  id: string;
  /** The network's gateway address, which the host does not hold (inhibit_ipv4): the container's unanswered DNS server. */
  gateway: string;
  /** The container's name on the network. */
  alias: string;
}

/** Where the sandbox finds its granted secrets: one read-only file per name. */
export const SECRETS_TARGET = "/run/secrets";

/** A run's granted secrets, by name only (values never enter the spec, argv, env or labels). */
export interface SandboxSecrets {
  /** Names from the run's granted `secrets.read:NAME` scopes, sorted and unique; at least one. */
  names: string[];
  /**
   * The host directory (tmpfs, 0700 parent) holding one file per name, bind-mounted read-only
   * at {@link SECRETS_TARGET}. Set by the Gate once the values are resolved, just before the run.
   */
  source?: string;
}

/** A run's granted egress, and who it is for (copied into every egress audit entry). */
export interface SandboxEgress {
  /** Granted `net.outbound` scope texts; at least one. */
  allow: string[];
  actor: { name: string; source: string };
  /** The request hash of the run's decision, binding each egress entry to it. */
  requestHash: string;
  /** Multi-container runs: the service whose container this egress is for (named in every entry). */
  service?: string;
}

/** One connection the egress proxy allowed or refused. Never holds request content. */
export interface EgressDecision {
  runId: string;
  outcome: "allowed" | "denied";
  /** `egress.allowed`, `egress.not-granted`, `egress.address-refused`, `egress.sni-mismatch`, ... */
  rule: string;
  reason: string;
  /** `CONNECT` or the plain-HTTP method; absent when the request could not be read. */
  method?: string;
  /** The normalised destination host and port, when the request named one validly. */
  host?: string;
  port?: number;
  /** Every address the host resolved to (the proxy's own resolution). */
  addresses?: string[];
  /** The TLS server name the client sent (CONNECT), when it sent a valid one. */
  sni?: string;
  /** The address the connection came from. */
  client: string;
  grantedBy?: string;
}

/** An egress decision with the run's actor and request hash, as the auditor records it. */
export interface EgressEvent extends EgressDecision {
  actor: SandboxEgress["actor"];
  requestHash: string;
  /** The service of a multi-container run whose proxy decided (absent for a single container). */
  service?: string;
}

/**
 * Records egress decisions durably (the Gate's audit log). The proxy waits for it before
 * connecting, and refuses the connection when it fails: nothing leaves unrecorded.
 */
export type EgressAuditor = (event: EgressEvent) => Promise<void>;

/** Where output goes while the command runs; `signal` cancels the run (exit code 130). */
export interface SandboxIo {
  stdout(chunk: Uint8Array): void;
  stderr(chunk: Uint8Array): void;
  signal?: AbortSignal;
  /**
   * Where the output of one other service of a multi-container run goes (each service its own
   * streams, so its bytes are never interleaved with another's before redaction). Without it,
   * sidecar output is dropped.
   */
  service?(name: string): { stdout(chunk: Uint8Array): void; stderr(chunk: Uint8Array): void };
}

/** How a run ended. Exit code 137 without any of the flags means someone else killed it. */
export interface SandboxResult {
  exitCode: number;
  timedOut: boolean;
  aborted: boolean;
  oomKilled: boolean;
  outputTruncated: boolean;
  durationMs: number;
  stdoutBytes: number;
  stderrBytes: number;
  containerId: string;
  /**
   * True when the command ran in a pre-started container of the warm pool (docker exec), which
   * was claimed for this run alone and removed afterwards. Absent or false: a container of its own.
   */
  warm?: boolean;
}

/** Whether the runtime can run sandboxes right now, and if not, how to fix it. */
export interface RuntimeStatus {
  available: boolean;
  runtime: string;
  version?: string;
  detail: string;
  hint?: string;
}

/** A running AegisClaw sandbox as seen on the engine. */
export interface RunningSandbox {
  containerId: string;
  runId: string;
  startedAt: string;
}

/** The sandbox port. Implementations never run a command with weaker isolation than requested. */
export interface SandboxRuntime {
  readonly name: string;
  /** Never throws; says what is wrong and how to fix it. */
  status(): Promise<RuntimeStatus>;
  hasImage(image: string): Promise<boolean>;
  /** Runs `spec` hardened, streaming output live, and always removes the sandbox afterwards. */
  run(spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult>;
  /** Kills and removes every AegisClaw sandbox on the engine, including other processes' ones. */
  killAll(): Promise<number>;
  listRunning(): Promise<RunningSandbox[]>;
}

/** Labels that mark a container as AegisClaw's; killAll and listRunning select on the first. */
export const LABEL_MANAGED = "io.aegisclaw.managed";
export const LABEL_RUN = "io.aegisclaw.run";
export const LABEL_PID = "io.aegisclaw.pid";
/** The warm pool's key on a pooled container (docker/warm-pool-key.ts); only runs with the same key may claim it. */
export const LABEL_POOL = "io.aegisclaw.pool";
/** Upper bound of the warm pool's size per image: each idle container holds its memory reservation. */
export const MAX_WARM_POOL_SIZE = 8;
/** The service a container of a multi-container run belongs to. */
export const LABEL_SERVICE = "io.aegisclaw.service";
/** Marks a run's private network (docker/compose-network.ts); killAll removes these. */
export const LABEL_RUN_NETWORK = "io.aegisclaw.run-network";
/**
 * JSON `{staging path: granted host path}` on a container whose mounts were staged
 * (mount-stage.ts): the engine reports the staging paths, X-ray shows the paths granted.
 */
export const LABEL_STAGED_SOURCES = "io.aegisclaw.staged-sources";
