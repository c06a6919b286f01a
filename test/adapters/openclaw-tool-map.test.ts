import { describe, expect, test } from "bun:test";
import { OpenClawAdapterConfig } from "../../src/adapters/openclaw/config.ts";
import { mapToolCall } from "../../src/adapters/openclaw/tool-map.ts";
import { parseRequestedScope } from "../../src/policy/index.ts";
import { failure } from "../helpers/errors.ts";

const config = OpenClawAdapterConfig.parse({ workspace: "/srv/agent/workspace" });
const map = (toolName: string, params: Record<string, unknown>) => mapToolCall({ toolName, params }, config);

describe("openclaw tool map", () => {
  test("exec: a plain command is its own argv and names its program", () => {
    expect(map("exec", { command: "git status --short" })).toEqual({ argv: ["git", "status", "--short"], requested: ["shell.exec:git"] });
    expect(map("exec", { command: "/usr/bin/id -u" })).toEqual({ argv: ["/usr/bin/id", "-u"], requested: ["shell.exec:/usr/bin/id"] });
  });

  test("exec: anything a shell would interpret is judged as a shell script", () => {
    for (const command of ["echo hi; rm -rf /", "cat $HOME/.ssh/id_rsa", "ls > out", "echo `id`", "echo 'quoted'", "a && b", "ls *", "./script.sh", "echo hi\nrm x", "../bin/x"]) {
      expect(map("exec", { command })).toEqual({ argv: ["sh", "-c", command], requested: ["shell.exec:sh"] });
    }
  });

  test("exec: env overrides and elevation are part of what policy sees", () => {
    expect(map("exec", { command: "make", env: { LD_PRELOAD: "/tmp/x.so" } })).toEqual({ argv: ["env", "LD_PRELOAD=/tmp/x.so", "make"], requested: ["shell.exec:env"] });
    expect(map("exec", { command: "apt update", elevated: true }).requested).toEqual(["shell.exec:apt", "tool.call:exec.elevated"]);
  });

  test("file tools: paths resolve against the workspace and name the file, never a guess", () => {
    expect(map("read", { path: "notes/todo.md" })).toEqual({ argv: ["read", "/srv/agent/workspace/notes/todo.md"], requested: ["files.read:/srv/agent/workspace/notes/todo.md"] });
    expect(map("write", { file_path: "/etc/passwd" }).requested).toEqual(["files.write:/etc/passwd"]);
    expect(map("edit", { filePath: "a.txt" }).requested).toEqual(["files.write:/srv/agent/workspace/a.txt"]);
    // `..` stays in the text here; the scope grammar normalises it, so it cannot escape a grant.
    const escaping = map("read", { path: "../../etc/shadow" }).requested[0] ?? "";
    expect(parseRequestedScope(escaping).text).toBe("files.read:/srv/etc/shadow");
  });

  test("apply_patch: every file the patch touches needs files.write", () => {
    const input = "*** Begin Patch\n*** Update File: src/a.ts\n@@\n-x\n+y\n*** Add File: /tmp/new.txt\n+hi\n*** Delete File: old.txt\n*** Update File: b.ts\n*** Move to: c.ts\n*** End Patch";
    expect(map("apply_patch", { input }).requested).toEqual([
      "files.write:/srv/agent/workspace/src/a.ts",
      "files.write:/tmp/new.txt",
      "files.write:/srv/agent/workspace/old.txt",
      "files.write:/srv/agent/workspace/b.ts",
      "files.write:/srv/agent/workspace/c.ts",
    ]);
  });

  test("web_fetch: the host and the scheme's port", () => {
    expect(map("web_fetch", { url: "https://Example.COM/a?b" }).requested).toEqual(["net.outbound:example.com:443"]);
    expect(map("web_fetch", { url: "http://127.0.0.1:8080/" }).requested).toEqual(["net.outbound:127.0.0.1:8080"]);
  });

  test("AegisClaw's own MCP tools need no scope here (their Gate is inside mcp-server); other tools need tool.call", () => {
    expect(map("aegisclaw__sandbox_exec", { command: "id" })).toEqual({ argv: ["aegisclaw__sandbox_exec"], requested: [] });
    expect(map("session_status", {})).toEqual({ argv: ["session_status"], requested: ["tool.call:session_status"] });
    expect(map("github__create_issue", { title: "x" }).requested).toEqual(["tool.call:github__create_issue"]);
    // Another server that merely starts with the name is not AegisClaw's.
    expect(map("aegisclawx__sandbox_exec", {}).requested).toEqual(["tool.call:aegisclawx__sandbox_exec"]);
  });

  test("what it cannot read with certainty is bad input, so the call is blocked", async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["exec", {}, "command must be a non-empty string"],
      ["exec", { command: "  " }, "command must be a non-empty string"],
      ["exec", { command: "ls", env: { A: 1 } }, "env.A must be a string"],
      ["read", {}, "no path"],
      ["read", { path: "a", file_path: "b" }, "disagree"],
      ["read", { path: "~/.ssh/id_rsa" }, "starts with ~"],
      ["write", { path: "x\0y" }, "NUL"],
      ["apply_patch", { input: "nothing here" }, "names no file"],
      ["web_fetch", { url: "file:///etc/passwd" }, "only http and https"],
      ["web_fetch", { url: "not a url" }, "is not a URL"],
      ["bad name!", {}, "is not a tool name"],
    ];
    for (const [tool, params, message] of cases) {
      const error = await failure(Promise.resolve().then(() => map(tool, params)));
      expect(error.code).toBe("bad-input");
      expect(error.message).toContain(message);
    }
    const noWorkspace = OpenClawAdapterConfig.parse({});
    const error = await failure(Promise.resolve().then(() => mapToolCall({ toolName: "read", params: { path: "rel.txt" } }, noWorkspace)));
    expect(error.message).toContain("no workspace");
  });
});
