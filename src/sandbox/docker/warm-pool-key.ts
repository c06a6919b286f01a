/**
 * What a warm-pool container is, and the check that a container really is one: the pool key
 * (which runs may use it), the spec it is created from, and the re-inspection a claimer does
 * before executing anything in it. A pooled container is created through the same hardened
 * path as every run (createHardened: containerOptions + hardeningProblems); this file only
 * adds what a container that outlives its creator needs checked again.
 */
import type { ContainerCreateOptions, ContainerInspectInfo } from "dockerode";
import { canonicalHash } from "../../shared/index.ts";
import { LABEL_POOL, LABEL_RUN, type SandboxLimits, type SandboxSpec } from "../types.ts";
import { containerOptions, hardeningProblems } from "./container-config.ts";
import { SECCOMP_PROFILE_JSON } from "./seccomp-profile.ts";
import { POOL_ARGV } from "./warm-pool-script.ts";

/** Engine name of an idle pooled container: `aegisclaw-pool-<random>`. */
export const POOL_NAME_PREFIX = "aegisclaw-pool-";
/** Engine name of a claimed one: `aegisclaw-claimed-<container id>`, the same for every claimer. */
export const CLAIMED_NAME_PREFIX = "aegisclaw-claimed-";
/** Run ids of pooled containers (the io.aegisclaw.run label) start with this. */
export const POOL_RUN_PREFIX = "pool-";
/** Default for how long a pooled container may wait before it is discarded instead of used. */
export const DEFAULT_POOL_MAX_AGE_MS = 10 * 60_000;
/** Bumped whenever what a pooled container is changes, so older pools are never claimed. */
const POOL_FORMAT = 2;

/** What must be equal between a run and a pooled container for the run to use it. */
export interface PoolProfile {
  /** The image's id (sha256:...), not its name: a re-tagged image makes a different key. */
  imageId: string;
  /** The OCI runtime; undefined is the engine's runc. */
  ociRuntime: string | undefined;
  /** pids, memory, cpus and tmpfs are part of the container; outputBytes is enforced by us per run. */
  limits: SandboxLimits;
}

/** The pool key: a hash of everything the pooled container fixes at create time. */
export function poolKey(profile: PoolProfile): string {
  const { pids, memoryBytes, cpus, tmpfsBytes } = profile.limits;
  return canonicalHash({
    format: POOL_FORMAT,
    imageId: profile.imageId,
    ociRuntime: profile.ociRuntime ?? "runc",
    limits: { pids, memoryBytes, cpus, tmpfsBytes },
    seccomp: canonicalHash(SECCOMP_PROFILE_JSON),
  }).slice(0, 32);
}

/**
 * Why `spec` may not use a pooled container, or undefined when it may. A pooled container has
 * no host path, no secret directory and no network: runs granted any of those always get a
 * container of their own, created for them after their decision.
 */
export function notPoolable(spec: SandboxSpec): string | undefined {
  if ((spec.mounts ?? []).length > 0) return "host mounts";
  if (spec.secrets !== undefined) return "secrets";
  if (spec.egress !== undefined) return "network egress";
  // Checked generically: any field that gives the container more than the pool's (a run network,
  // sidecars) must keep it out of the pool, including fields added after this was written.
  const extra = Object.keys(spec).filter((key) => !POOLABLE_FIELDS.has(key));
  if (extra.length > 0) return `spec fields ${extra.join(", ")}`;
  return undefined;
}

/** The only SandboxSpec fields a pooled run may have (each is either fixed by the key or applied per run). */
const POOLABLE_FIELDS: ReadonlySet<string> = new Set(["runId", "image", "argv", "env", "timeoutMs", "limits", "mounts", "labels", "egress", "secrets"]);

/** The spec a pooled container is created from (and re-checked against when claimed). */
export function poolSpec(profile: PoolProfile, runId: string): SandboxSpec {
  return {
    runId,
    image: profile.imageId,
    argv: [...POOL_ARGV],
    // Never used: a pooled container has no deadline of its own, the run's timer kills it.
    timeoutMs: 1,
    limits: profile.limits,
    labels: { [LABEL_POOL]: poolKey(profile) },
  };
}

/**
 * The create request of a pooled container: a run's (containerOptions), plus stdin, through
 * which its PID 1 (warm-pool-script.ts) receives the one run it serves. StdinOnce: the stdin
 * closes when that attach ends, so a second attach can never reach it. Cold runs keep no stdin.
 */
export function poolCreateOptions(options: ContainerCreateOptions): ContainerCreateOptions {
  return { ...options, OpenStdin: true, StdinOnce: true, AttachStdin: true, Tty: false };
}

/**
 * Everything that is off about a claimed container, empty when it is exactly a pooled
 * container of `profile` that nobody has used: the full hardening check of a fresh run, plus
 * identity (image id, key, our claim name), state (running, never restarted, no exec), stdin
 * as the pool opens it, environment (the command inherits it) and age. What runs inside is
 * checked separately (poolProcessProblems).
 */
export function pooledProblems(info: ContainerInspectInfo, profile: PoolProfile, imageEnv: readonly string[], now: number, maxAgeMs: number): string[] {
  const problems: string[] = [];
  const expect = (what: string, ok: boolean, actual: unknown) => {
    if (!ok) problems.push(`${what} (engine has ${JSON.stringify(actual)})`);
  };
  const labels = info.Config?.Labels ?? {};
  const runId = labels[LABEL_RUN] ?? "";
  expect("a pool run id", runId.startsWith(POOL_RUN_PREFIX), runId);
  const spec = poolSpec(profile, runId);
  expect("claimed under our claim name", info.Name === `/${CLAIMED_NAME_PREFIX}${info.Id}`, info.Name);
  expect("the pool key", labels[LABEL_POOL] === poolKey(profile), labels[LABEL_POOL]);
  expect("the run's image", info.Image === profile.imageId, info.Image);
  const state = info.State;
  expect("running", state?.Running === true && state.Paused !== true && state.Restarting !== true && state.Dead !== true, state);
  expect("never restarted", info.RestartCount === 0, info.RestartCount);
  expect("never exec'd into", (info.ExecIDs ?? []).length === 0, info.ExecIDs);
  // The command inherits PID 1's environment: it must be the image's plus our PATH only.
  const wanted = mergedEnv(imageEnv, containerOptions(spec, profile.ociRuntime).Env ?? []);
  expect("environment as created", sameSorted(info.Config?.Env ?? [], wanted), info.Config?.Env);
  expect("working directory /tmp", info.Config?.WorkingDir === "/tmp", info.Config?.WorkingDir);
  const config = info.Config;
  const stdin = { Tty: config?.Tty, OpenStdin: config?.OpenStdin, StdinOnce: config?.StdinOnce, AttachStdin: config?.AttachStdin };
  expect("no tty, stdin open for one attach", stdin.Tty === false && stdin.OpenStdin === true && stdin.StdinOnce === true && stdin.AttachStdin === true, stdin);
  const created = Date.parse(info.Created);
  const started = Date.parse(state?.StartedAt ?? "");
  expect(`younger than ${Math.round(maxAgeMs / 1000)} s`, Number.isFinite(created) && Number.isFinite(started) && now - created <= maxAgeMs && now - started <= maxAgeMs, info.Created);
  problems.push(...hardeningProblems(spec, info, profile.ociRuntime));
  return problems;
}

/** The parts of GET /containers/{id}/top the claim reads. */
export interface TopInfo {
  Titles?: unknown;
  Processes?: unknown;
}

/**
 * What is off about the processes of a claimed container, empty when the only process is PID 1
 * still waiting for its header: the pool script with exactly its arguments. A second process (a
 * `docker exec`) or another command line (someone attached and sent a header before us, so the
 * script has exec'd) refuses the container.
 */
export function poolProcessProblems(top: TopInfo): string[] {
  const titles = Array.isArray(top.Titles) ? top.Titles : [];
  const column = titles.findIndex((title) => title === "CMD" || title === "COMMAND");
  const processes = Array.isArray(top.Processes) ? top.Processes : [];
  const commands = processes.map((row: unknown) => (Array.isArray(row) && column >= 0 ? row[column] : undefined));
  const wanted = POOL_ARGV.join(" ");
  if (commands.length === 1 && commands[0] === wanted) return [];
  const shown = commands.map((command) => (typeof command === "string" && command === wanted ? "the pool script" : String(command).slice(0, 80)));
  return [`only the waiting pool script running (engine shows ${JSON.stringify(shown)})`];
}

/** The engine's merge of image and container Env: a container entry replaces the image's of the same name. */
function mergedEnv(imageEnv: readonly string[], containerEnv: readonly string[]): string[] {
  const name = (entry: string) => entry.split("=", 1)[0] ?? entry;
  const ours = new Set(containerEnv.map(name));
  return [...imageEnv.filter((entry) => !ours.has(name(entry))), ...containerEnv];
}

function sameSorted(actual: readonly string[], wanted: readonly string[]): boolean {
  return JSON.stringify([...actual].sort()) === JSON.stringify([...wanted].sort());
}
