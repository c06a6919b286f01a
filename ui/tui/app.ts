import type { CliRenderer, KeyEvent } from "@opentui/core";
import type { ConsoleBackend } from "./backend.ts";
import { ConsoleController } from "./controller.ts";
import { keyId, resolveKey } from "./keys.ts";
import { DEFAULT_TIMING, type LoaderTiming, Loaders } from "./loaders.ts";
import { STATUS_MS } from "./panes/footer.ts";
import { FrameScheduler } from "./scheduler.ts";
import { Screen } from "./screen.ts";
import { type ConsoleLimits, ConsoleState } from "./state.ts";
import { Theme, stripColours } from "./theme.ts";
import { initialViewState } from "./view-state.ts";

/** How the console is started. */
export interface ConsoleOptions {
  /** True when NO_COLOR is set: no colour codes at all, emphasis by bold and reverse video. */
  noColor: boolean;
  /** Clock for durations and expiry countdowns (epoch ms); tests pin it. */
  now?: () => number;
  /** Memory bounds for run output; defaults in DEFAULT_LIMITS. */
  limits?: Partial<ConsoleLimits>;
  /** Backend read timing; defaults in DEFAULT_TIMING. */
  timing?: Partial<LoaderTiming>;
}

/** A running console. */
export interface ConsoleHandle {
  /** Resolves when the operator quit (q / Ctrl-C, confirmed if runs were active). */
  readonly closed: Promise<void>;
  /** The model, for inspection. */
  readonly state: ConsoleState;
  /** Draws pending changes now instead of at the next frame tick. */
  flush(): void;
  /** Resolves once no backend call started by the console is under way. */
  idle(): Promise<void>;
  /** Stops timers, the event subscription and key handling; the renderer is the caller's. */
  close(): void;
}

/**
 * Builds the console on `renderer` and starts it: reads the envelope, pending approvals and
 * the newest audit entries, subscribes to events, and handles keys until quit. The renderer
 * is not destroyed here, so tests can drive a headless one.
 */
export async function startConsole(renderer: CliRenderer, backend: ConsoleBackend, options: ConsoleOptions): Promise<ConsoleHandle> {
  const now = options.now ?? Date.now;
  const theme = new Theme(options.noColor);
  const state = new ConsoleState(options.limits, now);
  const view = initialViewState();
  const screen = new Screen(renderer, theme);
  const scheduler = new FrameScheduler(() => screen.draw(state, view, now()));
  const redraw = () => scheduler.request();
  const loaders = new Loaders(backend, state, redraw, now, { ...DEFAULT_TIMING, ...options.timing });

  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let open = true;

  const controller = new ConsoleController({ backend, state, view, loaders, now, redraw, quit: () => close(), pageRows: () => screen.paneRows });

  renderer.setBackgroundColor(theme.defaultBg);
  if (options.noColor) renderer.addPostProcessFn(stripColours);
  const onKey = (key: KeyEvent) => {
    const id = keyId(key);
    const action = id === undefined ? undefined : resolveKey(id, { view: view.view, overlay: view.overlay?.kind });
    if (!action) return;
    key.preventDefault();
    controller.dispatch(action);
    // Keys draw at once (they come at human speed): the next key then acts on what this one showed.
    if (open) scheduler.flush();
  };
  // Resizes redraw at once: the old layout at the new size would be torn until the next tick.
  const onResize = () => scheduler.flush();
  // Subscribe before the first reads so that nothing published meanwhile is missed.
  const unsubscribe = backend.subscribe((event) => {
    if (open) controller.onEvent(event);
  });
  state.setApprovals(backend.pendingApprovals());
  await Promise.all([loaders.loadEnvelope(), loaders.loadAudit()]);
  loaders.startPeriodic();
  renderer.keyInput.on("keypress", onKey);
  renderer.on("resize", onResize);
  // OpenTUI destroys the renderer itself on SIGTERM/SIGHUP/...: the console ends with it.
  renderer.once("destroy", close);
  // Countdowns and running durations tick once a second, and only when something is counting.
  const ticker = setInterval(() => {
    const statusFresh = view.status !== undefined && now() - view.status.at <= STATUS_MS;
    if (state.approvals.size > 0 || state.activeRuns() > 0 || statusFresh) redraw();
  }, 1000);
  scheduler.flush();

  function close(): void {
    if (!open) return;
    open = false;
    clearInterval(ticker);
    unsubscribe();
    loaders.close();
    scheduler.close();
    renderer.keyInput.off("keypress", onKey);
    renderer.off("resize", onResize);
    renderer.off("destroy", close);
    if (options.noColor) renderer.removePostProcessFn(stripColours);
    resolveClosed();
  }

  return {
    closed,
    state,
    flush: () => scheduler.flush(),
    idle: () => loaders.idle(),
    close,
  };
}
