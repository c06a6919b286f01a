import { expect, test } from "bun:test";
import { join } from "node:path";
import { BINARY, tempHome, useCompiledBinary } from "../helpers/cli.ts";
import { tmux, waitForScreen } from "../helpers/tmux.ts";

useCompiledBinary();

test("init wizard: on a real terminal it shows what it detected, asks for the template, and writes it", async () => {
  const home = tempHome();
  const session = `aegis-init-${process.pid}`;
  tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", "-e", `AEGISCLAW_HOME=${home}`, `${BINARY} init; echo EXIT=$?; sleep 30`);
  try {
    const screen = await waitForScreen(session, "Choose 1-3 [2]:");
    expect(screen).toContain("Docker engine: reachable");
    expect(screen).toContain("strict");
    tmux("send-keys", "-t", session, "1", "Enter");
    await waitForScreen(session, "template strict? [Y/n]");
    tmux("send-keys", "-t", session, "y", "Enter");
    expect(await waitForScreen(session, "EXIT=")).toContain("EXIT=0");
    expect(await Bun.file(join(home, "config.yaml")).text()).toContain("template: strict");
  } finally {
    Bun.spawnSync(["tmux", "kill-session", "-t", session]);
  }
});

test("init wizard: answering no writes nothing", async () => {
  const home = tempHome();
  const session = `aegis-init-no-${process.pid}`;
  tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", "-e", `AEGISCLAW_HOME=${home}`, `${BINARY} init; echo EXIT=$?; sleep 30`);
  try {
    await waitForScreen(session, "Choose 1-3");
    tmux("send-keys", "-t", session, "Enter");
    await waitForScreen(session, "[Y/n]");
    tmux("send-keys", "-t", session, "n", "Enter");
    expect(await waitForScreen(session, "EXIT=")).toContain("EXIT=64");
    expect(await Bun.file(join(home, "config.yaml")).exists()).toBe(false);
  } finally {
    Bun.spawnSync(["tmux", "kill-session", "-t", session]);
  }
});
