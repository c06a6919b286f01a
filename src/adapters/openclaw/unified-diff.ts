/**
 * A unified diff of two texts by lines (LCS), with `context` lines around each change. Config
 * files are small, so the quadratic table is fine and keeps this free of dependencies.
 */
export function unifiedDiff(before: string, after: string, labels: { from: string; to: string }, context = 3): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = lineOps(a, b);
  const hunks: string[] = [];
  let index = 0;
  while (index < ops.length) {
    while (index < ops.length && ops[index]?.kind === " ") index++;
    if (index >= ops.length) break;
    let start = Math.max(0, index - context);
    let end = index;
    // Extend the hunk while changes are closer than 2 * context lines apart.
    for (;;) {
      while (end < ops.length && ops[end]?.kind !== " ") end++;
      let next = end;
      while (next < ops.length && ops[next]?.kind === " ") next++;
      if (next < ops.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const slice = ops.slice(start, stop);
    const first = ops[start];
    const fromStart = (first?.a ?? 0) + 1;
    const toStart = (first?.b ?? 0) + 1;
    const fromCount = slice.filter((op) => op.kind !== "+").length;
    const toCount = slice.filter((op) => op.kind !== "-").length;
    hunks.push(`@@ -${fromCount === 0 ? fromStart - 1 : fromStart},${fromCount} +${toCount === 0 ? toStart - 1 : toStart},${toCount} @@`);
    for (const op of slice) hunks.push(`${op.kind}${op.text}`);
    index = stop;
    start = stop;
  }
  return `--- ${labels.from}\n+++ ${labels.to}\n${hunks.join("\n")}\n`;
}

interface Op {
  kind: " " | "-" | "+";
  text: string;
  /** Line index in `a` (for " " and "-") or the position in `a` where an insertion happens. */
  a: number;
  b: number;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

function lineOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = table[i]!;
    const below = table[i + 1]!;
    for (let j = m - 1; j >= 0; j--) row[j] = a[i] === b[j] ? below[j + 1]! + 1 : Math.max(below[j]!, row[j + 1]!);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: " ", text: a[i]!, a: i, b: j });
      i++;
      j++;
    } else if (i < n && (j >= m || table[i + 1]![j]! >= table[i]![j + 1]!)) {
      ops.push({ kind: "-", text: a[i]!, a: i, b: j });
      i++;
    } else {
      ops.push({ kind: "+", text: b[j]!, a: i, b: j });
      j++;
    }
  }
  return ops;
}
