/** Drives real terminals with tmux: the console and the init wizard are tested as users see them. */

export function tmux(...args: string[]): string {
  const proc = Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${proc.stderr.toString()}`);
  return proc.stdout.toString();
}

/** Waits until the pane shows `text` (or `predicate` holds); throws with the last screen after 15 s. */
export async function waitForScreen(session: string, text: string | RegExp | ((screen: string) => boolean), timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const ok = typeof text === "string" ? (screen: string) => screen.includes(text) : text instanceof RegExp ? (screen: string) => text.test(screen) : text;
  let screen = "";
  while (Date.now() < deadline) {
    screen = tmux("capture-pane", "-p", "-t", session);
    if (ok(screen)) return screen;
    await Bun.sleep(100);
  }
  throw new Error(`${typeof text === "string" ? `"${text}"` : "the expected screen"} never appeared; screen:\n${screen}`);
}

export function killSession(session: string): void {
  Bun.spawnSync(["tmux", "kill-session", "-t", session]);
}
