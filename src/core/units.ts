/**
 * Parses human durations ("90s", "5m", "1h", "250ms") and sizes ("64m", "1g", "512k") used in
 * config and CLI flags. Returns undefined on anything else so callers can report the field.
 */
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Milliseconds for "250ms", "30s", "5m", "1h"; a bare number means seconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * (DURATION_UNITS[match[2] ?? "s"] ?? 1);
  return Number.isFinite(value) && value > 0 ? Math.round(value) : undefined;
}

/** Bytes for "512k", "64m", "1g", "100b"; a bare number means bytes. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([bkmg])?i?b?$/i.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * (SIZE_UNITS[(match[2] ?? "b").toLowerCase()] ?? 1);
  return Number.isFinite(value) && value > 0 ? Math.round(value) : undefined;
}
