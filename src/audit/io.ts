import { closeSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";

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

/** Appends `text` (whole lines) and fsyncs before returning: the durability promise of append(). */
export function appendDurably(path: string, text: string): void {
  const fd = openSync(path, "a", 0o600);
  try {
    const bytes = Buffer.from(text);
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
