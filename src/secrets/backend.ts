/** What a backend reports about a secret: never its value. */
export interface SecretMeta {
  /** The secret's name (`[A-Z_][A-Z0-9_]*`, at most 128 characters). */
  name: string;
  /** When the secret was first stored (ISO 8601). */
  created: string;
  /** When the value last changed (ISO 8601). */
  updated: string;
}

/**
 * The port every secret store implements (local age files, Vault KV v2). Values only
 * ever leave through `get`, which the Gate calls for secrets a granted scope names; listing
 * returns names and times only. `list` is async, unlike reads of a local directory need to be,
 * so that a remote backend can implement the same port.
 */
export interface SecretBackend {
  /** Names and times of every stored secret, sorted by name. */
  list(): Promise<SecretMeta[]>;
  /** The value of one secret; a bad-input error when it does not exist. */
  get(name: string): Promise<string>;
  /** Creates or replaces a secret; empty values are rejected. */
  set(name: string, value: string): Promise<void>;
  /** Deletes a secret; a bad-input error when it does not exist. */
  remove(name: string): Promise<void>;
}
