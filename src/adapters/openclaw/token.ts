import { homeLayout, loadConfig } from "../../core/index.ts";
import { secretsSettingsFrom } from "../../core/secrets-settings.ts";
import { isSecretName, SecretResolver } from "../../secrets/index.ts";
import { AegisError, isAegisError } from "../../shared/index.ts";
import type { OpenClawAdapterConfig } from "./config.ts";

/**
 * Reads the gateway token named by `api_key_secret` from AegisClaw's secret store, in process:
 * it never passes through argv, the environment of a child or a config file, and errors name
 * the secret, never its value.
 */
export async function readGatewayToken(home: string, config: OpenClawAdapterConfig): Promise<string> {
  const name = config.api_key_secret;
  const fix = `store it with \`aegisclaw secrets set ${name}\` (the value of gateway.auth.token in openclaw.json, on stdin)`;
  if (!isSecretName(name)) {
    throw new AegisError("bad-input", `adapters/openclaw.yaml: api_key_secret: "${name}" is not a secret name (A-Z, 0-9, _)`, { hint: "use an upper-case name such as OPENCLAW_GATEWAY_TOKEN" });
  }
  const layout = homeLayout(home);
  const settings = secretsSettingsFrom(loadConfig(layout.config).secrets);
  const resolver = new SecretResolver({
    settings,
    secretsDir: layout.secrets,
    ...(process.env.AEGISCLAW_SECRETS_PASSPHRASE ? { passphrase: process.env.AEGISCLAW_SECRETS_PASSPHRASE } : {}),
  });
  try {
    await resolver.check([name]);
    const value = (await resolver.read([name])).get(name);
    if (!value) throw new AegisError("bad-input", `the secret ${name} is empty`, { hint: fix });
    return value.trim();
  } catch (error) {
    if (isAegisError(error)) throw new AegisError(error.code, `OpenClaw gateway token (secret ${name}): ${error.message}`, { hint: error.code === "bad-input" ? fix : (error.hint ?? fix) });
    throw new AegisError("unavailable", `OpenClaw gateway token (secret ${name}) cannot be read`, { hint: fix });
  }
}
