/**
 * Incremental parser for Docker's multiplexed attach stream (Tty false): each frame is an
 * 8-byte header — stream type (1 stdout, 2 stderr), three zero bytes, big-endian payload
 * length — followed by the payload. Frames arrive split across chunks arbitrarily, so the
 * parser buffers only the unfinished header and hands payload bytes on as soon as they arrive
 * (a long frame is forwarded piecewise, which keeps streaming live).
 */

/** Which output stream a payload belongs to. */
export type StreamName = "stdout" | "stderr";

const HEADER_BYTES = 8;

/** Returns a push function; call it with every chunk read from the attach stream. */
export function createDemuxer(onPayload: (stream: StreamName, bytes: Uint8Array) => void): (chunk: Uint8Array) => void {
  const header = new Uint8Array(HEADER_BYTES);
  let headerFill = 0;
  let remaining = 0;
  let current: StreamName | undefined;

  return (chunk: Uint8Array) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (remaining === 0) {
        const take = Math.min(HEADER_BYTES - headerFill, chunk.length - offset);
        header.set(chunk.subarray(offset, offset + take), headerFill);
        headerFill += take;
        offset += take;
        if (headerFill < HEADER_BYTES) return;
        headerFill = 0;
        remaining = new DataView(header.buffer).getUint32(4, false);
        // Type 0 (stdin echo) and unknown types are dropped rather than misfiled as stdout.
        current = header[0] === 1 ? "stdout" : header[0] === 2 ? "stderr" : undefined;
        continue;
      }
      const take = Math.min(remaining, chunk.length - offset);
      if (current) onPayload(current, chunk.slice(offset, offset + take));
      remaining -= take;
      offset += take;
    }
  };
}
