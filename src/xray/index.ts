/**
 * X-ray (issue 8): a read-only live view of running AegisClaw sandboxes from the Docker API,
 * shared by `aegisclaw xray` and the console.
 */
export type { XrayReport, XrayRunSummary } from "./types.ts";
export { inspectSandbox, listSandboxes, type XrayOptions } from "./xray.ts";
