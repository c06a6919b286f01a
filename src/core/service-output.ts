/**
 * The output of a multi-container run's other services (SandboxIo.service): per service and
 * stream its own redaction stream and line buffer, so a secret split across one service's writes
 * is still caught and no service's bytes are interleaved with another's before redaction. Whole
 * lines go out prefixed with `[service] `, never splitting the main service's lines.
 */
import type { Redactor } from "../redact/index.ts";

/** Longest line of a service's output held back waiting for its newline. */
const MAX_SERVICE_LINE = 16 * 1024;

/** Services' output, redacted per stream, as prefixed whole lines to `emitLine` (flush at the end). */
export class ServiceOutput {
  private readonly streams = new Map<string, { push(chunk: Uint8Array): void; flush(): void }>();

  constructor(
    private readonly redactor: Redactor,
    private readonly emitLine: (line: Uint8Array) => void,
  ) {}

  sink(name: string): { stdout(chunk: Uint8Array): void; stderr(chunk: Uint8Array): void } {
    const stream = (kind: "stdout" | "stderr") => {
      const key = `${name}\0${kind}`;
      let found = this.streams.get(key);
      if (!found) this.streams.set(key, (found = this.lines(name)));
      return found;
    };
    return { stdout: (chunk) => stream("stdout").push(chunk), stderr: (chunk) => stream("stderr").push(chunk) };
  }

  flush(): void {
    for (const stream of this.streams.values()) stream.flush();
  }

  private lines(name: string): { push(chunk: Uint8Array): void; flush(): void } {
    const redacting = this.redactor.stream();
    const prefix = new TextEncoder().encode(`[${name}] `);
    let pending = new Uint8Array(0);
    const out = (line: Uint8Array, newline: boolean) => {
      const bytes = new Uint8Array(prefix.length + line.length + (newline ? 1 : 0));
      bytes.set(prefix);
      bytes.set(line, prefix.length);
      if (newline) bytes[bytes.length - 1] = 0x0a;
      this.emitLine(bytes);
    };
    const take = (safe: Uint8Array) => {
      let data = pending.length === 0 ? safe : concat(pending, safe);
      for (let end = data.indexOf(0x0a); end >= 0; end = data.indexOf(0x0a)) {
        out(data.subarray(0, end), true);
        data = data.subarray(end + 1);
      }
      while (data.length > MAX_SERVICE_LINE) {
        out(data.subarray(0, MAX_SERVICE_LINE), true);
        data = data.subarray(MAX_SERVICE_LINE);
      }
      pending = data.slice();
    };
    return {
      push: (chunk) => take(redacting.push(chunk)),
      flush: () => {
        take(redacting.flush());
        if (pending.length > 0) out(pending, true);
        pending = new Uint8Array(0);
      },
    };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
