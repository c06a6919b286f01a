/**
 * Background processes of the OpenClaw e2e tests, each in its own process group (started through
 * `setsid`), so that stopping one also stops what it spawned (OpenClaw's MCP servers, its
 * workers) and a test run leaves nothing behind.
 */

export interface Background {
  pid: number;
  /** stdout + stderr as they arrive. */
  output(): string;
  exited: Promise<number>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the leader exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<number>();

/**
 * The groups are not in the terminal's process group, so Ctrl-C (or CI's SIGTERM) on the test
 * run would not reach them: they are killed here before the test process exits. (afterAll
 * hooks stop them on every normal end, failures included.)
 */
function killAllAndExit(signal: NodeJS.Signals): void {
  for (const pid of running) signalGroup(pid, "SIGKILL");
  process.exit(signal === "SIGINT" ? 130 : 143);
}
let handlersInstalled = false;
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => killAllAndExit(signal));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

async function collect(stream: ReadableStream<Uint8Array>, sink: string[]): Promise<void> {
  const decoder = new TextDecoder();
  for await (const part of stream) sink.push(decoder.decode(part, { stream: true }));
}

/** Starts `argv` as the leader of a new process group with exactly `env`. */
export function startBackground(argv: string[], env: Record<string, string>, cwd?: string): Background {
  installSignalHandlers();
  const proc = Bun.spawn(["setsid", ...argv], { env, cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const chunks: string[] = [];
  void collect(proc.stdout, chunks);
  void collect(proc.stderr, chunks);
  running.add(proc.pid);
  const exited = proc.exited.then((code) => {
    running.delete(proc.pid);
    return code;
  });
  return {
    pid: proc.pid,
    output: () => chunks.join(""),
    exited,
    async stop(graceMs = 5000) {
      signalGroup(proc.pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(proc.pid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      // Children that ignored SIGTERM (or outlived the leader) go too.
      signalGroup(proc.pid, "SIGKILL");
    },
  };
}

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** Polls `check` until it returns a value, or throws naming `what` (with `detail()`) after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000, detail: () => string = () => ""): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await Bun.sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${detail() ? `\n${detail()}` : ""}`);
}
