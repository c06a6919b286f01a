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
import type { AssessReply, AssessRequest, AssessWorkerInit } from "./assess-protocol.ts";
import { localAssessor, type AssessDeps } from "./gate-assess.ts";
import { homeLayout } from "./home.ts";
import { LockdownStore } from "./lockdown.ts";

declare const self: Worker;

/** What every assessment here uses; the history comes with each request. */
let deps: Omit<AssessDeps, "history"> | undefined;

self.onmessage = (event: MessageEvent<AssessWorkerInit | AssessRequest>) => {
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
  void answer(message);
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

async function answer(request: AssessRequest): Promise<void> {
  let reply: AssessReply;
  try {
    if (!deps) throw new AegisError("internal", "decision worker asked before it was initialised");
    const assessor = localAssessor({ ...deps, history: () => request.history });
    reply = { type: "assessed", id: request.id, assessment: await assessor.assess(request.input, request.runtimeName) };
  } catch (error) {
    reply = { type: "refused", id: request.id, error: error instanceof AegisError ? { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } : { code: "internal", message: error instanceof Error ? error.message : String(error) } };
  }
  try {
    self.postMessage(reply);
  } catch (error) {
    // An assessment that cannot be cloned is a bug; the caller must still get an answer.
    self.postMessage({ type: "refused", id: request.id, error: { code: "internal", message: `decision worker could not send its answer: ${(error as Error).message}` } } satisfies AssessReply);
  }
}
