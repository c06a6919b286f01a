/** Real TLS ClientHellos captured from this runtime's TLS stack, and hand-built record helpers. */
import net from "node:net";
import tls from "node:tls";

/** The first bytes a real TLS client sends for `servername` (undefined: no SNI, as for an IP). */
export async function captureClientHello(servername: string | undefined): Promise<Buffer> {
  let resolveHello: (bytes: Buffer) => void = () => undefined;
  const hello = new Promise<Buffer>((resolve) => (resolveHello = resolve));
  const server = net.createServer((socket) => {
    let got = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      // Record header says how long the first record is; the real hello fits one record.
      if (got.length >= 5 && got.length >= 5 + got.readUInt16BE(3)) {
        resolveHello(got);
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  const client = tls.connect({ host: "127.0.0.1", port, ...(servername ? { servername } : {}), rejectUnauthorized: false });
  client.on("error", () => undefined);
  const bytes = await hello;
  client.destroy();
  server.close();
  return bytes;
}

/** Splits one handshake record into records of at most `size` payload bytes. */
export function fragment(record: Buffer, size: number): Buffer {
  const payload = record.subarray(5);
  const parts: Buffer[] = [];
  for (let at = 0; at < payload.length; at += size) {
    const part = payload.subarray(at, at + size);
    const header = Buffer.from([0x16, record[1] ?? 3, record[2] ?? 1, part.length >> 8, part.length & 0xff]);
    parts.push(header, part);
  }
  return Buffer.concat(parts);
}

/** A minimal ClientHello record with the given extensions (type, data). */
export function buildHello(extensions: Array<[number, Buffer]>): Buffer {
  const ext = Buffer.concat(extensions.map(([type, data]) => Buffer.concat([u16(type), u16(data.length), data])));
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]), ...(extensions.length > 0 ? [u16(ext.length), ext] : [])]);
  const handshake = Buffer.concat([Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(handshake.length), handshake]);
}

/** The server_name extension data for `names` (host_name entries). */
export function sniExtension(...names: string[]): Buffer {
  const entries = Buffer.concat(names.map((name) => Buffer.concat([Buffer.from([0]), u16(name.length), Buffer.from(name, "latin1")])));
  return Buffer.concat([u16(entries.length), entries]);
}

export function u16(value: number): Buffer {
  return Buffer.from([value >> 8, value & 0xff]);
}
