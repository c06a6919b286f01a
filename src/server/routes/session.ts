import { verifyToken } from "../auth.ts";
import { json } from "../http.ts";
import { caller, route } from "../route.ts";
import { Results, SessionBody } from "../schemas.ts";

/** Browser sessions: a token exchanged for an HttpOnly, SameSite=Strict cookie plus a CSRF token. */
export const sessionRoutes = [
  route<SessionBody>({
    key: "POST /api/v1/session",
    summary: "Log a browser in: exchange a token for a session cookie. State-changing requests on the session must echo `csrfToken` in X-CSRF-Token and come from an allowed Origin.",
    body: SessionBody,
    responses: { 201: "Session opened (Set-Cookie).", 401: "Invalid or revoked token.", 429: "Too many failed attempts from this address." },
    result: Results.session,
    handle: (call, ctx) => {
      const record = verifyToken(call.body.token, call.address, ctx.auth);
      const session = ctx.sessions.create(record.id);
      return json(
        { name: record.name, role: record.role, csrfToken: session.csrfToken, expiresAt: new Date(session.expiresAt).toISOString() },
        201,
        { "Set-Cookie": ctx.sessions.cookie(session, ctx.tls) },
      );
    },
  }),
  route({
    key: "DELETE /api/v1/session",
    summary: "Log the browser session out (clears the cookie).",
    responses: { 200: "Logged out." },
    result: Results.ok,
    handle: (call, ctx) => {
      const session = caller(call).session;
      if (session) ctx.sessions.delete(session.id);
      return json({ ok: true }, 200, { "Set-Cookie": ctx.sessions.clearingCookie(ctx.tls) });
    },
  }),
];
