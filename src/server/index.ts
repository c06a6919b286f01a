/**
 * The authenticated network API (issue 9): Bun.serve HTTP + WebSocket on loopback by default,
 * API tokens with roles, one RBAC route table, CSRF-safe browser sessions, Prometheus
 * metrics and an OpenAPI document built from the same schemas. Reference: docs/api.md.
 */
export { startServer, type RunningServer, type ServerOptions } from "./server.ts";
export { TokenStore, tokensFile, tokenView, type TokenRecord } from "./tokens.ts";
export { createTokenAudited, revokeTokenAudited } from "./token-audit.ts";
export { EVENT_ACCESS, ROUTE_ACCESS, Role, roleAllows, type Access, type RouteKey } from "./rbac.ts";
export { HTTP_STATUS_FOR } from "./http.ts";
export { ROUTES } from "./routes/index.ts";
export { buildOpenApi } from "./openapi.ts";
