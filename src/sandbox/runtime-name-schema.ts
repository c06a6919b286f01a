import { z } from "zod";
import { runtimeNameProblem } from "./runtime-select.ts";

/** A runtime name in config, API and MCP input: built-in, or an OCI runtime registered with Docker. */
export const RuntimeNameSchema = z.string().superRefine((name, ctx) => {
  const problem = runtimeNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
