import type { ConsoleBackend } from "./backend.ts";

/**
 * Runs the full-screen console on the real terminal until the operator quits, then restores
 * the terminal. The caller guarantees a TTY and owns (and closes) the backend.
 * NO_COLOR (any non-empty value, https://no-color.org) turns colour off.
 *
 * @returns the exit code, 0
 */
export async function runConsole(backend: ConsoleBackend): Promise<number> {
  // Loaded here, not at the top: one-liners that never open the console skip OpenTUI's start-up cost.
  const { createCliRenderer } = await import("@opentui/core");
  const { startConsole } = await import("./app.ts");
  // Ctrl-C is a key like q (it asks first while runs are active), not an instant exit.
  const renderer = await createCliRenderer({ exitOnCtrlC: false, useMouse: false, targetFps: 30, maxFps: 30 });
  try {
    const handle = await startConsole(renderer, backend, { noColor: Boolean(process.env.NO_COLOR) });
    await handle.closed;
  } finally {
    renderer.destroy();
  }
  return 0;
}
