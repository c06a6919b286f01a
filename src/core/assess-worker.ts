/**
 * A decision worker (a thread of `serve`): validates and decides run requests with the same
 * config, template and user policies as the thread that started it (sent in the init message,
 * never re-read) and the same lockdown flag, with the actor's history the main thread sends along,
 * and records nothing. The Gate on the main thread appends the decision; see assess-pool.ts.
 *
 * Its own entrypoint of the compiled binary (scripts/build.sh lists it).
 */
import { createCombinedEngine, configuredEngines } from "../policy/index.ts";
import { AegisError } from "../shared/index.ts";
import type { AssessAnswer, AssessBatch, AssessReply, AssessRequest, AssessWorkerInit } from "./assess-protocol.ts";
import { localAssessor, type AssessDeps } from "./gate-assess.ts";
import { homeLayout } from "./home.ts";
import { LockdownStore } from "./lockdown.ts";

declare const self: Worker;

/** What every assessment here uses; the history comes with each request. */
let deps: Omit<AssessDeps, "history"> | undefined;

self.onmessage = (event: MessageEvent<AssessWorkerInit | AssessBatch>) => {
  const message = event.data;
  if (message.type === "init") {
    try {
      deps = depsFor(message);
      self.postMessage({ type: "ready" } satisfies AssessReply);
    } catch (error) {
      self.postMessage({ type: "failed", message: error instanceof Error ? error.message : String(error) } satisfies AssessReply);
    }
    return;
  }
  void answerAll(JSON.parse(message.requests) as AssessRequest[]);
};

function depsFor(init: AssessWorkerInit): Omit<AssessDeps, "history"> {
  const layout = homeLayout(init.home);
  return {
    config: init.config,
    home: layout.root,
    lockdown: new LockdownStore(layout.lockdownFile),
    policy: createCombinedEngine(configuredEngines(init.config.policy.template, init.userPolicies)),
  };
}

/** Answers a batch with one message (every answer in it, errors included). */
async function answerAll(requests: readonly AssessRequest[]): Promise<void> {
  const answers = await Promise.all(requests.map(answer));
  try {
    self.postMessage({ type: "answers", answers } satisfies AssessReply);
  } catch (error) {
    // An answer that cannot be cloned is a bug; every caller must still get an answer.
    const failed = { code: "internal" as const, message: `decision worker could not send its answer: ${(error as Error).message}` };
    self.postMessage({ type: "answers", answers: requests.map(({ id }) => ({ id, error: failed })) } satisfies AssessReply);
  }
}

async function answer(request: AssessRequest): Promise<AssessAnswer> {
  try {
    if (!deps) throw new AegisError("internal", "decision worker asked before it was initialised");
    const assessor = localAssessor({ ...deps, history: () => request.history });
    return { id: request.id, assessment: JSON.stringify(await assessor.assess(request.input, request.runtimeName)) };
  } catch (error) {
    return { id: request.id, error: error instanceof AegisError ? { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } : { code: "internal", message: error instanceof Error ? error.message : String(error) } };
  }
}
