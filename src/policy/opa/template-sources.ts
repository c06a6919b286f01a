/**
 * The Rego sources of the built-in templates and their tests, embedded as text so that the
 * compiled binary can show them (`policy show`) and hand them to the real `opa test`.
 */
import commonTest from "../../../policies/common_test.rego" with { type: "text" };
import permissive from "../../../policies/permissive.rego" with { type: "text" };
import permissiveTest from "../../../policies/permissive_test.rego" with { type: "text" };
import standard from "../../../policies/standard.rego" with { type: "text" };
import standardTest from "../../../policies/standard_test.rego" with { type: "text" };
import strict from "../../../policies/strict.rego" with { type: "text" };
import strictTest from "../../../policies/strict_test.rego" with { type: "text" };
import type { OpaTemplate } from "./types.ts";

/** `policies/<name>.rego` of each template. */
export const TEMPLATE_SOURCES: Record<OpaTemplate, string> = { strict, standard, permissive };

/** Every file of policies/ that `opa test` needs, by file name. */
export const TEMPLATE_FILES: Record<string, string> = {
  "strict.rego": strict,
  "standard.rego": standard,
  "permissive.rego": permissive,
  "common_test.rego": commonTest,
  "strict_test.rego": strictTest,
  "standard_test.rego": standardTest,
  "permissive_test.rego": permissiveTest,
};
