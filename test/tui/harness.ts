import { createTestRenderer, type TestRendererSetup } from "@opentui/core/testing";
import { type ConsoleHandle, type ConsoleOptions, startConsole } from "../../ui/tui/app.ts";
import { ScriptedBackend, T0 } from "./scripted-backend.ts";

/** A console on a headless renderer, with a scripted backend and a clock the test moves. */
export interface TestConsole {
  setup: TestRendererSetup;
  backend: ScriptedBackend;
  handle: ConsoleHandle;
  clock: { now: number };
  /** Waits for backend calls, draws, and returns the screen as text. */
  frame(): Promise<string>;
  /** Presses keys (strings as typed: "a", "A", "!", or KeyCodes names). */
  press(...keys: string[]): Promise<string>;
  stop(): void;
}

/** Starts a console at `width`×`height` (default 80×24); the backend can be set up first. */
export async function startTestConsole(
  options: { width?: number; height?: number; backend?: ScriptedBackend } & Partial<ConsoleOptions> = {},
): Promise<TestConsole> {
  // As in runConsole: Ctrl-C is the console's key, not the renderer's exit.
  const setup = await createTestRenderer({ width: options.width ?? 80, height: options.height ?? 24, exitOnCtrlC: false });
  const backend = options.backend ?? new ScriptedBackend();
  const clock = { now: T0 };
  const handle = await startConsole(setup.renderer, backend, {
    noColor: options.noColor ?? false,
    now: () => clock.now,
    timing: { auditDebounceMs: 0, xrayIntervalMs: 60_000, ...options.timing },
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const frame = async () => {
    await handle.idle();
    // Debounced reads are timers: one macrotask lets a 0 ms debounce fire, then settle again.
    await Bun.sleep(1);
    await handle.idle();
    handle.flush();
    await setup.renderOnce();
    return setup.captureCharFrame();
  };
  const press = async (...keys: string[]) => {
    for (const key of keys) {
      if (key === "ESCAPE") {
        setup.mockInput.pressEscape();
        // A lone ESC is told apart from an escape sequence by a short timeout.
        await Bun.sleep(60);
      } else setup.mockInput.pressKey(key);
      await handle.idle();
    }
    return frame();
  };
  const stop = () => {
    handle.close();
    setup.renderer.destroy();
  };
  return { setup, backend, handle, clock, frame, press, stop };
}
