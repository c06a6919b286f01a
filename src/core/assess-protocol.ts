/** The messages between the Gate's thread and its decision workers (assess-pool.ts, assess-worker.ts). */
import type { PolicyHistory, UserPolicySource } from "../policy/index.ts";
import type { ErrorCode } from "../shared/index.ts";
import type { RunRequest } from "./action.ts";
import type { Config } from "./config.ts";
import type { Assessment } from "./gate-assess.ts";

/** The first message: everything a worker decides with, exactly as the main thread loaded it. */
export interface AssessWorkerInit {
  type: "init";
  home: string;
  config: Config;
  userPolicies: UserPolicySource[];
}

export interface AssessRequest {
  type: "assess";
  id: number;
  input: RunRequest;
  runtimeName: string;
  /** The actor's history, from the main thread's view of the audit log (which need not read its own appends back). */
  history: PolicyHistory;
}

export type AssessReply =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "assessed"; id: number; assessment: Assessment }
  | { type: "refused"; id: number; error: { code: ErrorCode; message: string; hint?: string } };
