/**
 * The Docker backend of SandboxRuntime, talking to the engine's API over its socket
 * (engine-client.ts). Loaded lazily (see ../index.ts). The OCI runtime is runc by default;
 * gVisor is this same backend with `ociRuntime: "runsc"` (../runtime-select.ts).
 */
import { statSync } from "node:fs";
import { AegisError } from "../../shared/index.ts";
import type { Resolver } from "../egress/vet.ts";
import { LABEL_MANAGED, LABEL_RUN, type EgressAuditor, type RunningSandbox, type RuntimeStatus, type SandboxIo, type SandboxResult, type SandboxRuntime, type SandboxSpec } from "../types.ts";
import { dockerError, dockerMessage, isConnectError, statusCodeOf, unreachableError } from "./docker-errors.ts";
import { EngineClient } from "./engine-client.ts";
import { removeQuietly, runContainer } from "./run-container.ts";
import { isIdle, type Refusal } from "./warm-pool-claim.ts";
import { runWarm } from "./warm-pool-run.ts";
import { runCompose } from "./compose-run.ts";
import { removeRunNetworks } from "./compose-network.ts";

/** Where the engine is and which OCI runtime it should use (default: the engine's runc). */
export interface DockerRuntimeOptions {
  socketPath?: string;
  ociRuntime?: string;
  /** SandboxRuntime.name to report (default "docker"; the gVisor runtime says "gvisor"). */
  name?: string;
  /** Records egress decisions (the audit log); without it runs with `egress` are refused. */
  egressAudit?: EgressAuditor;
  /** The egress proxy's resolver (default: the system's); tests point names at their own servers. */
  egressResolve?: Resolver;
  /** Told about a pooled container refused after its claim (and removed); the run went cold. */
  onPoolRefused?: (refusal: Refusal) => void;
}

/**
 * What identifies the isolation a run gets on this engine: the self-test result is cached
 * under exactly this, so any change (new engine, upgraded runsc, re-registered args) re-tests.
 */
export interface EngineFingerprint {
  engineId: string;
  engineVersion: string;
  ociRuntime: string;
  /** The runtime's registration in daemon.json (path and runtimeArgs), as the engine reports it. */
  registration: { path: string; runtimeArgs: string[] };
  /**
   * Identity of the runtime binary when it is on this host (size, mtime, inode: any upgrade
   * changes it), else "unknown". Cheaper than `runsc --version` (~25 ms) on every run.
   */
  runtimeBinary: string;
}

const DEFAULT_SOCKET = "/var/run/docker.sock";
/** status() must answer quickly even when the socket accepts but the engine hangs. */
const STATUS_TIMEOUT_MS = 3000;
/** How long one GET /info answer serves later asks (status, then fingerprint). */
const INFO_REUSE_MS = 1000;
const MANAGED_FILTER = { label: [`${LABEL_MANAGED}=true`] };

/** The parts of GET /containers/json this runtime reads. */
interface ContainerSummary {
  Id: string;
  Names?: string[];
  Labels: Record<string, string>;
}

/** The hardened Docker runtime. Construct through createDockerRuntime in ../index.ts. */
export class DockerRuntime implements SandboxRuntime {
  readonly name: string;
  private readonly engine: EngineClient;
  private readonly socketPath: string;
  private readonly ociRuntime: string | undefined;
  private readonly options: DockerRuntimeOptions;
  /** The last GET /info, shared by the calls of one moment (status and fingerprint before a first run). */
  private recentInfo: { at: number; info: Promise<EngineInfo> } | undefined;

  constructor(options: DockerRuntimeOptions = {}) {
    this.options = options;
    this.socketPath = options.socketPath ?? DEFAULT_SOCKET;
    this.ociRuntime = options.ociRuntime;
    this.name = options.name ?? "docker";
    this.engine = new EngineClient(this.socketPath);
  }

  async status(): Promise<RuntimeStatus> {
    try {
      const signal = AbortSignal.timeout(STATUS_TIMEOUT_MS);
      const [version, info] = await Promise.all([
        this.engine.json<{ Version: string; ApiVersion: string }>("GET", "/version", { signal }),
        this.engineInfo(),
      ]);
      const base = { runtime: this.name, version: version.Version };
      // Without seccomp support the engine would reject (or, worse, ignore) our profile.
      if (!(info.SecurityOptions ?? []).some((option) => option.startsWith("name=seccomp"))) {
        return { ...base, available: false, detail: "Docker engine has no seccomp support", hint: "use a kernel and dockerd built with seccomp (CONFIG_SECCOMP, libseccomp)" };
      }
      const wanted = this.ociRuntime ?? "runc";
      if (!Object.keys(info.Runtimes ?? {}).includes(wanted)) {
        const hint = wanted === "runsc" ? "register gVisor: bash scripts/setup-gvisor.sh (as root)" : `add "${wanted}" to "runtimes" in /etc/docker/daemon.json and reload dockerd (kill -HUP)`;
        return { ...base, available: false, detail: `OCI runtime ${wanted} is not registered with Docker`, hint };
      }
      return { ...base, available: true, detail: `Docker engine reachable at ${this.socketPath} (API ${version.ApiVersion}, runtime ${wanted})` };
    } catch (error) {
      const aegis = isConnectError(error) ? unreachableError(this.socketPath, error) : undefined;
      return {
        available: false,
        runtime: this.name,
        detail: aegis?.message ?? `Docker engine at ${this.socketPath} did not answer: ${dockerMessage(error)}`,
        hint: aegis?.hint ?? "check that dockerd is healthy (`docker info`) and see its log",
      };
    }
  }

  /** The engine's identity and the OCI runtime's registration; throws when the engine is down. */
  async engineFingerprint(): Promise<EngineFingerprint> {
    const wanted = this.ociRuntime ?? "runc";
    const info = await this.engineInfo().catch((error: unknown) => {
      throw dockerError(error, this.socketPath, "reading engine info");
    });
    const entry = info.Runtimes?.[wanted];
    const path = typeof entry?.path === "string" ? entry.path : "";
    const runtimeArgs = Array.isArray(entry?.runtimeArgs) ? entry.runtimeArgs.filter((arg): arg is string => typeof arg === "string") : [];
    return {
      engineId: info.ID ?? "",
      engineVersion: info.ServerVersion ?? "",
      ociRuntime: wanted,
      registration: { path, runtimeArgs },
      runtimeBinary: localBinaryIdentity(path),
    };
  }

  /**
   * GET /info (about 12 ms here), asked at most once a second: a run's first start asks for the
   * status and then the fingerprint. A failed answer is never reused.
   */
  private engineInfo(): Promise<EngineInfo> {
    const now = Date.now();
    if (this.recentInfo && now - this.recentInfo.at < INFO_REUSE_MS) return this.recentInfo.info;
    const info = this.engine.json<EngineInfo>("GET", "/info", { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
    const entry = { at: now, info };
    this.recentInfo = entry;
    info.catch(() => {
      if (this.recentInfo === entry) this.recentInfo = undefined;
    });
    return info;
  }

  async hasImage(image: string): Promise<boolean> {
    try {
      await this.engine.json("GET", `/images/${encodeURIComponent(image)}/json`);
      return true;
    } catch (error) {
      if (statusCodeOf(error) === 404) return false;
      throw dockerError(error, this.socketPath, `looking up image ${image}`);
    }
  }

  /**
   * Uses an idle warm-pool container when one matches the run exactly (warm-pool-run.ts; only
   * runs without mounts, secrets and egress), else creates the run's own container. Either
   * way the container is hardened, checked and removed after this one run.
   */
  async run(spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> {
    const { egressAudit, egressResolve, onPoolRefused } = this.options;
    const ctx = { engine: this.engine, socketPath: this.socketPath, ociRuntime: this.ociRuntime, ...(egressAudit ? { egressAudit } : {}), ...(egressResolve ? { egressResolve } : {}) };
    // A multi-container run (docker-compose skill) never uses the pool: its containers join the run's own network.
    if (spec.compose) return runCompose(ctx, spec, io);
    return (await runWarm(ctx, spec, io, onPoolRefused)) ?? (await runContainer(ctx, spec, io));
  }

  /**
   * Selects by label only, so sandboxes of every AegisClaw process on this engine are hit
   * (lockdown must stop them all). Created-but-not-started ones are removed too, so a run
   * racing with lockdown cannot start afterwards.
   */
  async killAll(): Promise<number> {
    const containers = await this.list({ all: true, filters: JSON.stringify(MANAGED_FILTER) }).catch((error: unknown) => {
      throw dockerError(error, this.socketPath, "listing sandboxes");
    });
    // remove({force:true}) is SIGKILL followed by removal in one engine call.
    const outcomes = await Promise.allSettled(containers.map((c) => removeQuietly(this.engine, c.Id).then(() => c.Id)));
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    // Multi-container runs' networks: with their containers gone, nothing of the runs is left.
    await removeRunNetworks(this.engine, true).catch(() => 0);
    if (failures.length > 0) {
      const reasons = failures.map((f) => dockerMessage(f.reason)).join("; ");
      throw new AegisError("unavailable", `could not kill ${failures.length} of ${containers.length} sandboxes: ${reasons}`, { hint: "check `docker ps` and the dockerd log" });
    }
    return containers.length;
  }

  async listRunning(): Promise<RunningSandbox[]> {
    const listed = await this.list({ filters: JSON.stringify({ ...MANAGED_FILTER, status: ["running"] }) }).catch((error: unknown) => {
      throw dockerError(error, this.socketPath, "listing sandboxes");
    });
    // An idle warm-pool container runs nothing but its header-waiting script; a claimed one is a run's sandbox.
    const containers = listed.filter((c) => !isIdle(c));
    const running = await Promise.all(
      containers.map(async (c): Promise<RunningSandbox | undefined> => {
        const info = await this.engine.json<{ State: { StartedAt: string } }>("GET", `/containers/${c.Id}/json`).catch(() => undefined);
        // Gone between list and inspect: it is not running any more.
        if (!info) return undefined;
        return { containerId: c.Id, runId: c.Labels[LABEL_RUN] ?? "", startedAt: info.State.StartedAt };
      }),
    );
    return running.filter((r): r is RunningSandbox => r !== undefined);
  }

  private list(query: { all?: boolean; filters: string }): Promise<ContainerSummary[]> {
    return this.engine.json<ContainerSummary[]>("GET", "/containers/json", { query });
  }
}

/** The parts of GET /info this runtime reads. */
interface EngineInfo {
  ID?: string;
  ServerVersion?: string;
  SecurityOptions?: string[];
  Runtimes?: Record<string, { path?: unknown; runtimeArgs?: unknown } | undefined>;
}

/** How long `runsc --version` may take; it is a local exec, so seconds mean something is wrong. */
const VERSION_TIMEOUT_MS = 5000;

/**
 * The runtime binary's identity when it is on this host (the usual unix-socket case). A
 * remote engine's binary is not visible here: "unknown" then, and the engine id and version
 * still key the cache.
 */
function localBinaryIdentity(path: string): string {
  const binary = path === "" ? null : Bun.which(path);
  if (!binary) return "unknown";
  try {
    const stat = statSync(binary);
    return `${binary} size=${stat.size} mtime=${stat.mtimeMs} ino=${stat.ino}`;
  } catch {
    return "unknown";
  }
}

/** First line of `<runtime> --version`, for the record (not the key); "unknown" when it cannot say. */
export function runtimeVersionText(path: string): string {
  const binary = path === "" ? null : Bun.which(path);
  if (!binary) return "unknown";
  try {
    const probe = Bun.spawnSync([binary, "--version"], { stdout: "pipe", stderr: "ignore", timeout: VERSION_TIMEOUT_MS });
    const line = probe.exitCode === 0 ? probe.stdout.toString().split("\n")[0]?.trim() : undefined;
    return line || "unknown";
  } catch {
    return "unknown";
  }
}
