import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AuditLogOptions, AuditLog, type AuditRecord, initAuditDir } from "../../src/audit/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

let root: string | undefined;

/**
 * Gives the calling test file its own auto-cleaned temp root. Call at the top level of each
 * test file: bun shares this module between files, and a cleanup hook registered inside a
 * beforeAll would run too early.
 */
export function useTempRoot(): void {
  root = tempDir("aegis-audit-");
}

/** A fresh empty directory under this test file's temp root. */
export function freshDir(prefix = "log-"): string {
  if (!root) throw new Error("call useTempRoot() at the top of the test file");
  return mkdtempSync(join(root, prefix));
}

/** A realistic decision record; `i` makes each one different. */
export function decisionRecord(i: number): AuditRecord {
  return {
    type: "decision",
    actor: { name: `agent-${i % 3}`, source: "cli" },
    runId: `run-${i}`,
    requestHash: new Bun.CryptoHasher("sha256").update(String(i)).digest("hex"),
    request: { argv: ["echo", `hello ${i}`], image: "aegisclaw/base:busybox", runtime: "docker" },
    decision: { kind: i % 5 === 0 ? "deny" : "allow", reasons: [{ rule: "scope-grant", message: "shell.exec granted", scope: "shell.exec:echo" }] },
    note: `entry number ${i}`,
  };
}

/** A fresh initialised audit directory with no entries. */
export async function emptyAuditDir(): Promise<string> {
  const dir = join(freshDir(), "audit");
  await initAuditDir(dir);
  return dir;
}

/** A fresh initialised audit directory holding `count` decision entries, closed (so the last checkpoint covers them all). */
export async function buildLog(count: number, options: AuditLogOptions = {}): Promise<string> {
  const dir = await emptyAuditDir();
  const log = await AuditLog.open(dir, options);
  for (let i = 1; i <= count; i++) await log.append(decisionRecord(i));
  await log.close();
  return dir;
}

/** A copy of an audit directory to tamper with. */
export function copyLog(dir: string): string {
  const copy = join(freshDir("copy-"), "audit");
  cpSync(dir, copy, { recursive: true });
  return copy;
}

/** All lines of all segments with where they live. */
export function allLines(dir: string, segments: string[]): Array<{ file: string; index: number; text: string }> {
  const out: Array<{ file: string; index: number; text: string }> = [];
  for (const file of segments) {
    readFileSync(join(dir, file), "utf8")
      .split("\n")
      .slice(0, -1)
      .forEach((text, index) => out.push({ file, index, text }));
  }
  return out;
}

/** Rewrites one segment's lines. */
export function writeLines(dir: string, file: string, lines: string[]): void {
  writeFileSync(join(dir, file), lines.length ? `${lines.join("\n")}\n` : "");
}
