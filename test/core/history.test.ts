import { expect, test } from "bun:test";
import { join } from "node:path";
import { AuditLog, initAuditDir, recentEntries, type AuditEntry } from "../../src/audit/index.ts";
import { historyFrom } from "../../src/core/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

const alice = { name: "alice", source: "cli" as const };

function decision(actor: { name: string; source: "cli" | "api" }, kind: "allow" | "deny", time: string): AuditEntry {
  return { type: "decision", actor, decision: { kind, reasons: [] }, seq: 1, time, prev: "", hash: "" };
}

test("history: counts only this actor's decisions and denials inside the window", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const entries = [
    decision(alice, "deny", "2026-01-01T11:49:00Z"), // outside the 10-minute window
    decision(alice, "allow", "2026-01-01T11:55:00Z"),
    decision(alice, "deny", "2026-01-01T11:59:00Z"),
    decision({ name: "alice", source: "api" }, "deny", "2026-01-01T11:59:00Z"), // other source
    decision({ name: "bob", source: "cli" }, "deny", "2026-01-01T11:59:30Z"),
  ];
  expect(historyFrom(entries, alice, now)).toEqual({ windowSeconds: 600, recentDecisions: 2, recentDenies: 1 });
});

test("history: recent entries come from a bounded tail of the real log", async () => {
  const dir = join(tempDir(), "audit");
  await initAuditDir(dir);
  const log = await AuditLog.open(dir);
  for (let i = 0; i < 2000; i++) {
    await log.append({ type: "decision", actor: alice, runId: `r-${i}`, decision: { kind: i % 2 ? "deny" : "allow", reasons: [{ rule: "t", message: "x".repeat(100) }] } });
  }
  await log.close();
  const recent = recentEntries(dir);
  expect(recent.length).toBeGreaterThan(100);
  expect(recent.length).toBeLessThan(2000);
  expect(recent.at(-1)?.runId).toBe("r-1999");
  expect(historyFrom(recent, alice).recentDecisions).toBe(recent.length);
});
