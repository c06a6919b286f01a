import type { Route } from "../route.ts";
import { adminRoutes } from "./admin.ts";
import { approvalRoutes } from "./approvals.ts";
import { auditRoutes } from "./audit.ts";
import { openClawRoutes } from "./openclaw.ts";
import { policyRoutes } from "./policy.ts";
import { runRoutes } from "./runs.ts";
import { sessionRoutes } from "./session.ts";
import { skillRoutes } from "./skills.ts";
import { systemRoutes } from "./system.ts";

/** Every route the server answers; the router checks this list against the RBAC table. */
export const ROUTES: readonly Route[] = [...systemRoutes, ...sessionRoutes, ...runRoutes, ...skillRoutes, ...approvalRoutes, ...auditRoutes, ...policyRoutes, ...openClawRoutes, ...adminRoutes];
