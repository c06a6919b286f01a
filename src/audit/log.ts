import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { AegisError, canonicalJson, FileLock, fsyncDir } from "../shared/index.ts";
import { appendCheckpoint, type Checkpoint, readCheckpoints, signCheckpoint } from "./checkpoints.ts";
import { appendDurably, readRange } from "./io.ts";
import { loadSigningKey, type SigningKey } from "./keys.ts";
import { files, segmentName, segmentPath, splitLines } from "./layout.ts";
import { Frontier, type Hash, leafHash, toHex } from "./merkle.ts";
import { type AuditEntry, MAX_LINE_BYTES } from "./constants.ts";
import type { AuditRecord } from "./schema.ts";
import { historyFacts, type WrittenLines } from "./recent-tail.ts";
import { loadTail, type Recovery, seqOf, type TailState } from "./tail.ts";
import { nodesFor, nodePosition, TreeStore } from "./tree-store.ts";
import { rebuildTree } from "./rebuild.ts";

/** Tuning for {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** Write a signed checkpoint whenever the log crosses a multiple of this many entries (default 1000). */
  checkpointEvery?: number;
  /** Start a new segment file once the current one would exceed this size (default 64 MiB). */
  segmentMaxBytes?: number;
  /** Give up waiting for another process's lock after this long (default 10 s). */
  lockTimeoutMs?: number;
}

interface Pending {
  record: AuditRecord;
  resolve: (entry: AuditEntry) => void;
  reject: (error: unknown) => void;
}

const SYSTEM = { name: "aegisclaw", source: "system" } as const;

/** The lines of one batch that go to one segment, [start, end) in its bytes. */
interface Chunk {
  segment: number;
  start: number;
  end: number;
  lines: string[];
  entries: AuditEntry[];
}

/**
 * The append side of the audit log. Appends from one process are group-committed (one
 * write + fsync per batch); appends from several processes are serialised by flock(2) on
 * `lock`, and each batch first reads whatever other processes appended, so the chain never
 * forks. `append` resolves only after the entry's bytes are fsynced.
 */
export class AuditLog {
  private pending: Pending[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;
  private reloadNeeded = false;
  /** Appends made before the schema had loaded, not queued yet (later ones must not overtake them). */
  private waitingForSchema = 0;
  /** The end of the queue of work waiting for the file lock in this process (see withLock). */
  private lockTurn: Promise<unknown> = Promise.resolve();
  private tail!: TailState;
  private frontier!: Frontier;
  private readonly writtenListeners = new Set<(lines: WrittenLines) => void>();

  private constructor(
    readonly dir: string,
    private readonly key: SigningKey,
    private readonly lock: FileLock,
    private readonly tree: TreeStore,
    private readonly checkpointEvery: number,
    private readonly segmentMaxBytes: number,
    private readonly lockTimeoutMs: number,
  ) {}

  /**
   * Opens the log in `dir` (created by {@link initAuditDir}), recovering from a crash first:
   * a torn final line is cut off and a `recovery` entry records how many bytes were dropped.
   */
  static async open(dir: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    const key = loadSigningKey(dir);
    const lock = await FileLock.open(join(dir, files.lock));
    const log = new AuditLog(
      dir,
      key,
      lock,
      TreeStore.open(join(dir, files.tree)),
      positive(options.checkpointEvery ?? 1000, "checkpointEvery"),
      positive(options.segmentMaxBytes ?? 64 * 1024 * 1024, "segmentMaxBytes"),
      options.lockTimeoutMs ?? 10_000,
    );
    await log.withLock(async () => {
      const recoveries = log.reload();
      if (recoveries.length > 0) await log.writeBatch(recoveries.map(recoveryRecord));
    });
    return log;
  }

  /** Number of entries known to this process (the seq of the last entry it has seen). */
  get size(): number {
    return this.tail.count;
  }

  /**
   * Validates and appends one record; resolves with the stored entry once it is on disk
   * (fsync). A schema-invalid record is rejected with AegisError("bad-input") and nothing is
   * written.
   */
  append(record: AuditRecord): Promise<AuditEntry> {
    if (this.closed) return Promise.reject(new AegisError("internal", "audit log is closed"));
    // The schema loads on first use; callbacks on one promise run in order, so appends keep
    // theirs. Once it is loaded and nothing waits for it, appends queue at once (no extra turn).
    if (loadedSchema && this.waitingForSchema === 0) return this.enqueue(loadedSchema, record);
    this.waitingForSchema++;
    return loadSchema().then((schema) => {
      this.waitingForSchema--;
      return this.enqueue(schema, record);
    });
  }

  private enqueue(schema: typeof import("./schema.ts"), record: AuditRecord): Promise<AuditEntry> {
    const parsed = schema.AuditRecord.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
      return Promise.reject(new AegisError("bad-input", `invalid audit record${where}: ${issue?.message ?? "schema mismatch"}`));
    }
    // Its line is serialised and size-checked once, when written (writeBatch refuses it alone).
    return new Promise((resolve, reject) => {
      this.pending.push({ record: parsed.data, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /**
   * Calls `listener` with each range of lines this handle writes, as soon as they are in the
   * file (before the fsync; see RecentTail.noteWritten: the history need not read its own
   * process's appends back).
   * Returns the unsubscribe function.
   */
  onWritten(listener: (lines: WrittenLines) => void): () => void {
    this.writtenListeners.add(listener);
    return () => this.writtenListeners.delete(listener);
  }

  /** Writes a signed checkpoint of the current tree now. */
  async checkpoint(): Promise<Checkpoint> {
    await this.draining;
    return this.withLock(async () => {
      this.sync();
      return this.writeCheckpoint();
    });
  }

  /** Flushes pending appends, writes a checkpoint if the log grew since the latest one, and releases files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.draining;
    try {
      await this.withLock(async () => {
        this.sync();
        const all = readCheckpoints(this.dir);
        const latest = all[all.length - 1];
        const latestSize = latest && "checkpoint" in latest ? latest.checkpoint.treeSize : -1;
        if (latestSize !== this.tail.count) this.writeCheckpoint();
      });
    } finally {
      this.lock.close();
      this.tree.close();
    }
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      let batch: Pending[] = [];
      try {
        const entries = await this.withLock(async () => {
          // The batch is taken once the lock is held and the event loop has had one more turn:
          // appends that arrived meanwhile share this write + fsync (each batch costs ~0.2 ms of
          // CPU, mostly in the kernel; decide throughput rose ~8-10% under wrk).
          await new Promise((resolve) => setImmediate(resolve));
          batch = this.pending.splice(0, 512);
          const recoveries = this.sync();
          const written = await this.writeBatch([...recoveries.map(recoveryRecord), ...batch.map((item) => item.record)]);
          return written.slice(recoveries.length);
        });
        batch.forEach((item, i) => {
          const entry = entries[i];
          if (entry instanceof AegisError) item.reject(entry);
          else item.resolve(entry as AuditEntry);
        });
      } catch (error) {
        // Failed before the batch was taken (the lock never came): the appends that waited for it fail.
        if (batch.length === 0) batch = this.pending.splice(0, 512);
        batch.forEach((item) => item.reject(error));
      }
    }
    // Cleared in the same synchronous step as the empty-queue check, so an append made by a
    // resolved caller can never find a draining promise that is about to stop.
    this.draining = undefined;
  }

  /**
   * Runs `work` holding the file lock, after every earlier caller in this process: the lock
   * excludes other processes only, and a batch keeps it across its (asynchronous) fsync, so a
   * checkpoint or close asked for meanwhile waits its turn instead of failing as a second holder.
   */
  private withLock<T>(work: () => Promise<T> | T): Promise<T> {
    const turn = this.lockTurn.then(() => this.locked(work));
    this.lockTurn = turn.catch(() => undefined);
    return turn;
  }

  private async locked<T>(work: () => Promise<T> | T): Promise<T> {
    await this.lock.acquire({ timeoutMs: this.lockTimeoutMs });
    try {
      return await work();
    } catch (error) {
      // Memory may be ahead of disk after a failed write: start from the files next time.
      this.reloadNeeded = true;
      throw error;
    } finally {
      this.lock.release();
    }
  }

  /** Re-reads the end of the log and the tree cache from disk (under the lock). */
  private reload(): Recovery[] {
    this.tail = loadTail(this.dir);
    const { count, lastHash } = this.tail;
    const stored = this.tree.nodeCount();
    const expected = nodesFor(count);
    const leafMatches = count === 0 || (stored >= expected && toHex(this.tree.readPosition(nodePosition(0, count - 1))) === lastHash);
    if (stored >= expected && leafMatches) {
      if (stored > expected) this.tree.truncate(expected);
      this.frontier = Frontier.from(count, this.tree.peaks(count));
    } else {
      this.frontier = rebuildTree(this.dir, this.tree, count);
    }
    this.reloadNeeded = false;
    return this.tail.recoveries;
  }

  /**
   * Catches up with entries other processes appended since our last look (under the lock),
   * checking that they continue our chain. Returns recoveries to record if a crashed writer
   * left a torn line.
   */
  private sync(): Recovery[] {
    if (this.reloadNeeded) return this.reload();
    const before = this.tail.count;
    const created: Hash[] = [];
    for (;;) {
      const path = segmentPath(this.dir, this.tail.segment);
      const size = statSync(path).size;
      if (size < this.tail.offset) throw new AegisError("integrity", `${segmentName(this.tail.segment)} shrank while open`, { hint: "run `aegisclaw logs verify`" });
      const nextExists = existsSync(segmentPath(this.dir, this.tail.segment + 1));
      if (size > this.tail.offset) {
        const bytes = readRange(path, this.tail.offset, size);
        const { lines, tornBytes } = splitLines(bytes);
        // A torn line in the last segment is a crashed writer: reload() recovers it.
        if (tornBytes > 0 && !nextExists) return this.reload();
        for (const [start, end] of lines) created.push(...this.ingest(bytes.subarray(start, end)));
        this.tail.offset = size - tornBytes;
      }
      if (!nextExists) break;
      this.tail.segment += 1;
      this.tail.offset = 0;
    }
    if (created.length > 0) this.repairTree(before, created);
    return [];
  }

  private ingest(line: Uint8Array): Hash[] {
    const seq = seqOf(line);
    const value = seq === undefined ? undefined : (JSON.parse(Buffer.from(line).toString("utf8")) as { prev?: unknown });
    if (seq !== this.tail.count + 1 || value?.prev !== this.tail.lastHash) {
      throw new AegisError("integrity", `audit entry after seq ${this.tail.count} does not continue the chain`, { hint: "run `aegisclaw logs verify`" });
    }
    const hash = leafHash(line);
    this.tail.count = seq;
    this.tail.lastHash = toHex(hash);
    return this.frontier.push(hash);
  }

  /** Makes tree.bin hold the nodes of entries other processes appended (a crashed one may not have written them). */
  private repairTree(before: number, created: Hash[]): void {
    const stored = this.tree.nodeCount();
    if (stored === nodesFor(this.tail.count)) return;
    if (stored < nodesFor(before)) {
      this.frontier = rebuildTree(this.dir, this.tree, this.tail.count);
      return;
    }
    this.tree.truncate(nodesFor(before));
    this.tree.write(nodesFor(before), created);
  }

  /**
   * Serialises, writes and fsyncs `records` as consecutive entries. Lock held, state synced. A
   * record whose line cannot be serialised or is too long gets its error in its place and takes
   * no seq; the others are written.
   */
  private async writeBatch(records: AuditRecord[]): Promise<Array<AuditEntry | AegisError>> {
    const startCount = this.tail.count;
    const entries: AuditEntry[] = [];
    const created: Hash[] = [];
    const chunks: Chunk[] = [{ segment: this.tail.segment, start: this.tail.offset, end: this.tail.offset, lines: [], entries: [] }];
    let segment = this.tail.segment;
    let offset = this.tail.offset;
    let prev = this.tail.lastHash;
    const results: Array<AuditEntry | AegisError> = [];
    for (const record of records) {
      const body = { ...record, seq: startCount + entries.length + 1, time: new Date().toISOString(), prev };
      let line: string;
      let length: number;
      try {
        line = canonicalJson(body);
        length = Buffer.byteLength(line);
        if (length > MAX_LINE_BYTES) throw new RangeError(`larger than ${MAX_LINE_BYTES} bytes`);
      } catch (error) {
        results.push(new AegisError("bad-input", `invalid audit record: ${(error as Error).message}`));
        continue;
      }
      if (offset > 0 && offset + length + 1 > this.segmentMaxBytes) {
        segment += 1;
        offset = 0;
        chunks.push({ segment, start: 0, end: 0, lines: [], entries: [] });
      }
      const chunk = chunks[chunks.length - 1] as Chunk;
      chunk.lines.push(line);
      offset += length + 1;
      chunk.end = offset;
      const hash = leafHash(line);
      prev = toHex(hash);
      created.push(...this.frontier.push(hash));
      const entry = { ...body, hash: prev };
      entries.push(entry);
      chunk.entries.push(entry);
      results.push(entry);
    }
    for (const chunk of chunks) {
      if (chunk.lines.length > 0) await appendDurably(segmentPath(this.dir, chunk.segment), `${chunk.lines.join("\n")}\n`, () => this.announce(chunk));
    }
    if (segment !== this.tail.segment) fsyncDir(this.dir);
    this.tail = { ...this.tail, segment, offset, count: startCount + entries.length, lastHash: prev };
    this.tree.write(nodesFor(startCount), created);
    if (Math.floor(startCount / this.checkpointEvery) < Math.floor(this.tail.count / this.checkpointEvery)) this.writeCheckpoint();
    return results;
  }

  private announce(chunk: Chunk): void {
    if (this.writtenListeners.size === 0) return;
    const lines = { segment: chunk.segment, start: chunk.start, end: chunk.end, facts: historyFacts(chunk.entries) };
    for (const listener of this.writtenListeners) {
      try {
        listener(lines);
      } catch {
        // A listener's failure is its own: the lines are written either way.
      }
    }
  }

  private writeCheckpoint(): Checkpoint {
    const checkpoint = signCheckpoint(this.key, this.tail.count, this.frontier.root());
    appendCheckpoint(this.dir, checkpoint);
    return checkpoint;
  }
}

function recoveryRecord(recovery: Recovery): AuditRecord {
  return {
    type: "recovery",
    actor: SYSTEM,
    recovery,
    note: `cut ${recovery.droppedBytes} torn byte(s) from the end of ${recovery.segment} after a crash; every acknowledged entry is intact`,
  };
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new AegisError("bad-input", `audit ${name} must be a positive integer, got ${value}`);
  return value;
}

let schemaModule: Promise<typeof import("./schema.ts")> | undefined;
let loadedSchema: typeof import("./schema.ts") | undefined;
/** The zod schema of records, loaded once: readers and `logs verify` never pay for it. */
function loadSchema(): Promise<typeof import("./schema.ts")> {
  schemaModule ??= import("./schema.ts").then((schema) => (loadedSchema = schema));
  return schemaModule;
}
