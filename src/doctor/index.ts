import { Config, homeLayout } from "../core/index.ts";
import { createDockerRuntime } from "../sandbox/index.ts";
import { checkEgress } from "./egress.ts";
import { checkOpenClaw } from "./openclaw.ts";
import { checkRuntimes } from "./runtimes.ts";
import { checkAudit, checkBaseImage, checkBubblewrap, checkConfig, checkDisk, checkDocker, checkGvisor, checkHome, checkLockdown, checkPolicy, type Check } from "./checks.ts";

export type { Check } from "./checks.ts";

/**
 * Runs every check against a home. Never throws: each problem becomes a line with a fix.
 * Docker checks use the configured socket, or the default one when config is unusable.
 */
export async function runDoctorChecks(home: string): Promise<Check[]> {
  const layout = homeLayout(home);
  const { check: configCheck, config } = checkConfig(layout);
  const effective = config ?? Config.parse({ version: 1 });
  const runtime = createDockerRuntime({ socketPath: effective.sandbox.dockerSocket });
  const docker = await checkDocker(runtime);
  const [image, gvisor, runtimes, egress, bubblewrap, audit, policy, openclaw] = await Promise.all([
    docker.status === "pass"
      ? checkBaseImage(runtime, effective.sandbox.image)
      : Promise.resolve<Check>({ id: "base-image", status: "fail", message: "not checked: Docker is unreachable", fix: "start Docker first" }),
    checkGvisor(effective.sandbox.dockerSocket, effective.sandbox.runtime),
    checkRuntimes(effective.sandbox.dockerSocket),
    checkEgress(effective.sandbox.dockerSocket, docker.status === "pass"),
    checkBubblewrap(effective.sandbox.runtime === "bwrap"),
    checkAudit(layout),
    checkPolicy(config),
    checkOpenClaw(home),
  ]);
  // A bwrap host runs without Docker: its absence is worth knowing, not a failure.
  const optional = (check: Check): Check => (effective.sandbox.runtime === "bwrap" && check.status === "fail" ? { ...check, status: "warn", message: `${check.message} (not needed: sandbox.runtime is bwrap)` } : check);
  return [optional(docker), optional(image), gvisor, optional(runtimes), optional(egress), bubblewrap, checkHome(layout), configCheck, policy, audit, checkDisk(layout), checkLockdown(layout), openclaw];
}
