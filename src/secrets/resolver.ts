import { AegisError, SignatureProbe } from "../shared/index.ts";
import { AgeSecretStore } from "./age-store.ts";
import { openSecretBackend, type OpenedBackend, type SecretBackendKind, type SecretsSettings } from "./open-backend.ts";

/** A secret's value with its name, for the redactor. */
export interface KnownSecret {
  name: string;
  value: string;
}

/**
 * What the Gate's secrets stage needs from the store: check the granted names before the
 * decision, read exactly those values after it, and list every value this process can know
 * without asking anyone (for the redactor, never for delivery).
 */
export interface RunSecretSource {
  /** The configured backend, for messages. */
  readonly backend: SecretBackendKind;
  /**
   * Reads no value. Throws bad-input when a named secret is not stored (local store), usage
   * when the store is sealed and no passphrase can be had. Vault names are checked at `read`:
   * a read-only token may not be allowed to list.
   */
  check(names: readonly string[]): Promise<void>;
  /** The values of exactly these secrets, through the configured backend; may ask for the passphrase. */
  read(names: readonly string[]): Promise<Map<string, string>>;
  /**
   * Values of the local age store that can be read without a person (an unsealed identity, or
   * one already unlocked in this process), plus every value `read` returned in this process.
   * The same objects come back while a value is unchanged, so callers may cache work per object.
   */
  known(): Promise<KnownSecret[]>;
}

/** How the resolver reaches the store. */
export interface SecretResolverOptions {
  settings: SecretsSettings;
  /** `$AEGISCLAW_HOME/secrets`. */
  secretsDir: string;
  /** `AEGISCLAW_SECRETS_PASSPHRASE`, when set. */
  passphrase?: string;
  /** Asks a person for the passphrase (a terminal); used only while `read` resolves a run's grants. */
  prompt?: () => Promise<string>;
  /** Environment for Vault `*Env` credentials (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/**
 * The {@link RunSecretSource} over the configured backend. The backend is opened on first use,
 * so a broken `secrets.vault` section affects only runs that use secrets. Decrypted local values
 * are cached by their `updated` time, so a long-lived process decrypts each value once.
 */
export class SecretResolver implements RunSecretSource {
  private opened: OpenedBackend | undefined;
  private local: AgeSecretStore | undefined;
  /** How many `read` calls are under way: only they may ask a person for the passphrase. */
  private asking = 0;
  /** Values `read` returned in this process, as the same objects every time (callers may cache per object). */
  private readonly resolved = new Map<string, KnownSecret>();
  private readonly decrypted = new Map<string, { updated: string; value: string }>();
  /** The local store's known values, while the files they came from are unchanged (see localValues). */
  private localCache: { probe: SignatureProbe; key: string; values: KnownSecret[] } | undefined;
  /** Bumped by every `read` (which may unlock the store): values read before it are not kept. */
  private reads = 0;

  constructor(private readonly options: SecretResolverOptions) {}

  get backend(): SecretBackendKind {
    return this.options.settings.backend;
  }

  async check(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const opened = this.open();
    if (opened.kind !== "age") return;
    const store = opened.backend;
    const stored = new Set((await store.list()).map((meta) => meta.name));
    const missing = names.filter((name) => !stored.has(name));
    if (missing.length > 0) {
      throw new AegisError("bad-input", `the run is granted secrets.read:${missing.join(", secrets.read:")} but the secret store holds no ${missing.length === 1 ? "secret" : "secrets"} of that name`, {
        hint: `store it first: aegisclaw secrets set ${missing[0]} (value on stdin)`,
      });
    }
    if (store.isPassphraseProtected() && !store.isUnlocked() && !this.options.passphrase && !this.options.prompt) throw noPassphrase();
  }

  async read(names: readonly string[]): Promise<Map<string, string>> {
    const backend = this.open().backend;
    const values = new Map<string, string>();
    this.asking++;
    try {
      for (const name of names) values.set(name, await backend.get(name));
    } finally {
      this.asking--;
    }
    for (const [name, value] of values) if (this.resolved.get(name)?.value !== value) this.resolved.set(name, { name, value });
    // Reading may have unlocked a sealed store: its other values can be known from now on.
    this.localCache = undefined;
    this.reads++;
    return values;
  }

  async known(): Promise<KnownSecret[]> {
    const known: KnownSecret[] = [];
    try {
      known.push(...(await this.localValues()));
    } catch {
      // A store that cannot be read without a person (or at all) adds nothing to redact; runs
      // that need it fail in `check` or `read` with the reason.
    }
    known.push(...this.resolved.values());
    return known;
  }

  /**
   * The local store's values this process can read without a person. Every decision asks (the
   * redactor and the argv check need them), so they are kept while one stat per file shows the
   * store unchanged: its identity, its index and its directory, whose times change with every
   * set, remove and rotation (the store writes by renaming files into it, rotation files too).
   * One look answers for PROBE_WINDOW_MS, so another process's change is seen up to that much
   * later. Values themselves are cached by their `updated` time in the index.
   */
  private async localValues(): Promise<KnownSecret[]> {
    const store = this.localStore();
    const { dir, identity, index } = store.paths;
    const cached = this.localCache;
    if (cached && cached.probe.read().key === cached.key) return cached.values;
    const noStore = new SignatureProbe([identity]);
    const none = noStore.read();
    if (none.firstMissing) {
      // No store (yet): one stat of where its identity would be, until one appears.
      this.localCache = { probe: noStore, key: none.key, values: [] };
      return [];
    }
    // Taken before anything is read: a change while reading makes the next signature differ.
    const probe = new SignatureProbe([identity, dir, index]);
    const signature = probe.read();
    const reads = this.reads;
    const values = await this.readLocalValues(store);
    this.localCache = signature.settled && reads === this.reads ? { probe, key: signature.key, values } : undefined;
    return values;
  }

  private async readLocalValues(store: AgeSecretStore): Promise<KnownSecret[]> {
    if (!store.isInitialised()) return [];
    // Unlocking a sealed identity costs a deliberately slow scrypt: only when a run needs it.
    if (store.isPassphraseProtected() && !store.isUnlocked()) return [];
    const values: KnownSecret[] = [];
    for (const meta of await store.list()) {
      const cached = this.decrypted.get(meta.name);
      let value = cached?.updated === meta.updated ? cached.value : undefined;
      if (value === undefined) {
        value = await store.get(meta.name).catch(() => undefined);
        if (value === undefined) continue;
        this.decrypted.set(meta.name, { updated: meta.updated, value });
      }
      values.push({ name: meta.name, value });
    }
    return values;
  }

  private open(): OpenedBackend {
    this.opened ??= openSecretBackend(this.options.settings, {
      secretsDir: this.options.secretsDir,
      passphrase: () => this.passphrase(),
      ...(this.options.env ? { env: this.options.env } : {}),
    });
    return this.opened;
  }

  /** The local age store: the backend itself, or the one holding Vault credentials. */
  private localStore(): AgeSecretStore {
    const opened = this.open();
    this.local ??= opened.kind === "age" ? opened.backend : new AgeSecretStore(this.options.secretsDir, { passphrase: () => this.passphrase() });
    return this.local;
  }

  private async passphrase(): Promise<string> {
    if (this.options.passphrase) return this.options.passphrase;
    if (this.asking > 0 && this.options.prompt) return this.options.prompt();
    throw noPassphrase();
  }
}

function noPassphrase(): AegisError {
  return new AegisError("usage", "the secret store identity is passphrase-protected and no passphrase is available to this process", {
    hint: "set AEGISCLAW_SECRETS_PASSPHRASE in the environment of the process that runs the action (or run it on a terminal)",
  });
}
