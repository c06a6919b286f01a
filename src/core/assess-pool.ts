/**
 * Decision workers: threads that validate and decide run requests (gate-assess.ts) so that
 * `serve` decides on every core while its main thread keeps HTTP, the audit append (one writer,
 * one chain), approvals and execution. Each worker gets the main thread's config and user
 * policies in its first message, so every thread decides with the same policy; each reads the
 * lockdown flag itself, from the same file, as any process does. The actor's history comes with
 * each request from the main thread, whose view of the audit log counts its own appends as it
 * writes them (a worker would have to read and parse every one back).
 *
 * Fail closed: a request whose worker dies is answered with an error, never a decision, and a
 * worker that dies is replaced; one that cannot start stops the pool from starting at all.
 */
import { availableParallelism } from "node:os";
import type { UserPolicySource } from "../policy/index.ts";
import { AegisError } from "../shared/index.ts";
import type { RunRequest } from "./action.ts";
import type { AssessBatch, AssessReply, AssessRequest, AssessWorkerInit } from "./assess-protocol.ts";
import type { Config } from "./config.ts";
import type { Assessment, Assessor } from "./gate-assess.ts";
import { NO_HISTORY, type HistorySource } from "./gate-prepare.ts";

/**
 * Requests per message at most: fewer messages cost less CPU, but a worker answers a message
 * only once all of it is decided, so a large batch makes its first request wait for the last.
 */
const MAX_BATCH = 8;

/** How long a worker may take to load its policies before the pool gives up. */
const START_TIMEOUT_MS = 15_000;

/**
 * The default pool size: one worker per core beyond the HTTP thread's, at most four; none on a
 * single core. On 2 cores one worker measured 65% more decisions/s than none (8,342 vs 5,051),
 * and two no more than one (bench/results/server.md): each thread brings its own JIT and heap.
 */
export function defaultDecisionWorkers(): number {
  return Math.min(Math.max(availableParallelism() - 1, 0), 4);
}

export interface AssessPoolOptions {
  size: number;
  home: string;
  config: Config;
  userPolicies: readonly UserPolicySource[];
  /** The policy input's history, asked on this thread for each request. */
  history: HistorySource;
  log: (line: string) => void;
  /** The worker module (default: assess-worker.ts, or its copy in the compiled binary); tests give a failing one. */
  workerUrl?: URL;
}

export interface AssessPool extends Assessor {
  readonly size: number;
  close(): Promise<void>;
}

interface Pending {
  resolve(assessment: Assessment): void;
  reject(error: unknown): void;
}

interface Member {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Requests of this event-loop turn, sent together at its end (see assess-protocol.ts). */
  outbox: AssessRequest[];
}

/** Starts `size` workers and resolves once every one has loaded its policies. */
export async function startAssessPool(options: AssessPoolOptions): Promise<AssessPool> {
  if (!Number.isSafeInteger(options.size) || options.size < 1) throw new AegisError("usage", `decision workers must be a positive integer, got ${options.size}`);
  const init: AssessWorkerInit = { type: "init", home: options.home, config: options.config, userPolicies: [...options.userPolicies] };
  const members: Member[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = async (): Promise<Member> => {
    const worker = new Worker(options.workerUrl ?? workerUrl());
    const member: Member = { worker, pending: new Map(), outbox: [] };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AegisError("unavailable", `a decision worker did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      worker.onmessage = (event: MessageEvent<AssessReply>) => {
        clearTimeout(timer);
        if (event.data.type === "ready") resolve();
        else reject(new AegisError("unavailable", `a decision worker could not start: ${event.data.type === "failed" ? event.data.message : event.data.type}`));
      };
      worker.onerror = (event) => {
        clearTimeout(timer);
        reject(new AegisError("unavailable", `a decision worker could not start: ${event.message}`));
      };
      worker.postMessage(init);
    }).catch((error: unknown) => {
      worker.terminate();
      throw error;
    });
    worker.onmessage = (event: MessageEvent<AssessReply>) => settle(member, event.data);
    const died = (why: string) => {
      if (!members.includes(member)) return;
      members.splice(members.indexOf(member), 1);
      // The caller gets no detail (an uncaught error's text can quote source lines); the log has it.
      for (const waiting of member.pending.values()) waiting.reject(new AegisError("internal", "the decision worker failed; nothing was decided", { hint: "see the server's log; the worker has been replaced" }));
      member.pending.clear();
      if (closed) return;
      options.log(`decision worker failed (${why.replace(/\s+/g, " ").slice(0, 500)}); starting a new one`);
      spawn().then(
        (replacement) => (closed ? replacement.worker.terminate() : members.push(replacement)),
        (error: unknown) => options.log(`decision worker could not be replaced: ${(error as Error).message}`),
      );
    };
    worker.onerror = (event) => died(event.message);
    worker.addEventListener("close", () => died("it exited"));
    // Never what keeps `serve` running.
    worker.unref();
    return member;
  };

  const settle = (member: Member, reply: AssessReply) => {
    if (reply.type !== "answers") return;
    for (const answer of reply.answers) {
      const waiting = member.pending.get(answer.id);
      if (!waiting) continue;
      member.pending.delete(answer.id);
      if ("assessment" in answer) waiting.resolve(JSON.parse(answer.assessment) as Assessment);
      else waiting.reject(new AegisError(answer.error.code, answer.error.message, answer.error.hint === undefined ? {} : { hint: answer.error.hint }));
    }
  };

  /** Answers one request with an error, never a decision. */
  const refuse = (member: Member, id: number, error: AegisError) => {
    member.pending.get(id)?.reject(error);
    member.pending.delete(id);
  };

  /** Sends a member's outbox, a few requests per message; a request JSON cannot carry is refused alone. */
  const flush = (member: Member) => {
    while (member.outbox.length > 0) send(member, member.outbox.splice(0, MAX_BATCH));
  };

  const send = (member: Member, requests: AssessRequest[]) => {
    if (!members.includes(member)) return;
    const texts: string[] = [];
    for (const request of requests) {
      try {
        texts.push(JSON.stringify(request));
      } catch (error) {
        // Not JSON data (a BigInt, a cycle): bad input, as for the local assessor.
        refuse(member, request.id, new AegisError("bad-input", `request cannot be assessed: ${(error as Error).message}`));
      }
    }
    if (texts.length === 0) return;
    try {
      member.worker.postMessage({ type: "assess", requests: `[${texts.join(",")}]` } satisfies AssessBatch);
    } catch (error) {
      // The worker cannot take it (terminated meanwhile): nothing was decided for these requests.
      for (const request of requests) refuse(member, request.id, new AegisError("internal", `the decision worker could not be reached: ${(error as Error).message}`));
    }
  };

  const started = await Promise.allSettled(Array.from({ length: options.size }, spawn));
  const failed = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  for (const outcome of started) if (outcome.status === "fulfilled") members.push(outcome.value);
  if (failed) {
    // The workers that did start must not outlive the failure.
    closed = true;
    for (const member of members.splice(0)) member.worker.terminate();
    throw failed.reason;
  }

  return {
    size: options.size,
    assess(input: RunRequest, runtimeName: string): Promise<Assessment> {
      // The least busy worker: a slow request (a large mount list) does not hold up the others.
      const member = members.reduce<Member | undefined>((best, candidate) => (!best || candidate.pending.size < best.pending.size ? candidate : best), undefined);
      if (closed || !member) return Promise.reject(new AegisError("unavailable", "no decision worker is running", { hint: "restart `aegisclaw serve`" }));
      const id = nextId++;
      return new Promise<Assessment>((resolve, reject) => {
        member.pending.set(id, { resolve, reject });
        if (member.outbox.length === 0) setImmediate(() => flush(member));
        member.outbox.push({ id, input, runtimeName, history: historyOf(options.history, input) });
      });
    },
    async close() {
      closed = true;
      for (const member of members.splice(0)) {
        for (const waiting of member.pending.values()) waiting.reject(new AegisError("unavailable", "the server is stopping; nothing was decided"));
        member.worker.terminate();
      }
    },
  };
}

/** The history of the request's actor; an actor the worker will refuse as malformed has none. */
function historyOf(history: HistorySource, input: RunRequest) {
  const actor: unknown = input.actor;
  const valid = typeof actor === "object" && actor !== null && typeof (actor as { name?: unknown }).name === "string" && typeof (actor as { source?: unknown }).source === "string";
  return (valid ? history : NO_HISTORY)(actor as { name: string; source: string });
}

/**
 * The worker's module: next to this file when run from source; in the compiled binary, the
 * entrypoint scripts/build.sh embeds at /$bunfs/root/core/ (paths there are relative to src/,
 * and the main bundle sits at the root).
 */
function workerUrl(): URL {
  return import.meta.url.includes("/$bunfs/") ? new URL("./core/assess-worker.js", import.meta.url) : new URL("./assess-worker.ts", import.meta.url);
}
