import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readEntries } from "../../src/audit/index.ts";
import { openClawConfigPath } from "../../src/adapters/openclaw/config.ts";
import plugin, { createHooks, resultBody, toolCallBody, type PluginApi } from "../../adapters/openclaw/plugin/index.mjs";
import { tempDir } from "../helpers/temp-home.ts";
import { body, eventually, startFixture, type ServerFixture } from "../server/helpers.ts";

const PLUGIN_DIR = join(import.meta.dir, "..", "..", "adapters", "openclaw", "plugin");

/** What OpenClaw's `api` object does for this plugin: hand over its config, record `on()` registrations. */
function fakeApi(pluginConfig: Record<string, unknown> | undefined) {
  const registrations: Array<{ hook: string; handler: (event: unknown, ctx: unknown) => Promise<{ block?: boolean; blockReason?: string } | undefined>; options?: { timeoutMs?: number } }> = [];
  const warnings: string[] = [];
  const api: PluginApi = {
    ...(pluginConfig ? { pluginConfig } : {}),
    logger: { info: () => undefined, warn: (line) => warnings.push(line), error: (line) => warnings.push(line) },
    on: (hook, handler, options) => registrations.push({ hook, handler: handler as never, ...(options ? { options } : {}) }),
  };
  const handler = (hook: string) => {
    const found = registrations.find((r) => r.hook === hook);
    if (!found) throw new Error(`${hook} not registered`);
    return found.handler;
  };
  return { api, registrations, warnings, handler };
}

/** A call as OpenClaw's hook runner passes it (event, ctx). */
function execCall(command: string, toolCallId: string) {
  return {
    event: { toolName: "exec", params: { command }, runId: "run-1", toolCallId },
    ctx: { agentId: "main", sessionKey: "agent:main:t1", sessionId: "t1", runId: "run-1", toolName: "exec", toolCallId, requester: { channel: "webchat", accountId: "acct", senderId: "user-7", senderIsOwner: true, roleIds: ["r1"] } },
  };
}

function tokenFile(token: string): string {
  const file = join(tempDir(), "aegisclaw.token");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return file;
}

describe("openclaw plugin", () => {
  let permissive: ServerFixture;
  let standard: ServerFixture;
  beforeAll(async () => {
    permissive = await startFixture({ template: "permissive" });
    standard = await startFixture({ template: "standard", approvalsTimeout: "20s" });
    for (const f of [permissive, standard]) {
      mkdirSync(join(openClawConfigPath(f.home), ".."), { recursive: true, mode: 0o700 });
      writeFileSync(openClawConfigPath(f.home), "grants:\n  - shell.exec:echo\n", { mode: 0o600 });
    }
  });
  afterAll(async () => {
    await permissive?.stop();
    await standard?.stop();
  });

  const hooksFor = (f: ServerFixture, extra: Record<string, unknown> = {}) => {
    const fake = fakeApi({ endpoint: f.url, tokenFile: tokenFile(f.tokens.operator), ...extra });
    plugin.register(fake.api);
    return { ...fake, before: fake.handler("before_tool_call"), after: fake.handler("after_tool_call") };
  };

  test("openclaw plugin: the manifest and package.json are what OpenClaw loads (id aegisclaw, strict config schema, ./index.mjs, no dependencies)", () => {
    const manifest = JSON.parse(readFileSync(join(PLUGIN_DIR, "openclaw.plugin.json"), "utf8"));
    expect(manifest).toMatchObject({ id: "aegisclaw", configSchema: { type: "object", additionalProperties: false } });
    expect(Object.keys(manifest.configSchema.properties).sort()).toEqual(["endpoint", "timeoutMs", "tokenFile"]);
    expect(manifest.configSchema.properties.timeoutMs).toMatchObject({ type: "integer", maximum: 600000 });
    const pkg = JSON.parse(readFileSync(join(PLUGIN_DIR, "package.json"), "utf8"));
    expect(pkg).toMatchObject({ type: "module", openclaw: { extensions: ["./index.mjs"] } });
    expect(pkg.dependencies).toBeUndefined();
    expect(plugin).toMatchObject({ id: "aegisclaw", name: expect.any(String), description: expect.any(String) });
  });

  test("openclaw plugin: register hooks before_tool_call with the decision budget (default 130 s, capped at 600 s) and after_tool_call", () => {
    const defaults = fakeApi({ endpoint: "http://127.0.0.1:7878" });
    plugin.register(defaults.api);
    expect(defaults.registrations.map((r) => r.hook)).toEqual(["before_tool_call", "after_tool_call"]);
    // The hook's budget is the request's plus 2 s, so AegisClaw's timeout reason (not OpenClaw's) reaches the agent.
    expect(defaults.registrations[0]?.options?.timeoutMs).toBe(132_000);
    const capped = fakeApi({ timeoutMs: 600_000 });
    plugin.register(capped.api);
    expect(capped.registrations[0]?.options?.timeoutMs).toBe(600_000);
    expect(createHooks({ timeoutMs: 5000 }).settings).toEqual({ endpoint: "http://127.0.0.1:7878", timeoutMs: 5000 });
  });

  test("openclaw plugin: it sends OpenClaw's ids and only channel, senderId and senderIsOwner of the requester; undefined is dropped", () => {
    const { event, ctx } = execCall("echo hi", "call_1");
    expect(toolCallBody(event, ctx)).toEqual({
      toolName: "exec", params: { command: "echo hi" }, toolCallId: "call_1", runId: "run-1", agentId: "main", sessionKey: "agent:main:t1", sessionId: "t1",
      requester: { channel: "webchat", senderId: "user-7", senderIsOwner: true },
    });
    expect(toolCallBody({ toolName: "read", params: { path: "/x" } }, { requester: {} })).toEqual({ toolName: "read", params: { path: "/x" } });
  });

  test("openclaw plugin: an allowed call returns undefined; after_tool_call records its result in the audit log", async () => {
    const hooks = hooksFor(permissive);
    const { event, ctx } = execCall("echo hi", "call_allow");
    expect(await hooks.before(event, ctx)).toBeUndefined();
    const decision = [...readEntries(permissive.app.layout.audit, { type: "decision" })].at(-1);
    expect(decision).toMatchObject({ actor: { name: "otto", source: "openclaw" }, request: { tool: "exec", argv: ["echo", "hi"], context: { toolCallId: "call_allow", senderIsOwner: true } } });
    await hooks.after({ ...event, result: { content: [{ type: "text", text: "hi" }], details: { status: "completed", exitCode: 0 } }, durationMs: 12.4 }, ctx);
    const entries = [...readEntries(permissive.app.layout.audit, { runId: String(decision?.runId) })];
    expect(entries.map((entry) => entry.type)).toEqual(["decision", "result"]);
    expect(entries[1]).toMatchObject({ actor: { name: "otto", source: "openclaw" }, result: { exitCode: 0, durationMs: 12 } });
    // Reported once: a second after_tool_call for the same call sends nothing.
    await hooks.after({ ...event, result: { details: { status: "completed" } } }, ctx);
    expect([...readEntries(permissive.app.layout.audit, { runId: String(decision?.runId) })]).toHaveLength(2);
    expect(hooks.warnings).toEqual([]);
  });

  test("openclaw plugin: a denied call is blocked with AegisClaw's reasons and rule ids; lockdown says so", async () => {
    const hooks = hooksFor(permissive);
    const denied = await hooks.before({ toolName: "read", params: { path: "/etc/shadow" }, toolCallId: "call_deny" }, {});
    expect(denied).toMatchObject({ block: true });
    expect(denied?.blockReason).toStartWith("AegisClaw denied read: ");
    expect(denied?.blockReason).toContain("files.read:/etc/shadow");
    expect(denied?.blockReason).toContain("[scope.not-granted]");
    permissive.app.lockdown.write({ active: true, reason: "plugin test", since: new Date().toISOString(), actor: "test" });
    try {
      const locked = await hooks.before(execCall("echo hi", "call_locked").event, {});
      expect(locked?.blockReason).toStartWith("AegisClaw denied exec (lockdown is active): ");
      expect(locked?.blockReason).toContain("plugin test [lockdown]");
    } finally {
      permissive.app.lockdown.write({ active: false, since: new Date().toISOString(), actor: "test" });
    }
    // Denied calls are not remembered: their after_tool_call reports nothing.
    await hooks.after({ toolName: "read", params: {}, toolCallId: "call_deny", error: "blocked" }, {});
    expect(hooks.warnings).toEqual([]);
  });

  test("openclaw plugin: an ask holds the hook until a person answers through AegisClaw; approved -> allowed", async () => {
    const hooks = hooksFor(standard);
    const waiting = hooks.before(execCall("echo asked", "call_ask").event, {});
    const request = await eventually(async () => ((await body(await standard.call("/api/v1/approvals", { as: "viewer" }))).pending as Array<{ id: string; requestHash: string; argv: string[] }>).find((p) => p.argv.join(" ") === "echo asked"), 5000, "the ask");
    expect((await standard.call(`/api/v1/approvals/${request.id}/approve`, { as: "admin", method: "POST", json: { requestHash: request.requestHash } })).status).toBe(200);
    expect(await waiting).toBeUndefined();
    const denying = hooks.before(execCall("echo refused", "call_ask_2").event, {});
    const second = await eventually(async () => ((await body(await standard.call("/api/v1/approvals", { as: "viewer" }))).pending as Array<{ id: string; requestHash: string; argv: string[] }>).find((p) => p.argv.join(" ") === "echo refused"), 5000, "the second ask");
    await standard.call(`/api/v1/approvals/${second.id}/deny`, { as: "admin", method: "POST", json: { requestHash: second.requestHash } });
    expect((await denying)?.blockReason).toContain("[approval.denied]");
  });

  test("openclaw plugin: OpenClaw cancelling the call (ctx.abortSignal) blocks it and withdraws the ask", async () => {
    const hooks = hooksFor(standard);
    const cancel = new AbortController();
    const waiting = hooks.before(execCall("echo cancelled", "call_cancel").event, { abortSignal: cancel.signal });
    const request = await eventually(async () => ((await body(await standard.call("/api/v1/approvals", { as: "viewer" }))).pending as Array<{ id: string; argv: string[] }>).find((p) => p.argv.join(" ") === "echo cancelled"), 5000, "the ask");
    cancel.abort();
    expect((await waiting)?.blockReason).toContain("cancelled");
    const approval = await eventually(() => [...readEntries(standard.app.layout.audit, { runId: request.id, type: "approval" })][0], 3000, "the withdrawal");
    expect(approval.approval).toMatchObject({ outcome: "denied", via: "system" });
  });

  test("openclaw plugin: a stopped server blocks the call (fail closed), naming where it looked", async () => {
    const gone = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const url = `http://127.0.0.1:${gone.port}`;
    await gone.stop(true);
    const hooks = createHooks({ endpoint: url }, { env: { AEGISCLAW_API_TOKEN: permissive.tokens.operator } });
    const result = await hooks.beforeToolCall(execCall("echo hi", "call_gone").event, {});
    expect(result?.block).toBe(true);
    expect(result?.blockReason).toContain(`AegisClaw unreachable at ${url}`);
    expect(result?.blockReason).toContain("fail closed");
  });

  test("openclaw plugin: a server that never answers blocks the call after timeoutMs", async () => {
    const hung: Array<() => void> = [];
    const slow = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>((resolve) => hung.push(() => resolve(new Response("late")))) });
    try {
      const hooks = createHooks({ endpoint: slow.url.origin, timeoutMs: 300 }, { env: { AEGISCLAW_API_TOKEN: permissive.tokens.operator } });
      const result = await hooks.beforeToolCall(execCall("echo hi", "call_slow").event, {});
      expect(result?.blockReason).toContain("timed out after 300 ms waiting for AegisClaw");
    } finally {
      for (const release of hung) release();
      await slow.stop(true);
    }
  });

  test("openclaw plugin: a 500, a 200 that is not an allow, and a refused token all block with what went wrong", async () => {
    /** A stand-in server that answers every request with `status` and `text`. */
    const check = async (status: number, text: string, expected: string) => {
      const stand = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(text, { status, headers: { "Content-Type": "application/json" } }) });
      try {
        const result = await createHooks({ endpoint: stand.url.origin }, { env: { AEGISCLAW_API_TOKEN: "acw_x" } }).beforeToolCall(execCall("echo hi", `call_${status}`).event, {});
        expect(result?.block).toBe(true);
        expect(result?.blockReason).toContain(expected);
      } finally {
        await stand.stop(true);
      }
    };
    await check(500, '{"error":{"code":"internal","message":"internal error (details are in the server\'s log)"}}', "AegisClaw answered 500 (internal: internal error");
    await check(502, "<html>bad gateway</html>", "AegisClaw answered 502 (<html>bad gateway</html>)");
    await check(200, '{"verdict":"deny","reasons":[]}', "AegisClaw answered 200 (an answer that is not an allow verdict)");
    await check(200, "not json", "AegisClaw answered 200");
    await check(403, '{"verdict":"allow","id":"x","requestHash":"y"}', "AegisClaw answered 403");
    // The real server: an unknown token is 401, a viewer token 403 (role).
    const bad = await createHooks({ endpoint: permissive.url }, { env: { AEGISCLAW_API_TOKEN: `acw_${"0".repeat(12)}_${"f".repeat(64)}` } }).beforeToolCall(execCall("echo hi", "call_401").event, {});
    expect(bad?.blockReason).toContain("AegisClaw answered 401");
    expect(bad?.blockReason).toContain("the API token was refused");
    const viewer = await createHooks({ endpoint: permissive.url }, { env: { AEGISCLAW_API_TOKEN: permissive.tokens.viewer } }).beforeToolCall(execCall("echo hi", "call_viewer").event, {});
    expect(viewer?.blockReason).toContain("AegisClaw answered 403 (forbidden");
    expect(viewer?.blockReason).toContain("needs the operator role");
  });

  test("openclaw plugin: without a token every call is blocked with how to fix it; the token file is read at every call (rotation)", async () => {
    const none = await createHooks({ endpoint: permissive.url }, { env: {} }).beforeToolCall(execCall("echo hi", "call_none").event, {});
    expect(none?.blockReason).toContain("no AegisClaw API token");
    expect(none?.blockReason).toContain("AEGISCLAW_API_TOKEN");
    expect(none?.blockReason).toContain("aegisclaw token create --role operator");
    const missing = join(tempDir(), "missing.token");
    const fromFile = await createHooks({ endpoint: permissive.url, tokenFile: missing }, { env: {} }).beforeToolCall(execCall("echo hi", "call_missing").event, {});
    expect(fromFile?.blockReason).toContain(`tokenFile ${missing} is missing or empty`);
    // A missing file falls back to the environment.
    expect(await createHooks({ endpoint: permissive.url, tokenFile: missing }, { env: { AEGISCLAW_API_TOKEN: permissive.tokens.operator } }).beforeToolCall(execCall("echo hi", "call_env").event, {})).toBeUndefined();
    // Rotation: a viewer token in the file is refused; the operator token written over it is used at the next call.
    const file = tokenFile(permissive.tokens.viewer);
    const hooks = createHooks({ endpoint: permissive.url, tokenFile: file }, { env: {} });
    expect((await hooks.beforeToolCall(execCall("echo hi", "call_rot_1").event, {}))?.block).toBe(true);
    writeFileSync(file, `${permissive.tokens.operator}\n`);
    expect(await hooks.beforeToolCall(execCall("echo hi", "call_rot_2").event, {})).toBeUndefined();
    // No message ever contains a token.
    expect(JSON.stringify([none, fromFile])).not.toContain("acw_");
  });

  test("openclaw plugin: a bad config does not break register; every call is blocked naming the problem", async () => {
    const fake = fakeApi({ endpoint: "ftp://example.com" });
    plugin.register(fake.api);
    const result = await fake.handler("before_tool_call")(execCall("echo hi", "call_cfg").event, {});
    expect(result?.blockReason).toContain("misconfigured");
    expect(result?.blockReason).toContain("ftp://example.com");
    expect(fake.warnings.join(" ")).toContain("every tool call will be blocked");
    expect(createHooks({ timeoutMs: 5 }).settings.problem).toContain("timeoutMs");
  });

  test("openclaw plugin: after_tool_call maps OpenClaw's outcome and never throws, even when AegisClaw is gone", async () => {
    expect(resultBody("h", { result: { details: { status: "completed", exitCode: 0 } }, durationMs: 5.6 })).toEqual({ requestHash: "h", status: "completed", exitCode: 0, durationMs: 6 });
    expect(resultBody("h", { error: "boom" })).toEqual({ requestHash: "h", status: "failed", error: "boom" });
    expect(resultBody("h", { error: "blocked by policy", result: { details: { status: "blocked" } } })).toEqual({ requestHash: "h", status: "blocked", error: "blocked by policy" });
    expect(resultBody("h", { result: { details: { exitCode: 999 } } })).toEqual({ requestHash: "h", status: "completed" });
    const hooks = createHooks({ endpoint: permissive.url }, { env: { AEGISCLAW_API_TOKEN: permissive.tokens.operator }, logger: { warn: () => undefined } });
    const { event, ctx } = execCall("echo hi", "call_after_gone");
    expect(await hooks.beforeToolCall(event, ctx)).toBeUndefined();
    const warnings: string[] = [];
    const stale = createHooks({ endpoint: "http://127.0.0.1:9" }, { env: { AEGISCLAW_API_TOKEN: "acw_x" }, logger: { warn: (line) => warnings.push(line) } });
    stale.pending.set(`run-1\0call_after_gone`, hooks.pending.get(`run-1\0call_after_gone`) ?? { id: "x", requestHash: "y" });
    expect(await stale.afterToolCall(event, ctx)).toBeUndefined();
    expect(warnings.join(" ")).toContain("not reported: AegisClaw unreachable");
    expect(await stale.afterToolCall(undefined, undefined)).toBeUndefined();
    expect(await hooks.beforeToolCall(undefined, undefined)).toMatchObject({ block: true });
    const unserialisable = await hooks.beforeToolCall({ toolName: "exec", params: { command: "echo", n: 1n } }, {});
    expect(unserialisable?.blockReason).toStartWith("AegisClaw plugin failed, so exec is blocked (fail closed): ");
  });

  test("openclaw plugin: it runs under OpenClaw's own Node 24 (allow, deny, result), not only under Bun", async () => {
    const node = join(import.meta.dir, "..", "..", ".tools", "openclaw", "node", "bin", "node");
    if (!(await Bun.file(node).exists())) throw new Error(`${node} is missing: run scripts/setup-openclaw.sh`);
    const script = `
      const { createHooks } = await import(process.env.PLUGIN);
      const hooks = createHooks({ endpoint: process.env.ENDPOINT, timeoutMs: 10000 });
      const event = { toolName: "exec", params: { command: "echo from-node" }, runId: "node-run", toolCallId: "node-call" };
      const allow = await hooks.beforeToolCall(event, { agentId: "main" });
      await hooks.afterToolCall({ ...event, result: { details: { status: "completed", exitCode: 0 } }, durationMs: 3 }, {});
      const deny = await hooks.beforeToolCall({ toolName: "read", params: { path: "/etc/shadow" } }, {});
      console.log(JSON.stringify({ version: process.version, allow: allow ?? null, deny }));`;
    const child = Bun.spawn([node, "--input-type=module", "-e", script], {
      env: { PATH: process.env.PATH ?? "", PLUGIN: join(PLUGIN_DIR, "index.mjs"), ENDPOINT: permissive.url, AEGISCLAW_API_TOKEN: permissive.tokens.operator },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(code, err).toBe(0);
    const seen = JSON.parse(out) as { version: string; allow: unknown; deny: { blockReason: string } };
    expect(seen.version).toStartWith("v24.");
    expect(seen.allow).toBeNull();
    expect(seen.deny.blockReason).toContain("[scope.not-granted]");
    const decision = [...readEntries(permissive.app.layout.audit, { type: "decision" })].find((entry) => (entry.request as { argv?: string[] } | undefined)?.argv?.join(" ") === "echo from-node");
    expect([...readEntries(permissive.app.layout.audit, { runId: String(decision?.runId) })].map((entry) => entry.type)).toEqual(["decision", "result"]);
  });

  test("openclaw plugin: decision round trip (informal, printed; no assertion on time)", async () => {
    const hooks = createHooks({ endpoint: permissive.url }, { env: { AEGISCLAW_API_TOKEN: permissive.tokens.operator } });
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const started = performance.now();
      expect(await hooks.beforeToolCall(execCall("echo hi", `call_rt_${i}`).event, {})).toBeUndefined();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(`openclaw plugin: allow round trip over ${times.length} calls: median ${times[25]?.toFixed(2)} ms, p90 ${times[45]?.toFixed(2)} ms`);
  });
});
