/**
 * A decision worker (a thread of `serve`): validates and decides run requests with the same
 * config, template and user policies as the thread that started it (sent in the init message,
 * never re-read), the same lockdown flag and the audit log's history, and records nothing. The
 * Gate on the main thread appends the decision; see assess-pool.ts.
 *
 * Its own entrypoint of the compiled binary (scripts/build.sh lists it).
 */
import { createCombinedEngine, configuredEngines } from "../policy/index.ts";
import { AegisError } from "../shared/index.ts";
import type { AssessReply, AssessRequest, AssessWorkerInit } from "./assess-protocol.ts";
import { auditHistory } from "./audit-history.ts";
import { localAssessor, type Assessor } from "./gate-assess.ts";
import { homeLayout } from "./home.ts";
import { LockdownStore } from "./lockdown.ts";

declare const self: Worker;

let assessor: Assessor | undefined;

self.onmessage = (event: MessageEvent<AssessWorkerInit | AssessRequest>) => {
  const message = event.data;
  if (message.type === "init") {
    try {
      assessor = assessorFor(message);
      self.postMessage({ type: "ready" } satisfies AssessReply);
    } catch (error) {
      self.postMessage({ type: "failed", message: error instanceof Error ? error.message : String(error) } satisfies AssessReply);
    }
    return;
  }
  void answer(message);
};

function assessorFor(init: AssessWorkerInit): Assessor {
  const layout = homeLayout(init.home);
  return localAssessor({
    config: init.config,
    home: layout.root,
    lockdown: new LockdownStore(layout.lockdownFile),
    history: auditHistory(layout.audit).source,
    policy: createCombinedEngine(configuredEngines(init.config.policy.template, init.userPolicies)),
  });
}

async function answer(request: AssessRequest): Promise<void> {
  let reply: AssessReply;
  try {
    if (!assessor) throw new AegisError("internal", "decision worker asked before it was initialised");
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
