import { afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { aegis, backgroundAegis, BINARY, initHomeWith, jsonLines, useCompiledBinary } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";
import { killSession, tmux, waitForScreen } from "../helpers/tmux.ts";

useCompiledBinary();

const sessions: string[] = [];
afterEach(() => {
  for (const session of sessions.splice(0)) killSession(session);
});

/** Opens the console of `home` in a real 100x30 terminal and waits until it is drawn. */
async function openConsole(home: string, extraEnv: string[] = [], args: string[] = [], columns = 100): Promise<string> {
  const session = `console-${crypto.getRandomValues(new Uint8Array(4)).toHex()}`;
  sessions.push(session);
  const env = [`AEGISCLAW_HOME=${home}`, ...extraEnv].flatMap((pair) => ["-e", pair]);
  tmux("new-session", "-d", "-s", session, "-x", String(columns), "-y", "30", ...env, `${[BINARY, ...args].join(" ")}; echo CONSOLE-EXIT=$?; sleep 30`);
  await waitForScreen(session, "1 Runs");
  return session;
}

const key = (session: string, keys: string) => tmux("send-keys", "-t", session, keys);

describe("console (compiled binary in tmux, real Docker)", () => {
  setDefaultTimeout(60_000);
  beforeAll(requireDocker);

  test("console e2e: a run from another process asks in the console; `a` approves it; its output and audit entry appear", async () => {
    const home = await initHomeWith("strict");
    const session = await openConsole(home);
    const run = backgroundAegis(home, ["run", "--scope", "shell.exec", "--", "echo", "approved-in-console"]);
    await waitForScreen(session, "Approvals(1)");
    key(session, "2");
    const approvals = await waitForScreen(session, "Approvals (1 pending)");
    expect(approvals).toContain("shell.exec:echo");
    expect(approvals).toContain("strict.approval-required");
    key(session, "a");
    const result = await run.done;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("approved-in-console\n");
    key(session, "1");
    await waitForScreen(session, (screen) => screen.includes("exit 0") && screen.includes("approved-in-console"));
    key(session, "3");
    await waitForScreen(session, "approval allow");
    const entries = jsonLines((await aegis(home, ["logs", "--json"])).stdout);
    expect(entries.find((e) => e.type === "approval")).toMatchObject({ actor: { source: "tui" }, approval: { outcome: "approved", via: "console" } });
  });

  test("console e2e: `d` denies; the requester exits 77 and nothing runs", async () => {
    const home = await initHomeWith("strict");
    const session = await openConsole(home);
    const run = backgroundAegis(home, ["run", "--scope", "shell.exec", "--", "echo", "must-not-run"]);
    await waitForScreen(session, "Approvals(1)");
    key(session, "2");
    await waitForScreen(session, "Approvals (1 pending)");
    key(session, "d");
    const result = await run.done;
    expect(result.exitCode).toBe(77);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("denied by");
  });

  test("console e2e: an unanswered request expires: the requester exits 77 and the console drops it", async () => {
    const home = await initHomeWith("strict", "2s");
    const session = await openConsole(home);
    const run = backgroundAegis(home, ["run", "--scope", "shell.exec", "--", "echo", "too-late"]);
    await waitForScreen(session, "Approvals(1)");
    const result = await run.done;
    expect(result.exitCode).toBe(77);
    expect(result.stderr).toContain("[approval.expired]");
    await waitForScreen(session, (screen) => screen.includes("2 Approvals") && !screen.includes("Approvals(1)"));
  });

  test("console e2e: `!` kills the running sandbox at once, frames the screen as LOCKDOWN, and new runs exit 75 until `U` `y`", async () => {
    const home = await initHomeWith("standard");
    const session = await openConsole(home);
    const run = backgroundAegis(home, ["run", "--", "sleep", "300"]);
    await waitForScreen(session, (screen) => screen.includes("running") && screen.includes("sleep 300"));
    key(session, "!");
    const result = await run.done;
    expect(result.exitCode).toBe(75);
    await waitForScreen(session, "LOCKDOWN ACTIVE");
    const refused = await aegis(home, ["run", "--", "true"]);
    expect(refused.exitCode).toBe(75);
    key(session, "U");
    key(session, "y");
    await waitForScreen(session, (screen) => !screen.includes("LOCKDOWN ACTIVE"));
    expect((await aegis(home, ["run", "--", "true"])).exitCode).toBe(0);
    const types = jsonLines((await aegis(home, ["logs", "--json"])).stdout).map((e) => e.type);
    expect(types).toContain("lockdown");
    expect(types).toContain("unlock");
  });

  test("console e2e: with no console, `run` on a terminal asks inline; y runs it, anything else denies", async () => {
    const home = await initHomeWith("strict");
    for (const [answer, expected] of [["y", "RUN-EXIT=0"], ["n", "RUN-EXIT=77"]] as const) {
      const session = `inline-${answer}-${crypto.getRandomValues(new Uint8Array(4)).toHex()}`;
      sessions.push(session);
      tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", "-e", `AEGISCLAW_HOME=${home}`, `${BINARY} run --scope shell.exec -- echo inline-answer; echo RUN-EXIT=$?; sleep 30`);
      const prompt = await waitForScreen(session, "approve this run? [y/N]");
      expect(prompt).toContain("command   echo inline-answer");
      tmux("send-keys", "-t", session, answer, "Enter");
      const screen = await waitForScreen(session, expected);
      if (answer === "y") expect(screen.split("\n").some((line) => line.trim() === "inline-answer")).toBe(true);
      expect(screen).toContain(answer === "y" ? "approved by" : "denied by");
    }
  });

  test("console e2e: --listen serves the API from the console's process; an API run that asks is approved with `a`", async () => {
    const home = await initHomeWith("strict");
    const token = (await aegis(home, ["token", "create", "--role", "operator", "--name", "otto"])).stdout.trim();
    const session = await openConsole(home, [], ["--listen", "127.0.0.1:0"], 130);
    const screen = await waitForScreen(session, /API 127\.0\.0\.1:\d+ /);
    const url = `http://${/API (127\.0\.0\.1:\d+) /.exec(screen)?.[1]}`;
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const created = await fetch(`${url}/api/v1/runs`, { method: "POST", headers, body: JSON.stringify({ argv: ["echo", "via-api"], scopes: ["shell.exec"] }) });
    expect(created.status).toBe(202);
    const { runId } = (await created.json()) as { runId: string };
    await waitForScreen(session, "Approvals(1)");
    key(session, "2");
    await waitForScreen(session, "Approvals (1 pending)");
    key(session, "a");
    key(session, "1");
    await waitForScreen(session, (text) => text.includes("exit 0") && text.includes("via-api"));
    const run = (await (await fetch(`${url}/api/v1/runs/${runId}`, { headers })).json()) as Record<string, unknown>;
    expect(JSON.stringify(run)).toContain("otto");
    key(session, "q");
    await waitForScreen(session, "CONSOLE-EXIT=0");
  });

  test("console e2e: `q` quits with exit 0; NO_COLOR is honoured; without a terminal `aegisclaw` prints help", async () => {
    const home = await initHomeWith("standard");
    const session = await openConsole(home, ["NO_COLOR=1"]);
    const colours = tmux("capture-pane", "-p", "-e", "-t", session);
    expect(colours).not.toMatch(/\x1b\[[0-9;]*(3[0-7]|38;[25]|9[0-7])[;m]/);
    key(session, "q");
    await waitForScreen(session, "CONSOLE-EXIT=0");
    const piped = await aegis(home, []);
    expect(piped.exitCode).toBe(0);
    expect(piped.stdout).toContain("Usage:");
  });
});
