/**
 * Aho–Corasick over bytes. Shallow states get full DFA rows (one load per input byte);
 * deep states keep only their trie children plus a failure link, so 1,000 secrets times
 * their ~14 encodings (hundreds of thousands of states) stay within a few tens of MB.
 * Log text rarely gets past the first few bytes of a pattern, so almost every step
 * takes the dense path. At the root, filters step over bytes no match can start at: byte
 * pairs one at a time ({@link Automaton.rootSkip}) or, when every pattern has at least three
 * bytes, two at a time with aligned 16-bit loads plus a trigram check
 * ({@link Automaton.rootSkip2}); either way the scan reports exactly the hits and end state
 * of a one-step-per-byte scan (test/redact/differential.test.ts).
 */

/** One pattern to find; `id` is reported back on a match. */
export interface AutomatonPattern {
  bytes: Uint8Array;
  id: number;
}

/** Dense class-indexed entries (Int32) before deeper states fall back to sparse rows. */
const DENSE_ENTRY_BUDGET = 2 * 1024 * 1024;
/** Byte-indexed fast-path entries (Int32): 16 MB, i.e. the 16,384 shallowest states. */
const FAST_ENTRY_BUDGET = 4 * 1024 * 1024;

const TRIGRAM_SLOTS = 1 << 16;
/** Slot of a byte trigram in `rootTrigrams` (multiplicative hash, top 16 bits). */
export function trigramHash(b0: number, b1: number, b2: number): number {
  return Math.imul((b0 << 16) | (b1 << 8) | b2, 0x9e3779b1) >>> 16;
}

/** A compiled automaton; immutable, shared by every stream of one redactor version. */
export class Automaton {
  /** Byte -> input class; class 0 is "no pattern contains this byte". */
  readonly classOf = new Uint8Array(256);
  readonly classCount: number;
  /** States [0, denseRows) have full rows in `dense`; the rest use children + `fail`. */
  readonly denseRows: number;
  readonly dense: Int32Array;
  readonly fail: Int32Array;
  readonly childStart: Int32Array;
  readonly childClass: Uint8Array;
  readonly childState: Int32Array;
  /** Non-zero when some pattern ends in this state (directly or via a suffix). */
  readonly hit: Uint8Array;
  /** Longest pattern of `exactIds` ending here (0 if none) and its id. */
  readonly longestLength: Int32Array;
  readonly longestId: Int32Array;
  /** Every "all occurrences" pattern id ending here, indexed through `allIndex` (-1 if none). */
  readonly allIndex: Int32Array;
  readonly allLists: number[][] = [];
  /**
   * Bytes a stream must keep for this state: the depth of the longest suffix that can still
   * grow into a match. A leaf (complete longest pattern) needs nothing more than its suffixes.
   */
  readonly holdDepth: Int32Array;
  /** Length of the longest pattern. */
  readonly maxLength: number;
  /**
   * Fast path: 256-entry rows for the shallowest states, indexed by `row + byte`. An entry is
   * the target's row offset, or `-(target + 1)` when the target has no row or completes a
   * pattern, so the hot loop is one load and one sign test per byte.
   */
  readonly fast: Int32Array;
  /** State -> its fast row offset, or -1. */
  readonly rowOf: Int32Array;
  /**
   * Root skip filter, indexed by `byte0 << 8 | byte1`: 0 when, from the root, `byte0` completes
   * no pattern and the state after `byte0 byte1` equals the state after `byte1` alone. Then no
   * match can start at `byte0` and the scan may step over it without changing any later state
   * or hit. Most byte pairs of ordinary text qualify, and these loads do not depend on each
   * other the way automaton steps do.
   */
  readonly rootSkip: Uint8Array;
  /**
   * Wide root skip filter, indexed by a byte pair read as one little-endian 16-bit load
   * (`byte0 | byte1 << 8`): 0 when the pair is neither the first two nor the second and third
   * bytes of any pattern. Every pattern is at least three bytes long whenever this is set, so a
   * pair at (j, j+1) that is 0 here rules out a match, or a prefix still open at the end of the
   * scanned range, starting at j - 1 or j: one aligned 16-bit load and one table load step over
   * two bytes. Undefined when some pattern is shorter than three bytes or the host is not
   * little-endian; the scan then uses {@link rootSkip} alone.
   */
  readonly rootSkip2: Uint8Array | undefined;
  /**
   * With {@link rootSkip2}: 1 at `trigramHash(b0, b1, b2)` for the first three bytes of every
   * pattern (other trigrams may share a slot). A position whose next three bytes hash to 0 here
   * starts no match, nor a prefix open at the end of the range.
   */
  readonly rootTrigrams: Uint8Array | undefined;

  /**
   * @param exact patterns where only the longest one ending at each byte matters (secret values)
   * @param all patterns whose every occurrence must be reported (detector trigger prefixes)
   */
  constructor(exact: AutomatonPattern[], all: AutomatonPattern[]) {
    let classes = 1;
    for (const pattern of [...exact, ...all]) {
      for (const byte of pattern.bytes) if (this.classOf[byte] === 0) this.classOf[byte] = classes++;
    }
    const K = (this.classCount = classes);

    // Trie in insertion order, then renumbered breadth-first so shallow states come first.
    const edges = new Map<number, number>();
    const parent: number[] = [-1];
    const inClass: number[] = [0];
    const terminalExact: number[] = [-1];
    const terminalAll: number[][] = [[]];
    let maxLength = 0;
    const insert = (bytes: Uint8Array): number => {
      let node = 0;
      for (const byte of bytes) {
        const key = node * K + (this.classOf[byte] ?? 0);
        let child = edges.get(key);
        if (child === undefined) {
          child = parent.length;
          edges.set(key, child);
          parent.push(node);
          inClass.push(this.classOf[byte] ?? 0);
          terminalExact.push(-1);
          terminalAll.push([]);
        }
        node = child;
      }
      maxLength = Math.max(maxLength, bytes.length);
      return node;
    };
    for (const pattern of exact) {
      const node = insert(pattern.bytes);
      if (terminalExact[node] === -1) terminalExact[node] = pattern.id;
    }
    for (const pattern of all) terminalAll[insert(pattern.bytes)]?.push(pattern.id);
    this.maxLength = maxLength;
    const minLength = Math.min(...[...exact, ...all].map((pattern) => pattern.bytes.length));
    const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
    if (littleEndian && minLength >= 3 && Number.isFinite(minLength)) {
      const wide = new Uint8Array(256 * 256);
      for (const { bytes } of [...exact, ...all]) {
        wide[bytes[0]! | (bytes[1]! << 8)] = 1;
        wide[bytes[1]! | (bytes[2]! << 8)] = 1;
      }
      this.rootSkip2 = wide;
      this.rootTrigrams = new Uint8Array(TRIGRAM_SLOTS);
      for (const { bytes } of [...exact, ...all]) this.rootTrigrams[trigramHash(bytes[0]!, bytes[1]!, bytes[2]!)] = 1;
    }

    const n = parent.length;
    const childCount = new Int32Array(n);
    for (let v = 1; v < n; v++) childCount[parent[v] ?? 0]!++;
    const oldStart = new Int32Array(n + 1);
    for (let v = 0; v < n; v++) oldStart[v + 1] = oldStart[v]! + childCount[v]!;
    const oldChildren = new Int32Array(Math.max(0, n - 1));
    const fill = oldStart.slice(0, n);
    for (let v = 1; v < n; v++) oldChildren[fill[parent[v] ?? 0]!++] = v;

    const order = new Int32Array(n); // new id -> old id
    const newId = new Int32Array(n);
    let tail = 1;
    for (let head = 0; head < tail; head++) {
      const old = order[head]!;
      for (let i = oldStart[old]!; i < oldStart[old + 1]!; i++) {
        const child = oldChildren[i]!;
        newId[child] = tail;
        order[tail++] = child;
      }
    }

    this.childStart = new Int32Array(n + 1);
    this.childClass = new Uint8Array(Math.max(0, n - 1));
    this.childState = new Int32Array(Math.max(0, n - 1));
    const depth = new Int32Array(n);
    let next = 0;
    for (let s = 0; s < n; s++) {
      this.childStart[s] = next;
      const old = order[s]!;
      for (let i = oldStart[old]!; i < oldStart[old + 1]!; i++) {
        const child = newId[oldChildren[i]!]!;
        this.childClass[next] = inClass[oldChildren[i]!] ?? 0;
        this.childState[next++] = child;
        depth[child] = depth[s]! + 1;
      }
    }
    this.childStart[n] = next;

    this.fail = new Int32Array(n);
    this.hit = new Uint8Array(n);
    this.longestLength = new Int32Array(n);
    this.longestId = new Int32Array(n).fill(-1);
    this.allIndex = new Int32Array(n).fill(-1);
    this.holdDepth = new Int32Array(n);
    this.denseRows = Math.max(1, Math.min(n, Math.floor(DENSE_ENTRY_BUDGET / K)));
    this.dense = new Int32Array(this.denseRows * K);

    for (let s = 0; s < n; s++) {
      // Breadth-first order guarantees every failure target (shallower) is already complete.
      for (let i = this.childStart[s]!; i < this.childStart[s + 1]!; i++) {
        const child = this.childState[i]!;
        this.fail[child] = s === 0 ? 0 : this.step(this.fail[s]!, this.childClass[i]!);
      }
      const old = order[s]!;
      const f = this.fail[s]!;
      const ownExact = terminalExact[old] ?? -1;
      if (s !== 0 && ownExact >= 0) {
        this.longestLength[s] = depth[s]!;
        this.longestId[s] = ownExact;
      } else if (s !== 0) {
        this.longestLength[s] = this.longestLength[f]!;
        this.longestId[s] = this.longestId[f]!;
      }
      const inherited = s === 0 ? [] : (this.allLists[this.allIndex[f]!] ?? []);
      const own = terminalAll[old] ?? [];
      if (own.length + inherited.length > 0) {
        this.allIndex[s] = this.allLists.length;
        this.allLists.push([...own, ...inherited]);
      }
      this.hit[s] = this.longestLength[s]! > 0 || this.allIndex[s]! >= 0 ? 1 : 0;
      const hasChildren = this.childStart[s + 1]! > this.childStart[s]!;
      this.holdDepth[s] = hasChildren || s === 0 ? depth[s]! : this.holdDepth[f]!;
      if (s < this.denseRows) {
        const row = s * K;
        for (let c = 0; c < K; c++) this.dense[row + c] = s === 0 ? 0 : this.dense[f * K + c]!;
        for (let i = this.childStart[s]!; i < this.childStart[s + 1]!; i++) this.dense[row + this.childClass[i]!] = this.childState[i]!;
      }
    }

    const fastRows = Math.max(1, Math.min(n, Math.floor(FAST_ENTRY_BUDGET / 256)));
    this.rowOf = new Int32Array(n).fill(-1);
    for (let s = 0; s < fastRows; s++) this.rowOf[s] = s * 256;
    this.fast = new Int32Array(fastRows * 256);
    for (let s = 0; s < fastRows; s++) {
      for (let byte = 0; byte < 256; byte++) {
        const target = this.step(s, this.classOf[byte]!);
        const row = this.rowOf[target]!;
        this.fast[s * 256 + byte] = row >= 0 && this.hit[target] === 0 ? row : -(target + 1);
      }
    }
    this.rootSkip = new Uint8Array(256 * 256);
    for (let first = 0; first < 256; first++) {
      const after = this.step(0, this.classOf[first]!);
      for (let second = 0; second < 256; second++) {
        const c = this.classOf[second]!;
        const keep = this.hit[after] !== 0 || this.step(after, c) !== this.step(0, c);
        this.rootSkip[(first << 8) | second] = keep ? 1 : 0;
      }
    }
  }

  /** Number of states (for diagnostics and memory estimates). */
  get stateCount(): number {
    return this.fail.length;
  }

  /** Transition from `state` on input class `c`, following failure links for sparse states. */
  step(state: number, c: number): number {
    let s = state;
    for (;;) {
      if (s < this.denseRows) return this.dense[s * this.classCount + c]!;
      for (let i = this.childStart[s]!, end = this.childStart[s + 1]!; i < end; i++) {
        if (this.childClass[i] === c) return this.childState[i]!;
      }
      s = this.fail[s]!;
    }
  }

  /**
   * Runs the automaton over `bytes[from, to)` starting in `state`; calls `onHit(state, index)`
   * after every byte that completes a pattern. Returns the final state.
   */
  scan(bytes: Uint8Array, from: number, to: number, state: number, onHit: (state: number, index: number) => void): number {
    const { fast, rowOf, hit, classOf, rootSkip, rootSkip2, rootTrigrams } = this;
    // Aligned 16-bit view of the underlying buffer: element k holds the bytes at buffer
    // offsets 2k and 2k + 1, i.e. `bytes[2k - off]` and `bytes[2k + 1 - off]`. Only elements
    // lying entirely inside `bytes[from, to)` are read (bytes outside it never affect the
    // result). Short ranges skip the view: creating it costs more than it saves there.
    const off = bytes.byteOffset;
    const pairs = rootSkip2 !== undefined && to - from >= 64 ? new Uint16Array(bytes.buffer, 0, (off + to) >>> 1) : undefined;
    const pairLimit = (off + to) >>> 1;
    let s = state;
    let i = from;
    for (;;) {
      const row = rowOf[s]!;
      if (row >= 0) {
        let v = row;
        for (;;) {
          // At the root (row 0, never a hit): step over bytes no match can start at.
          if (v === 0) {
            if (pairs !== undefined) {
              let k = (off + i + 1) >>> 1;
              for (;;) {
                while (k < pairLimit && rootSkip2![pairs[k]!] === 0) k++;
                // Pairs before k ruled out every start up to 2k - 2 (or before i); the pair at k
                // may start a match at 2k - 1 or 2k: check both starts' trigrams, and continue
                // at the root from the first that passes. A start ruled out by its trigram can
                // only differ from a plain scan in the state right after its second byte, which
                // is never a hit (patterns have three bytes or more) nor the returned state.
                const at = 2 * k - off;
                if (k >= pairLimit || at + 2 >= to) {
                  if (at - 1 > i) i = at - 1;
                  while (i + 1 < to && rootSkip[(bytes[i]! << 8) | bytes[i + 1]!] === 0) i++;
                  break;
                }
                const b1 = bytes[at]!;
                const b2 = bytes[at + 1]!;
                if (at - 1 >= i && rootTrigrams![trigramHash(bytes[at - 1]!, b1, b2)] !== 0) {
                  i = at - 1;
                  break;
                }
                if (rootTrigrams![trigramHash(b1, b2, bytes[at + 2]!)] !== 0) {
                  i = at;
                  break;
                }
                k++;
              }
            } else while (i + 1 < to && rootSkip[(bytes[i]! << 8) | bytes[i + 1]!] === 0) i++;
          }
          if (i >= to) break;
          v = fast[v + bytes[i++]!]!;
          if (v < 0) break;
        }
        if (v >= 0) return v >>> 8;
        s = -v - 1;
      } else {
        if (i >= to) return s;
        s = this.step(s, classOf[bytes[i++]!]!);
      }
      if (hit[s] !== 0) onHit(s, i - 1);
      if (i >= to) return s;
    }
  }
}
