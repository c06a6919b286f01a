import { z } from "zod";

/**
 * The control-socket protocol: one JSON object per line. A client must open with `hello`
 * (carrying the control key); anything else first, or any malformed message, closes it.
 */
export const ClientMessage = z.discriminatedUnion("op", [
  // `subscribe` in the hello starts the event stream in the same step as the snapshot, so no
  // event can fall between what the welcome shows and what the stream delivers.
  z.object({ op: z.literal("hello"), key: z.string().max(128), client: z.string().min(1).max(200), subscribe: z.boolean().optional() }).strict(),
  z.object({ op: z.literal("subscribe") }).strict(),
  z
    .object({
      op: z.literal("resolve"),
      ref: z.number().int().nonnegative(),
      id: z.string().min(1).max(200),
      requestHash: z.string().regex(/^[0-9a-f]{64}$/),
      choice: z.enum(["approve", "approve-session", "deny"]),
      by: z.string().min(1).max(200),
      // Only channels where a person answers; "timeout" and "system" belong to the queue itself.
      via: z.enum(["console", "cli", "tty", "api", "web", "openclaw"]),
    })
    .strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Server messages are produced by our own code; clients still check the `op` they rely on. */
export type ServerMessage =
  | { op: "welcome"; pid: number; pending: unknown[]; runs: unknown[] }
  | { op: "event"; event: unknown }
  | { op: "result"; ref: number; ok: true; resolution: unknown }
  | { op: "result"; ref: number; ok: false; code: string; message: string; hint?: string };
