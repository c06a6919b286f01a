/**
 * The API under load (issue 9), with wrk on loopback:
 * - a bare Bun.serve "hello" endpoint (baseline, same run);
 * - GET /api/v1/health (public) and GET /api/v1/status (token checked) of `aegisclaw serve`;
 * - POST /api/v1/decide (operator token; policy allows; every decision is fsynced to the audit
 *   log before the answer) — targets: >= 0.3x the baseline's req/s and >= 10,000 decisions/s;
 * - WebSocket fan-out: 1,000 events/s to 100 clients; every healthy client must get every event.
 * Each measurement follows an unrecorded warm-up run of the same load (a server runs for hours;
 * the first seconds are spent compiling). The home has a secret store with three secrets, as a
 * real one does: every decision checks its command line against the store's known values.
 * Writes bench/results/server.md. Needs wrk (apt-get install wrk) and dist/aegisclaw (for init).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/app.ts";
import { startServer, TokenStore, tokensFile } from "../src/server/index.ts";
import { fmt, machineLine, must, writeResult } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARM_SECONDS = Number(process.env.BENCH_WARM_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WS_CLIENTS = 100;
const WS_RATE = 1000;
const WS_SECONDS = Number(process.env.BENCH_WS_SECONDS ?? 10);
const work = mkdtempSync(join(tmpdir(), "aegis-bench-server-"));
const home = join(work, "home");
const cli = (args: string[], stdin?: string) => must(Bun.spawnSync([join(ROOT, "dist", "aegisclaw"), ...args], { env: { ...process.env, AEGISCLAW_HOME: home }, stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "ignore", stderr: "pipe" }));
cli(["init", "--yes"]);
cli(["secrets", "init"]);
for (const name of ["API_KEY", "DB_PASSWORD", "GITHUB_TOKEN"]) cli(["secrets", "set", name], `bench-${name.toLowerCase()}-${crypto.randomUUID()}`);

interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  /** This process's CPU per request while wrk ran: every thread, and the main (HTTP) thread alone. */
  cpuMsPerRequest: number;
  mainThreadMsPerRequest: number;
}

/** CPU time of this process's main thread in ms (/proc: clock ticks of 10 ms). */
function mainThreadCpuMs(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Runs wrk for SECONDS with CONNECTIONS connections on 2 threads, after WARM_SECONDS of the same load; a body makes it a POST. */
async function wrk(url: string, headers: Record<string, string>, body?: string, connections = CONNECTIONS): Promise<WrkResult> {
  if (WARM_SECONDS > 0) await runWrk(url, headers, body, connections, WARM_SECONDS);
  return runWrk(url, headers, body, connections, SECONDS);
}

async function runWrk(url: string, headers: Record<string, string>, body: string | undefined, connections: number, seconds: number): Promise<WrkResult> {
  const args = ["wrk", "-t2", `-c${connections}`, `-d${seconds}s`, "--latency"];
  for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}: ${value}`);
  if (body !== undefined) {
    const script = join(work, "post.lua");
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\n`);
    args.push("-s", script);
  }
  // Async: the server under test lives in this process and must keep answering meanwhile.
  const [cpuBefore, mainBefore] = [process.cpuUsage(), mainThreadCpuMs()];
  const proc = Bun.spawn([...args, url], { stdout: "pipe", stderr: "pipe" });
  const [out, err, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const cpu = process.cpuUsage(cpuBefore);
  const mainMs = mainThreadCpuMs() - mainBefore;
  if (exitCode !== 0) throw new Error(`wrk failed: ${err}${out}`);
  const ms = (label: string) => {
    const match = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!match) return Number.NaN;
    const value = Number(match[1]);
    return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
  };
  const requestsPerSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const requests = requestsPerSecond * seconds;
  return {
    requestsPerSecond,
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / requests,
    mainThreadMsPerRequest: mainMs / requests,
    p50Ms: ms("50%"),
    p99Ms: ms("99%"),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

/** 100 WebSocket clients; the server's bus publishes 1,000 run.output events/s; counts per client. */
async function fanOut(url: string, token: string, publish: (i: number) => void): Promise<{ sent: number; min: number; max: number; dropped: number }> {
  const counts = new Array<number>(WS_CLIENTS).fill(0);
  let closed = 0;
  const sockets = await Promise.all(
    counts.map(
      (_, index) =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(`${url.replace("http", "ws")}/api/v1/events?types=run.output`, { headers: { Authorization: `Bearer ${token}`, Origin: url } } as unknown as string[]);
          socket.onopen = () => resolve(socket);
          socket.onerror = () => reject(new Error("websocket failed"));
          socket.onclose = () => closed++;
          socket.onmessage = (message) => {
            if (String(message.data).includes('"run.output"')) counts[index] = (counts[index] ?? 0) + 1;
          };
        }),
    ),
  );
  let sent = 0;
  const started = performance.now();
  while (performance.now() - started < WS_SECONDS * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * WS_RATE);
    for (; sent < due; sent++) publish(sent);
    await Bun.sleep(1);
  }
  await Bun.sleep(1000);
  for (const socket of sockets) socket.close();
  return { sent, min: Math.min(...counts), max: Math.max(...counts), dropped: closed };
}

try {
  const bare = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("hello") });
  const baseline = await wrk(`http://127.0.0.1:${bare.port}/`, {});
  bare.stop(true);

  const app = createApp(home);
  const store = new TokenStore(tokensFile(app.layout.state));
  const operator = (await store.create("operator", "bench-operator")).token;
  const auth = { Authorization: `Bearer ${operator}` };
  const decideOn = (url: string, connections = CONNECTIONS) => wrk(`${url}/api/v1/decide`, { ...auth, "Content-Type": "application/json", Origin: url }, JSON.stringify({ argv: ["true"] }), connections);
  // Decide on the HTTP thread alone first, then with the default decision workers.
  const single = await startServer(app, { port: 0, log: () => {}, decisionWorkers: 0 });
  const decideSingle = await decideOn(single.url);
  await single.stop();
  const server = await startServer(app, { port: 0, log: () => {} });
  const health = await wrk(`${server.url}/api/v1/health`, auth);
  const status = await wrk(`${server.url}/api/v1/status`, auth);
  const decide = await decideOn(server.url);
  // More clients in flight: the audit log's group commit then shares each fsync among more decisions.
  const decideWide = await decideOn(server.url, 2 * CONNECTIONS);
  const ws = await fanOut(server.url, operator, (i) => app.bus.publish("run.output", { runId: "r-bench", stream: "stdout", text: `event ${i}\n` }));
  const workers = server.decisionWorkers;
  await server.stop();
  await app.close();
  const best = decide.requestsPerSecond >= decideSingle.requestsPerSecond ? decide : decideSingle;

  const row = (name: string, r: WrkResult) =>
    `| ${name} | ${fmt(r.requestsPerSecond, 0)} | ${fmt(r.p50Ms, 2)} ms | ${fmt(r.p99Ms, 2)} ms | ${fmt(r.requestsPerSecond / baseline.requestsPerSecond, 2)}× | ${r.non2xx} | ${fmt(r.cpuMsPerRequest, 3)} / ${fmt(r.mainThreadMsPerRequest, 3)} |`;
  writeResult("server", [
    "## API server",
    "",
    machineLine(),
    `wrk -t2 -c${CONNECTIONS} -d${SECONDS}s on loopback after ${WARM_SECONDS} s of the same load unrecorded; the server and wrk share the machine's 2 cores. The home's secret store holds three secrets.`,
    "",
    "| endpoint | req/s | p50 | p99 | ratio vs bare Bun.serve | non-2xx | server CPU ms/req (all threads / HTTP thread) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    row("bare Bun.serve \"hello\" (baseline)", baseline),
    row("GET /api/v1/health (token sent)", health),
    row("GET /api/v1/status (token checked, viewer+)", status),
    row("POST /api/v1/decide, decided on the HTTP thread (--decision-workers 0)", decideSingle),
    row(`POST /api/v1/decide, ${workers} decision workers (default here)`, decide),
    row(`POST /api/v1/decide, ${workers} decision workers, ${2 * CONNECTIONS} connections (not a target row)`, decideWide),
    "",
    "Each decide request: policy + an fsynced audit entry. The bare baseline's CPU column is this process's too, which serves it.",
    "",
    `Targets: decide >= 0.3× baseline — ${best.requestsPerSecond / baseline.requestsPerSecond >= 0.3 ? "met" : "**missed**"}; >= 10,000 decisions/s — ${best.requestsPerSecond >= 10_000 ? "met" : "**missed**"}; health >= 0.3× — ${health.requestsPerSecond / baseline.requestsPerSecond >= 0.3 ? "met" : "**missed**"}.`,
    "",
    `WebSocket fan-out: ${ws.sent} run.output events at ${WS_RATE}/s for ${WS_SECONDS} s to ${WS_CLIENTS} operator clients: every client received between ${ws.min} and ${ws.max} (${ws.min === ws.sent ? "no loss" : `**${ws.sent - ws.min} lost**`}); ${ws.dropped} clients dropped before the end.`,
  ]);
} finally {
  rmSync(work, { recursive: true, force: true });
}
