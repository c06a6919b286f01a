import { closeSync, fsync, openSync, readSync, writeSync } from "node:fs";

/** Bytes [start, end) of a file. */
export function readRange(path: string, start: number, end: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const out = new Uint8Array(end - start);
    let done = 0;
    while (done < out.length) {
      const n = readSync(fd, out, done, out.length - done, start + done);
      if (n === 0) break;
      done += n;
    }
    return out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends `text` (whole lines) and resolves once it is fsynced: the durability promise of
 * append(). The write goes to the page cache synchronously; the fsync runs on a worker thread,
 * so the event loop keeps taking requests while the disk flushes and the next group commit
 * gathers them (a synchronous fsync stalled every request and left batches of a few entries).
 * `written` is called once the bytes are in the file, before the fsync.
 */
export async function appendDurably(path: string, text: string, written?: () => void): Promise<void> {
  const fd = openSync(path, "a", 0o600);
  try {
    const bytes = Buffer.from(text);
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    // Readers see the lines from now on, before the flush: announced now, they are not read back.
    written?.();
    await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
  } finally {
    closeSync(fd);
  }
}
