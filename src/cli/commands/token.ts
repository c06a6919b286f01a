import { homeLayout, requireInitialisedHome } from "../../core/index.ts";
import { createTokenAudited, revokeTokenAudited, Role, tokenView as view, TokenStore, tokensFile } from "../../server/index.ts";
import { AegisError } from "../../shared/index.ts";
import { localActor } from "../actor.ts";
import type { CliContext } from "../context.ts";
import { withHomeAudit } from "../home-audit.ts";

const ACTIONS = "create --role admin|operator|viewer [--name N] | list | revoke ID";

/**
 * `token create --role R [--name N] | list | revoke ID`: API tokens for `aegisclaw serve`.
 * The token is printed once, on stdout; only the sha256 of its secret is stored
 * (`state/tokens.json`, mode 0600). A running server sees changes at once. Creates and revokes
 * are recorded in the audit log first (server/token-audit.ts).
 */
export async function runToken(action: string | undefined, args: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const layout = homeLayout(ctx.home);
  requireInitialisedHome(layout);
  const store = new TokenStore(tokensFile(layout.state));
  switch (action) {
    case "create": {
      const role = Role.safeParse(options.role);
      if (!role.success) throw new AegisError("usage", options.role === undefined ? "token create needs --role" : `unknown role "${String(options.role)}"`, { hint: "use --role admin, operator or viewer (docs/api.md has the matrix)" });
      const { token, record } = await withHomeAudit(ctx.home, "token changes", (audit) => createTokenAudited(store, audit, localActor(), role.data, options.name === undefined ? undefined : String(options.name)));
      if (ctx.json) ctx.stdout(`${JSON.stringify({ ...view(record), token })}\n`);
      else {
        ctx.stdout(`${token}\n`);
        ctx.stderr(`created ${record.role} token "${record.name}" (id ${record.id}); it is shown only this once; send it as \`Authorization: Bearer <token>\`\n`);
      }
      return 0;
    }
    case undefined:
    case "list": {
      const tokens = store.list().map(view);
      if (ctx.json) ctx.stdout(`${JSON.stringify({ tokens })}\n`);
      else if (tokens.length === 0) ctx.stderr("no API tokens; create one with `aegisclaw token create --role viewer`\n");
      else ctx.stdout(table(tokens));
      return 0;
    }
    case "revoke": {
      const id = args[0];
      if (id === undefined || args.length > 1) throw new AegisError("usage", "token revoke takes exactly one ID", { hint: "see ids with `aegisclaw token list`" });
      const record = await withHomeAudit(ctx.home, "token changes", (audit) => revokeTokenAudited(store, audit, localActor(), id));
      if (ctx.json) ctx.stdout(`${JSON.stringify(view(record))}\n`);
      else ctx.stderr(`revoked token "${record.name}" (id ${record.id}); its requests, sessions and WebSockets stop working\n`);
      return 0;
    }
    default:
      throw new AegisError("usage", `unknown token action "${action}"`, { hint: `use: aegisclaw token ${ACTIONS}` });
  }
}

function table(tokens: Array<ReturnType<typeof view>>): string {
  const rows = [["ID", "NAME", "ROLE", "CREATED", "STATUS"], ...tokens.map((t) => [t.id, t.name, t.role, t.createdAt, t.revokedAt ? `revoked ${t.revokedAt}` : "active"])];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return `${rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  ")).join("\n")}\n`;
}
