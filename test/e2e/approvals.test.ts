import { beforeAll, describe, expect, test } from "bun:test";
import { requireDocker } from "../helpers/docker.ts";
import { aegis, backgroundAegis, initHomeWith, jsonLines, useCompiledBinary } from "../helpers/cli.ts";

useCompiledBinary();

const strictHome = (timeout?: string) => initHomeWith("strict", timeout);
const backgroundRun = (home: string, argv: string[]) => backgroundAegis(home, ["run", "--scope", "shell.exec", "--", ...argv]);

/** Waits until `approvals list` shows a pending request, and returns it. */
async function firstPending(home: string): Promise<{ id: string; requestHash: string; argv: string[] }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const listed = await aegis(home, ["approvals", "list", "--json"]);
    expect(listed.exitCode).toBe(0);
    const pending = JSON.parse(listed.stdout).pending;
    if (pending.length > 0) return pending[0];
    await Bun.sleep(100);
  }
  throw new Error("no pending approval appeared");
}

describe("approvals across processes (compiled binary, real Docker)", () => {
  beforeAll(requireDocker);

  test("approvals e2e: a run waiting in one shell is approved from another and then runs; all of it is audited", async () => {
    const home = await strictHome();
    const run = backgroundRun(home, ["echo", "approved-run"]);
    const pending = await firstPending(home);
    expect(pending.argv).toEqual(["echo", "approved-run"]);
    const human = await aegis(home, ["approvals", "list"]);
    expect(human.stdout).toContain("command   echo approved-run");
    expect(human.stdout).toContain(pending.requestHash);
    const approved = await aegis(home, ["approvals", "approve", pending.id]);
    expect(approved.exitCode).toBe(0);
    const result = await run.done;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("approved-run\n");
    expect(result.stderr).toContain(`aegisclaw approvals approve ${pending.id}`);
    const entries = jsonLines((await aegis(home, ["logs", "--json"])).stdout).filter((e) => e.runId === pending.id);
    expect(entries.map((e) => e.type)).toEqual(["decision", "approval", "result"]);
    expect(entries[1]?.approval).toMatchObject({ outcome: "approved", via: "cli" });
    expect((await aegis(home, ["logs", "explain", pending.id])).stdout).toContain("approval (entry");
  });

  test("approvals e2e: a pinned hash that does not match is refused; deny from another shell exits 77", async () => {
    const home = await strictHome();
    const run = backgroundRun(home, ["echo", "never"]);
    const pending = await firstPending(home);
    const wrong = await aegis(home, ["approvals", "approve", pending.id, "--hash", "a".repeat(64)]);
    expect(wrong.exitCode).toBe(77);
    expect(wrong.stderr).toContain("hash does not match");
    expect((await aegis(home, ["approvals", "deny", pending.id])).exitCode).toBe(0);
    const result = await run.done;
    expect(result.exitCode).toBe(77);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("[approval.denied]");
    expect((await aegis(home, ["approvals", "approve", pending.id])).exitCode).toBe(65);
  });

  test("approvals e2e: with no TTY and nobody answering, the run is denied at the timeout and says how to approve", async () => {
    const home = await strictHome("1s");
    const result = await aegis(home, ["run", "--scope", "shell.exec", "--", "echo", "hi"]);
    expect(result.exitCode).toBe(77);
    expect(result.stderr).toContain("[approval.expired]");
    expect(result.stderr).toContain("aegisclaw approvals approve");
    expect(result.stdout).toBe("");
    expect((await aegis(home, ["approvals", "list"])).stdout).toBe("no pending approvals\n");
  });

  test("approvals e2e: usage errors name the fix", async () => {
    const home = await strictHome();
    expect((await aegis(home, ["approvals", "approve"])).exitCode).toBe(64);
    expect((await aegis(home, ["approvals", "approve", "r-x", "--hash", "nothex"])).exitCode).toBe(64);
    expect((await aegis(home, ["approvals", "frobnicate"])).exitCode).toBe(64);
  });
});
