import { consistencyProof, explain, inclusionProof, readEntries, verifyLog, type AuditEntry, type EntryFilter } from "../../audit/index.ts";
import { isAegisError } from "../../shared/index.ts";
import { HttpError, json } from "../http.ts";
import { route } from "../route.ts";
import { AuditQuery, ConsistencyQuery, Results } from "../schemas.ts";

const DEFAULT_LIMIT = 100;

/** The audit log: list, verify, explain, proofs. All reads; appends happen only in the Gate and lockdown. */
export const auditRoutes = [
  route<undefined, AuditQuery>({
    key: "GET /api/v1/audit",
    summary: "Audit entries, oldest first: the newest `limit` that match the filters.",
    query: AuditQuery,
    responses: { 200: "The entries." },
    result: Results.audit,
    handle: (call, ctx) => {
      const { limit = DEFAULT_LIMIT, since, ...rest } = call.query;
      const filter: EntryFilter = { ...rest, ...(since ? { since: new Date(since) } : {}) };
      // Keep only the newest `limit` while streaming, so memory stays bounded on a long log.
      const entries: AuditEntry[] = [];
      for (const entry of readEntries(ctx.app.layout.audit, filter)) {
        entries.push(entry);
        if (entries.length > limit) entries.shift();
      }
      return json({ entries });
    },
  }),
  route({
    key: "GET /api/v1/audit/verify",
    summary: "Recompute every hash, the Merkle root and every signed checkpoint; names the first failure.",
    responses: { 200: "The report (`ok` false names the first failing entry)." },
    result: Results.verify,
    handle: async (_call, ctx) => json(await verifyLog(ctx.app.layout.audit)),
  }),
  route<undefined, ConsistencyQuery>({
    key: "GET /api/v1/audit/consistency",
    summary: "RFC 9162 consistency proof from the tree of `oldSize` entries to the latest signed checkpoint.",
    query: ConsistencyQuery,
    responses: { 200: "The proof.", 400: "oldSize is larger than the latest checkpoint." },
    result: Results.consistency,
    handle: (call, ctx) => json(consistencyProof(ctx.app.layout.audit, call.query.oldSize)),
  }),
  route({
    key: "GET /api/v1/audit/{id}/explain",
    summary: "Why an entry (seq, or a run id) was allowed or denied, with the rest of its run.",
    responses: { 200: "The explanation.", 404: "No such entry." },
    result: Results.explain,
    handle: (call, ctx) => {
      try {
        return json(explain(ctx.app.layout.audit, call.params.id ?? ""));
      } catch (error) {
        if (isAegisError(error, "bad-input")) throw new HttpError(404, "not-found", error.message);
        throw error;
      }
    },
  }),
  route({
    key: "GET /api/v1/audit/{seq}/proof",
    summary: "RFC 9162 inclusion proof of entry `seq` against the latest signed checkpoint.",
    responses: { 200: "The proof.", 400: "seq is not a number, or not covered by a checkpoint yet." },
    result: Results.proof,
    handle: (call, ctx) => {
      const seq = call.params.seq ?? "";
      if (!/^\d{1,15}$/.test(seq)) throw new HttpError(400, "invalid-request", "seq must be a whole number", { field: "seq" });
      return json(inclusionProof(ctx.app.layout.audit, Number(seq)));
    },
  }),
];
