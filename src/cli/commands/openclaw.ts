import { loadOpenClawAdapterConfig, openClawSetup, probeOnce, readGatewayToken, type AdapterHealth, type SetupReport } from "../../adapters/openclaw/index.ts";
import { AegisError } from "../../shared/index.ts";
import type { CliContext } from "../context.ts";

const ACTIONS = "setup [--config PATH] [--dry-run] [--endpoint URL] | status";

/**
 * `openclaw setup|status`: connect an OpenClaw installation to AegisClaw (its openclaw.json gets
 * the plugin, the MCP server and the hardening, with a backup and a printed diff), and show the
 * adapter's health with one probe.
 */
export async function runOpenClaw(action: string | undefined, args: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  if (args.length > 0) throw new AegisError("usage", `openclaw ${action ?? ""} takes no arguments (got ${args.length})`, { hint: `use: aegisclaw openclaw ${ACTIONS}` });
  switch (action) {
    case "setup":
      return setup(options, ctx);
    case "status":
      return status(ctx);
    default:
      throw new AegisError("usage", action === undefined ? "openclaw needs an action" : `unknown openclaw action "${action}"`, { hint: `use: aegisclaw openclaw ${ACTIONS}` });
  }
}

async function setup(options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const text = (name: string): string | undefined => {
    const value = options[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value === "") throw new AegisError("usage", `--${name} needs a value`, { hint: `use: aegisclaw openclaw ${ACTIONS}` });
    return value;
  };
  const configPath = text("config");
  const endpoint = text("endpoint");
  const report = await openClawSetup({ home: ctx.home, dryRun: options.dryRun === true, ...(configPath ? { configPath } : {}), ...(endpoint ? { endpoint } : {}) });
  if (ctx.json) {
    ctx.stdout(`${JSON.stringify(report)}\n`);
    return 0;
  }
  if (report.diff) ctx.stdout(report.diff);
  ctx.stderr(describeSetup(report));
  return 0;
}

function describeSetup(report: SetupReport): string {
  const lines: string[] = [];
  const verb = report.dryRun ? "would change" : "changed";
  lines.push(report.changed ? `openclaw setup: ${verb} ${report.configPath}${report.backup ? ` (backup ${report.backup})` : ""}` : `openclaw setup: ${report.configPath} already has everything; nothing to change`);
  if (report.token !== "kept") lines.push(`openclaw setup: ${report.token === "created" ? "created" : "would create"} the plugin's operator API token in ${report.tokenFile} (mode 0600)`);
  if (report.adapterConfig.action !== "kept") lines.push(`openclaw setup: ${report.adapterConfig.action === "written" ? "wrote" : "would write"} ${report.adapterConfig.path}`);
  if (report.dryRun) lines.push("openclaw setup: dry run; nothing was written");
  else if (report.changed) lines.push("openclaw setup: next: store the gateway token (`aegisclaw secrets set OPENCLAW_GATEWAY_TOKEN`), run `aegisclaw serve`, restart the OpenClaw gateway");
  return `${lines.join("\n")}\n`;
}

async function status(ctx: CliContext): Promise<number> {
  const config = loadOpenClawAdapterConfig(ctx.home);
  let health: AdapterHealth;
  if (!config.enabled) health = await probeOnce(config, undefined);
  else {
    try {
      health = await probeOnce(config, await readGatewayToken(ctx.home, config));
    } catch (error) {
      health = await probeOnce(config, undefined, (error as Error).message);
    }
  }
  if (ctx.json) ctx.stdout(`${JSON.stringify(health)}\n`);
  else {
    const lines = [`OpenClaw adapter: ${health.status}`];
    if (health.endpoint) lines.push(`  gateway    ${health.endpoint}`);
    if (health.readyz) lines.push(`  readyz     ${health.readyz.ok ? `ready (${health.readyz.latencyMs} ms)` : (health.readyz.error ?? "not ready")}`);
    if (health.websocket) lines.push(`  websocket  ${health.websocket.connected ? `connected (handshake ${health.websocket.connectMs ?? "?"} ms, health ${health.websocket.latencyMs ?? "?"} ms)` : "not connected"}`);
    if (health.plugin) lines.push(`  plugin     ${health.plugin.loaded ? "aegisclaw loaded" : "aegisclaw NOT loaded"}`);
    if (health.lastError && health.state !== "connected") lines.push(`  error      ${health.lastError}`);
    ctx.stdout(`${lines.join("\n")}\n`);
  }
  // An enabled adapter that cannot reach its gateway is a dependency failure (69).
  return health.state === "down" ? 69 : 0;
}
