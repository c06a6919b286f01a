import type { ConsoleBackend } from "./backend.ts";
import type { ConsoleState } from "./state.ts";

/** Timing of the console's backend reads; tests shorten them. */
export interface LoaderTiming {
  /** Newest audit entries fetched on start and after `audit.appended` bursts. */
  auditLimit: number;
  /** Quiet time after the last `audit.appended` before refetching (a burst costs one read). */
  auditDebounceMs: number;
  /** X-ray sampling period while the X-ray view is shown. */
  xrayIntervalMs: number;
  /** Envelope re-read period (config can change from another process). */
  envelopeIntervalMs: number;
}

export const DEFAULT_TIMING: LoaderTiming = { auditLimit: 200, auditDebounceMs: 150, xrayIntervalMs: 1500, envelopeIntervalMs: 10_000 };

/** An error as one line; backend messages never carry secret values (DESIGN.md invariant 3). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Backend reads and their timers. Reads store into ConsoleState and ask for a redraw; a
 * failed read is shown, never thrown into the UI loop. Every promise is tracked so tests
 * (and shutdown) can wait for the console to settle.
 */
export class Loaders {
  private readonly inFlight = new Set<Promise<unknown>>();
  private auditTimer: ReturnType<typeof setTimeout> | undefined;
  private auditAgain = false;
  private auditLoading = false;
  private xrayTimer: ReturnType<typeof setInterval> | undefined;
  private xrayRun: () => string | undefined = () => undefined;
  private envelopeTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly backend: ConsoleBackend,
    private readonly state: ConsoleState,
    private readonly redraw: () => void,
    private readonly now: () => number,
    readonly timing: LoaderTiming,
  ) {}

  /** Runs `work`, tracking it until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = () => this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  /** Resolves once no backend call is under way. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  startPeriodic(): void {
    this.envelopeTimer = setInterval(() => void this.loadEnvelope(), this.timing.envelopeIntervalMs);
  }

  async loadEnvelope(): Promise<void> {
    try {
      this.state.setEnvelope(await this.track(this.backend.envelope()));
    } catch (error) {
      // A stale indicator would claim protections nobody can confirm now: show "unknown" instead.
      this.state.envelope = undefined;
      this.state.envelopeError = errorText(error);
    }
    this.redraw();
  }

  async loadAudit(): Promise<void> {
    if (this.auditLoading) {
      this.auditAgain = true;
      return;
    }
    this.auditLoading = true;
    try {
      this.state.audit = await this.track(this.backend.recentAudit(this.timing.auditLimit));
      this.state.auditError = undefined;
    } catch (error) {
      this.state.auditError = errorText(error);
    } finally {
      this.auditLoading = false;
    }
    this.redraw();
    if (this.auditAgain) {
      this.auditAgain = false;
      await this.loadAudit();
    }
  }

  /** Debounced refetch after `audit.appended`: a burst of appends costs one read. */
  scheduleAuditReload(): void {
    if (this.auditTimer !== undefined) clearTimeout(this.auditTimer);
    this.auditTimer = setTimeout(() => {
      this.auditTimer = undefined;
      void this.loadAudit();
    }, this.timing.auditDebounceMs);
  }

  async loadPosture(): Promise<void> {
    if (this.state.posture.loading) return;
    this.state.posture = { ...this.state.posture, loading: true };
    this.redraw();
    try {
      this.state.posture = { value: await this.track(this.backend.posture()), loading: false, at: this.now() };
    } catch (error) {
      this.state.posture = { ...this.state.posture, loading: false, error: errorText(error) };
    }
    this.redraw();
  }

  async sampleXray(): Promise<void> {
    const runId = this.xrayRun();
    if (runId === undefined || (this.state.xray.loading && this.state.xray.runId === runId)) return;
    const previous = this.state.xray.runId === runId ? this.state.xray : {};
    this.state.xray = { ...previous, runId, loading: true };
    this.redraw();
    try {
      const report = await this.track(this.backend.xray(runId));
      if (this.state.xray.runId !== runId) return; // the operator moved on meanwhile
      this.state.xray = { runId, value: report, loading: false, at: this.now() };
    } catch (error) {
      if (this.state.xray.runId !== runId) return;
      this.state.xray = { runId, loading: false, error: errorText(error), at: this.now() };
    }
    this.redraw();
  }

  /** Samples `runOf()` now and every interval, until stopXray: only while the view is shown. */
  startXray(runOf: () => string | undefined): void {
    this.stopXray();
    this.xrayRun = runOf;
    void this.sampleXray();
    this.xrayTimer = setInterval(() => void this.sampleXray(), this.timing.xrayIntervalMs);
  }

  stopXray(): void {
    if (this.xrayTimer !== undefined) clearInterval(this.xrayTimer);
    this.xrayTimer = undefined;
  }

  get xrayPolling(): boolean {
    return this.xrayTimer !== undefined;
  }

  close(): void {
    this.stopXray();
    if (this.auditTimer !== undefined) clearTimeout(this.auditTimer);
    if (this.envelopeTimer !== undefined) clearInterval(this.envelopeTimer);
    this.auditTimer = undefined;
    this.envelopeTimer = undefined;
  }
}
