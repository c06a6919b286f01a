/**
 * The messages between the Gate's thread and its decision workers (assess-pool.ts,
 * assess-worker.ts). Requests and answers travel in batches: every message wakes a thread and
 * costs more than the work of a small assessment, so the requests of one event-loop turn share one.
 */
import type { PolicyHistory, UserPolicySource } from "../policy/index.ts";
import type { ErrorCode } from "../shared/index.ts";
import type { RunRequest } from "./action.ts";
import type { Config } from "./config.ts";

/** The first message: everything a worker decides with, exactly as the main thread loaded it. */
export interface AssessWorkerInit {
  type: "init";
  home: string;
  config: Config;
  userPolicies: UserPolicySource[];
}

export interface AssessRequest {
  id: number;
  input: RunRequest;
  runtimeName: string;
  /** The actor's history, from the main thread's view of the audit log (which need not read its own appends back). */
  history: PolicyHistory;
}

export interface AssessBatch {
  type: "assess";
  /**
   * AssessRequest[] as JSON: a string crosses threads ~4x cheaper than the object graph, and the
   * requests are JSON data already (the API parsed them from JSON bodies).
   */
  requests: string;
}

export type AssessAnswer =
  /** The Assessment (gate-assess.ts) as JSON: it is plain data, and a string crosses threads ~4x cheaper than the object graph. */
  | { id: number; assessment: string }
  | { id: number; error: { code: ErrorCode; message: string; hint?: string } };

export type AssessReply = { type: "ready" } | { type: "failed"; message: string } | { type: "answers"; answers: AssessAnswer[] };
