import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { files } from "./layout.ts";
import { type Hash, fromHex, toHex } from "./merkle.ts";
import { type SigningKey, sign, verifySignature } from "./keys.ts";

/**
 * A signed statement "the log had `treeSize` entries and this Merkle root". One per line in
 * checkpoints.jsonl, appended under the log lock, never rewritten.
 */
export interface Checkpoint {
  v: 1;
  treeSize: number;
  /** RFC 9162 root hash, hex. */
  rootHash: string;
  time: string;
  /** First 16 hex of SHA-256(public key). */
  keyId: string;
  /** ed25519 signature over {@link checkpointMessage}, hex. */
  signature: string;
}

/**
 * The signed bytes: a fixed text form (one field per line) rather than JSON, so a verifier in
 * any language rebuilds it without a canonical-JSON implementation.
 */
export function checkpointMessage(c: Pick<Checkpoint, "treeSize" | "rootHash" | "time" | "keyId">): Uint8Array {
  return new TextEncoder().encode(`aegisclaw-audit-checkpoint v1\n${c.keyId}\n${c.treeSize}\n${c.rootHash}\n${c.time}\n`);
}

/** Builds and signs a checkpoint for the tree of `treeSize` entries with `root`. */
export function signCheckpoint(key: SigningKey, treeSize: number, root: Hash): Checkpoint {
  const body = { treeSize, rootHash: toHex(root), time: new Date().toISOString(), keyId: key.keyId };
  return { v: 1, ...body, signature: toHex(sign(key, checkpointMessage(body))) };
}

/** Why a checkpoint is not acceptable, or undefined when it is signed by `publicKey`. */
export function checkCheckpoint(c: Checkpoint, publicKey: Uint8Array, keyId: string): string | undefined {
  if (c.keyId !== keyId) return `signed by key ${c.keyId}, not by this log's key ${keyId}`;
  let signature: Uint8Array;
  try {
    signature = fromHex(c.signature);
  } catch {
    return "signature is not hex";
  }
  return verifySignature(publicKey, checkpointMessage(c), signature) ? undefined : "signature does not verify";
}

/** Appends one checkpoint line and fsyncs it. Caller holds the log lock. */
export function appendCheckpoint(dir: string, checkpoint: Checkpoint): void {
  const fd = openSync(join(dir, files.checkpoints), "a", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(checkpoint)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** One parsed line of checkpoints.jsonl, or why it could not be parsed. */
export type CheckpointLine = { line: number; checkpoint: Checkpoint } | { line: number; error: string };

/** Parses checkpoints.jsonl (missing file = no lines). A torn last line is reported as an error line. */
export function readCheckpoints(dir: string, text?: string): CheckpointLine[] {
  let content = text;
  if (content === undefined) {
    try {
      content = readFileSync(join(dir, files.checkpoints), "utf8");
    } catch {
      return [];
    }
  }
  const out: CheckpointLine[] = [];
  const lines = content.split("\n");
  const complete = content.endsWith("\n") || content === "" ? lines.slice(0, -1) : lines;
  complete.forEach((raw, i) => {
    const line = i + 1;
    if (i === lines.length - 1 && !content.endsWith("\n")) {
      out.push({ line, error: "incomplete last line (crash while writing a checkpoint?)" });
      return;
    }
    const parsed = parseCheckpoint(raw);
    out.push(typeof parsed === "string" ? { line, error: parsed } : { line, checkpoint: parsed });
  });
  return out;
}

function parseCheckpoint(raw: string): Checkpoint | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return "not JSON";
  }
  const c = value as Partial<Checkpoint>;
  if (
    typeof c !== "object" || c === null || c.v !== 1 || typeof c.treeSize !== "number" || !Number.isSafeInteger(c.treeSize) || c.treeSize < 0 ||
    typeof c.rootHash !== "string" || !/^[0-9a-f]{64}$/.test(c.rootHash) || typeof c.time !== "string" ||
    typeof c.keyId !== "string" || typeof c.signature !== "string"
  ) {
    return "malformed checkpoint";
  }
  return c as Checkpoint;
}
