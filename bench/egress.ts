/**
 * Egress proxy (issue 6): throughput and connect latency through a run's EgressProxy against a
 * direct loopback connection, measured in the same run with the same client.
 * - The proxy runs in this process, as in production (the Gate's process), on 127.0.0.1 with a
 *   free port, admitting 127.0.0.1 and granted `net.outbound:127.0.0.1:<port>` of each server
 *   (loopback is reachable only when its address itself is granted). The destination is an IP
 *   literal, so no name is resolved: the numbers leave out DNS, which a real run pays.
 * - The servers (plain HTTP and HTTPS, Bun.serve) run in a child process (this file with
 *   `serve`), so they never share the proxy's event loop.
 * - The client is curl in its own process for every variant, the baseline included; its own
 *   timers give the numbers (speed_download, time_starttransfer), so process start is not in them.
 * Throughput: a large body (256 MiB), direct, through a CONNECT tunnel (plain HTTP and HTTPS
 * inside it) and through plain-HTTP proxying (the proxy pipes bodies). Variants are interleaved
 * round by round so load changes hit them alike. Target: proxied >= 0.5x direct. A bare
 * node:net pipe relay in this process (no proxy logic) is measured alongside as a reference.
 * Connect latency: a fresh connection per request to a tiny response, from curl's start to the
 * response's first byte, direct and through the proxy, which vets the destination and waits
 * for its `record` call: an in-memory recorder, and the production recorder (an AuditLog
 * append with fsync, through egressAuditor, on a disk-backed temp directory).
 * Writes bench/results/egress.md. Needs curl and openssl.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, initAuditDir } from "../src/audit/index.ts";
import { egressAuditor } from "../src/core/egress-audit.ts";
import { EgressProxy } from "../src/sandbox/egress/proxy.ts";
import type { EgressDecision } from "../src/sandbox/types.ts";
import { fmt, machineLine, must, writeResult } from "./lib.ts";

const BIG_MIB = Number(process.env.BENCH_EGRESS_MIB ?? 256);
const BIG_BYTES = BIG_MIB * 1024 * 1024;

if (process.argv[2] === "serve") {
  // Child: the origin servers. One body, allocated once and sent for every request.
  const certDir = process.argv[3] ?? "";
  const big = new Uint8Array(BIG_BYTES);
  for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
  const fetch = (request: Request) => (new URL(request.url).pathname === "/big" ? new Response(big) : new Response("ok\n"));
  const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
  const https = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch, tls: { cert: Bun.file(join(certDir, "cert.pem")), key: Bun.file(join(certDir, "key.pem")) } });
  console.log(JSON.stringify({ http: http.port, https: https.port }));
  // Runs until the parent kills it.
} else {
  await main();
}

interface Curl {
  bytes: number;
  /** Bytes per second over the whole transfer (curl's speed_download). */
  speed: number;
  /** Start to first response byte, and to "about to transfer" (tunnel up, TLS done), in ms. */
  firstByteMs: number;
  pretransferMs: number;
  code: number;
}

/** One curl run in its own process (async: the proxy in this process must keep running). */
async function curl(url: string, options: { proxy?: string; tunnel?: boolean } = {}): Promise<Curl> {
  const args = ["curl", "-s", "-S", "-k", "-o", "/dev/null", "--max-time", "120", "-w", "%{size_download} %{speed_download} %{time_starttransfer} %{time_pretransfer} %{http_code}"];
  if (options.proxy) args.push("-x", options.proxy);
  if (options.tunnel) args.push("-p");
  args.push(url);
  // No inherited *_proxy variables: every variant says exactly which proxy it uses.
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const [bytes = 0, speed = 0, first = 0, pre = 0, status = 0] = out.trim().split(" ").map(Number);
  if (code !== 0 || status !== 200) throw new Error(`curl ${args.join(" ")} failed: exit ${code}, HTTP ${status}: ${err.trim()}`);
  return { bytes, speed, firstByteMs: first * 1000, pretransferMs: pre * 1000, code: status };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
function median(values: number[]): number {
  return quantile(values, 0.5);
}

async function main(): Promise<void> {
  const ROUNDS = Number(process.env.BENCH_EGRESS_ROUNDS ?? 9);
  const CONNECTIONS = Number(process.env.BENCH_EGRESS_CONNECTIONS ?? 200);
  const WARMUP = 10;
  const work = mkdtempSync(join(tmpdir(), "aegis-bench-egress-"));
  const say = (text: string) => console.error(`egress: ${text}`);
  let server: { kill(): void; exited: Promise<number> } | undefined;
  const proxies: EgressProxy[] = [];
  const closers: Array<() => Promise<void>> = [];
  let log: AuditLog | undefined;
  try {
    must(Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", join(work, "key.pem"), "-out", join(work, "cert.pem")], { stdout: "ignore", stderr: "pipe" }));
    const child = Bun.spawn([process.execPath, import.meta.path, "serve", work], { stdout: "pipe", stderr: "inherit", env: { ...process.env, BENCH_EGRESS_MIB: String(BIG_MIB) } });
    server = child;
    const reader = child.stdout.getReader();
    const first = await reader.read();
    reader.releaseLock();
    const ports = JSON.parse(new TextDecoder().decode(first.value)) as { http: number; https: number };
    const allow = [`net.outbound:127.0.0.1:${ports.http}`, `net.outbound:127.0.0.1:${ports.https}`];

    // Proxy 1: a recorder that resolves at once (the proxy's own cost). Proxy 2: production's
    // recorder, an fsynced audit append per decision, as session.ts wires it.
    let memoryRecords = 0;
    const memory = await EgressProxy.start({ runId: "bench-egress-memory", host: "127.0.0.1", ports: [0], allow, record: async (_: EgressDecision) => void memoryRecords++ });
    proxies.push(memory);
    memory.admit("127.0.0.1");
    const auditDir = join(work, "audit");
    await initAuditDir(auditDir);
    log = await AuditLog.open(auditDir);
    const opened = log;
    const auditor = egressAuditor(async () => opened);
    let auditRecords = 0;
    const audited = await EgressProxy.start({
      runId: "bench-egress-audit",
      host: "127.0.0.1",
      ports: [0],
      allow,
      record: async (decision) => {
        await auditor({ ...decision, actor: { name: "bench", source: "cli" }, requestHash: "a".repeat(64) });
        auditRecords++;
      },
    });
    proxies.push(audited);
    audited.admit("127.0.0.1");
    // Reference: a bare node:net relay in this process, piping both ways as the proxy's splice
    // does, with none of its logic: what any in-process relay on this runtime costs.
    const relay = net.createServer((client) => {
      const upstream = net.connect({ host: "127.0.0.1", port: ports.http });
      for (const socket of [client, upstream]) socket.on("error", () => (client.destroy(), upstream.destroy()));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", () => resolve()));
    closers.push(() => new Promise<void>((resolve) => relay.close(() => resolve())));
    const relayPort = (relay.address() as net.AddressInfo).port;
    const viaMemory = `http://127.0.0.1:${memory.port}`;
    const viaAudit = `http://127.0.0.1:${audited.port}`;
    const httpUrl = (path: string) => `http://127.0.0.1:${ports.http}${path}`;
    const httpsUrl = (path: string) => `https://127.0.0.1:${ports.https}${path}`;

    const loadBefore = loadavg();

    // 1. Throughput. The proxy's CPU time (this process) is taken around each proxied transfer.
    const transfers = [
      { name: "direct, HTTP", run: () => curl(httpUrl("/big")), proxied: false },
      { name: "CONNECT tunnel, HTTP inside", run: () => curl(httpUrl("/big"), { proxy: viaMemory, tunnel: true }), proxied: true },
      { name: "plain-HTTP proxying (absolute-form GET)", run: () => curl(httpUrl("/big"), { proxy: viaMemory }), proxied: true },
      { name: "reference: bare node:net pipe relay, same process, no proxy logic", run: () => curl(`http://127.0.0.1:${relayPort}/big`), proxied: true },
      { name: "direct, HTTPS", run: () => curl(httpsUrl("/big")), proxied: false },
      { name: "CONNECT tunnel, HTTPS inside", run: () => curl(httpsUrl("/big"), { proxy: viaMemory }), proxied: true },
    ];
    const speeds = transfers.map(() => [] as number[]);
    const cpuPerGiB = transfers.map(() => [] as number[]);
    for (let round = -1; round < ROUNDS; round++) {
      for (const [i, transfer] of transfers.entries()) {
        const cpu = process.cpuUsage();
        const result = await transfer.run();
        const used = process.cpuUsage(cpu);
        if (result.bytes !== BIG_BYTES) throw new Error(`${transfer.name}: got ${result.bytes} bytes, expected ${BIG_BYTES}`);
        if (round < 0) continue; // warm-up round
        speeds[i]?.push(result.speed / 1e6);
        cpuPerGiB[i]?.push(((used.user + used.system) / 1e6) * (2 ** 30 / result.bytes));
      }
      if (round >= 0) say(`throughput round ${round + 1}/${ROUNDS}: ${transfers.map((t, i) => `${t.name} ${fmt(speeds[i]?.at(-1) ?? 0, 0)} MB/s`).join(", ")}`);
    }

    // 2. Connect latency: a new connection per request, variants interleaved.
    const connects = [
      { name: "direct, HTTP", run: () => curl(httpUrl("/small")) },
      { name: "CONNECT, HTTP inside, in-memory recorder", run: () => curl(httpUrl("/small"), { proxy: viaMemory, tunnel: true }) },
      { name: "CONNECT, HTTP inside, audit-log recorder (fsync)", run: () => curl(httpUrl("/small"), { proxy: viaAudit, tunnel: true }) },
      { name: "plain-HTTP proxying, in-memory recorder", run: () => curl(httpUrl("/small"), { proxy: viaMemory }) },
      { name: "direct, HTTPS", run: () => curl(httpsUrl("/small")) },
      { name: "CONNECT, HTTPS inside, audit-log recorder (fsync)", run: () => curl(httpsUrl("/small"), { proxy: viaAudit }) },
    ];
    const firstByte = connects.map(() => [] as number[]);
    const pretransfer = connects.map(() => [] as number[]);
    for (let n = -WARMUP; n < CONNECTIONS; n++) {
      for (const [i, variant] of connects.entries()) {
        const result = await variant.run();
        if (n < 0) continue;
        firstByte[i]?.push(result.firstByteMs);
        pretransfer[i]?.push(result.pretransferMs);
      }
      if (n >= 0 && (n + 1) % 50 === 0) say(`connections ${n + 1}/${CONNECTIONS}`);
    }
    // The audit recorder's own cost, apart from the proxy: sequential appends to the same log.
    const appendMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await auditor({ runId: "bench-egress-append", outcome: "allowed", rule: "egress.allowed", reason: "bench", client: "127.0.0.1", actor: { name: "bench", source: "cli" }, requestHash: "a".repeat(64) });
      appendMs.push(performance.now() - t);
    }
    const loadAfter = loadavg();

    // 3. The result.
    const la = (l: number[]) => l.map((v) => fmt(v, 2)).join(" / ");
    const base = (i: number) => median(speeds[i] ?? []);
    const throughputRow = (i: number, baseline: number) => {
      const s = speeds[i] ?? [];
      const ratio = median(s) / base(baseline);
      const proxied = transfers[i]?.proxied;
      // Each round measures the baseline just before: the median of those paired ratios is less exposed to load drift.
      const paired = median(s.map((v, round) => v / (speeds[baseline]?.[round] ?? Number.NaN)));
      return `| ${transfers[i]?.name} | ${fmt(median(s), 0)} MB/s | ${fmt(Math.min(...s), 0)}-${fmt(Math.max(...s), 0)} | ${!proxied ? "baseline" : transfers[i]?.name.startsWith("reference") ? `${fmt(ratio, 2)}x` : `**${fmt(ratio, 2)}x** ${ratio >= 0.5 ? "(met)" : "(missed)"}`} | ${proxied ? `${fmt(paired, 2)}x` : "-"} | ${proxied ? `${fmt(median(cpuPerGiB[i] ?? []), 2)} s` : "-"} |`;
    };
    const ratios = [1, 2].map((i) => median(speeds[i] ?? []) / base(0)).concat([median(speeds[5] ?? []) / base(4)]);
    const met = ratios.filter((r) => r >= 0.5).length;
    const latencyRow = (i: number, baseline: number) => {
      const fb = firstByte[i] ?? [];
      const extra = median(fb) - median(firstByte[baseline] ?? []);
      return `| ${connects[i]?.name} | ${fmt(median(fb), 2)} ms | ${fmt(quantile(fb, 0.9), 2)} ms | ${fmt(median(pretransfer[i] ?? []), 2)} ms | ${i === baseline ? "baseline" : `+${fmt(extra, 2)} ms (${fmt(median(fb) / median(firstByte[baseline] ?? []), 2)}x)`} |`;
    };
    const auditExtra = median(firstByte[2] ?? []) - median(firstByte[1] ?? []);
    writeResult("egress", [
      "## Egress proxy: throughput and connect latency against direct loopback",
      "",
      `${machineLine()} Load average (1/5/15 min) ${la(loadBefore)} before, ${la(loadAfter)} after.`,
      "",
      "The run's EgressProxy in this process on 127.0.0.1 (admitting 127.0.0.1, granted `net.outbound:127.0.0.1:<port>`",
      "of each server), the origin servers (Bun.serve, HTTP and HTTPS with a self-signed key) in a child process, and",
      `curl ${curlVersion()} as the client for every variant, the baselines included, its own timers giving the numbers.`,
      "",
      `### Throughput: ${BIG_MIB} MiB per transfer, ${ROUNDS} rounds (variants interleaved, one warm-up round)`,
      "",
      "| path | median | range (MB/s) | proxied / direct (medians) | median of per-round ratios | proxy CPU per GiB (median) |",
      "| --- | --- | --- | --- | --- | --- |",
      throughputRow(0, 0),
      throughputRow(1, 0),
      throughputRow(2, 0),
      throughputRow(3, 0),
      throughputRow(4, 4),
      throughputRow(5, 4),
      "",
      `MB = 10^6 bytes. HTTPS rows are against direct HTTPS; the target is judged on the ratio of medians. Target: proxied >= 0.5x direct. **${met === ratios.length ? "Met" : "Missed"}**: met on ${met} of ${ratios.length} proxied paths (CONNECT/HTTP ${fmt(ratios[0] ?? 0, 2)}x, plain HTTP ${fmt(ratios[1] ?? 0, 2)}x, CONNECT/HTTPS ${fmt(ratios[2] ?? 0, 2)}x; the reference relay is not a target).`,
      "",
      `### Connect latency: ${CONNECTIONS} fresh connections per variant (interleaved, ${WARMUP} warm-up rounds), tiny response`,
      "",
      "| path | start to first response byte, median | p90 | start to tunnel/TLS up (pretransfer), median | against direct |",
      "| --- | --- | --- | --- | --- |",
      latencyRow(0, 0),
      latencyRow(1, 0),
      latencyRow(2, 0),
      latencyRow(3, 0),
      latencyRow(4, 4),
      latencyRow(5, 4),
      "",
      `The audit-log recorder adds ${fmt(auditExtra, 2)} ms (median) over the in-memory one per connection; one fsynced`,
      `\`egressAuditor\` append to the same log, timed alone, takes ${fmt(median(appendMs), 2)} ms median, ${fmt(quantile(appendMs, 0.9), 2)} ms p90.`,
      `Decisions recorded: ${memoryRecords} in memory, ${auditRecords} in the audit log.`,
      "",
    ]);
  } finally {
    for (const proxy of proxies) await proxy.close();
    for (const close of closers) await close();
    await log?.close();
    server?.kill();
    await server?.exited;
    rmSync(work, { recursive: true, force: true });
  }
}

function curlVersion(): string {
  const out = Bun.spawnSync(["curl", "--version"], { stdout: "pipe" }).stdout.toString();
  return out.split(" ")[1] ?? "?";
}
