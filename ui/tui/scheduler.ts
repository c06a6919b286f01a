/** ~30 frames a second: smooth enough to follow output, cheap at thousands of lines a second. */
export const FRAME_INTERVAL_MS = 33;

/**
 * Coalesces redraw requests: any number of model changes between two frames cost one draw,
 * and draws are at least `intervalMs` apart. Events never draw directly.
 */
export class FrameScheduler {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly draw: () => void,
    private readonly intervalMs = FRAME_INTERVAL_MS,
  ) {}

  /** Asks for a frame; at most one is ever pending. */
  request(): void {
    if (this.timer !== undefined || this.closed) return;
    const wait = Math.max(0, this.lastDraw + this.intervalMs - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Draws now (tests, and after resizes where waiting would show a torn layout). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    this.lastDraw = performance.now();
    this.draw();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
