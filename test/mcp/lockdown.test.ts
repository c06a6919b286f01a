import { describe, expect, test } from "bun:test";
import { homeLayout, LockdownStore } from "../../src/core/index.ts";
import { useCompiledBinary } from "../helpers/cli.ts";
import { call, closeClientsAfterEach, connect, home, textOf, waitForPending } from "./helpers.ts";

useCompiledBinary();
closeClientsAfterEach();

/**
 * The flag is written straight into the temp home's state/lockdown.json: that is what every
 * AegisClaw process reads, and unlike `aegisclaw lockdown` it kills no container on the shared
 * Docker engine (other suites run sandboxes concurrently).
 */
function engage(homeDir: string, reason: string): void {
  new LockdownStore(homeLayout(homeDir).lockdownFile).write({ active: true, reason, since: new Date().toISOString(), actor: "test" });
}

describe("mcp-server under lockdown (compiled binary; no container is killed)", () => {
  test("mcp lockdown: sandbox_exec is refused with an error result naming the reason; simulate says lockdown; verify still works", async () => {
    const homeDir = await home("standard");
    engage(homeDir, "mcp test panic");
    const { client } = await connect(homeDir);
    const refused = await call(client, "sandbox_exec", { argv: ["echo", "hi"] });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("[lockdown] run refused: lockdown is active: mcp test panic");
    expect(textOf(refused)).toContain("aegisclaw unlock");
    const simulated = await call(client, "policy_simulate", { argv: ["echo", "hi"] });
    expect(simulated.structuredContent).toMatchObject({ outcome: "lockdown" });
    expect((await call(client, "audit_verify", {})).structuredContent).toMatchObject({ ok: true });
  });

  test("mcp lockdown: engaging it while a call waits for approval withdraws the request: an error result, not a run", async () => {
    const homeDir = await home("strict");
    const { client } = await connect(homeDir);
    const pending = call(client, "sandbox_exec", { argv: ["echo", "never"], scopes: ["shell.exec"] });
    await waitForPending(homeDir);
    engage(homeDir, "stop everything");
    const result = await pending;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("[lockdown]");
    expect(textOf(result)).toContain("approval denied by lockdown");
  });
});
