import { createApp } from "../../app.ts";
import type { Simulation } from "../../core/index.ts";
import { localActor } from "../actor.ts";
import type { CliContext } from "../context.ts";
import { commandFromArgs, runRequestOptions } from "./run-options.ts";

/**
 * `simulate [--scope S]... [--image I] [--timeout D] -- CMD...`, or `simulate skill NAME
 * [COMMAND] [ARGS] [--path NAME=DIR]...` (an installed skill, as `skills run` would send it): the
 * Gate up to the sandbox profile, executing and recording nothing. Exit 0 when the command
 * would run unattended, 77 when it would be denied or has to wait for a person's approval, 75
 * under lockdown. `simulate -- skill ...` simulates a program named skill.
 */
export async function runSimulate(positional: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const plain = positional[0] === "skill" ? undefined : { actor: localActor(), argv: commandFromArgs(positional, options, "simulate"), ...runRequestOptions(options) };
  const app = createApp(ctx.home);
  const request = plain ?? (await import("./skills-run.ts")).skillRunRequest(app, positional.slice(1), options);
  const simulation = await app.simulator().simulate(request);
  if (ctx.json) ctx.stdout(`${JSON.stringify(simulation)}\n`);
  else ctx.stdout(render(simulation));
  return simulation.outcome === "run" ? 0 : simulation.outcome === "lockdown" ? 75 : 77;
}

function render(simulation: Simulation): string {
  const { decision, sandbox } = simulation;
  const limits = sandbox.limits;
  const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;
  const outcome = {
    run: "would run",
    ask: "would wait for a person's approval (console, or `aegisclaw approvals approve ID`), denied if nobody answers in time",
    deny: "would be denied",
    lockdown: "would be refused: lockdown is active",
  }[simulation.outcome];
  const skill = simulation.policyInput.skill;
  const lines = [
    `simulate: ${sandbox.argv.join(" ")}`,
    ...(skill ? [`skill:     ${skill.name} ${skill.version ?? ""} command ${skill.command ?? "?"}, signature ${skill.signature ?? (skill.signed ? "valid" : "unsigned")}${skill.publisher ? ` (${skill.publisher})` : ""}`] : []),
    `decision:  ${decision.kind.toUpperCase()} (risk ${decision.risk})`,
    ...decision.reasons.map((reason) => `  - [${reason.rule}] ${reason.message}${reason.scope ? ` (scope ${reason.scope})` : ""}`),
    `approval:  ${simulation.approvalRequired ? "REQUIRED" : "not needed"}`,
    `outcome:   ${outcome}`,
    "sandbox:",
    `  runtime       ${sandbox.runtime}`,
    `  image         ${sandbox.image}`,
    `  user          ${sandbox.user}`,
    `  root fs       ${sandbox.rootFilesystem}`,
    `  network       ${sandbox.network}`,
    `  mounts        ${sandbox.mounts.map((m) => `${m.target} (${m.type} ${m.options}${m.source ? ` from ${m.source}` : ""})`).join(", ") || "none"}`,
    `  secrets       ${sandbox.secrets.join(", ") || "none"}`,
    ...(sandbox.services ?? []).map(
      (service) =>
        `  service       ${service.name}: ${service.argv.join(" ")}; mounts ${service.mounts.map((m) => `${m.target} (${m.type} ${m.options})`).join(", ") || "none"}${service.egress ? `; own egress proxy to ${service.egress.join(", ")}` : ""}${service.secrets ? `; secrets ${service.secrets.join(", ")}` : ""}; same hardening`,
    ),
    `  capabilities  ${sandbox.capabilities}`,
    `  no-new-privs  ${sandbox.noNewPrivileges ? "yes" : "NO"}`,
    `  seccomp       ${sandbox.seccomp}`,
    `  limits        pids ${limits.pids}, memory ${mib(limits.memoryBytes)}, cpus ${limits.cpus}, /tmp ${mib(limits.tmpfsBytes)}, output ${mib(limits.outputBytes)}, timeout ${limits.timeoutMs / 1000}s`,
    "nothing was executed or recorded",
  ];
  return `${lines.join("\n")}\n`;
}

