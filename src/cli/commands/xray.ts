import { exists, homeLayout, loadConfig } from "../../core/index.ts";
import { AegisError } from "../../shared/index.ts";
import { inspectSandbox, listSandboxes, type XrayReport, type XrayRunSummary } from "../../xray/index.ts";
import type { CliContext } from "../context.ts";

const ACTIONS = "list | inspect ID";
const MIB = 1024 ** 2;

/**
 * `xray list` and `xray inspect ID` (ID: a run id or a container id prefix): what the Docker
 * engine reports about running sandboxes right now. Read-only; exit 0, 65 for an unknown ID,
 * 69 when Docker is down.
 */
export async function runXray(action: string | undefined, args: string[], _options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const options = { socketPath: socketOf(ctx.home) };
  switch (action) {
    case undefined:
    case "list": {
      const sandboxes = await listSandboxes(options);
      if (ctx.json) ctx.stdout(`${JSON.stringify({ sandboxes })}\n`);
      else if (sandboxes.length === 0) ctx.stderr("no AegisClaw sandbox is running\n");
      else ctx.stdout(listTable(sandboxes));
      return 0;
    }
    case "inspect": {
      const id = args[0];
      if (id === undefined || args.length > 1) throw new AegisError("usage", "xray inspect takes exactly one ID", { hint: "aegisclaw xray inspect RUN_ID_OR_CONTAINER_ID (see `aegisclaw xray list`)" });
      const report = await inspectSandbox(id, options);
      ctx.stdout(ctx.json ? `${JSON.stringify(report)}\n` : inspectText(report));
      return 0;
    }
    default:
      throw new AegisError("usage", `unknown xray action "${action}"`, { hint: `use: aegisclaw xray [${ACTIONS}]` });
  }
}

/** The configured engine socket; a home that is not initialised uses the default one (xray only reads). */
function socketOf(home: string): string | undefined {
  const layout = homeLayout(home);
  return exists(layout.config) ? loadConfig(layout.config).sandbox.dockerSocket : undefined;
}

function listTable(sandboxes: XrayRunSummary[]): string {
  const rows = [["RUN ID", "CONTAINER", "RUNTIME", "STARTED", "COMMAND"], ...sandboxes.map((s) => [safe(s.runId), s.containerId.slice(0, 12), s.runtime, s.startedAt, commandLine(s.argv)])];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return `${rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  ")).join("\n")}\n`;
}

function inspectText(report: XrayReport): string {
  const s = report.security;
  const lines = [
    `sandbox ${safe(report.runId)} (container ${report.containerId.slice(0, 12)}, ${report.runtime}, ${report.state}${report.startedAt ? ` since ${report.startedAt}` : ""})`,
    `  image              ${report.image}`,
    `  command            ${commandLine(report.argv)}`,
    "isolation",
    `  user               ${s.user || "(image default)"}`,
    `  root filesystem    ${s.readOnlyRootfs ? "read-only" : "WRITABLE"}`,
    `  capabilities       drop ${s.capDrop.join(",") || "none"}; add ${s.capAdd.join(",") || "none"}`,
    `  seccomp            ${s.seccomp}`,
    `  no-new-privileges  ${s.noNewPrivileges ? "yes" : "NO"}`,
    `  network mode       ${s.networkMode}`,
    `  pids limit         ${s.pidsLimit ?? "none"}`,
    `  memory limit       ${s.memoryLimitBytes === null ? "none" : mib(s.memoryLimitBytes)}`,
    `usage (sampled ${report.sampledAt})`,
    `  cpu                ${report.cpuPercent === null ? "n/a" : `${report.cpuPercent}%`}`,
    `  memory             ${report.memoryBytes === null ? "n/a" : mib(report.memoryBytes)}${report.memoryLimitBytes === null ? "" : ` of ${mib(report.memoryLimitBytes)}`}`,
    `  pids               ${report.pids ?? "n/a"}`,
    `  network            ${report.network === null ? "no interface" : `rx ${report.network.rxBytes} B, tx ${report.network.txBytes} B`}`,
    "mounts",
    ...report.mounts.map((m) => `  ${safe(m.source)} -> ${safe(m.target)} (${m.readOnly ? "ro" : "rw"})`),
    "processes",
    ...(report.processes.length === 0 ? ["  (none shown)"] : report.processes.map((p) => `  ${p.pid.padEnd(8)} ${safe(p.user).padEnd(10)} ${safe(p.command)}`)),
  ];
  if (report.notes?.length) lines.push("notes", ...report.notes.map((note) => `  ${note}`));
  return `${lines.join("\n")}\n`;
}

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/** argv as a person would retype it: arguments with spaces or quotes are single-quoted. */
function commandLine(argv: string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)).map(safe).join(" ");
}

/**
 * Makes agent-controlled text (argv, process names, labels) safe for a terminal: control
 * characters become escapes, so a sandboxed command cannot rewrite the operator's screen.
 */
function safe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
