/**
 * The Gate's stages before anything is written: validate -> lockdown -> policy. They read the
 * config, the lockdown flag, the audit log's recent history and the policy, and write nothing,
 * so they can run on another thread (decision workers, src/core/assess-pool.ts) while the
 * Gate's own thread keeps the audit append, approvals and execution.
 */
import { decideSafely, type Decision, type PolicyEngine, type PolicyInput } from "../policy/index.ts";
import type { RunRequest } from "./action.ts";
import type { Config } from "./config.ts";
import { prepareRun, type HistorySource, type PreparedRun } from "./gate-prepare.ts";
import type { LockdownState } from "./lockdown.ts";

/** A request validated and decided on, not yet recorded. Plain data: it crosses threads. */
export interface Assessment {
  prepared: PreparedRun;
  lock: LockdownState;
  decision: Decision;
  /** How long the policy took; absent when lockdown decided without asking it. */
  evaluationMs?: number;
}

/** Where run requests are assessed: this thread, or a pool of decision workers. */
export interface Assessor {
  assess(input: RunRequest, runtimeName: string): Promise<Assessment>;
}

/** What assessing needs: the same pieces on every thread that assesses. */
export interface AssessDeps {
  config: Config;
  /** `$AEGISCLAW_HOME`: never mountable. */
  home: string;
  lockdown: { read(): LockdownState };
  history: HistorySource;
  policy: PolicyEngine;
}

/** Assesses on the calling thread. Bad input throws (AegisError), as prepareRun does. */
export function localAssessor(deps: AssessDeps): Assessor {
  return {
    async assess(input, runtimeName) {
      const lock = deps.lockdown.read();
      const prepared = prepareRun(input, deps.config, runtimeName, lock.active, deps.history, deps.home);
      return { prepared, lock, ...(await decisionFor(deps.policy, prepared.policyInput, lock)) };
    },
  };
}

/** Lockdown denies without asking the policy; otherwise the policy decides, and a failing engine denies. */
export async function decisionFor(policy: PolicyEngine, input: PolicyInput, lock: LockdownState): Promise<{ decision: Decision; evaluationMs?: number }> {
  if (lock.active) {
    return { decision: { kind: "deny", risk: "high", reasons: [{ rule: "lockdown", message: `lockdown is active${lock.reason ? `: ${lock.reason}` : ""}` }] } };
  }
  const started = performance.now();
  const decision = await decideSafely(policy, input);
  return { decision, evaluationMs: performance.now() - started };
}
