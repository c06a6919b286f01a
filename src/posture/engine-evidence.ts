/**
 * What posture can learn about sandbox isolation without starting a container: the engine's
 * own facts (GET /info) and the runtime self-test's record in `state/selftest.json`, which the
 * sandbox writes only after a throw-away sandbox proved uid, capabilities, seccomp,
 * no_new_privs, network and read-only root from the inside (src/sandbox/self-test.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EngineClient } from "../sandbox/docker/engine-client.ts";
import { SECCOMP_PROFILE, SELF_TEST_TTL_MS, type SelfTestEntry } from "../sandbox/index.ts";
import { canonicalHash, canonicalJson } from "../shared/index.ts";

/** The parts of GET /info posture reads. */
export interface EngineFacts {
  id: string;
  version: string;
  /** The engine was built with seccomp support (otherwise it would reject or ignore our profile). */
  seccomp: boolean;
  runtimes: Record<string, { path: string; runtimeArgs: string[] }>;
}

/** Where the self-test keeps its record (src/sandbox/self-test-cache.ts, format 1). */
export const SELF_TEST_FILE = "selftest.json";
const INFO_TIMEOUT_MS = 3000;

/** The engine's facts, or undefined when it does not answer within 3 s. */
export async function engineFacts(socketPath: string): Promise<EngineFacts | undefined> {
  try {
    const info = await new EngineClient(socketPath).json<{
      ID?: string;
      ServerVersion?: string;
      SecurityOptions?: string[];
      Runtimes?: Record<string, { path?: unknown; runtimeArgs?: unknown } | null>;
    }>("GET", "/info", { signal: AbortSignal.timeout(INFO_TIMEOUT_MS) });
    const runtimes: EngineFacts["runtimes"] = {};
    for (const [name, entry] of Object.entries(info.Runtimes ?? {})) {
      const args = Array.isArray(entry?.runtimeArgs) ? entry.runtimeArgs.filter((arg): arg is string => typeof arg === "string") : [];
      runtimes[name] = { path: typeof entry?.path === "string" ? entry.path : "", runtimeArgs: args };
    }
    return {
      id: info.ID ?? "",
      version: info.ServerVersion ?? "",
      seccomp: (info.SecurityOptions ?? []).some((option) => option.startsWith("name=seccomp")),
      runtimes,
    };
  } catch {
    return undefined;
  }
}

/**
 * The recorded self-test pass of one runtime, or undefined. A missing, unreadable or foreign
 * file is simply "no record": posture then says isolation is unconfirmed, never confirmed.
 */
export function readSelfTestEntry(stateDir: string, runtime: string): SelfTestEntry | undefined {
  try {
    const file = JSON.parse(readFileSync(join(stateDir, SELF_TEST_FILE), "utf8")) as { format?: unknown; runtimes?: Record<string, unknown> } | null;
    if (file?.format !== 1 || typeof file.runtimes !== "object" || file.runtimes === null) return undefined;
    const entry = file.runtimes[runtime] as Partial<SelfTestEntry> | undefined;
    if (typeof entry?.passedAt !== "string" || typeof entry.key !== "object" || typeof entry.report !== "object" || entry.key === null || entry.report === null) return undefined;
    return entry as SelfTestEntry;
  } catch {
    return undefined;
  }
}

/** Whether a recorded pass still speaks for the runtime as it is now. */
export type SelfTestVerdict = { kind: "confirmed"; entry: SelfTestEntry } | { kind: "missing" } | { kind: "stale"; why: string };

/**
 * Applies the self-test cache's own rules (src/sandbox/self-test-cache.ts): younger than 24 h,
 * same seccomp profile, same engine, same OCI runtime and registration. The runtime binary's
 * identity is part of that key too but can only be computed inside the sandbox module; a
 * changed binary makes the next run re-test, and posture reports the record until then.
 */
export function judgeSelfTest(entry: SelfTestEntry | undefined, facts: EngineFacts, ociRuntime: string, now: number): SelfTestVerdict {
  if (!entry) return { kind: "missing" };
  const passed = Date.parse(entry.passedAt);
  if (!Number.isFinite(passed) || passed > now) return { kind: "stale", why: `its time ${entry.passedAt} is not believable` };
  if (now - passed >= SELF_TEST_TTL_MS) return { kind: "stale", why: `it passed at ${entry.passedAt}, more than 24 h ago` };
  const key = entry.key;
  if (key.seccompProfileHash !== canonicalHash(SECCOMP_PROFILE)) return { kind: "stale", why: "it was recorded for a different seccomp profile" };
  if (key.engineId !== facts.id || key.engineVersion !== facts.version) return { kind: "stale", why: "it was recorded on a different Docker engine" };
  if (key.ociRuntime !== ociRuntime) return { kind: "stale", why: `it was recorded for OCI runtime ${key.ociRuntime}` };
  const registration = facts.runtimes[ociRuntime];
  if (!registration || canonicalJson(registration) !== canonicalJson(key.registration)) return { kind: "stale", why: `${ociRuntime} is registered differently now` };
  // A pass is only recorded when filter mode 2 was seen; anything else means the file was edited.
  if (entry.report.seccomp !== "2") return { kind: "stale", why: `the record shows seccomp mode ${JSON.stringify(entry.report.seccomp)}, not 2` };
  return { kind: "confirmed", entry };
}
