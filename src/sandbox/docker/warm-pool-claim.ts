/**
 * Claiming a pooled container, atomically across processes (a CLI run and `serve` may share
 * one engine). Every claimer renames the container to the SAME name, `aegisclaw-claimed-<id>`:
 * the engine renames under the container's lock and refuses a rename to the name the container
 * already has, and the name is never changed again until the container is removed, so exactly
 * one rename succeeds. (Renaming to a run-specific name would not be atomic: the engine renames
 * whatever the container is called now, so two claimers would both succeed.) The winner then
 * re-inspects the container and uses it only if it is still exactly a fresh pooled container.
 */
import type { ContainerInspectInfo } from "dockerode";
import { LABEL_MANAGED, LABEL_POOL, type SandboxSpec } from "../types.ts";
import { statusCodeOf } from "./docker-errors.ts";
import type { EngineClient } from "./engine-client.ts";
import type { RunContext } from "./run-container.ts";
import { removeQuietly } from "./run-container.ts";
import {
  CLAIMED_NAME_PREFIX,
  DEFAULT_POOL_MAX_AGE_MS,
  notPoolable,
  POOL_NAME_PREFIX,
  poolKey,
  pooledProblems,
  type PoolProfile,
} from "./warm-pool-key.ts";

/** A pooled container won by this claimer: nobody else can claim it any more. */
export interface Claimed {
  containerId: string;
  profile: PoolProfile;
}

/** A pooled container refused after it was claimed (and removed), with the reasons. */
export interface Refusal {
  containerId: string;
  problems: string[];
}

/** The parts of GET /containers/json the pool reads. */
export interface PooledSummary {
  Id: string;
  Names?: string[];
  Labels?: Record<string, string>;
  State?: string;
  /** The engine's summary, e.g. "Up 3 minutes" or "Exited (1) 2 seconds ago". */
  Status?: string;
  /** Seconds since the epoch. */
  Created?: number;
}

/** A run tries at most this many containers (each one refused is removed) before it goes cold. */
const MAX_CLAIM_ATTEMPTS = 3;

/** Pooled containers on the engine (idle or claimed, running or not); with `key`, only that pool's. */
export function listPooled(engine: EngineClient, key?: string): Promise<PooledSummary[]> {
  const filters = { label: [`${LABEL_MANAGED}=true`, key ? `${LABEL_POOL}=${key}` : LABEL_POOL] };
  return engine.json<PooledSummary[]>("GET", "/containers/json", { query: { all: 1, filters: JSON.stringify(filters) } });
}

/** True for a pooled container nobody has claimed yet. */
export function isIdle(summary: PooledSummary): boolean {
  return (summary.Names ?? []).some((name) => name.startsWith(`/${POOL_NAME_PREFIX}`));
}

/** The image's id and its ENV, or undefined when the engine does not have it. */
export async function imageFacts(engine: EngineClient, image: string): Promise<{ id: string; env: string[] } | undefined> {
  try {
    const info = await engine.json<{ Id?: unknown; Config?: { Env?: unknown } }>("GET", `/images/${encodeURIComponent(image)}/json`);
    if (typeof info?.Id !== "string") return undefined;
    const env = Array.isArray(info.Config?.Env) ? info.Config.Env.filter((entry): entry is string => typeof entry === "string") : [];
    return { id: info.Id, env };
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined;
    throw error;
  }
}

/**
 * Claims one idle pooled container that `spec` may use, or answers undefined (no pool, no
 * match, or every candidate was taken or refused): the run then gets a container of its own.
 * Candidates refused after the claim are removed and reported through `onRefused`.
 */
export async function claimPooled(ctx: RunContext, spec: SandboxSpec, onRefused?: (refusal: Refusal) => void): Promise<Claimed | undefined> {
  if (notPoolable(spec) !== undefined) return undefined;
  // One cheap list first: with no pool on the engine (the default) this is all a run pays.
  const idle = (await listPooled(ctx.engine)).filter((summary) => isIdle(summary) && summary.State === "running");
  if (idle.length === 0) return undefined;
  const image = await imageFacts(ctx.engine, spec.image);
  if (!image) return undefined;
  const profile: PoolProfile = { imageId: image.id, ociRuntime: ctx.ociRuntime, limits: spec.limits };
  const key = poolKey(profile);
  // Oldest first: each is used before the filler retires it for age.
  const candidates = idle.filter((summary) => summary.Labels?.[LABEL_POOL] === key).sort((a, b) => (a.Created ?? 0) - (b.Created ?? 0));
  let attempts = 0;
  for (const candidate of candidates) {
    if (attempts >= MAX_CLAIM_ATTEMPTS) break;
    if (!(await claimByRename(ctx.engine, candidate.Id))) continue;
    attempts++;
    const problems = await claimProblems(ctx.engine, candidate.Id, profile, image.env);
    if (problems.length === 0) return { containerId: candidate.Id, profile };
    await removeQuietly(ctx.engine, candidate.Id).catch(() => undefined);
    onRefused?.({ containerId: candidate.Id, problems });
  }
  return undefined;
}

/**
 * What is off about a container we just claimed (empty: use it): its configuration and state,
 * "never exec'd into" included (pooledProblems). That nobody wrote to its stdin before us is
 * proved later, by the script echoing this run's nonce (warm-pool-script.ts), not by reading
 * its processes here: `/containers/{id}/top` makes the engine run `ps` on the host, 15-20 ms on
 * the critical path, and cannot see a half-written header anyway.
 */
export async function claimProblems(engine: EngineClient, container: string, profile: PoolProfile, imageEnv: readonly string[]): Promise<string[]> {
  const info = await engine.json<ContainerInspectInfo>("GET", `/containers/${container}/json`).catch(() => undefined);
  if (!info) return ["removed while being claimed"];
  return pooledProblems(info, profile, imageEnv, Date.now(), DEFAULT_POOL_MAX_AGE_MS);
}

/**
 * Renames `container` to its claim name; true only for the one caller whose rename succeeded.
 * Any refusal (404 gone, 400 already that name, 409 name taken) means someone else has it.
 */
export async function claimByRename(engine: EngineClient, container: string): Promise<boolean> {
  try {
    await engine.request("POST", `/containers/${container}/rename`, { query: { name: `${CLAIMED_NAME_PREFIX}${container}` } });
    return true;
  } catch {
    return false;
  }
}
