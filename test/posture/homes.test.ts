/** computePosture on real homes made by `init`, against the real Docker engine and gVisor. */
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { homeLayout, LockdownStore } from "../../src/core/index.ts";
import { computePosture } from "../../src/posture/index.ts";
import { AgeSecretStore } from "../../src/secrets/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempHome } from "../helpers/cli.ts";
import { requireGvisor } from "../sandbox/gvisor-support.ts";
import { checkOf, initHome, selfTest, selfTestFile, setConfigLine } from "./helpers.ts";

beforeAll(requireDocker);

describe("posture of real homes", () => {
  test("posture: a fresh standard home scores 76 (C), and every lost point names its fix", async () => {
    const report = await computePosture(await initHome());
    const points = Object.fromEntries(report.checks.map((check) => [check.id, [check.earned, check.status]]));
    expect(points).toEqual({
      runtime: [14, "partial"],
      seccomp: [5, "partial"],
      network: [10, "pass"],
      policy: [12, "partial"],
      secrets: [0, "fail"],
      audit: [15, "pass"],
      "server-auth": [10, "pass"],
      "skill-signing": [10, "pass"],
      lockdown: [0, "pass"],
    });
    expect(report).toMatchObject({ score: 76, grade: "C" });
    for (const check of report.checks) expect(`${check.id}: ${Boolean(check.fix)}`).toBe(`${check.id}: ${check.earned < check.weight}`);
    expect(checkOf(report, "server-auth").detail).toContain("no API tokens");
    expect(checkOf(report, "skill-signing").detail).toContain("no skills installed");
  });

  test("posture: a fully hardened home (strict, gVisor self-tested, sealed secrets, intact log) scores 100 (A)", async () => {
    await requireGvisor();
    const home = await initHome("strict");
    setConfigLine(home, "runtime", "gvisor");
    await selfTest(home, "gvisor");
    await new AgeSecretStore(homeLayout(home).secrets, { scryptWorkFactorForTests: 2 }).init({ passphrase: "correct horse battery staple" });
    const report = await computePosture(home);
    expect(report.checks.filter((check) => check.earned < check.weight)).toEqual([]);
    expect(report).toMatchObject({ score: 100, grade: "A" });
    expect(checkOf(report, "seccomp").detail).toContain("gVisor");
  }, 90_000);

  test("posture seccomp: a real docker self-test confirms the profile; an aged record no longer does", async () => {
    const home = await initHome();
    await selfTest(home, "docker");
    const confirmed = checkOf(await computePosture(home), "seccomp");
    expect(confirmed).toMatchObject({ earned: 10, status: "pass" });
    expect(confirmed.detail).toContain("ENOSYS");
    const file = JSON.parse(readFileSync(selfTestFile(home), "utf8"));
    file.runtimes.docker.passedAt = new Date(Date.now() - 48 * 3_600_000).toISOString();
    writeFileSync(selfTestFile(home), JSON.stringify(file));
    const aged = checkOf(await computePosture(home), "seccomp");
    expect(aged).toMatchObject({ earned: 5, status: "partial" });
    expect(aged.detail).toContain("more than 24 h ago");
    expect(aged.fix).toContain("aegisclaw run");
  }, 60_000);

  test("posture policy: permissive loses points, strict earns all, user policies are neutral", async () => {
    const permissive = checkOf(await computePosture(await initHome("permissive")), "policy");
    expect(permissive).toMatchObject({ earned: 5, status: "partial" });
    expect(permissive.fix).toContain("aegisclaw policy use strict");
    expect(checkOf(await computePosture(await initHome("strict")), "policy")).toMatchObject({ earned: 15, status: "pass" });
    const home = await initHome("standard");
    writeFileSync(join(homeLayout(home).policies, "mine.rego"), "package aegisclaw.user.mine\n");
    const standard = checkOf(await computePosture(home), "policy");
    expect(standard).toMatchObject({ earned: 12, fix: "aegisclaw policy use strict" });
    expect(standard.detail).toContain("1 user policy (neutral");
  });

  test("posture secrets: none 0, unsealed 5, passphrase-sealed 10, readable by others 0", async () => {
    const home = await initHome();
    const none = checkOf(await computePosture(home), "secrets");
    expect(none).toMatchObject({ earned: 0, status: "fail", fix: "aegisclaw secrets init --passphrase" });
    const store = new AgeSecretStore(homeLayout(home).secrets);
    await store.init();
    const unsealed = checkOf(await computePosture(home), "secrets");
    expect(unsealed).toMatchObject({ earned: 5, status: "partial" });
    expect(unsealed.fix).toContain("age -p -a -o");
    chmodSync(store.paths.identity, 0o644);
    const exposed = checkOf(await computePosture(home), "secrets");
    expect(exposed).toMatchObject({ earned: 0, fix: `chmod 600 ${store.paths.identity}` });
    const sealed = await initHome();
    await new AgeSecretStore(homeLayout(sealed).secrets, { scryptWorkFactorForTests: 2 }).init({ passphrase: "pass phrase" });
    expect(checkOf(await computePosture(sealed), "secrets")).toMatchObject({ earned: 10, status: "pass" });
  });

  test("posture audit: a tampered audit log loses all audit points", async () => {
    const home = await initHome();
    const before = await computePosture(home);
    const segment = join(homeLayout(home).audit, "segment-000001.jsonl");
    writeFileSync(segment, readFileSync(segment, "utf8").replace("template standard", "template Standard"));
    const after = await computePosture(home);
    const audit = checkOf(after, "audit");
    expect(audit).toMatchObject({ earned: 0, status: "fail" });
    expect(audit.detail).toContain("does NOT verify (entry 1");
    expect(audit.fix).toContain("aegisclaw logs verify");
    expect(after.score).toBe(before.score - 15);
  });

  test("posture audit: entries past the latest signed checkpoint earn partial points", async () => {
    const home = await initHome();
    const checkpoints = join(homeLayout(home).audit, "checkpoints.jsonl");
    // init signs size 0 and then size 1; without the second, entry 1 is an unsigned tail.
    const lines = readFileSync(checkpoints, "utf8").trim().split("\n");
    writeFileSync(checkpoints, `${lines[0]}\n`);
    const audit = checkOf(await computePosture(home), "audit");
    expect(audit).toMatchObject({ earned: 10, status: "partial", fix: "aegisclaw logs checkpoint" });
  });

  test("posture server-auth: the token store is judged: readable by others, unreadable, too many admins, never rotated", async () => {
    const home = await initHome();
    const tokensFile = join(homeLayout(home).state, "tokens.json");
    expect(checkOf(await computePosture(home), "server-auth")).toMatchObject({ earned: 10, status: "pass" });
    const token = (id: string, role: string, createdAt: string, revokedAt?: string) => ({ id, name: id, role, hash: "0".repeat(64), createdAt, ...(revokedAt ? { revokedAt } : {}) });
    const write = (tokens: unknown[], mode = 0o600) => {
      writeFileSync(tokensFile, JSON.stringify({ version: 1, tokens }), { mode });
      chmodSync(tokensFile, mode);
    };
    const fresh = new Date().toISOString();
    write([token("a1", "admin", fresh)], 0o644);
    expect(checkOf(await computePosture(home, { tokensFile }), "server-auth")).toMatchObject({ earned: 0, fix: `chmod 600 ${tokensFile}` });
    writeFileSync(tokensFile, "{not json");
    chmodSync(tokensFile, 0o600);
    expect(checkOf(await computePosture(home, { tokensFile }), "server-auth")).toMatchObject({ earned: 0, status: "fail" });
    write([token("a1", "admin", fresh), token("a2", "admin", fresh), token("a3", "admin", fresh)]);
    expect(checkOf(await computePosture(home, { tokensFile }), "server-auth")).toMatchObject({ earned: 5, status: "partial" });
    write([token("o1", "operator", "2020-01-01T00:00:00Z"), token("a1", "admin", fresh)]);
    expect(checkOf(await computePosture(home, { tokensFile }), "server-auth").fix).toContain("aegisclaw token revoke");
    write([token("o1", "operator", "2020-01-01T00:00:00Z", fresh), token("a1", "admin", fresh)]);
    expect(checkOf(await computePosture(home, { tokensFile }), "server-auth")).toMatchObject({ earned: 10, status: "pass" });
  });

  test("posture lockdown: an active lockdown is shown but changes no points", async () => {
    const home = await initHome();
    const before = await computePosture(home);
    new LockdownStore(homeLayout(home).lockdownFile).write({ active: true, reason: "posture test", since: "2026-01-01T00:00:00Z" });
    const after = await computePosture(home);
    expect(after.score).toBe(before.score);
    expect(checkOf(after, "lockdown")).toMatchObject({ weight: 0, earned: 0, status: "pass" });
    expect(checkOf(after, "lockdown").detail).toContain("ACTIVE since 2026-01-01T00:00:00Z: posture test");
  });

  test("posture network: a broad net grant in config.yaml loses the network points", async () => {
    const home = await initHome();
    setConfigLine(home, "grants", '[shell.exec, "net.outbound:*"]');
    const network = checkOf(await computePosture(home), "network");
    expect(network).toMatchObject({ earned: 0, status: "fail" });
    expect(network.fix).toContain("remove `net.outbound:*` from policy.grants");
  });

  test("posture runtime: an unreachable Docker engine fails the runtime and leaves seccomp unknown", async () => {
    const home = await initHome();
    setConfigLine(home, "dockerSocket", join(homeLayout(home).run, "no-docker.sock"));
    const report = await computePosture(home);
    const runtime = checkOf(report, "runtime");
    expect(runtime).toMatchObject({ earned: 0, status: "fail" });
    expect(runtime.detail).toContain("not available");
    expect(runtime.fix).toBeTruthy();
    expect(checkOf(report, "seccomp")).toMatchObject({ earned: 0, status: "unknown" });
  });

  test("posture: a broken config.yaml fails the checks that need it and still scores the rest", async () => {
    const home = await initHome();
    writeFileSync(homeLayout(home).config, "version: 1\nsandbox:\n  runtime: Floppy Disk\n");
    const report = await computePosture(home);
    for (const id of ["runtime", "seccomp", "network", "policy"] as const) {
      const check = checkOf(report, id);
      expect(check.earned).toBe(0);
      expect(check.detail).toContain("config.yaml");
      expect(check.fix).toContain("fix config.yaml");
    }
    expect(checkOf(report, "audit").earned).toBe(15);
    expect(report.score).toBe(35);
  });

  test("posture: a home that was never initialised is bad input with the init fix", async () => {
    const home = tempHome();
    mkdirSync(home, { recursive: true });
    const error = await computePosture(home).catch((caught: unknown) => caught);
    expect(isAegisError(error, "bad-input")).toBe(true);
    expect((error as Error & { hint?: string }).hint).toContain("aegisclaw init");
  });
});
