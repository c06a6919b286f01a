import { exists, homeLayout, loadConfig, parseDuration, type Config } from "../../core/index.ts";
import { AgeSecretStore, openSecretBackend, SECRET_BACKEND_KINDS, type SecretBackend, type SecretBackendKind, type SecretsSettings } from "../../secrets/index.ts";
import { AegisError } from "../../shared/index.ts";
import type { CliContext } from "../context.ts";

const ACTIONS = "init [--passphrase] | set NAME [--value V] | list | rm NAME | rotate";
/** Unlocks a passphrase-protected identity without a terminal. Environment variables are readable only by the same user (and root), via /proc/PID/environ. */
const PASSPHRASE_ENV = "AEGISCLAW_SECRETS_PASSPHRASE";
/** Overrides `secrets.backend` for one command, e.g. to keep the Vault token itself in the local age store. */
const BACKEND_ENV = "AEGISCLAW_SECRETS_BACKEND";
const VALUE_WARNING =
  "aegisclaw: WARNING: --value put this secret in your shell history and in the process list (ps, /proc/PID/cmdline),\n" +
  "  where other users and programs on this machine can read it. Consider it exposed and rotate it at its source;\n" +
  "  next time pipe the value on stdin or type it at the hidden prompt.\n";

/**
 * `secrets ACTION`: the configured backend (`secrets.backend`: the local age store by default,
 * or Vault). Values enter on stdin, at a hidden prompt, or (with a warning) as `--value`; no
 * action ever prints a value. `init` and `rotate` manage the local age store only.
 */
export async function runSecrets(action: string | undefined, args: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const opened = openSecretBackend(secretsSettings(ctx), { secretsDir: homeLayout(ctx.home).secrets, passphrase: () => unlockPassphrase(ctx) });
  const where = opened.kind === "vault" ? ` in Vault (${opened.backend.location})` : "";
  switch (action) {
    case "init":
      return init(ageOnly(opened.kind === "age" ? opened.backend : undefined, "init"), options, ctx);
    case "set":
      return set(opened.backend, nameArg(args, "set"), options, where, ctx);
    case undefined:
    case "list":
      return list(opened.backend, ctx);
    case "rm":
      return remove(opened.backend, nameArg(args, "rm"), where, ctx);
    case "rotate":
      return rotate(ageOnly(opened.kind === "age" ? opened.backend : undefined, "rotate"), ctx);
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
  const vault = section.vault;
  if (!vault) return { backend };
  const auth = vault.auth;
  return {
    backend,
    vault: {
      address: vault.address,
      namespace: vault.namespace,
      mount: vault.mount,
      path: vault.path,
      timeoutMs: parseDuration(vault.timeout) ?? 10_000,
      caFile: vault.caFile,
      auth:
        auth.method === "token"
          ? { method: "token", token: auth.tokenEnv !== undefined ? { env: auth.tokenEnv } : { secret: auth.tokenSecret ?? "" } }
          : { method: "approle", mount: auth.mount, roleId: auth.roleId, secretId: auth.secretIdEnv !== undefined ? { env: auth.secretIdEnv } : { secret: auth.secretIdSecret ?? "" } },
    },
  };
}

function ageOnly(store: AgeSecretStore | undefined, verb: string): AgeSecretStore {
  if (store) return store;
  throw new AegisError("usage", `secrets ${verb} manages the local age store, but secrets.backend is vault`, {
    hint: `Vault manages its own keys; for the local store (e.g. to hold the Vault token) run ${BACKEND_ENV}=age aegisclaw secrets ${verb}`,
  });
}

async function init(store: AgeSecretStore, options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const passphrase = options.passphrase === true ? await newPassphrase(ctx) : undefined;
  const { recipient } = await store.init({ passphrase });
  if (ctx.json) ctx.stdout(`${JSON.stringify({ recipient, passphraseProtected: passphrase !== undefined })}\n`);
  else {
    ctx.stdout(`${recipient}\n`);
    ctx.stderr(`secret store created in ${store.paths.dir}${passphrase === undefined ? "" : " (identity sealed with a passphrase)"}; the line above is its public key\n`);
  }
  return 0;
}

async function set(store: SecretBackend, name: string, options: Record<string, unknown>, where: string, ctx: CliContext): Promise<number> {
  const given = valueOption(options);
  if (given !== undefined) ctx.stderr(VALUE_WARNING);
  const value = given ?? (process.stdin.isTTY ? await hiddenPrompt(`value for ${name} (not shown): `, ctx) : stripOneNewline(await Bun.stdin.text()));
  await store.set(name, value);
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

async function remove(store: SecretBackend, name: string, where: string, ctx: CliContext): Promise<number> {
  await store.remove(name);
  if (ctx.json) ctx.stdout(`${JSON.stringify({ name, removed: true })}\n`);
  else ctx.stderr(`removed ${name}${where}\n`);
  return 0;
}

async function rotate(store: AgeSecretStore, ctx: CliContext): Promise<number> {
  const { recipient, rotated } = await store.rotate();
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

/** The passphrase for an existing identity: environment first, then the terminal. */
async function unlockPassphrase(ctx: CliContext): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV];
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) return hiddenPrompt("passphrase for the secret store: ", ctx);
  throw new AegisError("usage", "the secret store identity is passphrase-protected and there is no terminal to ask on", {
    hint: `set ${PASSPHRASE_ENV} (visible only to your user and root)`,
  });
}

/** A passphrase for a new identity: environment, or asked twice on the terminal. */
async function newPassphrase(ctx: CliContext): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new AegisError("usage", "--passphrase needs a terminal to ask on, or the passphrase in the environment", { hint: `set ${PASSPHRASE_ENV}` });
  }
  const first = await hiddenPrompt("new passphrase for the secret store: ", ctx);
  if (first === "") throw new AegisError("bad-input", "the passphrase is empty", { hint: "choose several random words" });
  const second = await hiddenPrompt("repeat the passphrase: ", ctx);
  if (first !== second) throw new AegisError("bad-input", "the passphrases do not match; nothing was created", { hint: "run `aegisclaw secrets init --passphrase` again" });
  return first;
}

/**
 * Reads one line from the terminal with echo off (raw mode: the terminal echoes nothing, and
 * this loop echoes nothing). Ctrl-C cancels, backspace edits; raw mode is restored on every path.
 */
async function hiddenPrompt(label: string, ctx: CliContext): Promise<string> {
  const stdin = process.stdin;
  ctx.stderr(label);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed: string[] = [];
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString("utf8")) {
          if (char === "\r" || char === "\n" || char === "\u0004") {
            stdin.off("data", onData);
            resolve(typed.join(""));
            return;
          }
          if (char === "\u0003") {
            stdin.off("data", onData);
            reject(new AegisError("usage", "cancelled; nothing was changed"));
            return;
          }
          if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
          else typed.push(char);
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    ctx.stderr("\n");
  }
}
