import { exists, homeLayout, loadConfig, type Config } from "../../core/index.ts";
import { secretsSettingsFrom } from "../../core/secrets-settings.ts";
import { AgeSecretStore, assertSecretName, openSecretBackend, SECRET_BACKEND_KINDS, type SecretBackend, type SecretBackendKind, type SecretsSettings } from "../../secrets/index.ts";
import { AegisError } from "../../shared/index.ts";
import type { CliContext } from "../context.ts";
import { newPassphrase, hiddenPrompt, unlockPassphrase } from "../passphrase-prompt.ts";
import { assertAuditableHome, secretChangeRecorder, type RecordChange } from "../secret-audit.ts";

const ACTIONS = "init [--passphrase] | set NAME [--value V] | list | rm NAME | rotate";
/** Overrides `secrets.backend` for one command, e.g. to keep the Vault token itself in the local age store. */
const BACKEND_ENV = "AEGISCLAW_SECRETS_BACKEND";
const VALUE_WARNING =
  "aegisclaw: WARNING: --value put this secret in your shell history and in the process list (ps, /proc/PID/cmdline),\n" +
  "  where other users and programs on this machine can read it. Consider it exposed and rotate it at its source;\n" +
  "  next time pipe the value on stdin or type it at the hidden prompt.\n";

/**
 * `secrets ACTION`: the configured backend (`secrets.backend`: the local age store by default,
 * or Vault). Values enter on stdin, at a hidden prompt, or (with a warning) as `--value`; no
 * action ever prints a value. `init` and `rotate` manage the local age store only. Every change
 * is recorded in the audit log (names only) before it is made, so it needs an initialised home.
 */
export async function runSecrets(action: string | undefined, args: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const opened = openSecretBackend(secretsSettings(ctx), { secretsDir: homeLayout(ctx.home).secrets, passphrase: () => unlockPassphrase(ctx) });
  const where = opened.kind === "vault" ? ` in Vault (${opened.backend.location})` : "";
  const record = secretChangeRecorder(ctx.home, opened.kind === "vault" ? { backend: "vault", location: opened.backend.location } : { backend: "age" });
  // Before any prompt: a change that could not be recorded is not made.
  if (action !== undefined && ["init", "set", "rm", "rotate"].includes(action)) assertAuditableHome(ctx.home);
  switch (action) {
    case "init":
      return init(ageOnly(opened.kind === "age" ? opened.backend : undefined, "init"), options, ctx, record);
    case "set":
      return set(opened.backend, nameArg(args, "set"), options, where, ctx, record);
    case undefined:
    case "list":
      return list(opened.backend, ctx);
    case "rm":
      return remove(opened.backend, nameArg(args, "rm"), where, ctx, record);
    case "rotate":
      return rotate(ageOnly(opened.kind === "age" ? opened.backend : undefined, "rotate"), ctx, record);
    default:
      throw new AegisError("usage", `unknown secrets action "${action}"`, { hint: `use: aegisclaw secrets [${ACTIONS}]` });
  }
}

/**
 * The `secrets` config section as the factory takes it. Without a config.yaml the local age
 * store is used, as before `aegisclaw init`; a config.yaml that does not validate is an error.
 */
function secretsSettings(ctx: CliContext): SecretsSettings {
  const layout = homeLayout(ctx.home);
  const section: Config["secrets"] = exists(layout.config) ? loadConfig(layout.config).secrets : { backend: "age" };
  const override = process.env[BACKEND_ENV];
  let backend: SecretBackendKind = section.backend;
  if (override !== undefined && override !== "") {
    if (!(SECRET_BACKEND_KINDS as readonly string[]).includes(override)) {
      throw new AegisError("usage", `${BACKEND_ENV} must be ${SECRET_BACKEND_KINDS.join(" or ")}`, { hint: `unset it to use secrets.backend from config.yaml` });
    }
    backend = override as SecretBackendKind;
  }
  return secretsSettingsFrom(section, backend);
}

function ageOnly(store: AgeSecretStore | undefined, verb: string): AgeSecretStore {
  if (store) return store;
  throw new AegisError("usage", `secrets ${verb} manages the local age store, but secrets.backend is vault`, {
    hint: `Vault manages its own keys; for the local store (e.g. to hold the Vault token) run ${BACKEND_ENV}=age aegisclaw secrets ${verb}`,
  });
}

async function init(store: AgeSecretStore, options: Record<string, unknown>, ctx: CliContext, record: RecordChange): Promise<number> {
  if (store.isInitialised()) {
    throw new AegisError("bad-input", `the secret store already has an identity (${store.paths.identity})`, { hint: "use `aegisclaw secrets rotate` to replace it" });
  }
  const passphrase = options.passphrase === true ? await newPassphrase(ctx) : undefined;
  const { recipient } = await record({ action: "init" }, () => store.init({ passphrase }));
  if (ctx.json) ctx.stdout(`${JSON.stringify({ recipient, passphraseProtected: passphrase !== undefined })}\n`);
  else {
    ctx.stdout(`${recipient}\n`);
    ctx.stderr(`secret store created in ${store.paths.dir}${passphrase === undefined ? "" : " (identity sealed with a passphrase)"}; the line above is its public key\n`);
  }
  return 0;
}

async function set(store: SecretBackend, name: string, options: Record<string, unknown>, where: string, ctx: CliContext, record: RecordChange): Promise<number> {
  assertSecretName(name);
  const given = valueOption(options);
  if (given !== undefined) ctx.stderr(VALUE_WARNING);
  const value = given ?? (process.stdin.isTTY ? await hiddenPrompt(`value for ${name} (not shown): `, ctx) : stripOneNewline(await Bun.stdin.text()));
  if (value === "") throw new AegisError("bad-input", `the value for ${name} is empty`, { hint: "give a non-empty value (stdin, the hidden prompt or --value)" });
  // Ask for a sealed store's passphrase right after the value, before the audit log is opened:
  // keys typed while no hidden prompt is up would echo.
  if (store instanceof AgeSecretStore) await store.recipient();
  await record({ action: "set", name }, () => store.set(name, value));
  if (ctx.json) ctx.stdout(`${JSON.stringify({ name, stored: true })}\n`);
  else ctx.stderr(`stored ${name}${where}\n`);
  return 0;
}

async function list(store: SecretBackend, ctx: CliContext): Promise<number> {
  const secrets = await store.list();
  if (ctx.json) {
    ctx.stdout(`${JSON.stringify({ secrets })}\n`);
    return 0;
  }
  if (secrets.length === 0) ctx.stderr("no secrets stored (add one with `aegisclaw secrets set NAME`)\n");
  for (const secret of secrets) ctx.stdout(`${secret.name}\tupdated ${secret.updated}\n`);
  return 0;
}

async function remove(store: SecretBackend, name: string, where: string, ctx: CliContext, record: RecordChange): Promise<number> {
  assertSecretName(name);
  await record({ action: "remove", name }, () => store.remove(name));
  if (ctx.json) ctx.stdout(`${JSON.stringify({ name, removed: true })}\n`);
  else ctx.stderr(`removed ${name}${where}\n`);
  return 0;
}

async function rotate(store: AgeSecretStore, ctx: CliContext, record: RecordChange): Promise<number> {
  const count = (await store.list()).length;
  await store.recipient(); // the passphrase, if any, is asked before anything is recorded
  const { recipient, rotated } = await record({ action: "rotate", count }, () => store.rotate());
  if (ctx.json) ctx.stdout(`${JSON.stringify({ recipient, rotated })}\n`);
  else {
    ctx.stdout(`${recipient}\n`);
    ctx.stderr(`new identity in place; ${rotated} secret(s) re-encrypted to it (the line above is the new public key)\n`);
  }
  return 0;
}

function nameArg(args: string[], verb: string): string {
  const name = args[0];
  if (name === undefined) throw new AegisError("usage", `missing secret name: aegisclaw secrets ${verb} NAME`, { hint: "NAME is like GITHUB_TOKEN" });
  if (args.length > 1) throw new AegisError("usage", `secrets ${verb} takes one NAME`, { hint: "values are read from stdin or a hidden prompt, never from extra arguments" });
  return String(name);
}

/**
 * The `--value` option as typed. cac turns numeric-looking values into numbers (`0123` -> 123),
 * which would silently change a PIN, so a number is re-read from the raw argv.
 */
function valueOption(options: Record<string, unknown>): string | undefined {
  const value = options.value;
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    const raw = rawOptionValues(process.argv, "--value");
    if (raw.length === 1 && raw[0] !== undefined) return raw[0];
  }
  throw new AegisError("usage", "--value needs exactly one value", { hint: "better: pipe the value on stdin, e.g. `printf %s \"$V\" | aegisclaw secrets set NAME`" });
}

function rawOptionValues(argv: string[], flag: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") break;
    if (arg === flag && argv[i + 1] !== undefined) found.push(argv[++i] ?? "");
    else if (arg?.startsWith(`${flag}=`)) found.push(arg.slice(flag.length + 1));
  }
  return found;
}

/** A value piped on stdin usually ends with the newline `echo` added; exactly one is dropped. */
function stripOneNewline(text: string): string {
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}
