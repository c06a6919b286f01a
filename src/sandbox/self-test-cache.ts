/**
 * The on-disk record of passed self-tests, `$AEGISCLAW_HOME/state/selftest.json`.
 *
 * A CLI process lives for one command, so an in-memory "tested already" would re-test every
 * run. The rule: a passed self-test is reused only when its key is identical (engine ID,
 * engine version, OCI runtime, the runtime's registration (path and runtimeArgs), the runtime
 * binary's identity (size, mtime, inode: it changes with any upgrade; `--version` itself is
 * recorded too) and the seccomp profile's hash) and it passed less than 24 hours ago. Anything else, including an unreadable or
 * foreign file, re-runs the test. Failures are never cached: a broken runtime is re-tested
 * (and refused) on every run until it is fixed.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, writeFileAtomic } from "../shared/index.ts";
import type { EngineFingerprint } from "./docker/docker-runtime.ts";
import type { SelfTestReport } from "./self-test.ts";

/** How long a passed self-test is trusted when nothing in its key changed. */
export const SELF_TEST_TTL_MS = 24 * 3_600_000;
const FILE_NAME = "selftest.json";
const FORMAT = 1;

/** Everything a cached pass depends on. */
export interface SelfTestKey extends EngineFingerprint {
  /** sha256 of the canonical seccomp profile JSON. */
  seccompProfileHash: string;
}

/** One runtime's cached pass. */
export interface SelfTestEntry {
  key: SelfTestKey;
  passedAt: string;
  image: string;
  /** `<runtime> --version` at the time of the pass, for people reading the file. */
  runtimeVersion: string;
  report: SelfTestReport;
}

interface CacheFile {
  format: typeof FORMAT;
  runtimes: Record<string, SelfTestEntry>;
}

/** Reads and writes the cache in one state directory. */
export class SelfTestCache {
  readonly path: string;

  constructor(private readonly stateDir: string) {
    this.path = join(stateDir, FILE_NAME);
  }

  /** The cached pass of `runtime` when its key is unchanged and it is younger than 24 h. */
  lookup(runtime: string, key: SelfTestKey, now = Date.now()): SelfTestEntry | undefined {
    const entry = this.read().runtimes[runtime];
    if (!entry || canonicalJson(entry.key) !== canonicalJson(key)) return undefined;
    const passed = Date.parse(entry.passedAt);
    // A time in the future (clock moved back, edited file) is not trusted either.
    if (!Number.isFinite(passed) || passed > now || now - passed >= SELF_TEST_TTL_MS) return undefined;
    return entry;
  }

  /** Records a pass, keeping other runtimes' entries; the write is atomic (mode 0600). */
  record(runtime: string, entry: SelfTestEntry): void {
    const file = this.read();
    file.runtimes[runtime] = entry;
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`);
  }

  /** The file's content; missing, unreadable or unknown-format files count as empty. */
  private read(): CacheFile {
    try {
      const parsed = JSON.parse(readFileSync(this.path, "utf8")) as Partial<CacheFile> | null;
      if (parsed?.format === FORMAT && typeof parsed.runtimes === "object" && parsed.runtimes !== null) return { format: FORMAT, runtimes: { ...parsed.runtimes } };
    } catch {
      // Missing or corrupt: a cache miss, so the self-test simply runs again.
    }
    return { format: FORMAT, runtimes: {} };
  }
}
