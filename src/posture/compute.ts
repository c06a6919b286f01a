/**
 * The posture score of one home, computed from its real state: config.yaml, the Docker engine
 * and the runtime's self-test record, the secret store, the audit log and the lockdown flag.
 * Read-only and without side effects: it starts no container and writes no file.
 */
import { join } from "node:path";
import { type Config, type HomeLayout, homeLayout, loadConfig, LockdownStore, requireInitialisedHome } from "../core/index.ts";
import { createSandboxRuntime, type SandboxRuntime } from "../sandbox/index.ts";
import { auditCheck, lockdownCheck, policyCheck, secretsCheck, serverAuthCheck, skillSigningCheck } from "./checks-home.ts";
import { bwrapSeccompCheck, networkCheck, runtimeCheck, seccompCheck } from "./checks-sandbox.ts";
import { engineFacts, readSelfTestEntry } from "./engine-evidence.ts";
import { buildReport, type CheckResult, makeCheck } from "./score.ts";
import type { PostureCheck, PostureReport } from "./types.ts";

/** What the caller already has (the app's config and runtime), and test seams for time. */
export interface PostureOptions {
  /** The loaded config; default: config.yaml is loaded (a broken one fails the checks that need it). */
  config?: Config;
  /** The configured runtime (`app.runtime`); default: built from config. Only status() is called. */
  runtime?: SandboxRuntime;
  /**
   * The API server's token store. No server exists yet: its absence means nothing is exposed.
   * Default `$AEGISCLAW_HOME/state/tokens.json`; the server issue sets the real path.
   */
  tokensFile?: string;
  /** The moment to judge at (self-test age, computedAt); default now. */
  now?: Date;
}

const TITLES: Readonly<Record<PostureCheck["id"], string>> = {
  runtime: "Sandbox runtime",
  seccomp: "Seccomp filter",
  network: "Network default",
  policy: "Policy template",
  secrets: "Secret store",
  audit: "Audit log integrity",
  "server-auth": "API server auth",
  "skill-signing": "Skill signing",
  lockdown: "Lockdown",
};

/**
 * Scores a home out of 100 (weights in docs/posture.md) with a letter grade and, for every
 * lost point, the command or setting that earns it back. Throws "bad-input" only when the home
 * is not initialised (and no config is given); every other problem is a failing check.
 */
export async function computePosture(home: string, options: PostureOptions = {}): Promise<PostureReport> {
  const layout = homeLayout(home);
  // As in createApp: a caller that brings its own config vouches for the home.
  if (!options.config) requireInitialisedHome(layout);
  const now = options.now ?? new Date();
  const check = (id: PostureCheck["id"], result: CheckResult) => makeCheck(id, TITLES[id], result);
  let config = options.config;
  let configProblem: string | undefined;
  if (!config) {
    try {
      config = loadConfig(layout.config);
    } catch (error) {
      configProblem = (error as Error).message;
    }
  }
  const audit = auditCheck(layout);
  const configured = config ? await configChecks(config, layout, options.runtime, now.getTime()) : brokenConfigChecks(configProblem ?? "unknown error");
  const checks: PostureCheck[] = [
    ...Object.entries(configured).map(([id, result]) => check(id as PostureCheck["id"], result)),
    check("secrets", secretsCheck(layout)),
    check("audit", await audit),
    check("server-auth", serverAuthCheck(options.tokensFile ?? join(layout.state, "tokens.json"), now)),
    check("skill-signing", skillSigningCheck(layout)),
    check("lockdown", lockdownCheck(new LockdownStore(layout.lockdownFile).read())),
  ];
  return buildReport(checks, now);
}

type ConfigCheckId = "runtime" | "seccomp" | "network" | "policy";

/** The checks that read config and the engine. */
async function configChecks(config: Config, layout: HomeLayout, given: SandboxRuntime | undefined, now: number): Promise<Record<ConfigCheckId, CheckResult>> {
  const runtime = given ?? createSandboxRuntime(config.sandbox.runtime, { socketPath: config.sandbox.dockerSocket, stateDir: layout.state, selfTestImage: config.sandbox.image });
  const [status, facts] = await Promise.all([runtime.status(), engineFacts(config.sandbox.dockerSocket)]);
  return {
    runtime: runtimeCheck(config, status, facts),
    seccomp: config.sandbox.runtime === "bwrap" ? await bwrapSeccompCheck(layout.state, status) : seccompCheck(config, facts, readSelfTestEntry(layout.state, config.sandbox.runtime), now),
    network: networkCheck(config),
    policy: policyCheck(config, layout),
  };
}

/** An unusable config.yaml refuses every run: the checks that depend on it earn nothing. */
function brokenConfigChecks(problem: string): Record<ConfigCheckId, CheckResult> {
  const result: CheckResult = { earned: 0, detail: `config.yaml is unusable, so every run is refused: ${problem}`, fix: "fix config.yaml (`aegisclaw doctor` names the field and line), or `aegisclaw init --force` to rewrite it" };
  return { runtime: result, seccomp: result, network: result, policy: result };
}
