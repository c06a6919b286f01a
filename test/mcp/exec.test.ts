import { beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { aegis, jsonLines, useCompiledBinary } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";
import { call, closeClientsAfterEach, connect, home, textOf, waitForPending } from "./helpers.ts";

useCompiledBinary();
closeClientsAfterEach();

/** An AWS access key id shaped string, assembled at run time so no secret-looking literal sits in the source. */
const FAKE_AWS_KEY = ["AKIA", "IOSFODNN7", "EXAMPLE"].join("");

/** Audit entries of one run. */
async function entriesOf(homeDir: string, runId: string): Promise<Array<Record<string, unknown>>> {
  return jsonLines((await aegis(homeDir, ["logs", "--json"])).stdout).filter((entry) => entry.runId === runId);
}

describe("mcp-server sandbox_exec (compiled binary, real Docker)", () => {
  beforeAll(requireDocker);

  test("mcp exec: runs in the hardened sandbox (uid 65534, no capabilities, seccomp filter), redacts secrets, records source mcp", async () => {
    const homeDir = await home("standard");
    const { client } = await connect(homeDir, "hardening-probe");
    const script = `id -u; grep -E '^(CapEff|Seccomp):' /proc/self/status; echo key=${FAKE_AWS_KEY}; echo oops >&2; exit 3`;
    const result = await call(client, "sandbox_exec", { argv: ["sh", "-c", script], scopes: ["shell.exec:sh"] });
    expect(result.isError).toBeFalsy();
    const data = result.structuredContent as Record<string, unknown>;
    const stdout = String(data.stdout);
    expect(stdout.split("\n")[0]).toBe("65534");
    expect(stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(stdout).toMatch(/Seccomp:\s+2/);
    expect(stdout).toContain("key=[REDACTED:aws-access-key]");
    expect(JSON.stringify(result)).not.toContain(FAKE_AWS_KEY);
    expect(data).toMatchObject({ exitCode: 3, timedOut: false, stderr: "oops\n", truncated: false, decision: { kind: "allow" } });
    expect(textOf(result)).toContain(`exit code 3 · run ${String(data.runId)}`);
    expect(textOf(result)).toContain("decision: allow");

    const entries = await entriesOf(homeDir, String(data.runId));
    expect(entries.map((entry) => entry.type)).toEqual(["decision", "result"]);
    for (const entry of entries) expect(entry.actor).toEqual({ name: "mcp:hardening-probe", source: "mcp" });
    expect(entries[1]).toMatchObject({ redactions: 1, result: { exitCode: 3 } });
    expect(JSON.stringify(entries)).not.toContain(`key=${FAKE_AWS_KEY}\n`);
  });

  test("mcp exec: output beyond the cap is cut for the client, counted in full and flagged", async () => {
    const { client } = await connect(await home("standard"));
    const result = await call(client, "sandbox_exec", { argv: ["sh", "-c", "yes 0123456789abcdef | head -c 200000"], scopes: ["shell.exec:sh"] });
    const data = result.structuredContent as { stdout: string; stdoutBytes: number; truncated: boolean; exitCode: number };
    expect(data.exitCode).toBe(0);
    expect(data.stdoutBytes).toBe(200_000);
    expect(data.truncated).toBe(true);
    expect(data.stdout).toContain("[aegisclaw: output cut at 65536 bytes;");
    expect(data.stdout.length).toBeLessThan(66_000);
  });

  test("mcp exec: a policy deny is an error result with the rule and changes nothing", async () => {
    const homeDir = await home("strict");
    const { client } = await connect(homeDir);
    const result = await call(client, "sandbox_exec", { argv: ["echo", "never"] });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("[denied]");
    expect(textOf(result)).toContain("scope shell.exec:echo is not granted");
    const decisions = jsonLines((await aegis(homeDir, ["logs", "--json"])).stdout).filter((entry) => entry.type === "decision");
    expect(decisions.at(-1)).toMatchObject({ actor: { source: "mcp" }, decision: { kind: "deny" } });
  });

  test("mcp exec: an ask nobody answers expires into an error result that says why and how to approve", async () => {
    const homeDir = await home("strict", "2s");
    const { client } = await connect(homeDir);
    const result = await call(client, "sandbox_exec", { argv: ["echo", "unanswered"], scopes: ["shell.exec"] });
    expect(result.isError).toBe(true);
    const text = textOf(result);
    expect(text).toContain("[approval.expired]");
    expect(text).toContain("aegisclaw approvals approve r-");
    expect(text).toContain("approval expired: nobody answered in time");
    const runId = /run (r-[0-9a-z]+-[0-9a-f]+)/.exec(text)?.[1] ?? "";
    expect((await entriesOf(homeDir, runId)).map((entry) => entry.type)).toEqual(["decision", "approval"]);
  });

  test("mcp exec: an ask approved from another process while the call waits then runs, and the result says who approved", async () => {
    const homeDir = await home("strict");
    const { client, stderr } = await connect(homeDir, "approval-client");
    const progress: string[] = [];
    const pending = client.callTool({ name: "sandbox_exec", arguments: { argv: ["echo", "approved-by-a-person"], scopes: ["shell.exec"] } }, undefined, {
      timeout: 120_000,
      onprogress: (note) => void progress.push(note.message ?? ""),
    }) as Promise<CallToolResult>;
    const request = await waitForPending(homeDir);
    expect(request.actor).toEqual({ name: "mcp:approval-client", source: "mcp" });
    expect(request.argv).toEqual(["echo", "approved-by-a-person"]);
    expect(stderr()).toContain(`aegisclaw approvals approve ${request.id}`);
    const approved = await aegis(homeDir, ["approvals", "approve", request.id, "--hash", request.requestHash]);
    expect(approved.exitCode).toBe(0);
    const result = await pending;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ runId: request.id, exitCode: 0, stdout: "approved-by-a-person\n", decision: { kind: "ask" }, approval: { outcome: "approved", via: "cli" } });
    expect(textOf(result)).toMatch(/approval: approved by \S+ via cli/);
    // A client that sent a progress token learns why the call is waiting and how it was answered.
    expect(progress[0]).toContain(`waiting for a person's approval: aegisclaw approvals approve ${request.id}`);
    expect(progress.some((note) => /^approval approved by \S+ via cli$/.test(note))).toBe(true);
    expect((await entriesOf(homeDir, request.id)).map((entry) => entry.type)).toEqual(["decision", "approval", "result"]);
  });

  test("mcp exec: an ask denied from another process is an error result naming who denied it", async () => {
    const homeDir = await home("strict");
    const { client } = await connect(homeDir);
    const pending = call(client, "sandbox_exec", { argv: ["echo", "never"], scopes: ["shell.exec"] });
    const request = await waitForPending(homeDir);
    expect((await aegis(homeDir, ["approvals", "deny", request.id])).exitCode).toBe(0);
    const result = await pending;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("[approval.denied]");
    expect(textOf(result)).toMatch(/approval denied by \S+ via cli/);
  });

  test("mcp exec: a client cancelling a waiting call withdraws its approval request, recorded as denied", async () => {
    const homeDir = await home("strict");
    const { client } = await connect(homeDir);
    const cancel = new AbortController();
    const pending = call(client, "sandbox_exec", { argv: ["echo", "cancelled"], scopes: ["shell.exec"] }, cancel.signal);
    const request = await waitForPending(homeDir);
    cancel.abort("changed my mind");
    await expect(pending).rejects.toThrow();
    for (let attempt = 0; attempt < 50; attempt++) {
      if ((await entriesOf(homeDir, request.id)).length === 2) break;
      await Bun.sleep(100);
    }
    const entries = await entriesOf(homeDir, request.id);
    expect(entries.map((entry) => entry.type)).toEqual(["decision", "approval"]);
    expect(entries[1]).toMatchObject({ approval: { outcome: "denied", via: "system" } });
    expect(JSON.parse((await aegis(homeDir, ["approvals", "list", "--json"])).stdout).pending).toEqual([]);
  });

  test("mcp exec: SIGTERM while a sandbox runs kills it, records the result as cancelled and exits", async () => {
    const homeDir = await home("standard");
    const { client, transport } = await connect(homeDir);
    const pending = call(client, "sandbox_exec", { argv: ["sleep", "30"] }).catch((error: unknown) => error);
    let runId: string | undefined;
    for (let attempt = 0; attempt < 100 && !runId; attempt++) {
      await Bun.sleep(100);
      const started = jsonLines((await aegis(homeDir, ["logs", "--json"])).stdout).find((entry) => entry.type === "decision");
      runId = started?.runId as string | undefined;
    }
    await Bun.sleep(1000);
    const pid = transport.pid ?? 0;
    process.kill(pid, "SIGTERM");
    expect(await pending).toBeInstanceOf(Error);
    let result: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 100 && !result; attempt++) {
      await Bun.sleep(100);
      result = (await entriesOf(homeDir, runId ?? "")).find((entry) => entry.type === "result");
    }
    expect(result).toMatchObject({ result: { killedBy: "cancel" } });
    for (let attempt = 0; attempt < 50 && isAlive(pid); attempt++) await Bun.sleep(100);
    expect(isAlive(pid)).toBe(false);
    expect((await aegis(homeDir, ["logs", "verify"])).exitCode).toBe(0);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
