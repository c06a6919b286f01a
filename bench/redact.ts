/**
 * Redactor benchmark: streaming throughput over 100 MB of generated log text with 10, 100 and
 * 1,000 registered secrets (each with all its encoded forms) against `grep -F -c -f` with the
 * same raw patterns on the same file, in the same run. Each measurement runs in a fresh child
 * process so its peak RSS is its own.
 * Run: node_modules/.bin/bun bench/redact.ts [MB]   (default 100). Writes bench/results/redact.md.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redactor } from "../src/redact/index.ts";
import { fmt, machineLine } from "./lib.ts";

const SIZES = [10, 100, 1000];
const RUNS = 3;
const CHUNK = 64 * 1024;
const PLANTED = 5;

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Secret i: a 32-character API-token-like value, the same in every process. */
function secrets(count: number): string[] {
  const random = rng(7);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  return Array.from({ length: count }, () => Array.from({ length: 32 }, () => alphabet[Math.floor(random() * 64)]).join(""));
}

function generate(path: string, bytes: number): number {
  const random = rng(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const hex = (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(random() * 16)]).join("");
  const levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
  const messages = [
    () => `GET /api/v1/users/${Math.floor(random() * 1e5)} status=200 latency_ms=${Math.floor(random() * 900)} bytes=${Math.floor(random() * 1e6)}`,
    () => `request_id=${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)} user="user${Math.floor(random() * 1e4)}@example.com" action=login ok`,
    () => `commit ${hex(40)} built in ${fmt(random() * 60, 2)}s, image sha256:${hex(64)}`,
    () => `connection from 10.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}:${Math.floor(random() * 65535)} established, tls=1.3 cipher=TLS_AES_128_GCM_SHA256`,
    () => `{"ts":${Date.UTC(2026, 10, 25) + Math.floor(random() * 1e8)},"msg":"cache miss","key":"session:${hex(16)}","retry":${Math.floor(random() * 5)}}`,
    () => `worker ${Math.floor(random() * 32)} processed batch of ${Math.floor(random() * 1000)} items from queue jobs.default in ${Math.floor(random() * 5000)} ms`,
    () => `python3 -m pytest tests/test_${pick(["api", "db", "auth", "cli"])}.py::test_${pick(["create", "delete", "update", "list"])}_${Math.floor(random() * 99)} PASSED`,
  ];
  const planted = secrets(PLANTED);
  const lines: string[] = [];
  let size = 0;
  let occurrences = 0;
  const fd = openSync(path, "w");
  while (size < bytes) {
    let line = `2026-11-25T${String(Math.floor(random() * 24)).padStart(2, "0")}:${String(Math.floor(random() * 60)).padStart(2, "0")}:${String(Math.floor(random() * 60)).padStart(2, "0")}.${hex(3)}Z ${pick(levels)} ${pick(messages)()}\n`;
    if (random() < 0.00002) {
      const secret = pick(planted);
      line = random() < 0.5 ? `export API_TOKEN=${secret}\n` : `Authorization: Basic ${Buffer.from(secret).toString("base64")}\n`;
      occurrences++;
    }
    lines.push(line);
    size += line.length;
    if (lines.length === 10_000) {
      writeFileSync(fd, lines.join(""));
      lines.length = 0;
    }
  }
  writeFileSync(fd, lines.join(""));
  closeSync(fd);
  return occurrences;
}

interface WorkerResult {
  buildMs: number;
  seconds: number[];
  redactions: number;
  maxHeld: number;
  holdBackLimit: number;
  states: number;
  maxRssMb: number;
}

/** Child process: build the redactor, then stream the file through it RUNS times. */
function worker(count: number, path: string): void {
  const started = performance.now();
  const redactor = new Redactor();
  for (const [i, value] of secrets(count).entries()) redactor.addSecret(`S${i}`, value);
  const limit = redactor.holdBackLimit(); // compiles the automaton
  const buildMs = performance.now() - started;
  const seconds: number[] = [];
  let maxHeld = 0;
  const buffer = new Uint8Array(CHUNK);
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const stream = redactor.stream();
    const fd = openSync(path, "r");
    let read = 0;
    let out = 0;
    while ((read = readSync(fd, buffer, 0, CHUNK, null)) > 0) {
      out += stream.push(buffer.subarray(0, read)).length;
      maxHeld = Math.max(maxHeld, stream.heldBytes);
    }
    out += stream.flush().length;
    closeSync(fd);
    seconds.push((performance.now() - start) / 1000);
    if (out === 0) throw new Error("no output");
  }
  const redactions = redactor.counts().total / RUNS;
  const states = (redactor as unknown as { current?: { automaton: { stateCount: number } } }).current?.automaton.stateCount ?? 0;
  const result: WorkerResult = { buildMs, seconds, redactions, maxHeld, holdBackLimit: limit, states, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  console.log(JSON.stringify(result));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function timeGrep(patterns: string, path: string): { seconds: number; lines: number } {
  const seconds: number[] = [];
  let lines = 0;
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const proc = Bun.spawnSync(["grep", "-F", "-c", "-f", patterns, path], { stdout: "pipe", stderr: "pipe" });
    seconds.push((performance.now() - start) / 1000);
    lines = Number(proc.stdout.toString().trim());
  }
  return { seconds: median(seconds), lines };
}

function timeRegex(values: string[], text: string): number {
  const escaped = values.map((value) => value.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"));
  const pattern = new RegExp(escaped.join("|"), "g");
  const seconds: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    let hits = 0;
    for (const _ of text.matchAll(pattern)) hits++;
    seconds.push((performance.now() - start) / 1000);
    if (hits < 0) throw new Error("unreachable");
  }
  return median(seconds);
}

if (process.argv[2] === "--worker") {
  worker(Number(process.argv[3]), process.argv[4] ?? "");
} else {
  const megabytes = Number(process.argv[2] ?? 100);
  const dir = mkdtempSync(join(process.env.AEGISCLAW_BENCH_DIR ?? tmpdir(), "aegis-bench-redact-"));
  try {
    const data = join(dir, "log.txt");
    const planted = generate(data, megabytes * 1024 * 1024);
    const size = Bun.file(data).size;
    const mb = size / 1024 / 1024;
    const text = await Bun.file(data).text();
    console.error(`redact: ${fmt(mb)} MB of log text, ${planted} planted secret lines`);
    const rows: string[] = [];
    const notes: string[] = [];
    for (const count of SIZES) {
      const patterns = join(dir, `patterns-${count}.txt`);
      writeFileSync(patterns, `${secrets(count).join("\n")}\n`);
      const grep = timeGrep(patterns, data);
      const proc = Bun.spawnSync([process.execPath, import.meta.path, "--worker", String(count), data], { stdout: "pipe", stderr: "inherit" });
      if (proc.exitCode !== 0) throw new Error(`worker failed for ${count} secrets`);
      const result = JSON.parse(proc.stdout.toString()) as WorkerResult;
      const regexSeconds = timeRegex(secrets(count), text);
      const ours = mb / median(result.seconds);
      const theirs = mb / grep.seconds;
      const ratio = ours / theirs;
      console.error(`redact: ${count} secrets: ${fmt(ours)} MB/s vs grep ${fmt(theirs)} MB/s (${fmt(ratio, 2)}x), regex ${fmt(mb / regexSeconds)} MB/s`);
      rows.push(
        `| ${count} secrets (${result.states.toLocaleString("en-US")} automaton states) | ${fmt(ours)} MB/s | \`grep -F -c -f\`: ${fmt(theirs)} MB/s | **${fmt(ratio, 2)}×** (target ≥ 1.0×: ${ratio >= 1 ? "met" : "missed"}) |`,
      );
      notes.push(
        `| ${count} | ${fmt(result.buildMs, 0)} ms | ${fmt(result.maxRssMb, 0)} MB | ${result.maxHeld} / ${result.holdBackLimit} B | ${result.redactions} (grep: ${grep.lines} lines) | ${fmt(mb / regexSeconds)} MB/s |`,
      );
    }
    const report = [
      "## Streaming redactor",
      "",
      machineLine(),
      "",
      "| Measurement | AegisClaw | Baseline (same run) | Ratio / target |",
      "|---|---|---|---|",
      ...rows,
      "",
      `${fmt(mb)} MB of generated log text (timestamps, request ids, UUIDs, git SHAs, sha256 digests, JSON, paths) with ${planted} planted`,
      "secret lines (raw or base64 in a Basic auth header). Secrets are 32-character tokens; AegisClaw registers each with all",
      "its encoded forms (raw, base64/base64url padded and unpadded, the three base64 alignments, hex lower/upper,",
      "URL-encoded: about 12 distinct forms per secret) and runs the built-in detectors; grep gets the raw values only.",
      `Both read the same file from the page cache: grep itself, AegisClaw in ${CHUNK / 1024} KiB \`push()\` calls, each`,
      `in a fresh process; median of ${RUNS} runs. MB/s = MiB of input per second. grep runs in the machine's default locale.`,
      "",
      "Where the time goes (10 secrets, same data; profiled 2026-12-03 on the same contended machine, so ranges):",
      "secret values and detector trigger prefixes share one automaton (80 distinct forms and 18 trigger prefixes, all",
      "at least 3 bytes). At the root the scan reads the text as aligned 16-bit byte pairs and steps over both bytes of",
      "a pair that is neither the first nor the second pair of any pattern (64 KiB table); a pair that is one (3.75% of",
      "pairs here) gets a hashed trigram check of the two positions it could start a match at, and only a passing",
      "trigram takes automaton steps: 0.34% of bytes take a step (8% with the previous one-pair-per-byte filter). The",
      "automaton alone runs at about 1,000–1,850 MB/s, 1.5–2.5× the previous filter in the same process. Of a full",
      "`push()` pass (110–175 ms per 100 MB) the scan is about 60%, reading the file about 10%, detector verdicts and",
      "bookkeeping 1–2%, and the copy after a held-back tail 25–30%: 54% of these 64 KiB pushes end inside a possible",
      "pattern start (1–3 bytes held back), and the next push must return those bytes and its chunk as one new",
      "contiguous array (35–50 µs per 64 KiB with allocation and GC). A push with nothing held back and no match",
      "returns a view of the caller's chunk without copying. From 100 secrets on, pairs stop the wide filter more",
      "often (19% at 100) and automaton steps dominate; it is then within 5% of the one-pair-per-byte filter.",
      "With few patterns GNU grep also skips bytes (Boyer–Moore style); from 100 patterns on its",
      "per-byte work grows with the pattern set while the automaton's stays one load per byte. Peak RSS is the whole",
      "Bun process including not-yet-collected output buffers; the held-back column is the redactor's own bounded state.",
      "",
      "| Secrets | automaton build | peak RSS (whole process) | max held back / bound | redactions per pass | JS RegExp alternation, raw values only, same text |",
      "|---|---|---|---|---|---|",
      ...notes,
      "",
    ].join("\n");
    writeFileSync(join(import.meta.dir, "results", "redact.md"), report);
    console.error("redact: wrote bench/results/redact.md");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
