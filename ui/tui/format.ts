/**
 * Text helpers shared by the panes. Every string that comes from outside the console (run
 * output, argv, reasons, error messages) passes through `clean` before it reaches a cell:
 * sandboxed programs choose their own output, and a raw ESC or OSC sequence written to the
 * operator's terminal could retitle it, set the clipboard or fake what the console shows.
 */

// C0 controls except TAB, DEL, C1 controls, and bidi overrides that could reorder what is read.
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Makes untrusted text safe to draw: control characters become visible symbols, tabs spaces. */
export function clean(text: string): string {
  return text.replace(/\t/g, "    ").replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code); // ␛, ␍, ...
    if (code === 0x7f) return "\u2421";
    return "\ufffd";
  });
}

/** Terminal cell width of a string (wide CJK characters take two cells). */
export function cellWidth(text: string): number {
  return Bun.stringWidth(text);
}

/** Cuts `text` to at most `width` cells, ending with "…" when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  if (cellWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const char of text) {
    const w = cellWidth(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}…`;
}

/** Pads (or cuts) `text` to exactly `width` cells. */
export function fit(text: string, width: number): string {
  const cut = truncate(text, width);
  return cut + " ".repeat(Math.max(0, width - cellWidth(cut)));
}

/** "850ms", "12s", "3m 04s", "2h 05m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

/** Time left until `expiresAt`: "4m 12s left" or "expired". */
export function formatTimeLeft(expiresAt: string, now: number): string {
  const left = Date.parse(expiresAt) - now;
  if (!Number.isFinite(left)) return "expiry unknown";
  if (left <= 0) return "expired";
  return `${formatDuration(Math.ceil(left / 1000) * 1000)} left`;
}

/** "512 B", "1.5 KiB", "20.0 MiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "n/a";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** "12:03:04" in local time, or the raw value when it is not a date. */
export function formatClock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return clean(iso);
  return date.toTimeString().slice(0, 8);
}

/** An argv as one readable line (arguments with spaces quoted). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((arg) => (arg === "" || /\s/.test(arg) ? JSON.stringify(arg) : arg)).join(" ");
}

/** First 12 characters of a hash, for lists; details show it whole. */
export function shortHash(hash: string): string {
  return hash.length > 12 ? `${hash.slice(0, 12)}…` : hash;
}
