import type { XrayReport } from "../../../src/xray/types.ts";
import { fit, formatArgv, formatBytes, formatClock } from "../format.ts";
import { type Line, type Tone, seg } from "../theme.ts";
import { type PaneContent, type PaneContext, clip, scrolled } from "./text.ts";
import { selectedRun } from "./runs.ts";

function yes(value: boolean, good: boolean): { text: string; tone: Tone } {
  return { text: value ? "yes" : "no", tone: value === good ? "good" : "bad" };
}

/** A sandbox's live report: usage, isolation settings, mounts, processes. */
export function xrayLines(report: XrayReport): Line[] {
  const { security } = report;
  const readOnly = yes(security.readOnlyRootfs, true);
  const noNewPrivileges = yes(security.noNewPrivileges, true);
  const memory = `${formatBytes(report.memoryBytes)} / ${formatBytes(report.memoryLimitBytes ?? security.memoryLimitBytes)}`;
  const network = report.network ? `rx ${formatBytes(report.network.rxBytes)} tx ${formatBytes(report.network.txBytes)}` : "no interface";
  const lines: Line[] = [
    [seg("run ", "muted"), seg(report.runId, "plain", { bold: true }), seg(`  ${report.state}`, report.state === "running" ? "good" : "warn")],
    [seg("container ", "muted"), seg(report.containerId.slice(0, 12)), seg("  image ", "muted"), seg(report.image), seg("  runtime ", "muted"), seg(report.runtime)],
    [seg("argv ", "muted"), seg(formatArgv(report.argv))],
    [],
    [
      seg("CPU ", "muted"),
      seg(report.cpuPercent === null ? "n/a" : `${report.cpuPercent.toFixed(1)}%`),
      seg("  memory ", "muted"),
      seg(memory),
      seg("  pids ", "muted"),
      seg(`${report.pids ?? "n/a"} / ${security.pidsLimit ?? "unlimited"}`),
    ],
    [seg("network I/O ", "muted"), seg(network), seg("  mode ", "muted"), seg(security.networkMode, security.networkMode === "none" ? "good" : "warn")],
    [],
    [seg("security", "muted")],
    [seg("  user ", "muted"), seg(security.user || "(image default)", security.user === "" || security.user === "0" || security.user === "root" ? "bad" : "good")],
    [seg("  read-only rootfs ", "muted"), seg(readOnly.text, readOnly.tone), seg("  no-new-privileges ", "muted"), seg(noNewPrivileges.text, noNewPrivileges.tone)],
    [seg("  seccomp ", "muted"), seg(security.seccomp, security.seccomp === "unconfined" ? "bad" : "good")],
    [seg("  caps dropped ", "muted"), seg(security.capDrop.join(", ") || "none"), seg("  added ", "muted"), seg(security.capAdd.join(", ") || "none", security.capAdd.length ? "warn" : "good")],
    [],
    [seg(`mounts (${report.mounts.length})`, "muted")],
  ];
  for (const mount of report.mounts) {
    lines.push([seg("  "), seg(mount.readOnly ? "ro " : "rw ", mount.readOnly ? "good" : "warn"), seg(`${mount.source} -> ${mount.target}`)]);
  }
  lines.push([], [seg(`processes (${report.processes.length})`, "muted")], [seg(`  ${fit("PID", 8)}${fit("USER", 10)}COMMAND`, "muted")]);
  for (const process of report.processes) lines.push([seg(`  ${fit(process.pid, 8)}${fit(process.user, 10)}${process.command}`)]);
  lines.push([], [seg(`sampled ${formatClock(report.sampledAt)}`, "muted")]);
  return lines;
}

/** The X-ray view of the run selected in the runs pane. */
export function xrayPane(ctx: PaneContext): PaneContent {
  const { state, view, size } = ctx;
  const run = selectedRun(state, view);
  if (!run) return { title: "X-ray", lines: [clip([seg("No run to inspect: runs appear in view 1.", "muted")], size.width)] };
  const { xray } = state;
  const title = `X-ray: ${run.runId}${xray.loading ? " (sampling…)" : ""}`;
  const lines: Line[] = [];
  const current = xray.runId === run.runId;
  if (current && xray.error) lines.push([seg(`x-ray unavailable: ${xray.error}`, "bad")]);
  if (current && xray.value) lines.push(...xrayLines(xray.value));
  else if (current && xray.at !== undefined && !xray.error) lines.push([seg(`${run.runId} is not running: there is no sandbox to inspect.`, "muted")]);
  else if (!current || !xray.error) lines.push([seg("Sampling…", "muted")]);
  return { title, lines: lines.length > size.height ? scrolled(lines, view.xrayScroll, size) : lines.map((line) => clip(line, size.width)) };
}
