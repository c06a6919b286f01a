import type { VerifyView } from "./backend.ts";
import { type Line, seg } from "./theme.ts";

/** The verify result as overlay lines: a verdict anyone can read at a glance, then the details. */
export function verifyLines(result: VerifyView): Line[] {
  const verdict = result.ok ? seg("✔ INTACT", "good", { bold: true }) : seg("✘ BROKEN", "bad", { bold: true });
  return [
    [verdict, seg(`  ${result.entries} entries checked`, "muted")],
    [],
    [seg(result.summary, result.ok ? "plain" : "bad")],
  ];
}
