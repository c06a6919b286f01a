import { z } from "zod";
import { MAX_WARM_POOL_SIZE, RuntimeNameSchema } from "../sandbox/index.ts";
import { SECRET_BACKEND_KINDS, SECRET_NAME_PATTERN, VAULT_PATH_PATTERN, checkVaultAddress } from "../secrets/index.ts";
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

const WarmPool = z
  .object({
    size: z
      .number()
      .int()
      .min(0)
      .max(MAX_WARM_POOL_SIZE)
      .default(0)
      .describe(
        "Idle, hardened, pre-started containers kept per image by `serve` and the console (0 = none). Each is used by one run only (no host paths, secrets or network) and removed after it.",
      ),
    images: z
      .array(z.string().min(1))
      .max(8)
      .default([])
      .describe("Images to keep warm (e.g. skill images). Empty means sandbox.image only."),
  })
  .strict();

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "expected an environment variable name such as VAULT_TOKEN" });
const LocalSecretName = z.string().regex(SECRET_NAME_PATTERN, { message: "expected a secret name such as VAULT_TOKEN" });
const VaultPath = z.string().regex(VAULT_PATH_PATTERN, { message: 'expected segments of letters, digits, _ . - joined by / (e.g. "secret")' });

const VaultTokenAuth = z
  .object({
    method: z.literal("token").describe("Authenticate with a Vault token."),
    tokenEnv: EnvName.optional().describe("Environment variable holding the token (e.g. VAULT_TOKEN)."),
    tokenSecret: LocalSecretName.optional().describe("Name of a secret in the local age store holding the token."),
  })
  .strict();
const VaultAppRoleAuth = z
  .object({
    method: z.literal("approle").describe("Log in with AppRole (role_id + secret_id); the client token is renewed and re-obtained as needed."),
    mount: VaultPath.default("approle").describe("Where the AppRole auth method is mounted."),
    roleId: z.string().min(1).describe("The role's role_id (an identifier, not a credential)."),
    secretIdEnv: EnvName.optional().describe("Environment variable holding the secret_id."),
    secretIdSecret: LocalSecretName.optional().describe("Name of a secret in the local age store holding the secret_id."),
  })
  .strict();

const Vault = z
  .object({
    address: z
      .string()
      .refine(validVaultAddress, { message: "expected https://HOST[:PORT] (http:// only for 127.0.0.1, ::1 or localhost), with no path or credentials" })
      .describe("Vault or OpenBao server origin, e.g. https://vault.example.com:8200."),
    namespace: VaultPath.optional().describe("Namespace (Vault Enterprise, OpenBao), sent as X-Vault-Namespace. Absent means the root namespace."),
    mount: VaultPath.default("secret").describe("Mount path of the KV version 2 secrets engine."),
    path: z
      .union([VaultPath, z.literal("")])
      .default("aegisclaw")
      .describe("Prefix under the mount: secret NAME lives at <mount>/data/<path>/NAME. Empty means the root of the mount."),
    timeout: Duration.default("10s").describe("Time limit of one request to Vault; an unanswered request fails as unavailable."),
    caFile: z.string().min(1).optional().describe("PEM file of CA certificates to trust for https (a private CA). Absent means the built-in public roots."),
    auth: z
      .discriminatedUnion("method", [VaultTokenAuth, VaultAppRoleAuth])
      .describe("How to authenticate. Credentials come from the environment or the local age store, never from this file."),
  })
  .strict()
  .superRefine((vault, context) => {
    const [envKey, secretKey] = vault.auth.method === "token" ? (["tokenEnv", "tokenSecret"] as const) : (["secretIdEnv", "secretIdSecret"] as const);
    const given = [envKey, secretKey].filter((key) => (vault.auth as Record<string, unknown>)[key] !== undefined);
    if (given.length !== 1) {
      context.addIssue({ code: "custom", path: ["auth"], message: `set exactly one of ${envKey} or ${secretKey}` });
    }
  });

const Secrets = z
  .object({
    backend: z
      .enum(SECRET_BACKEND_KINDS)
      .default("age")
      .describe("Where secrets live: age (local encrypted files in $AEGISCLAW_HOME/secrets) or vault (HashiCorp Vault / OpenBao KV v2, configured under vault)."),
    vault: Vault.optional().describe("Vault settings; required when backend is vault."),
  })
  .strict()
  .refine((secrets) => secrets.backend !== "vault" || secrets.vault !== undefined, { path: ["vault"], message: 'backend "vault" needs a vault section' });

function validVaultAddress(address: string): boolean {
  try {
    checkVaultAddress(address);
    return true;
  } catch {
    return false;
  }
}

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
        runtime: RuntimeNameSchema.default("docker")
          .describe(
            "Sandbox runtime: docker (runc), gvisor (runsc, a user-space kernel; register it with scripts/setup-gvisor.sh), bwrap (bubblewrap, for hosts without Docker: base image only, no net.outbound), or the name of another OCI runtime registered with Docker (kata, ...), self-tested before its first run. --runtime overrides it per run. An unavailable runtime refuses runs; there is no fallback.",
          ),
        image: z.string().min(1).default("aegisclaw/base:busybox").describe("Default sandbox image."),
        timeout: Duration.default("5m").describe("Wall-clock limit of one run; exceeded runs are killed (exit 124)."),
        dockerSocket: z.string().default("/var/run/docker.sock").describe("Docker engine socket."),
        limits: Limits.default({ pids: 128, memory: "256m", cpus: 1, tmpfs: "64m", output: "16m" }),
        warmPool: WarmPool.optional().describe("Pre-started containers for faster runs (docs/sandbox.md, \"Warm pool\"). Absent means no pool."),
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
    secrets: Secrets.default({ backend: "age" }).describe("Secret storage backend."),
  })
  .strict();
export type Config = z.infer<typeof Config>;

/** Default grants per template: strict grants nothing, so every run needs `--scope shell.exec`. */
export function defaultGrants(template: PolicyTemplate): string[] {
  return template === "strict" ? [] : ["shell.exec"];
}
