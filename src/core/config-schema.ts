import { z } from "zod";
import { SANDBOX_RUNTIMES } from "../sandbox/index.ts";
import { parseDuration, parseSize } from "./units.ts";

/** Policy templates; the OPA-backed templates arrive with the policy engine (issue 5). */
export const PolicyTemplate = z.enum(["strict", "standard", "permissive"]);
export type PolicyTemplate = z.infer<typeof PolicyTemplate>;

const Duration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, { message: 'expected a duration such as "30s", "5m" or "1h"' });
const Size = z
  .string()
  .refine((text) => parseSize(text) !== undefined, { message: 'expected a size such as "64m" or "1g"' });

const Limits = z
  .object({
    pids: z.number().int().min(8).max(4096).default(128).describe("Maximum processes inside one sandbox."),
    memory: Size.default("256m").describe("Memory limit (no swap beyond it)."),
    cpus: z.number().min(0.1).max(64).default(1).describe("CPU quota in cores."),
    tmpfs: Size.default("64m").describe("Size of the writable, noexec /tmp."),
    output: Size.default("16m").describe("Output beyond this many bytes is dropped and the run killed."),
  })
  .strict();

/** `config.yaml`. Unknown keys are errors so that a typo never silently weakens a setting. */
export const Config = z
  .object({
    version: z.literal(1).describe("Config format version."),
    policy: z
      .object({
        template: PolicyTemplate.default("standard").describe("Policy template in force."),
        grants: z
          .array(z.string())
          .default([])
          .describe("Scopes granted to every run in addition to --scope flags. Empty means none."),
      })
      .strict()
      .default({ template: "standard", grants: [] }),
    sandbox: z
      .object({
        runtime: z
          .enum(SANDBOX_RUNTIMES)
          .default("docker")
          .describe(
            "Sandbox runtime: docker (runc) or gvisor (runsc, a user-space kernel; register it with scripts/setup-gvisor.sh). --runtime overrides it per run. An unavailable runtime refuses runs; there is no fallback.",
          ),
        image: z.string().min(1).default("aegisclaw/base:busybox").describe("Default sandbox image."),
        timeout: Duration.default("5m").describe("Wall-clock limit of one run; exceeded runs are killed (exit 124)."),
        dockerSocket: z.string().default("/var/run/docker.sock").describe("Docker engine socket."),
        limits: Limits.default({ pids: 128, memory: "256m", cpus: 1, tmpfs: "64m", output: "16m" }),
      })
      .strict()
      .default({
        runtime: "docker",
        image: "aegisclaw/base:busybox",
        timeout: "5m",
        dockerSocket: "/var/run/docker.sock",
        limits: { pids: 128, memory: "256m", cpus: 1, tmpfs: "64m", output: "16m" },
      }),
    approvals: z
      .object({
        timeout: Duration.default("120s").describe("How long a request that needs a person's approval waits before it is denied."),
      })
      .strict()
      .default({ timeout: "120s" }),
    audit: z
      .object({
        checkpointEvery: z.number().int().min(1).default(1000).describe("Signed checkpoint every N entries."),
        segmentMaxBytes: Size.default("64m").describe("Rotate log segments past this size."),
      })
      .strict()
      .default({ checkpointEvery: 1000, segmentMaxBytes: "64m" }),
  })
  .strict();
export type Config = z.infer<typeof Config>;

/** Default grants per template: strict grants nothing, so every run needs `--scope shell.exec`. */
export function defaultGrants(template: PolicyTemplate): string[] {
  return template === "strict" ? [] : ["shell.exec"];
}
