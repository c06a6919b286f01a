/** One line of the posture breakdown: what was checked, the points earned, and how to earn the rest. */
export interface PostureCheck {
  id: "runtime" | "seccomp" | "network" | "policy" | "secrets" | "audit" | "server-auth" | "skill-signing" | "lockdown";
  title: string;
  /** Points this check is worth (weights sum to 100; docs/posture.md). */
  weight: number;
  earned: number;
  status: "pass" | "partial" | "fail" | "unknown";
  /** What was observed, in one sentence. */
  detail: string;
  /** The concrete command or setting that earns the missing points. */
  fix?: string;
}

export interface PostureReport {
  /** 0–100: the sum of earned points. */
  score: number;
  grade: "A" | "B" | "C" | "D" | "F";
  checks: PostureCheck[];
  computedAt: string;
}
