/**
 * A fake OpenAI-compatible model on loopback (`POST /v1/chat/completions`, SSE streaming), so
 * the real OpenClaw runs offline. A turn's user message carries a marker `[[plan:ID]]`; the test
 * registers what the model does for that plan: call one tool with given arguments, then answer
 * with a final text that quotes the tool result it got back.
 *
 * The model decides on "an assistant message with tool_calls is already in the history", never
 * on "the last message is a tool result": OpenClaw appends an internal-context user message after
 * tool results, and the latter rule loops forever (notes: openclaw.md, section 4).
 */

/** One tool call the model makes for a plan. */
export interface ToolPlan {
  tool: string;
  args: Record<string, unknown>;
}

/** One request OpenClaw sent to the model, as received (for assertions). */
export interface ModelRequest {
  plan: string | undefined;
  messages: ChatMessage[];
  tools: string[];
}

interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: unknown[];
  tool_call_id?: string;
}

/** What the final answer starts with; the tool result follows it. */
export const FINAL_PREFIX = "FAKE-DONE tool result was: ";

export interface FakeModel {
  /** `http://127.0.0.1:PORT/v1`, the provider's baseUrl. */
  baseUrl: string;
  /** Every request received, oldest first. */
  requests: ModelRequest[];
  /** Registers the tool call for a plan id; the user message must contain `[[plan:ID]]`. */
  plan(id: string, plan: ToolPlan): string;
  /** The tool result text the model got back for a plan (undefined before it came back). */
  toolResult(id: string): string | undefined;
  stop(): void;
}

const PLAN_MARKER = /\[\[plan:([A-Za-z0-9_-]+)\]\]/;

/** The text of a message's content, whether a string or an array of parts. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part === "object" && part && "text" in part ? String((part as { text: unknown }).text) : "")).join("");
  return "";
}

function planOf(messages: ChatMessage[]): string | undefined {
  for (const message of messages) {
    if (message.role !== "user") continue;
    const match = PLAN_MARKER.exec(contentText(message.content));
    if (match) return match[1];
  }
  return undefined;
}

function chunk(delta: Record<string, unknown>, finish: string | null = null): string {
  const body = { id: "chatcmpl-fake", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: "fake-model", choices: [{ index: 0, delta, finish_reason: finish }] };
  return `data: ${JSON.stringify(body)}\n\n`;
}

function sse(events: string[]): Response {
  const usage = `data: ${JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: "fake-model", choices: [], usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 } })}\n\n`;
  return new Response([...events, usage, "data: [DONE]\n\n"].join(""), { headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" } });
}

/** Starts the fake model on 127.0.0.1 (random port). */
export function startFakeModel(): FakeModel {
  const plans = new Map<string, ToolPlan>();
  const requests: ModelRequest[] = [];
  let calls = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "GET" && url.pathname.endsWith("/models")) return Response.json({ object: "list", data: [{ id: "fake-model", object: "model" }] });
      if (request.method !== "POST" || !url.pathname.endsWith("/chat/completions")) return new Response("not found", { status: 404 });
      const body = (await request.json()) as { messages?: ChatMessage[]; tools?: Array<{ function?: { name?: string } }> };
      const messages = body.messages ?? [];
      const plan = planOf(messages);
      requests.push({ plan, messages, tools: (body.tools ?? []).map((tool) => tool.function?.name ?? "") });
      const step = plan ? plans.get(plan) : undefined;
      const called = messages.some((message) => message.role === "assistant" && Array.isArray(message.tool_calls) && message.tool_calls.length > 0);
      if (!step || called) {
        const result = [...messages].reverse().find((message) => message.role === "tool");
        const text = step ? `${FINAL_PREFIX}${result ? contentText(result.content) : "(none)"}` : "FAKE-DONE no plan";
        return sse([chunk({ role: "assistant", content: text }), chunk({}, "stop")]);
      }
      calls += 1;
      const call = { index: 0, id: `call_fake_${calls}`, type: "function", function: { name: step.tool, arguments: JSON.stringify(step.args) } };
      return sse([chunk({ role: "assistant", content: null, tool_calls: [call] }), chunk({}, "tool_calls")]);
    },
  });
  return {
    baseUrl: `http://127.0.0.1:${server.port}/v1`,
    requests,
    plan(id, step) {
      plans.set(id, step);
      return `[[plan:${id}]]`;
    },
    toolResult(id) {
      for (const request of requests) {
        if (request.plan !== id) continue;
        const result = request.messages.find((message) => message.role === "tool");
        if (result) return contentText(result.content);
      }
      return undefined;
    },
    stop: () => void server.stop(true),
  };
}
