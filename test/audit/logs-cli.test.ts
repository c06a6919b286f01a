import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { AuditLog, initAuditDir } from "../../src/audit/index.ts";
import type { CliContext } from "../../src/cli/context.ts";
import { parseSince, runLogs } from "../../src/cli/commands/logs.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { decisionRecord, freshDir, useTempRoot } from "./helpers.ts";

useTempRoot();

async function home(): Promise<string> {
  const root = freshDir("home-");
  mkdirSync(root, { recursive: true });
  await initAuditDir(join(root, "audit"));
  const log = await AuditLog.open(join(root, "audit"));
  for (let i = 1; i <= 6; i++) await log.append(decisionRecord(i));
  await log.close();
  return root;
}

function context(root: string, json = false): CliContext & { out: string; err: string } {
  const ctx = {
    home: root,
    json,
    isTty: false,
    out: "",
    err: "",
    stdout: (text: string) => {
      ctx.out += text;
    },
    stderr: (text: string) => {
      ctx.err += text;
    },
  };
  return ctx;
}

describe("logs command", () => {
  test("logs: lists entries oldest first, filtered by decision, as lines or JSON", async () => {
    const root = await home();
    const human = context(root);
    expect(await runLogs(undefined, [], {}, human)).toBe(0);
    const lines = human.out.trimEnd().split("\n");
    expect(lines.length).toBe(6);
    expect(lines[0]).toMatch(/^\s+1 .* decision .*agent-1@cli .*run-1 echo hello 1 .*ALLOW/);
    const json = context(root, true);
    expect(await runLogs(undefined, [], { decision: "deny" }, json)).toBe(0);
    expect(json.out.trimEnd().split("\n").map((l) => JSON.parse(l).seq)).toEqual([5]);
    await expect(runLogs(undefined, [], { decision: "maybe" }, context(root))).rejects.toThrow(/--decision/);
  });

  test("logs: verify exits 0 when intact and 1 with the failure on stderr", async () => {
    const root = await home();
    const ok = context(root);
    expect(await runLogs("verify", [], {}, ok)).toBe(0);
    expect(ok.out).toMatch(/intact: 6 entries/);
    appendFileSync(join(root, "audit", "segment-000001.jsonl"), '{"torn":');
    const bad = context(root, true);
    expect(await runLogs("verify", [], {}, bad)).toBe(1);
    expect(JSON.parse(bad.out).ok).toBe(false);
    expect(bad.err).toMatch(/FAILED verification at entry 7, segment-000001.jsonl, line 7: incomplete final line/);
  });

  test("logs: explain, proof, consistency, checkpoint and pubkey", async () => {
    const root = await home();
    const explained = context(root);
    expect(await runLogs("explain", ["run-5"], {}, explained)).toBe(0);
    expect(explained.out).toMatch(/DENY/);
    const proof = context(root, true);
    expect(await runLogs("proof", ["3"], {}, proof)).toBe(0);
    expect(JSON.parse(proof.out)).toMatchObject({ type: "aegisclaw.audit.inclusion.v1", seq: 3, leafIndex: 2, treeSize: 6 });
    const consistency = context(root, true);
    expect(await runLogs("consistency", ["2"], {}, consistency)).toBe(0);
    expect(JSON.parse(consistency.out)).toMatchObject({ oldSize: 2, newSize: 6 });
    const checkpoint = context(root, true);
    expect(await runLogs("checkpoint", [], {}, checkpoint)).toBe(0);
    expect(JSON.parse(checkpoint.out).treeSize).toBe(6);
    const pubkey = context(root);
    expect(await runLogs("pubkey", [], {}, pubkey)).toBe(0);
    expect(pubkey.out).toMatch(/^[0-9a-f]{64}\n$/);
  });

  test("logs: unknown actions and missing arguments are usage errors", async () => {
    const root = await home();
    for (const [action, args] of [["frobnicate", []], ["explain", []], ["consistency", ["x"]]] as const) {
      const error = await runLogs(action, [...args], {}, context(root)).catch((e: unknown) => e);
      expect(isAegisError(error, "usage"), String(error)).toBe(true);
    }
    await expect(runLogs("proof", ["99"], {}, context(root))).rejects.toThrow(/not covered/);
  });

  test("logs: --since takes a duration or an ISO time", () => {
    const now = Date.parse("2025-01-01T12:00:00Z");
    expect(parseSince("10m", now).toISOString()).toBe("2025-01-01T11:50:00.000Z");
    expect(parseSince("2h", now).toISOString()).toBe("2025-01-01T10:00:00.000Z");
    expect(parseSince("2024-12-31T00:00:00Z").toISOString()).toBe("2024-12-31T00:00:00.000Z");
    expect(() => parseSince("yesterday")).toThrow(/--since/);
  });
});
