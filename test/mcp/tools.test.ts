import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis, useCompiledBinary } from "../helpers/cli.ts";
import { call, closeClientsAfterEach, connect, home, textOf } from "./helpers.ts";

useCompiledBinary();
closeClientsAfterEach();

describe("mcp-server tools (compiled binary, SDK client over stdio)", () => {
  test("mcp tools: lists sandbox_exec, policy_simulate, audit_verify, skills_list and skill_run with input schemas, output schemas and truthful annotations", async () => {
    const { client } = await connect(await home("standard"));
    expect(client.getServerVersion()?.name).toBe("aegisclaw");
    expect(client.getInstructions()).toContain("hardened");
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
    expect(Object.keys(byName).sort()).toEqual(["audit_verify", "policy_simulate", "sandbox_exec", "skill_run", "skills_list"]);

    const exec = byName.sandbox_exec;
    expect(exec?.inputSchema.required).toEqual(["argv"]);
    expect(Object.keys(exec?.inputSchema.properties ?? {}).sort()).toEqual(["argv", "image", "runtime", "scopes", "timeoutSeconds"]);
    expect(exec?.inputSchema.additionalProperties).toBe(false);
    expect(exec?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
    expect(exec?.outputSchema?.required).toEqual(expect.arrayContaining(["runId", "exitCode", "stdout", "stderr", "decision"]));
    expect(exec?.description).toContain("approv");

    for (const name of ["policy_simulate", "audit_verify", "skills_list"]) {
      expect(byName[name]?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
      expect(byName[name]?.outputSchema).toBeDefined();
    }
    expect(JSON.stringify(byName.policy_simulate?.inputSchema)).toBe(JSON.stringify(exec?.inputSchema));
    expect(Object.keys(byName.audit_verify?.inputSchema.properties ?? {})).toEqual(["publicKey"]);

    expect(Object.keys(byName.skills_list?.inputSchema.properties ?? {})).toEqual([]);
    expect(byName.skills_list?.inputSchema.additionalProperties).toBe(false);
    expect(byName.skills_list?.outputSchema?.required).toEqual(["skills"]);
    const skillRun = byName.skill_run;
    expect(skillRun?.inputSchema.required).toEqual(["name"]);
    expect(Object.keys(skillRun?.inputSchema.properties ?? {}).sort()).toEqual(["args", "command", "name", "paths"]);
    expect(skillRun?.inputSchema.additionalProperties).toBe(false);
    expect(skillRun?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
    expect(skillRun?.outputSchema?.required).toEqual(expect.arrayContaining(["runId", "exitCode", "stdout", "stderr", "decision", "skill"]));
    expect(skillRun?.description).toContain("approval");
  });

  test("mcp tools: policy_simulate previews allow, ask and deny and records nothing", async () => {
    const strict = await home("strict");
    const before = (await aegis(strict, ["logs", "--json"])).stdout;
    const { client } = await connect(strict);
    const denied = await call(client, "policy_simulate", { argv: ["echo", "hi"] });
    expect(denied.isError).toBeFalsy();
    expect(denied.structuredContent).toMatchObject({ outcome: "deny", approvalRequired: false, decision: { kind: "deny" } });
    expect(textOf(denied)).toContain("scope shell.exec:echo is not granted");
    const asks = await call(client, "policy_simulate", { argv: ["echo", "hi"], scopes: ["shell.exec"] });
    expect(asks.structuredContent).toMatchObject({ outcome: "ask", approvalRequired: true, sandbox: { user: "65534:65534", network: "none", noNewPrivileges: true } });
    expect(textOf(asks)).toContain("nothing was executed or recorded");
    expect((await aegis(strict, ["logs", "--json"])).stdout).toBe(before);

    const { client: standard } = await connect(await home("standard"));
    const allowed = await call(standard, "policy_simulate", { argv: ["echo", "hi"] });
    expect(allowed.structuredContent).toMatchObject({ outcome: "run", decision: { kind: "allow" } });
  });

  test("mcp tools: audit_verify reports an intact log, an error result with the report for a wrong pinned key and for a tampered log", async () => {
    const homeDir = await home("standard");
    const { client } = await connect(homeDir);
    const intact = await call(client, "audit_verify", {});
    expect(intact.isError).toBeFalsy();
    expect(intact.structuredContent).toMatchObject({ ok: true });
    expect(textOf(intact)).toContain("audit log intact");

    const pubkey = (await aegis(homeDir, ["logs", "pubkey"])).stdout.trim();
    expect((await call(client, "audit_verify", { publicKey: pubkey })).structuredContent).toMatchObject({ ok: true });
    const wrongKey = await call(client, "audit_verify", { publicKey: "ab".repeat(32) });
    expect(wrongKey.isError).toBe(true);
    expect(wrongKey.structuredContent).toMatchObject({ ok: false });

    const checkpoint = await aegis(homeDir, ["logs", "checkpoint"]);
    expect(checkpoint.exitCode).toBe(0);
    const segment = readdirSync(join(homeDir, "audit")).find((name) => name.endsWith(".jsonl") && name !== "checkpoints.jsonl");
    if (!segment) throw new Error("no audit segment");
    const file = join(homeDir, "audit", segment);
    writeFileSync(file, readFileSync(file, "utf8").replace("initialised with template", "initialised with TEMPLATE"));
    const tampered = await call(client, "audit_verify", {});
    expect(tampered.isError).toBe(true);
    expect(textOf(tampered)).toContain("FAILED verification at entry 1");
    expect(tampered.structuredContent).toMatchObject({ ok: false, failure: { seq: 1 } });
  });

  test("mcp tools: bad arguments are error results naming the field, and the server keeps serving", async () => {
    const { client, transport } = await connect(await home("standard"));
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["sandbox_exec", {}, "argv"],
      ["sandbox_exec", { argv: [] }, "a command is required"],
      ["sandbox_exec", { argv: "echo hi" }, "argv"],
      ["sandbox_exec", { argv: ["echo"], unexpected: true }, "unexpected"],
      ["sandbox_exec", { argv: ["echo"], timeoutSeconds: -1 }, "timeoutSeconds"],
      ["sandbox_exec", { argv: ["echo", "a\u0000b"] }, "NUL"],
      ["sandbox_exec", { argv: ["echo"], runtime: "qemu" }, "runtime"],
      ["policy_simulate", { argv: ["echo"], scopes: ["root.everything"] }, "root.everything"],
      ["audit_verify", { publicKey: "nothex" }, "64 hex"],
      ["skills_list", { name: "x" }, "name"],
      ["skill_run", {}, "name"],
      ["skill_run", { name: "no-such-skill" }, "is not installed"],
      ["no_such_tool", {}, "no_such_tool"],
    ];
    for (const [name, args, mention] of cases) {
      const result = await call(client, name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(textOf(result)).toContain(mention);
    }
    // A bad scope is the Gate's own bad-input refusal, with its fix, and nothing was recorded.
    const badScope = await call(client, "sandbox_exec", { argv: ["echo"], scopes: ["files.read:/"] });
    expect(badScope.isError).toBe(true);
    expect(textOf(badScope)).toContain("[bad-input]");
    expect((await call(client, "audit_verify", {})).isError).toBeFalsy();
    expect(transport.pid).toBeGreaterThan(0);
  });
});
