/**
 * RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proofs.
 * leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right), empty tree = SHA-256("").
 * Audit paths are ordered leaf to root, exactly as RFC 9162 section 2.1.3 and
 * transparency-dev/merkle expect them, so third parties can verify with stock libraries.
 */

/** A 32-byte SHA-256 digest. */
export type Hash = Uint8Array;

const LEAF_PREFIX = new Uint8Array([0]);
const NODE_PREFIX = new Uint8Array([1]);
// One reusable hasher: Bun resets it after digest(), and allocating one per hash costs 2x.
const hasher = new Bun.CryptoHasher("sha256");

/** RFC 9162 leaf hash of `data` (text is hashed as its UTF-8 bytes, without a copy). */
export function leafHash(data: Uint8Array | string): Hash {
  hasher.update(LEAF_PREFIX);
  hasher.update(data);
  return new Uint8Array(hasher.digest());
}

/** RFC 9162 interior node hash. */
export function nodeHash(left: Hash, right: Hash): Hash {
  hasher.update(NODE_PREFIX);
  hasher.update(left);
  hasher.update(right);
  return new Uint8Array(hasher.digest());
}

/** Root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Hash = new Uint8Array(new Bun.CryptoHasher("sha256").digest());

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");

/**
 * Writes the lower-case hex ASCII of `bytes` into `out` (2 bytes per input byte). The
 * verifier compares stored `prev` fields byte-wise against this, since building a hex string
 * per entry costs more than hashing the entry.
 */
export function hexInto(bytes: Uint8Array, out: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    out[2 * i] = HEX_DIGITS[b >> 4] as number;
    out[2 * i + 1] = HEX_DIGITS[b & 15] as number;
  }
  return out;
}

/** Bytes of a hex string; throws on odd length or non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError("invalid hex");
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Constant-time equality of two byte strings (length is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Number of set bits; safe beyond 2^32 unlike `>>>`-based tricks. */
export function popcount(n: number): number {
  let count = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) count += x % 2;
  return count;
}

/** Largest power of two strictly less than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The "compact range" of a tree: roots of the perfect subtrees that make up the first `size`
 * leaves, largest first. Appends are O(log n) and the root is a fold of at most log n peaks.
 */
export class Frontier {
  size = 0;
  readonly peaks: Hash[] = [];

  /** Restores a frontier from known peaks (largest subtree first). */
  static from(size: number, peaks: Hash[]): Frontier {
    if (peaks.length !== popcount(size)) throw new RangeError("peak count does not match tree size");
    const frontier = new Frontier();
    frontier.size = size;
    frontier.peaks.push(...peaks);
    return frontier;
  }

  /**
   * Adds a leaf. Returns the leaf and every node it completes, lowest first: this is the
   * post-order sequence the tree store appends, so node positions never need a second pass.
   */
  push(leaf: Hash): Hash[] {
    const created = [leaf];
    let node = leaf;
    for (let n = this.size; n % 2 === 1; n = Math.floor(n / 2)) {
      const left = this.peaks.pop();
      if (!left) throw new Error("frontier corrupted");
      node = nodeHash(left, node);
      created.push(node);
    }
    this.peaks.push(node);
    this.size += 1;
    return created;
  }

  /** Root hash of the current tree. */
  root(): Hash {
    let root = this.peaks[this.peaks.length - 1];
    if (!root) return EMPTY_ROOT;
    for (let i = this.peaks.length - 2; i >= 0; i--) root = nodeHash(this.peaks[i] as Hash, root);
    return root;
  }
}

/** Reads the hash of the perfect subtree at `level` covering leaves [index·2^level, (index+1)·2^level). */
export type NodeReader = (level: number, index: number) => Hash;

/** MTH(D[start : start+size]) from stored perfect subtrees; every subtree RFC 9162 recursion visits is aligned. */
export function subtreeHash(read: NodeReader, start: number, size: number): Hash {
  if (size === 0) return EMPTY_ROOT;
  if ((size & (size - 1)) === 0 && size <= 2 ** 30 && start % size === 0) {
    return read(Math.log2(size), start / size);
  }
  const k = splitPoint(size);
  return nodeHash(subtreeHash(read, start, k), subtreeHash(read, start + k, size - k));
}

/** RFC 9162 PATH(index, D[0:size]), leaf to root. */
export function inclusionPath(read: NodeReader, index: number, size: number): Hash[] {
  if (index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  const path: Hash[] = [];
  const walk = (m: number, start: number, n: number): void => {
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, start, k);
      path.push(subtreeHash(read, start + k, n - k));
    } else {
      walk(m - k, start + k, n - k);
      path.push(subtreeHash(read, start, k));
    }
  };
  walk(index, 0, size);
  return path;
}

/** RFC 9162 PROOF(oldSize, D[0:newSize]); empty when the sizes are equal or oldSize is 0. */
export function consistencyPath(read: NodeReader, oldSize: number, newSize: number): Hash[] {
  if (oldSize < 0 || oldSize > newSize) throw new RangeError(`cannot prove size ${oldSize} against size ${newSize}`);
  const proof: Hash[] = [];
  if (oldSize === 0 || oldSize === newSize) return proof;
  const sub = (m: number, start: number, n: number, complete: boolean): void => {
    if (m === n) {
      if (!complete) proof.push(subtreeHash(read, start, n));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, k, complete);
      proof.push(subtreeHash(read, start + k, n - k));
    } else {
      sub(m - k, start + k, n - k, false);
      proof.push(subtreeHash(read, start, k));
    }
  };
  sub(oldSize, 0, newSize, true);
  return proof;
}

const half = (x: number): number => Math.floor(x / 2);
const odd = (x: number): boolean => x % 2 === 1;

/** RFC 9162 section 2.1.3.2: does `path` prove `leaf` at `index` in the tree with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Hash, path: Hash[], root: Hash): boolean {
  if (index >= size || index < 0) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(r, root);
}

/** RFC 9162 section 2.1.4.2: is the tree (newSize, newRoot) an append-only extension of (oldSize, oldRoot)? */
export function verifyConsistency(oldSize: number, newSize: number, path: Hash[], oldRoot: Hash, newRoot: Hash): boolean {
  if (oldSize > newSize || oldSize < 0) return false;
  if (oldSize === newSize) return path.length === 0 && equalBytes(oldRoot, newRoot);
  if (oldSize === 0) return path.length === 0;
  if (path.length === 0) return false;
  const nodes = (oldSize & (oldSize - 1)) === 0 && oldSize <= 2 ** 30 ? [oldRoot, ...path] : [...path];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = nodes[0] as Hash;
  let sr = nodes[0] as Hash;
  for (const c of nodes.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
}

/** Reads perfect subtrees of an in-memory list of leaf hashes (tests, small trees, rebuilds). */
export function memoryReader(leaves: Hash[]): NodeReader {
  const read: NodeReader = (level, index) => {
    if (level === 0) {
      const leaf = leaves[index];
      if (!leaf) throw new RangeError(`no leaf ${index}`);
      return leaf;
    }
    return nodeHash(read(level - 1, index * 2), read(level - 1, index * 2 + 1));
  };
  return read;
}
