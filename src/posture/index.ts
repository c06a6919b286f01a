/**
 * Posture (issue 8): a 0–100 score and letter grade of how safely a home is set up, each lost
 * point with its fix. Shared by `aegisclaw posture` and the console. Weights: docs/posture.md.
 */
export type { PostureCheck, PostureReport } from "./types.ts";
export { computePosture, type PostureOptions } from "./compute.ts";
export { gradeFor, POSTURE_CHECK_ORDER, POSTURE_WEIGHTS } from "./score.ts";
