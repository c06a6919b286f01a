/**
 * The warm pool's filler: keeps `size` idle, hardened, pre-started containers per image so the
 * next matching run skips create+start (warm-pool-run.ts claims them; any process on the
 * engine may). Only long-running processes (serve, the console) fill; a pool container is
 * used by at most one run and removed after it, so the filler tops the pool up again when
 * the engine reports one claimed or removed, and on a slow sweep that also retires old ones.
 * It creates nothing while `paused()` (lockdown) says so.
 */
import { AegisError } from "../../shared/index.ts";
import { validateLimits } from "../limits.ts";
import { LABEL_PID, LABEL_POOL, MAX_WARM_POOL_SIZE, type SandboxLimits } from "../types.ts";
import { dockerError, dockerMessage, statusCodeOf } from "./docker-errors.ts";
import { EngineClient } from "./engine-client.ts";
import { createHardened, removeQuietly, runContainer, type RunContext } from "./run-container.ts";
import { claimByRename, imageFacts, isIdle, listPooled, type PooledSummary } from "./warm-pool-claim.ts";
import {
  DEFAULT_POOL_MAX_AGE_MS,
  POOL_NAME_PREFIX,
  POOL_RUN_PREFIX,
  poolCreateOptions,
  poolKey,
  poolProcessProblems,
  poolSpec,
  type PoolProfile,
  type TopInfo,
} from "./warm-pool-key.ts";
import { POOL_PROBE_ARGV, POOL_PROBE_OUTPUT } from "./warm-pool-script.ts";

/** The sweep: retires old containers and catches anything the event stream missed. */
const SWEEP_MS = 30_000;
/** Retired this long before the claimers' max age, so no claimer meets an expired one. */
const RETIRE_MARGIN_MS = 2 * SWEEP_MS;
/** Pause before re-opening the engine's event stream after it ended. */
const RECONNECT_MS = 1000;
/** How long the probe of an image's `sh` and `base64` may take (a cold run of one pipeline). */
const PROBE_TIMEOUT_MS = 30_000;

/** What to keep warm and where. */
export interface WarmPoolOptions {
  socketPath?: string;
  /** The OCI runtime of the runs to serve (undefined: runc); part of the pool key. */
  ociRuntime?: string;
  /** Images to keep warm, as runs name them (re-resolved to image ids on every fill). */
  images: string[];
  /** The limits of the runs to serve (config's `sandbox.limits`); a run with others goes cold. */
  limits: SandboxLimits;
  /** Idle containers per image, 0..MAX_WARM_POOL_SIZE; 0 keeps none. */
  size: number;
  /** While true (lockdown), nothing is created. */
  paused?: () => boolean;
  /** Diagnostics (one line each); never holds a secret (there is none in a pooled container). */
  log?: (line: string) => void;
}

/** Keeps the pool filled; see the file comment. */
export class WarmPool {
  private readonly engine: EngineClient;
  private readonly ctx: RunContext;
  private filling: Promise<number> | undefined;
  private again = false;
  private background: AbortController | undefined;
  private sweep: ReturnType<typeof setInterval> | undefined;
  private scheduled: ReturnType<typeof setTimeout> | undefined;
  /** Image ids probed for the pool script's tools: true when they work (probeImage). */
  private readonly probed = new Map<string, boolean>();
  /** Claimed containers seen stopped or still waiting for their header, and since when (removeOrphans). */
  private orphans = new Map<string, number>();
  /** Images not refilled before the given time (their pooled containers stopped by themselves). */
  private readonly pausedUntil = new Map<string, number>();
  /** Images whose last fill failed, with the message, so a broken image is reported once. */
  private readonly failing = new Map<string, string>();

  constructor(private readonly options: WarmPoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 0 || options.size > MAX_WARM_POOL_SIZE) {
      throw new AegisError("bad-input", `warm pool size must be an integer from 0 to ${MAX_WARM_POOL_SIZE}, got ${String(options.size)}`);
    }
    if (options.images.length === 0 || options.images.some((image) => image === "")) throw new AegisError("bad-input", "warm pool needs at least one image name");
    validateLimits(options.limits);
    const socketPath = options.socketPath ?? "/var/run/docker.sock";
    this.engine = new EngineClient(socketPath);
    this.ctx = { engine: this.engine, socketPath, ociRuntime: options.ociRuntime };
  }

  /**
   * Tops every image's pool up to `size` idle containers, after retiring old and stopped ones.
   * Returns how many were created. Concurrent calls share one pass (plus one more if asked
   * during it). Throws when the engine fails; an image that cannot be pooled is logged and skipped.
   */
  fill(): Promise<number> {
    if (this.filling) {
      this.again = true;
      return this.filling;
    }
    this.filling = (async () => {
      let created = 0;
      try {
        do {
          this.again = false;
          for (const image of this.options.images) created += await this.fillImage(image);
        } while (this.again);
        return created;
      } finally {
        this.filling = undefined;
      }
    })();
    return this.filling;
  }

  /** Fills now, then whenever the engine reports a pooled container claimed or removed, and on the sweep. */
  start(): void {
    if (this.background) return;
    this.background = new AbortController();
    this.schedule(0);
    void this.watch(this.background.signal);
    this.sweep = setInterval(() => this.schedule(0), SWEEP_MS);
    this.sweep.unref?.();
  }

  /** Stops refilling and removes this process's idle containers. Returns how many were removed. */
  async stop(): Promise<number> {
    this.background?.abort();
    this.background = undefined;
    clearInterval(this.sweep);
    clearTimeout(this.scheduled);
    await this.filling?.catch(() => 0);
    return this.drain();
  }

  /**
   * Removes the idle containers this process created for this pool's images (others' pools
   * are theirs; lockdown's killAll removes every one). Each is claimed first, so a container a
   * run has just claimed is never removed under it.
   */
  async drain(): Promise<number> {
    const pooled = await listPooled(this.engine).catch((error: unknown) => {
      throw dockerError(error, this.ctx.socketPath, "listing the warm pool");
    });
    const mine = pooled.filter((summary) => isIdle(summary) && summary.Labels?.[LABEL_PID] === String(process.pid));
    const removed = await Promise.all(mine.map((summary) => this.discard(summary.Id)));
    return removed.filter(Boolean).length;
  }

  private async fillImage(image: string): Promise<number> {
    const facts = await imageFacts(this.engine, image).catch((error: unknown) => {
      throw dockerError(error, this.ctx.socketPath, `looking up image ${image}`);
    });
    if (!facts) {
      this.report(image, `image ${image} is not present; nothing pooled for it`);
      return 0;
    }
    if (!(await this.probeImage(facts.id))) {
      this.report(image, `image ${image} has no working busybox \`sh\` and \`base64\` (the pooled container's PID 1 needs them); runs of it go cold`);
      return 0;
    }
    const profile: PoolProfile = { imageId: facts.id, ociRuntime: this.options.ociRuntime, limits: this.options.limits };
    const key = poolKey(profile);
    const pooled = await listPooled(this.engine, key);
    let fresh = 0;
    let stopped = 0;
    for (const summary of pooled.filter(isIdle)) {
      if (stoppedByItself(summary)) stopped++;
      if (this.retire(summary)) await this.discard(summary.Id);
      else fresh++;
    }
    await this.removeOrphans(pooled.filter((summary) => !isIdle(summary)));
    // A pooled script that ended by itself (stdin closed by a stray attach, a broken image): wait a
    // sweep before trying again, or each stop event would start the next doomed container at once.
    if (stopped > 0) this.pausedUntil.set(image, Date.now() + SWEEP_MS);
    if ((this.pausedUntil.get(image) ?? 0) > Date.now()) {
      this.report(image, `pooled containers of ${image} stopped by themselves; retrying in ${SWEEP_MS / 1000} s`);
      return 0;
    }
    let created = 0;
    while (fresh + created < this.options.size && !this.options.paused?.()) {
      try {
        if (!(await this.create(profile))) break;
      } catch (error) {
        this.report(image, `cannot pool ${image}: ${dockerMessage(error)}`);
        return created;
      }
      created++;
    }
    if (this.failing.delete(image)) this.options.log?.(`warm pool: ${image} is pooled again`);
    return created;
  }

  /** True for an idle container that must not be handed out any more: stopped, or near the max age. */
  private retire(summary: PooledSummary): boolean {
    const ageMs = Date.now() - (summary.Created ?? 0) * 1000;
    return summary.State !== "running" || ageMs >= DEFAULT_POOL_MAX_AGE_MS - RETIRE_MARGIN_MS;
  }

  /**
   * Removes claimed containers whose claimer died between its claim and its removal (a
   * `kill -9`): older than twice the max age, and for a whole sweep interval either stopped or
   * still running the pool script that waits for a header. A live claimer sends the header
   * milliseconds after its claim and removes the container milliseconds after it stopped; a
   * long-running command is neither, so it is never removed here.
   */
  private async removeOrphans(claimed: PooledSummary[]): Promise<void> {
    const idleSince = new Map<string, number>();
    for (const summary of claimed) {
      if (Date.now() - (summary.Created ?? 0) * 1000 < 2 * DEFAULT_POOL_MAX_AGE_MS) continue;
      if (summary.State === "running") {
        const top = await this.engine.json<TopInfo>("GET", `/containers/${summary.Id}/top`).catch(() => undefined);
        if (!top || poolProcessProblems(top).length > 0) continue;
      }
      const since = this.orphans.get(summary.Id) ?? Date.now();
      if (Date.now() - since >= SWEEP_MS) await removeQuietly(this.engine, summary.Id).catch(() => undefined);
      else idleSince.set(summary.Id, since);
    }
    this.orphans = idleSince;
  }

  /**
   * Whether `imageId` has the `sh` and `base64` the pool script needs, by a cold hardened run of
   * a decoding pipeline (once per image id and filler). An image without them is never pooled:
   * its pooled containers would stop at once, or worse be claimed in the instant before.
   */
  private async probeImage(imageId: string): Promise<boolean> {
    const known = this.probed.get(imageId);
    if (known !== undefined) return known;
    let stdout = "";
    const decoder = new TextDecoder();
    const spec = { runId: `${POOL_RUN_PREFIX}probe-${crypto.randomUUID()}`, image: imageId, argv: [...POOL_PROBE_ARGV], timeoutMs: PROBE_TIMEOUT_MS, limits: this.options.limits };
    let result: Awaited<ReturnType<typeof runContainer>>;
    try {
      result = await runContainer(this.ctx, spec, { stdout: (chunk) => void (stdout += decoder.decode(chunk, { stream: true })), stderr: () => {} });
    } catch (error) {
      // Typically the start failed: the image has no `sh`. Not remembered (it may be the engine): the next fill probes again.
      this.options.log?.(`warm pool: probing image ${imageId.slice(0, 19)} failed: ${dockerMessage(error)}`);
      return false;
    }
    // Killed (lockdown) or timed out: unknown, so not remembered; this fill pools nothing.
    if (result.exitCode === 137 || result.timedOut) return false;
    const works = result.exitCode === 0 && stdout === POOL_PROBE_OUTPUT;
    this.probed.set(imageId, works);
    return works;
  }

  /** Creates one pooled container through the hardened create+verify path and starts its script; false when lockdown removed it meanwhile. */
  private async create(profile: PoolProfile): Promise<boolean> {
    const id = crypto.randomUUID().replaceAll("-", "").slice(0, 20);
    const container = await createHardened(this.ctx, poolSpec(profile, `${POOL_RUN_PREFIX}${id}`), undefined, `${POOL_NAME_PREFIX}${id}`, poolCreateOptions);
    try {
      await this.engine.request("POST", `/containers/${container}/start`);
    } catch (error) {
      await removeQuietly(this.engine, container).catch(() => undefined);
      // 404: removed while starting (lockdown); anything else: e.g. the image has no `sh`.
      if (statusCodeOf(error) === 404) return false;
      throw error;
    }
    return true;
  }

  /** Claims and removes one idle container; false when someone claimed it first. */
  private async discard(container: string): Promise<boolean> {
    if (!(await claimByRename(this.engine, container))) return false;
    await removeQuietly(this.engine, container).catch(() => undefined);
    return true;
  }

  private report(image: string, message: string): void {
    if (this.failing.get(image) === message) return;
    this.failing.set(image, message);
    this.options.log?.(`warm pool: ${message}`);
  }

  /** Coalesces refill requests (a burst of events is one fill). */
  private schedule(delayMs: number): void {
    if (!this.background || this.scheduled) return;
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined;
      if (!this.background) return;
      this.fill().catch((error: unknown) => this.options.log?.(`warm pool: fill failed: ${dockerMessage(error)}`));
    }, delayMs);
    this.scheduled.unref?.();
  }

  /** Follows the engine's events for pooled containers: a claim (rename) or removal calls for a refill. */
  private async watch(signal: AbortSignal): Promise<void> {
    const filters = JSON.stringify({ type: ["container"], label: [LABEL_POOL], event: ["rename", "destroy", "die"] });
    while (!signal.aborted) {
      try {
        const response = await this.engine.request("GET", "/events", { query: { filters }, signal });
        const reader = response.body?.getReader();
        for (;;) {
          const next = await reader?.read();
          if (!next || next.done) break;
          this.schedule(0);
        }
      } catch {
        // Stopped, or the engine went away: the sweep keeps the pool honest until we reconnect.
      }
      if (!signal.aborted) await Bun.sleep(RECONNECT_MS);
    }
  }
}

/**
 * True for a pooled container whose PID 1 exited on its own. SIGKILLed ones (137: lockdown's
 * killAll, `docker kill`, removal in progress) are simply replaced.
 */
function stoppedByItself(summary: PooledSummary): boolean {
  return (summary.State === "exited" || summary.State === "dead") && !/^Exited \(137\)/.test(summary.Status ?? "");
}
