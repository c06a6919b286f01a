import type { AuditEntry } from "../../src/audit/index.ts";

/** Decision filter values, in the order the key cycles through them. */
export const DECISION_FILTERS = ["all", "allow", "deny", "ask"] as const;
export type DecisionFilter = (typeof DECISION_FILTERS)[number];

/** The audit timeline's filters; undefined actor/skill means "all". */
export interface AuditFilter {
  decision: DecisionFilter;
  actor: string | undefined;
  skill: string | undefined;
}

export const NO_FILTER: AuditFilter = { decision: "all", actor: undefined, skill: undefined };

/** The next decision filter after `current`. */
export function nextDecision(current: DecisionFilter): DecisionFilter {
  const index = DECISION_FILTERS.indexOf(current);
  return DECISION_FILTERS[(index + 1) % DECISION_FILTERS.length] ?? "all";
}

/** all -> first value -> ... -> last value -> all. A value no longer present restarts at all. */
export function nextValue(current: string | undefined, values: readonly string[]): string | undefined {
  if (current === undefined) return values[0];
  const index = values.indexOf(current);
  return index < 0 ? undefined : values[index + 1];
}

/** "alice (cli)": the actor as the timeline shows and filters it. */
export function actorLabel(entry: AuditEntry): string {
  return `${entry.actor.name} (${entry.actor.source})`;
}

/**
 * The skill an entry concerns, if its request summary names one. The audit schema keeps the
 * request as free-form JSON, so both `skill: "name"` and `skill: { name }` are accepted.
 */
export function entrySkill(entry: AuditEntry): string | undefined {
  const skill = entry.request?.skill;
  if (typeof skill === "string") return skill;
  if (skill && typeof skill === "object" && "name" in skill && typeof skill.name === "string") return skill.name;
  return undefined;
}

/** Distinct actors of `entries`, sorted, for the actor filter to cycle through. */
export function actorsOf(entries: readonly AuditEntry[]): string[] {
  return [...new Set(entries.map(actorLabel))].sort();
}

/** Distinct skills of `entries`, sorted. */
export function skillsOf(entries: readonly AuditEntry[]): string[] {
  const skills = new Set<string>();
  for (const entry of entries) {
    const skill = entrySkill(entry);
    if (skill) skills.add(skill);
  }
  return [...skills].sort();
}

/** Entries matching every filter, newest first. */
export function filterAudit(entries: readonly AuditEntry[], filter: AuditFilter): AuditEntry[] {
  const matched: AuditEntry[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    if (!entry) continue;
    if (filter.decision !== "all" && entry.decision?.kind !== filter.decision) continue;
    if (filter.actor !== undefined && actorLabel(entry) !== filter.actor) continue;
    if (filter.skill !== undefined && entrySkill(entry) !== filter.skill) continue;
    matched.push(entry);
  }
  return matched;
}

/** "decision=deny actor=all skill=all". */
export function describeFilter(filter: AuditFilter): string {
  return `decision=${filter.decision} actor=${filter.actor ?? "all"} skill=${filter.skill ?? "all"}`;
}
