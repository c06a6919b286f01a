import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnforceableScopes, parseScope, scopeCovers, type Scope } from "../../src/policy/index.ts";
import { resolveScopePath, scopeCoversResolved } from "../../src/policy/scope-resolve.ts";
import { parseRequestedScope } from "../../src/policy/scopes.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

/** The error a parse throws: its code and message, or undefined when it parsed. */
function failure(fn: () => unknown): { code: string; message: string } | undefined {
  try {
    fn();
  } catch (error) {
    return isAegisError(error) ? { code: error.code, message: error.message } : { code: "not-aegis", message: String(error) };
  }
  return undefined;
}

const covers = (grant: string, request: string): boolean => scopeCovers(parseScope(grant), parseRequestedScope(request));

describe("scopes: grammar", () => {
  test("scopes: parses every kind with its risk", () => {
    // shell.exec was "high"; the issue makes it medium (the sandbox has no network or host paths by default).
    expect(parseScope("shell.exec")).toMatchObject({ kind: "shell.exec", target: undefined, risk: "medium" });
    expect(parseScope("shell.exec:echo")).toMatchObject({ kind: "shell.exec", target: "echo", risk: "medium" });
    expect(parseScope("files.read:/data")).toMatchObject({ kind: "files.read", path: "/data", risk: "medium" });
    expect(parseScope("files.write:/data").risk).toBe("high");
    expect(parseScope("net.outbound:example.com").risk).toBe("high");
    expect(parseScope("secrets.read:API_KEY").risk).toBe("critical");
  });

  test("scopes: unknown kinds, missing or malformed targets are bad input", () => {
    for (const bad of ["shell", "files.delete:/x", "files.read", "net.outbound", "secrets.read", "shell.exec:", "shell.exec:a b", "shell.exec:bin/sh", "x\0", " shell.exec", "shell.exec "]) {
      expect(failure(() => parseScope(bad))?.code).toBe("bad-input");
    }
  });

  test("scopes: every kind is enforced (sandbox or OpenClaw plugin), so every kind can be granted", () => {
    expect(parseEnforceableScopes(["net.outbound:example.com"])[0]?.kind).toBe("net.outbound"); // enforced by the egress proxy
    expect(parseEnforceableScopes(["secrets.read:API_KEY"])[0]?.kind).toBe("secrets.read"); // only granted names reach /run/secrets
    expect(parseEnforceableScopes(["tool.call:github__*", "tool.call"]).map((scope) => scope.kind)).toEqual(["tool.call", "tool.call"]); // the plugin blocks the call
    expect(failure(() => parseEnforceableScopes(["secrets.read:api_key"]))?.code).toBe("bad-input");
    expect(parseEnforceableScopes(["shell.exec", "files.read:/etc", "files.write:/srv/out"]).length).toBe(3);
  });

  test("scopes: error messages escape control and bidi characters instead of printing them", () => {
    const message = failure(() => parseScope("files.read:/a\u001b[31m\u202e"))?.message ?? "";
    expect(message).toContain("\\u001b");
    expect(message).not.toMatch(/[\u001b\u202e]/);
  });

  test("scopes: parsing the normalized text again gives the same scope", () => {
    for (const text of ["files.read:/a//b/./c/", "net.outbound:BÜCHER.example.", "net.outbound:[::ffff:127.0.0.1]:80", "net.outbound:*.Example.com:8443", "shell.exec:/bin//echo"]) {
      const once = parseScope(text);
      expect(parseScope(once.text).text).toBe(once.text);
    }
  });
});

describe("scopes: paths", () => {
  const normalized: Array<[string, string]> = [
    ["/data/", "/data"],
    ["//data///x//", "/data/x"],
    ["/data/./x/.", "/data/x"],
    ["/data/../etc", "/etc"],
    ["/data/x/../../data/y", "/data/y"],
    ["/home/me/café", "/home/me/café"],
  ];
  test.each(normalized)("scopes: path %s normalizes to %s", (written, path) => {
    expect(parseScope(`files.read:${written}`)).toMatchObject({ target: path, path, written });
  });

  const refused: Array<[string, string, string]> = [
    ["relative path", "data/x", "absolute"],
    ["home shorthand", "~/x", "absolute"],
    ["dot path", "./x", "absolute"],
    ["climbing above /", "/data/../../etc", "climbs above /"],
    ["NUL byte", "/data/x\0y", "NUL"],
    ["newline", "/data/x\ny", "control character"],
    ["escape sequence", "/data/\u001b[2J", "control character"],
    ["C1 control", "/data/\u0085", "control character"],
    ["lone high surrogate", "/data/\ud800x", "lone surrogate"],
    ["lone low surrogate", "/data/\udc00", "lone surrogate"],
    ["replacement character", "/data/\ufffd", "U+FFFD"],
    ["bidi override", "/data/\u202etxt.exe", "bidirectional"],
    ["/ as a grant", "/", "over-broad"],
    ["/ spelled with dots", "/data/..", "over-broad"],
    ["over-long component", `/${"a".repeat(256)}`, "255 bytes"],
  ];
  test.each(refused)("scopes: path with %s is refused", (_label, written, reason) => {
    const error = failure(() => parseScope(`files.write:${written}`));
    expect(error?.code).toBe("bad-input");
    expect(error?.message).toContain(reason);
  });

  const coverage: Array<[string, string, boolean]> = [
    ["files.read:/data", "files.read:/data", true],
    ["files.read:/data", "files.read:/data/x/y", true],
    ["files.read:/data/", "files.read:/data/x", true],
    ["files.read:/data", "files.read:/database", false],
    ["files.read:/data", "files.read:/data-old/x", false],
    ["files.read:/data/x", "files.read:/data", false],
    ["files.read:/data", "files.read:/data/../etc/passwd", false],
    ["files.read:/data", "files.read://data//x", true],
    ["files.read:/data", "files.read:/", false],
    ["files.write:/data", "files.read:/data/x", true],
    ["files.write:/data", "files.write:/data/x", true],
    ["files.read:/data", "files.write:/data/x", false],
    ["files.read:/Data", "files.read:/data", false],
  ];
  test.each(coverage)("scopes: %s covering %s is %p", (grant, request, expected) => {
    expect(covers(grant, request)).toBe(expected);
  });
});

describe("scopes: symlinks resolved at check time", () => {
  const root = tempDir();
  const data = join(root, "data");
  const outside = join(root, "outside");
  mkdirSync(join(data, "sub"), { recursive: true });
  mkdirSync(join(outside, "inner"), { recursive: true });
  writeFileSync(join(data, "file.txt"), "ok");
  writeFileSync(join(outside, "secret.txt"), "secret");
  symlinkSync(join(outside, "secret.txt"), join(data, "escape"));
  symlinkSync("../outside", join(data, "dir-escape"));
  symlinkSync("file.txt", join(data, "inside"));
  symlinkSync("sub", join(data, "inside-dir"));
  symlinkSync(join(outside, "created-on-write.txt"), join(data, "dangling"));
  symlinkSync(join(outside, "inner"), join(data, "hop"));
  symlinkSync("loop", join(data, "loop"));
  symlinkSync("data", join(root, "linked-data"));
  symlinkSync("/", join(root, "root-link"));

  const cases: Array<[string, string, string, boolean]> = [
    ["a real file inside", "files.read:data", "files.read:data/file.txt", true],
    ["a symlink pointing inside", "files.read:data", "files.read:data/inside", true],
    ["a missing file under a symlinked dir pointing inside", "files.write:data", "files.write:data/inside-dir/new.txt", true],
    ["a missing file in a real dir", "files.write:data", "files.write:data/new/deeper.txt", true],
    ["a symlink to a file outside", "files.read:data", "files.read:data/escape", false],
    ["a file under a symlinked dir outside", "files.read:data", "files.read:data/dir-escape/secret.txt", false],
    ["a missing file under a symlinked parent outside", "files.write:data", "files.write:data/dir-escape/new.txt", false],
    ["a dangling symlink whose target is outside", "files.write:data", "files.write:data/dangling", false],
    ["`..` after a symlink (kernel order, not lexical)", "files.read:data", "files.read:data/hop/../secret.txt", false],
    ["a symlink loop", "files.read:data", "files.read:data/loop", false],
    ["a grant through a symlinked dir", "files.read:linked-data", "files.read:linked-data/file.txt", true],
    ["the real path of a symlinked grant (not under it as written)", "files.read:linked-data", "files.read:data/file.txt", false],
    ["a grant that resolves to /", "files.read:root-link", "files.read:root-link/etc/passwd", false],
  ];
  const under = (text: string): string => text.replace(":", `:${root}/`);

  test.each(cases)("scopes: resolved check of %s", (_label, grant, request, expected) => {
    const result = scopeCoversResolved(parseScope(under(grant)), parseRequestedScope(under(request)));
    expect(result.covered).toBe(expected);
    expect(result.reason.length).toBeGreaterThan(0);
  });

  test("scopes: the pure check alone would allow the escapes the resolved check catches", () => {
    expect(covers(under("files.read:data"), under("files.read:data/escape"))).toBe(true);
    expect(covers(under("files.read:data"), under("files.read:data/hop/../secret.txt"))).toBe(true);
  });

  test("scopes: an escape names where the path really leads", () => {
    const result = scopeCoversResolved(parseScope(under("files.read:data")), parseRequestedScope(under("files.read:data/escape")));
    expect(result.reason).toContain(join(outside, "secret.txt"));
    expect(result.reason).toContain("outside");
    const loop = scopeCoversResolved(parseScope(under("files.read:data")), parseRequestedScope(under("files.read:data/loop")));
    expect(loop.reason).toContain("too many symbolic links");
  });

  test("scopes: a missing target is reported with its first missing part, resolved through symlinked parents", () => {
    const missing = resolveScopePath(parseRequestedScope(under("files.write:data/dir-escape/new.txt")));
    expect(missing).toMatchObject({ exists: false, resolved: join(outside, "new.txt"), missing: join(outside, "new.txt") });
    const deep = resolveScopePath(parseRequestedScope(under("files.write:data/new/deeper.txt")));
    expect(deep).toMatchObject({ exists: false, missing: join(data, "new") });
    const result = scopeCoversResolved(parseScope(under("files.write:data")), parseRequestedScope(under("files.write:data/new/deeper.txt")));
    expect(result.reason).toContain("does not exist yet");
    expect(resolveScopePath(parseScope(under("files.read:data/inside")))).toMatchObject({ exists: true, resolved: join(data, "file.txt") });
  });

  test("scopes: resolution applies only to file scopes; other kinds fall back to the pure check", () => {
    expect(failure(() => resolveScopePath(parseScope("shell.exec")))?.code).toBe("bad-input");
    expect(scopeCoversResolved(parseScope("shell.exec"), parseRequestedScope("shell.exec:ls")).covered).toBe(true);
    expect(scopeCoversResolved(parseScope("shell.exec:ls"), parseRequestedScope("shell.exec:rm")).covered).toBe(false);
  });
});

describe("scopes: hosts", () => {
  const loopback = ["127.0.0.1", "2130706433", "0x7f000001", "017700000001", "0177.0.0.1", "0x7f.0.0.1", "0X7F.0.0.01", "127.1", "127.0.1", "127.0.0.1.", "[::ffff:127.0.0.1]", "::ffff:127.0.0.1", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:1]", "１２７.０.０.１"];
  test.each(loopback)("scopes: IPv4 spelling %s is 127.0.0.1", (spelling) => {
    expect(parseScope(`net.outbound:${spelling}`)).toMatchObject({ host: "127.0.0.1", hostKind: "ipv4", target: "127.0.0.1" });
    const request = spelling.includes(":") && !spelling.startsWith("[") ? `[${spelling}]:443` : `${spelling}:443`;
    expect(covers("net.outbound:127.0.0.1", `net.outbound:${request}`)).toBe(true);
  });

  const ipv6: Array<[string, string]> = [
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["[0:0:0:0:0:0:0:1]", "::1"],
    ["[2001:DB8:0:0:0:0:0:1]", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["[2001:db8::0:1]:8443", "2001:db8::1"],
    ["[::127.0.0.1]", "::7f00:1"],
  ];
  test.each(ipv6)("scopes: IPv6 spelling %s is %s", (spelling, address) => {
    expect(parseScope(`net.outbound:${spelling}`)).toMatchObject({ host: address, hostKind: "ipv6" });
  });

  const domains: Array<[string, string]> = [
    ["Example.COM", "example.com"],
    ["example.com.", "example.com"],
    ["bücher.example", "xn--bcher-kva.example"],
    ["BÜCHER.Example.", "xn--bcher-kva.example"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
    ["bücher\u3002example", "xn--bcher-kva.example"],
    ["123.example.com", "123.example.com"],
    [`${"a".repeat(63)}.com`, `${"a".repeat(63)}.com`],
  ];
  test.each(domains)("scopes: host %s normalizes to %s", (written, host) => {
    expect(parseScope(`net.outbound:${written}`)).toMatchObject({ host, hostKind: "domain", wildcard: false });
  });

  const invalid: Array<[string, string]> = [
    ["exa mple.com", "not a valid host name label"],
    ["-bad.com", "not a valid host name label"],
    ["bad-.com", "not a valid host name label"],
    ["exa_mple.com", "not a valid host name label"],
    [`${"a".repeat(64)}.com`, "longer than 63"],
    [`${"abcdefghi.".repeat(26)}com`, "longer than 253"],
    ["a..com", "empty label"],
    [".example.com", "empty label"],
    ["example.com..", "empty label"],
    ["xn--zz.example", "internationalized"],
    ["example.123", "not a valid IPv4"],
    ["1.2.3.4.5", "not a valid IPv4"],
    ["256.0.0.1", "not a valid IPv4"],
    ["08.0.0.1", "not a valid IPv4"],
    ["[::1", "no closing ]"],
    ["[::1]x", "after ]"],
    ["[fe80::1%eth0]", "not a valid IPv6"],
    ["[1::2::3]", "not a valid IPv6"],
    ["*", "every host"],
    ["*.com", "over-broad"],
    ["*.co.uk", "over-broad"],
    ["*.com.au", "over-broad"],
    ["a.*.example.com", "leading *."],
    ["**.example.com", "leading *."],
    ["*.127.0.0.1", "IP addresses"],
    ["example.com:*", "every port"],
    ["example.com:0", "1 to 65535"],
    ["example.com:65536", "1 to 65535"],
    ["example.com:08080", "1 to 65535"],
    ["example.com:", "1 to 65535"],
  ];
  test.each(invalid)("scopes: host %s is refused", (written, reason) => {
    const error = failure(() => parseScope(`net.outbound:${written}`));
    expect(error?.code).toBe("bad-input");
    expect(error?.message).toContain(reason);
  });

  test("scopes: requests must name a port and one host", () => {
    expect(failure(() => parseRequestedScope("net.outbound:example.com"))?.message).toContain("port");
    expect(failure(() => parseRequestedScope("net.outbound:*.example.com:443"))?.message).toContain("not a wildcard");
  });

  const coverage: Array<[string, string, boolean]> = [
    ["*.example.com", "a.example.com:443", true],
    ["*.example.com", "a.b.example.com:443", true],
    ["*.example.com", "A.Example.COM.:80", true],
    ["*.example.com", "example.com:443", false],
    ["*.example.com", "badexample.com:443", false],
    ["*.example.com", "a.example.com.evil.net:443", false],
    ["*.example.com", "a.example.com:8080", false],
    ["*.example.com:8080", "a.example.com:8080", true],
    ["*.github.io", "me.github.io:443", true],
    ["example.com", "example.com:443", true],
    ["example.com", "example.com:80", true],
    ["example.com", "example.com:22", false],
    ["example.com", "a.example.com:443", false],
    ["example.com:8080", "example.com:8080", true],
    ["example.com:8080", "example.com:443", false],
    ["bücher.example", "xn--bcher-kva.example:443", true],
    ["xn--bcher-kva.example", "BÜCHER.EXAMPLE.:443", true],
    ["127.0.0.1", "[::1]:443", false],
    ["[::1]", "[0:0:0:0:0:0:0:1]:443", true],
    ["[::1]:8080", "[::1]:8080", true],
    ["[::ffff:10.0.0.1]:5432", "10.0.0.1:5432", true],
    ["10.0.0.1", "10.1:443", true],
    ["10.0.0.1", "10.0.0.10:443", false],
  ];
  test.each(coverage)("scopes: net.outbound:%s covering %s is %p", (grant, request, expected) => {
    expect(covers(`net.outbound:${grant}`, `net.outbound:${request}`)).toBe(expected);
  });
});

describe("scopes: programs and secrets", () => {
  const programs: Array<[string, string, boolean]> = [
    ["shell.exec", "echo", true],
    ["shell.exec", "/bin/echo", true],
    ["shell.exec", "./run.sh", true],
    ["shell.exec", "my program", true],
    ["shell.exec:echo", "echo", true],
    ["shell.exec:echo", "/bin/echo", false],
    ["shell.exec:echo", "ech", false],
    ["shell.exec:echo", "./echo", false],
    ["shell.exec:/bin/echo", "/bin/echo", true],
    ["shell.exec:/bin/echo", "/bin//echo", true],
    ["shell.exec:/bin/echo", "/bin/../bin/echo", false],
    ["shell.exec:/bin/echo", "echo", false],
    ["shell.exec:/bin/echo", "/usr/bin/echo", false],
  ];
  test.each(programs)("scopes: %s covering program %s is %p", (grant, program, expected) => {
    expect(covers(grant, `shell.exec:${program}`)).toBe(expected);
  });

  test("scopes: program grants are a bare name or an absolute path without ..", () => {
    for (const bad of ["shell.exec:bin/sh", "shell.exec:./sh", "shell.exec:a b", "shell.exec:/", "shell.exec:/bin/../sh", "shell.exec:..", "shell.exec:-rf", "shell.exec:sh\0"]) {
      expect(failure(() => parseScope(bad))?.code).toBe("bad-input");
    }
    expect(parseScope("shell.exec:/usr//bin/git/").target).toBe("/usr/bin/git");
    expect(parseScope("shell.exec:python3.12").target).toBe("python3.12");
  });

  const names: Array<[string, boolean]> = [
    ["API_KEY", true],
    ["_PRIVATE", true],
    ["A1_B2", true],
    ["X".repeat(128), true],
    ["api_key", false],
    ["Api_Key", false],
    ["1KEY", false],
    ["API-KEY", false],
    ["API.KEY", false],
    ["API KEY", false],
    ["X".repeat(129), false],
  ];
  test.each(names)("scopes: secret name %s is valid: %p", (name, valid) => {
    expect(failure(() => parseScope(`secrets.read:${name}`)) === undefined).toBe(valid);
  });

  test("scopes: secrets match by exact name only", () => {
    expect(covers("secrets.read:API_KEY", "secrets.read:API_KEY")).toBe(true);
    expect(covers("secrets.read:API_KEY", "secrets.read:API_KEY2")).toBe(false);
    expect(covers("secrets.read:API_KEY", "secrets.read:API")).toBe(false);
  });
});

describe("scopes: agent tools", () => {
  test("scopes: tool.call parses with high risk; a bare grant means every tool", () => {
    expect(parseScope("tool.call:session_status")).toMatchObject({ kind: "tool.call", target: "session_status", text: "tool.call:session_status", risk: "high" });
    expect(parseScope("tool.call")).toMatchObject({ kind: "tool.call", target: undefined, text: "tool.call", risk: "high" });
    expect(parseScope("tool.call:github__*")).toMatchObject({ target: "github__*", text: "tool.call:github__*" });
    expect(parseScope("tool.call:*").target).toBe("*");
    expect(parseRequestedScope("tool.call:MCP.Server:tool-1").target).toBe("MCP.Server:tool-1");
    expect(parseScope(`tool.call:${"a".repeat(128)}`).target).toHaveLength(128);
  });

  const refused: Array<[string, string, string]> = [
    ["empty name", "tool.call:", "empty"],
    ["space", "tool.call:memory search", "letters, digits"],
    ["slash", "tool.call:a/b", "letters, digits"],
    ["leading -", "tool.call:-rf", "not starting with"],
    ["leading .", "tool.call:.hidden", "not starting with"],
    ["leading :", "tool.call::x", "not starting with"],
    ["non-ASCII", "tool.call:wérk", "letters, digits"],
    ["over-long name", `tool.call:${"a".repeat(129)}`, "at most 128"],
    ["over-long pattern", `tool.call:${"a".repeat(128)}*`, "at most 128"],
    ["* inside", "tool.call:git*hub", "may only end"],
    ["leading *", "tool.call:*_issue", "may only end"],
    ["two *", "tool.call:github__**", "may only end"],
    ["pattern prefix that cannot start a name", "tool.call:-*", "not starting with"],
    ["control character", "tool.call:exec\u001b[2J", "control character"],
    ["bidi override", "tool.call:exec\u202e", "bidirectional"],
  ];
  test.each(refused)("scopes: tool.call grant with %s is refused", (_label, text, reason) => {
    const error = failure(() => parseScope(text));
    expect(error?.code).toBe("bad-input");
    expect(error?.message).toContain(reason);
  });

  test("scopes: a requested tool call names exactly one tool", () => {
    for (const [text, reason] of [
      ["tool.call", "needs a target"],
      ["tool.call:*", "not a pattern"],
      ["tool.call:github__*", "not a pattern"],
      ["tool.call:", "empty"],
      ["tool.call:a b", "letters, digits"],
    ] as const) {
      const error = failure(() => parseRequestedScope(text));
      expect(error?.code).toBe("bad-input");
      expect(error?.message).toContain(reason);
    }
    expect(failure(() => parseRequestedScope("tool.call"))).toMatchObject({ message: 'scope "tool.call" needs a target' });
  });

  const coverage: Array<[string, string, boolean]> = [
    ["tool.call", "session_status", true],
    ["tool.call", "github__create_issue", true],
    ["tool.call:*", "cron", true],
    ["tool.call:*", "a.b:c-d", true],
    ["tool.call:session_status", "session_status", true],
    ["tool.call:session_status", "session_status2", false],
    ["tool.call:session_status", "session", false],
    ["tool.call:session_status", "Session_Status", false],
    ["tool.call:github__*", "github__create_issue", true],
    ["tool.call:github__*", "github__", true],
    ["tool.call:github__*", "github_x", false],
    ["tool.call:github__*", "github_", false],
    ["tool.call:github__*", "GitHub__create_issue", false],
    ["tool.call:github__*", "xgithub__create_issue", false],
    ["tool.call:memory_*", "memory_search", true],
    ["tool.call:memory_*", "memory", false],
  ];
  test.each(coverage)("scopes: %s covering tool %s is %p", (grant, tool, expected) => {
    expect(covers(grant, `tool.call:${tool}`)).toBe(expected);
    expect(scopeCoversResolved(parseScope(grant), parseRequestedScope(`tool.call:${tool}`)).covered).toBe(expected);
  });

  test("scopes: tool.call grants cover no other kind, and no other kind covers a tool call", () => {
    expect(covers("tool.call", "shell.exec:exec")).toBe(false);
    expect(covers("tool.call:*", "net.outbound:example.com:443")).toBe(false);
    expect(covers("shell.exec", "tool.call:exec")).toBe(false);
    expect(covers("files.write:/data", "tool.call:write")).toBe(false);
  });

  test("scopes: a hand-built tool.call request with a pattern or no target is never covered", () => {
    const wildcard: Scope = { kind: "tool.call", target: "github__*", text: "tool.call:github__*", risk: "high" };
    const bare: Scope = { kind: "tool.call", target: undefined, text: "tool.call", risk: "high" };
    expect(scopeCovers(parseScope("tool.call"), wildcard)).toBe(false);
    expect(scopeCovers(parseScope("tool.call:*"), bare)).toBe(false);
    expect(scopeCovers({ kind: "tool.call", target: "git*hub", text: "tool.call:git*hub", risk: "high" }, parseRequestedScope("tool.call:git_x_hub"))).toBe(false);
  });
});

describe("scopes: fail closed", () => {
  const handBuilt = (kind: Scope["kind"], target: string): Scope => ({ kind, target, text: `${kind}:${target}`, risk: "low" });

  test("scopes: a hand-built scope is judged by its text; one that does not parse is never covered", () => {
    expect(scopeCovers(parseScope("files.read:/data"), handBuilt("files.read", "/data/../etc"))).toBe(false);
    expect(scopeCovers(parseScope("files.read:/data"), handBuilt("files.read", "data/x"))).toBe(false);
    expect(scopeCovers(handBuilt("files.read", "/"), parseRequestedScope("files.read:/etc"))).toBe(false);
    expect(scopeCovers(handBuilt("net.outbound", "*"), parseRequestedScope("net.outbound:example.com:443"))).toBe(false);
    expect(scopeCovers(parseScope("shell.exec"), handBuilt("shell.exec", ""))).toBe(false);
  });

  test("scopes: a grant never covers a request of another kind", () => {
    expect(covers("files.write:/data", "shell.exec:/data/x")).toBe(false);
    expect(covers("net.outbound:example.com", "files.read:/example.com")).toBe(false);
    expect(covers("shell.exec", "secrets.read:API_KEY")).toBe(false);
  });
});
