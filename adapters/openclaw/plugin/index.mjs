// AegisClaw's OpenClaw plugin: every tool call OpenClaw is about to make is sent to AegisClaw
// (POST /api/v1/openclaw/tool-calls) and runs only when AegisClaw answers allow. Plain ESM for
// Node 24 inside OpenClaw: no build step, no SDK import, no dependencies.
//
// Fail closed: anything but an explicit allow (a deny, lockdown, a timeout, an unreachable or
// misconfigured server, a malformed answer) blocks the call with a reason that says what went
// wrong. The hooks never throw: OpenClaw would block on a throw too, but with a less useful reason.

import { readFile } from "node:fs/promises";

const DEFAULT_ENDPOINT = "http://127.0.0.1:7878";
/** AegisClaw's default approval timeout (120 s) plus room for the round trip. */
const DEFAULT_TIMEOUT_MS = 130_000;
/** OpenClaw's ceiling for one hook handler. */
const MAX_TIMEOUT_MS = 600_000;
const MIN_TIMEOUT_MS = 100;
const HOOK_MARGIN_MS = 2000;
/** A result report is bookkeeping: it must never hold OpenClaw up for long. */
const RESULT_TIMEOUT_MS = 10_000;
/** Allowed calls waiting for their after_tool_call; the oldest are forgotten past this. */
const MAX_PENDING_RESULTS = 1000;
const MAX_REASON_CHARS = 1500;
const MAX_ERROR_CHARS = 2000;
const TOKEN_ENV = "AEGISCLAW_API_TOKEN";
const TOKEN_FIX = `write an AegisClaw operator token (\`aegisclaw token create --role operator\`) to the plugin's tokenFile (mode 0600) or set ${TOKEN_ENV}`;

/**
 * Normalises `plugins.entries.aegisclaw.config`. OpenClaw validates it against the manifest's
 * schema first; this repeats the checks so a bypassed schema still fails closed, never open.
 * @returns `{ endpoint, tokenFile?, timeoutMs, problem? }`: with `problem`, every call is blocked.
 */
export function settingsFrom(config) {
  const raw = config && typeof config === "object" ? config : {};
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (raw.timeoutMs !== undefined) {
    if (!Number.isInteger(raw.timeoutMs) || raw.timeoutMs < MIN_TIMEOUT_MS) return { endpoint: DEFAULT_ENDPOINT, timeoutMs, problem: `timeoutMs must be a whole number of milliseconds >= ${MIN_TIMEOUT_MS}` };
    timeoutMs = Math.min(raw.timeoutMs, MAX_TIMEOUT_MS);
  }
  const endpoint = typeof raw.endpoint === "string" ? raw.endpoint.trim().replace(/\/+$/, "") : DEFAULT_ENDPOINT;
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash) {
    return { endpoint, timeoutMs, problem: `endpoint ${JSON.stringify(String(raw.endpoint).slice(0, 200))} is not an http(s) base URL like ${DEFAULT_ENDPOINT}` };
  }
  if (raw.tokenFile !== undefined && (typeof raw.tokenFile !== "string" || raw.tokenFile.trim() === "")) return { endpoint, timeoutMs, problem: "tokenFile must be a file path" };
  return { endpoint, timeoutMs, ...(raw.tokenFile !== undefined ? { tokenFile: raw.tokenFile } : {}) };
}

/**
 * Reads the API token: the tokenFile, else AEGISCLAW_API_TOKEN. The file is read at every call
 * (a few microseconds next to the HTTP round trip), so a rotated token is used at once: an
 * mtime cache could miss a rewrite within the file system's timestamp granularity. The token
 * itself never appears in a message.
 * @returns `{ token }` or `{ problem }`.
 */
async function readToken(settings, env) {
  if (settings.tokenFile !== undefined) {
    const file = settings.tokenFile;
    try {
      const token = (await readFile(file, "utf8")).trim();
      if (token) return checked(token, `tokenFile ${file}`);
    } catch (error) {
      if (error?.code !== "ENOENT") return { problem: `cannot read tokenFile ${file} (${error?.code ?? error?.message ?? error}); ${TOKEN_FIX}` };
    }
  }
  const fromEnv = env[TOKEN_ENV]?.trim();
  if (fromEnv) return checked(fromEnv, TOKEN_ENV);
  const where = settings.tokenFile !== undefined ? `tokenFile ${settings.tokenFile} is missing or empty and ${TOKEN_ENV} is not set` : `no tokenFile is configured and ${TOKEN_ENV} is not set`;
  return { problem: `no AegisClaw API token: ${where}; ${TOKEN_FIX}` };
}

function checked(token, where) {
  // A header value with control characters or spaces would make fetch throw with the value in its message.
  return /^[\x21-\x7e]{1,512}$/.test(token) ? { token } : { problem: `the token in ${where} is not a valid API token (expected acw_<id>_<secret>); ${TOKEN_FIX}` };
}

/** What AegisClaw is told about a call: the event's and context's identifiers, undefined dropped. */
export function toolCallBody(event, ctx) {
  const body = { toolName: event?.toolName, params: event?.params ?? {} };
  const ids = {
    toolCallId: event?.toolCallId ?? ctx?.toolCallId,
    runId: event?.runId ?? ctx?.runId,
    agentId: ctx?.agentId,
    sessionKey: ctx?.sessionKey,
    sessionId: ctx?.sessionId,
  };
  for (const [name, value] of Object.entries(ids)) if (typeof value === "string" && value !== "") body[name] = value;
  const requester = ctx?.requester;
  if (requester && typeof requester === "object") {
    const kept = {};
    if (typeof requester.channel === "string") kept.channel = requester.channel;
    if (typeof requester.senderId === "string") kept.senderId = requester.senderId;
    if (typeof requester.senderIsOwner === "boolean") kept.senderIsOwner = requester.senderIsOwner;
    if (Object.keys(kept).length > 0) body.requester = kept;
  }
  return body;
}

/** `rule`-tagged reason messages, as one line. */
function reasonText(reasons) {
  const list = Array.isArray(reasons) ? reasons.filter((r) => r && typeof r.message === "string") : [];
  if (list.length === 0) return "no reason given";
  return list.map((r) => (typeof r.rule === "string" && r.rule ? `${r.message} [${r.rule}]` : r.message)).join("; ");
}

function clip(text, max = MAX_REASON_CHARS) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function blocked(reason) {
  return { block: true, blockReason: clip(reason) };
}

/** The error envelope's message, or the start of whatever the body was. */
function errorDetail(status, payload, text) {
  const error = payload?.error;
  if (error && typeof error.message === "string") return `${typeof error.code === "string" ? `${error.code}: ` : ""}${error.message}`;
  return text.trim() === "" ? `HTTP ${status}` : text.trim().slice(0, 200);
}

/**
 * POSTs JSON to AegisClaw: `{ status, payload, text }`, or `{ failure }` naming what went wrong
 * on the way. Throws only for a body that is not JSON (the caller blocks on that too).
 */
async function post(url, token, body, budgetMs, cancel) {
  const json = JSON.stringify(body);
  const timeout = AbortSignal.timeout(budgetMs);
  const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
  const endpoint = new URL(url).origin;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${token}` },
      body: json,
      redirect: "error",
      signal,
    });
    const text = await response.text();
    let payload;
    try {
      payload = text.trim() === "" ? undefined : JSON.parse(text);
    } catch {
      payload = undefined;
    }
    return { status: response.status, payload, text };
  } catch (error) {
    if (timeout.aborted) return { failure: `timed out after ${budgetMs} ms waiting for AegisClaw at ${endpoint}` };
    if (cancel?.aborted) return { failure: "the tool call was cancelled while AegisClaw was deciding" };
    const cause = error?.cause?.code ?? error?.cause?.message ?? error?.code ?? error?.message ?? String(error);
    return { failure: `AegisClaw unreachable at ${endpoint} (${String(cause).slice(0, 200)})` };
  }
}

/** The verdict of an answer: allow with its id and hash, a deny, or a failure to block on. */
function verdictOf(tool, answer) {
  if (answer.failure) return { block: `AegisClaw could not decide ${tool}, so it is blocked (fail closed): ${answer.failure}` };
  const { status, payload, text } = answer;
  const isVerdict = payload && typeof payload === "object" && (payload.verdict === "allow" || payload.verdict === "deny");
  if (status === 200 && isVerdict && payload.verdict === "allow" && typeof payload.id === "string" && typeof payload.requestHash === "string") {
    return { allow: { id: payload.id, requestHash: payload.requestHash } };
  }
  if ((status === 403 || status === 423) && isVerdict && payload.verdict === "deny") {
    const lockdown = status === 423 || payload.lockdown === true;
    return { block: `AegisClaw denied ${tool}${lockdown ? " (lockdown is active)" : ""}: ${reasonText(payload.reasons)}` };
  }
  const code = payload?.error?.code;
  const hint = status === 401 ? `; the API token was refused: ${TOKEN_FIX}` : code === "forbidden" ? "; the API token needs the operator role" : "";
  const detail = status === 200 ? "an answer that is not an allow verdict" : errorDetail(status, payload, text);
  return { block: `AegisClaw could not decide ${tool}, so it is blocked (fail closed): AegisClaw answered ${status} (${detail})${hint}` };
}

/** after_tool_call's outcome in AegisClaw's words. */
export function resultBody(requestHash, event) {
  const details = event?.result && typeof event.result === "object" ? event.result.details : undefined;
  const reported = details && typeof details === "object" ? details.status : undefined;
  const status = reported === "completed" || reported === "failed" || reported === "blocked" ? reported : event?.error !== undefined ? "failed" : "completed";
  const body = { requestHash, status };
  const exitCode = details && typeof details === "object" ? details.exitCode : undefined;
  if (Number.isInteger(exitCode) && exitCode >= -1 && exitCode <= 255) body.exitCode = exitCode;
  if (typeof event?.durationMs === "number" && Number.isFinite(event.durationMs) && event.durationMs >= 0) body.durationMs = Math.round(event.durationMs);
  if (typeof event?.error === "string" && event.error !== "") body.error = clip(event.error, MAX_ERROR_CHARS);
  return body;
}

/**
 * Builds the two hooks for a config (exported for tests; `register` is what OpenClaw calls).
 * `env` is where AEGISCLAW_API_TOKEN is read (process.env by default).
 */
export function createHooks(config, { env = process.env, logger } = {}) {
  const settings = settingsFrom(config);
  /** `runId \0 toolCallId` -> the allowed call's AegisClaw id and request hash, oldest first. */
  const pending = new Map();
  const keyOf = (event, ctx) => {
    const toolCallId = event?.toolCallId ?? ctx?.toolCallId;
    return typeof toolCallId === "string" && toolCallId !== "" ? `${event?.runId ?? ctx?.runId ?? ""}\0${toolCallId}` : undefined;
  };

  async function beforeToolCall(event, ctx) {
    const tool = typeof event?.toolName === "string" && event.toolName !== "" ? event.toolName : "this tool call";
    try {
      if (settings.problem) return blocked(`AegisClaw plugin is misconfigured, so ${tool} is blocked: ${settings.problem} (plugins.entries.aegisclaw.config)`);
      const credential = await readToken(settings, env);
      if (credential.problem) return blocked(`AegisClaw could not decide ${tool}, so it is blocked (fail closed): ${credential.problem}`);
      const answer = await post(`${settings.endpoint}/api/v1/openclaw/tool-calls`, credential.token, toolCallBody(event, ctx), settings.timeoutMs, ctx?.abortSignal);
      const verdict = verdictOf(tool, answer);
      if (verdict.block) return blocked(verdict.block);
      const key = keyOf(event, ctx);
      if (key !== undefined) {
        pending.delete(key);
        pending.set(key, verdict.allow);
        for (const oldest of pending.keys()) {
          if (pending.size <= MAX_PENDING_RESULTS) break;
          pending.delete(oldest);
        }
      }
      return undefined;
    } catch (error) {
      return blocked(`AegisClaw plugin failed, so ${tool} is blocked (fail closed): ${error?.message ?? String(error)}`);
    }
  }

  async function afterToolCall(event, ctx) {
    try {
      const key = keyOf(event, ctx);
      const allowed = key === undefined ? undefined : pending.get(key);
      if (!allowed) return;
      pending.delete(key);
      const credential = await readToken(settings, env);
      if (credential.problem) return void logger?.warn?.(`aegisclaw: result of ${allowed.id} not reported: ${credential.problem}`);
      const url = `${settings.endpoint}/api/v1/openclaw/tool-calls/${encodeURIComponent(allowed.id)}/result`;
      const answer = await post(url, credential.token, resultBody(allowed.requestHash, event), Math.min(settings.timeoutMs, RESULT_TIMEOUT_MS));
      if (answer.failure) logger?.warn?.(`aegisclaw: result of ${allowed.id} not reported: ${answer.failure}`);
      else if (answer.status !== 201) logger?.warn?.(`aegisclaw: result of ${allowed.id} not recorded: AegisClaw answered ${answer.status} (${errorDetail(answer.status, answer.payload, answer.text)})`);
    } catch (error) {
      logger?.warn?.(`aegisclaw: result not reported: ${error?.message ?? String(error)}`);
    }
  }

  return { settings, beforeToolCall, afterToolCall, pending };
}

/** The plugin entry OpenClaw loads (`openclaw.extensions` in package.json). */
const plugin = {
  id: "aegisclaw",
  name: "AegisClaw envelope",
  description: "Every tool call passes AegisClaw's Gate (policy, a person's approval when policy asks, tamper-evident audit) before it runs.",
  register(api) {
    // A bad config must not make register throw: a plugin that fails to load gates nothing.
    // Its hooks are registered anyway and block every call with the problem as the reason.
    const hooks = createHooks(api?.pluginConfig, { logger: api?.logger });
    if (hooks.settings.problem) api?.logger?.error?.(`aegisclaw: every tool call will be blocked: ${hooks.settings.problem}`);
    // The request gives up at timeoutMs with a reason naming the timeout; the hook's own budget is
    // a little longer so that reason, not OpenClaw's generic hook timeout, reaches the agent.
    api.on("before_tool_call", hooks.beforeToolCall, { timeoutMs: Math.min(hooks.settings.timeoutMs + HOOK_MARGIN_MS, MAX_TIMEOUT_MS) });
    api.on("after_tool_call", hooks.afterToolCall, { timeoutMs: Math.min(hooks.settings.timeoutMs, RESULT_TIMEOUT_MS) + HOOK_MARGIN_MS });
  },
};

export const { id, name, description, register } = plugin;
export default plugin;
