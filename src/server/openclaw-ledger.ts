import { timingSafeEqual } from "node:crypto";
import { HttpError } from "./http.ts";

/** An allowed tool call waiting for (or done with) its result report. */
interface Allowed {
  requestHash: string;
  /** The token name that asked: only it may report the result. */
  actor: string;
  reported: boolean;
}

/**
 * The tool calls this server allowed, so a result is accepted only for a call it allowed, from
 * the token that asked, once, and for the exact request (hash). The audit log cannot answer
 * "who may report this id", so the server keeps it in memory: the newest `max` ids (a restart
 * forgets them, and their results are then refused with 404).
 */
export class ToolCallLedger {
  private readonly calls = new Map<string, Allowed>();

  constructor(private readonly max = 10_000) {}

  /** Records an allowed call; past `max` the oldest are forgotten. */
  remember(id: string, requestHash: string, actor: string): void {
    this.calls.delete(id);
    this.calls.set(id, { requestHash, actor, reported: false });
    for (const oldest of this.calls.keys()) {
      if (this.calls.size <= this.max) break;
      this.calls.delete(oldest);
    }
  }

  /**
   * Claims the one result report of `id` for `actor`. Throws 404 for an id this server did not
   * allow, or allowed for another token (the same answer, so a token cannot probe other
   * tokens' ids), 409 for a different request hash or a second report. Until `release`, a
   * concurrent second report gets 409 too.
   */
  claim(id: string, actor: string, requestHash: string): void {
    const call = this.calls.get(id);
    if (!call || call.actor !== actor) {
      throw new HttpError(404, "not-found", `no tool call ${id.slice(0, 200)} allowed for this token on this server`, { hint: "results are accepted for ids this server allowed (since it started), from the token that asked" });
    }
    if (!sameHash(call.requestHash, requestHash)) throw new HttpError(409, "hash-mismatch", `requestHash does not match the request tool call ${id} was allowed for`);
    if (call.reported) throw new HttpError(409, "conflict", `the result of tool call ${id} was already reported`);
    call.reported = true;
  }

  /** Undoes a claim whose result could not be recorded, so the plugin may report it again. */
  release(id: string): void {
    const call = this.calls.get(id);
    if (call) call.reported = false;
  }

  get size(): number {
    return this.calls.size;
  }
}

function sameHash(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
