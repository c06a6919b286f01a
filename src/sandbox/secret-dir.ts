/**
 * The host side of secret delivery. A run's granted values are written to a directory of its own
 * on tmpfs (never to disk), inside a base directory only this user can enter, and bind-mounted
 * read-only at `/run/secrets`; when the run ends every file is overwritten and unlinked. Values
 * never pass through the Docker API, so `docker inspect` and `ps` show names and paths only.
 */
import { chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, rmdirSync, rmSync, statfsSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AegisError, entriesOfGoneProcesses } from "../shared/index.ts";
import type { SandboxSecrets } from "./types.ts";

/** The sandbox's user (SANDBOX_USER): the only one that reads the files when AegisClaw runs as root. */
const SANDBOX_ID = 65534;
/** statfs(2) magic numbers of the memory-only filesystems. */
const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;
const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** `<runId>.<pid>`: the pid lets a later run sweep directories a crashed process left behind. */
const ENTRY = /^([A-Za-z0-9][A-Za-z0-9_-]{0,127})\.(\d{1,10})$/;

/** A run's secret directory; `remove` is idempotent and throws when something could not be erased. */
export interface SecretDir {
  /** The directory to bind-mount at SECRETS_TARGET. */
  readonly path: string;
  remove(): void;
}

/**
 * The base directory: `$AEGISCLAW_SECRETS_RUNDIR`, else `$XDG_RUNTIME_DIR/aegisclaw-secrets`,
 * else `/dev/shm/aegisclaw-secrets-<uid>`. Whichever it is must be on tmpfs (checked on use).
 */
export function secretsBaseDir(env: Record<string, string | undefined> = process.env): string {
  const override = env.AEGISCLAW_SECRETS_RUNDIR;
  if (override) return override;
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (runtimeDir?.startsWith("/")) return join(runtimeDir, "aegisclaw-secrets");
  return `/dev/shm/aegisclaw-secrets-${process.getuid?.() ?? "user"}`;
}

/**
 * The id a service of a multi-container run names its own secret directory with (beside the
 * main service's `<runId>`): each container is given only its own directory.
 */
export function serviceSecretId(runId: string, service: string): string {
  return `${runId}-${service}`;
}

/** Where a run's directory will be (for `simulate`): nothing is created. */
export function plannedSecretDir(runId: string, base = secretsBaseDir()): string {
  return join(base, `${runId}.${process.pid}`);
}

/**
 * Writes one file per value into a new directory for `runId`. As root, files are 0400 and the
 * directory 0500, both owned by 65534 (the sandbox user); otherwise 0444 / 0555 owned by this
 * user, which is safe only because the base directory (0700) lets nobody else reach them.
 * Directories of crashed AegisClaw processes are swept first. Any failure erases what was written.
 */
export function createSecretDir(runId: string, values: ReadonlyMap<string, string>, base = secretsBaseDir()): SecretDir {
  if (!RUN_ID.test(runId)) throw new AegisError("internal", `run id ${JSON.stringify(runId)} cannot name a secret directory`);
  for (const name of values.keys()) {
    if (!SECRET_NAME.test(name)) throw new AegisError("bad-input", "a secret name is not a valid file name", { hint: "names are like GITHUB_TOKEN" });
  }
  prepareSecretsBase(base);
  sweepStaleSecretDirs(base);
  const path = plannedSecretDir(runId, base);
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    throw new AegisError("internal", `cannot create the secret directory ${path}: ${(error as Error).message}`);
  }
  const dir: SecretDir = { path, remove: () => eraseSecretDir(path) };
  try {
    const root = isRoot();
    for (const [name, value] of [...values].sort(([a], [b]) => a.localeCompare(b))) writeSecretFile(join(path, name), value, root);
    if (root) chownSync(path, SANDBOX_ID, SANDBOX_ID);
    chmodSync(path, root ? 0o500 : 0o555);
  } catch (error) {
    eraseQuietly(path);
    throw new AegisError("unavailable", `cannot write the run's secrets to ${path}: ${(error as Error).message}`, { hint: "check free memory and the tmpfs size of the secrets directory" });
  }
  return dir;
}

/**
 * Just before the container is created: the directory must still be ours, not a symlink, and
 * hold exactly the granted names; anything else refuses the run.
 */
export function verifySecretDir(secrets: SandboxSecrets | undefined): void {
  if (!secrets) return;
  const source = secrets.source;
  if (!source) throw new AegisError("internal", "secrets were granted but no secret directory was prepared");
  let entries: string[];
  try {
    const stat = lstatSync(source);
    if (!stat.isDirectory()) throw new Error("not a directory");
    if ((stat.mode & 0o222) !== 0) throw new Error(`writable (mode ${(stat.mode & 0o777).toString(8)})`);
    entries = readdirSync(source).sort();
  } catch (error) {
    throw new AegisError("unavailable", `the secret directory ${source} changed before the sandbox started: ${(error as Error).message}`);
  }
  const wanted = [...secrets.names].sort();
  if (JSON.stringify(entries) !== JSON.stringify(wanted)) {
    throw new AegisError("unavailable", `the secret directory ${source} does not hold exactly the granted secrets (${wanted.join(", ")})`);
  }
}

/**
 * Removes directories under `base` whose AegisClaw process is gone (killed mid-run): their
 * sandbox was or will be removed by lockdown or by hand, but the values would stay in memory.
 */
export function sweepStaleSecretDirs(base = secretsBaseDir()): string[] {
  return entriesOfGoneProcesses(base, (name) => Number(ENTRY.exec(name)?.[2] ?? Number.NaN)).filter((name) => eraseQuietly(join(base, name)));
}

/**
 * Creates the base directory if needed and refuses (unavailable) one that is not on tmpfs, is a
 * symlink, belongs to someone else or is open to other users. The Gate calls it before a
 * decision so that a run that could not be delivered its secrets is refused before anyone is asked.
 */
export function prepareSecretsBase(base = secretsBaseDir()): void {
  const refuse = (why: string, hint: string) => new AegisError("unavailable", `secrets cannot be delivered: ${base} ${why}`, { hint });
  const fix = "set AEGISCLAW_SECRETS_RUNDIR to a directory on tmpfs that only this user can enter (e.g. under /dev/shm or $XDG_RUNTIME_DIR)";
  try {
    mkdirSync(base, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw refuse(`cannot be created (${(error as Error).message})`, fix);
  }
  const stat = lstatSync(base);
  if (!stat.isDirectory()) throw refuse("is not a directory (a symlink or file is in the way)", `remove it; ${fix}`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) throw refuse(`belongs to uid ${stat.uid}, not to this user (${uid})`, `remove it; ${fix}`);
  if ((stat.mode & 0o077) !== 0) throw refuse(`is accessible to other users (mode ${(stat.mode & 0o777).toString(8)})`, `chmod 700 ${base}`);
  const type = statfsSync(base).type;
  if (type !== TMPFS_MAGIC && type !== RAMFS_MAGIC) throw refuse("is not on tmpfs: the values would be written to disk", fix);
}

function writeSecretFile(file: string, value: string, root: boolean): void {
  // O_EXCL|O_NOFOLLOW: never write through something planted at that name.
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    const bytes = Buffer.from(value, "utf8");
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    if (root) fchownSync(fd, SANDBOX_ID, SANDBOX_ID);
    fchmodSync(fd, root ? 0o400 : 0o444);
  } finally {
    closeSync(fd);
  }
}

/** Overwrites each file with zeros, unlinks it, removes the directory. Missing is fine. */
function eraseSecretDir(path: string): void {
  let names: string[];
  try {
    if (!isRoot()) chmodSync(path, 0o700);
    names = readdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new AegisError("internal", `cannot erase the secret directory ${path}: ${(error as Error).message}`);
  }
  let failure: unknown;
  for (const name of names) {
    const file = join(path, name);
    try {
      overwrite(file);
    } catch (error) {
      failure ??= error;
    }
    rmSync(file, { recursive: true, force: true });
  }
  rmdirSync(path);
  if (failure !== undefined) throw new AegisError("internal", `a secret file in ${path} was removed but could not be overwritten first: ${(failure as Error).message}`);
}

function overwrite(file: string): void {
  if (!lstatSync(file).isFile()) return;
  if (!isRoot()) chmodSync(file, 0o600);
  const fd = openSync(file, constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    const size = fstatSync(fd).size;
    const zeros = Buffer.alloc(Math.min(size, 64 * 1024));
    for (let offset = 0; offset < size; ) offset += writeSync(fd, zeros, 0, Math.min(zeros.length, size - offset), offset);
  } finally {
    closeSync(fd);
  }
}

function eraseQuietly(path: string): boolean {
  try {
    eraseSecretDir(path);
    return true;
  } catch {
    return false;
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}
