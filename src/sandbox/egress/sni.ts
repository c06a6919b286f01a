/**
 * A bounded TLS ClientHello reader: enough of RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2 and
 * RFC 6066 §3 to learn the server name a client asks for, before any byte reaches the server.
 * It never allocates more than the input it is given and refuses anything it cannot read
 * exactly: a hello the proxy cannot parse is not let through.
 */

/** What the first bytes of a CONNECT tunnel say about TLS. */
export type HelloResult =
  /** The bytes so far are a valid prefix; read more (the caller bounds how much). */
  | { kind: "need-more" }
  /** The first byte is not a TLS handshake record: some other protocol. */
  | { kind: "not-tls" }
  /** Looks like TLS but breaks the format, or is too large to be a sane ClientHello. */
  | { kind: "malformed"; reason: string }
  /**
   * A complete ClientHello. `serverName` is the SNI host name, lower-case without a trailing
   * dot (absent when the client sent none); `encryptedHello` is true when the client uses ECH
   * (or the older ESNI draft), which hides the real server name behind the outer one.
   */
  | { kind: "client-hello"; serverName: string | undefined; encryptedHello: boolean };

/** The largest ClientHello accepted, in handshake bytes (browsers send 0.5 to 2 KiB; post-quantum key shares a little more). */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024;
/** TLSPlaintext.length may not exceed 2^14 (RFC 8446 §5.1). */
const MAX_RECORD_BYTES = 16 * 1024;
const RECORD_HEADER = 5;
const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0x0000;
/** encrypted_client_hello (draft-ietf-tls-esni, 0xfe0d) and the older encrypted_server_name (0xffce). */
const EXT_ENCRYPTED_HELLO: ReadonlySet<number> = new Set([0xfe0d, 0xffce]);
const HOST_NAME = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * Reads the ClientHello at the start of `bytes`, reassembling it across TLS records. Pure and
 * total: every input yields a result, never an exception.
 */
export function readClientHello(bytes: Uint8Array): HelloResult {
  if (bytes.length === 0) return { kind: "need-more" };
  if (bytes[0] !== CONTENT_HANDSHAKE) return { kind: "not-tls" };
  const assembled = reassemble(bytes);
  if (assembled.kind !== "handshake") return assembled;
  const message = assembled.data;
  if (message.length < 4) return assembled.complete ? { kind: "malformed", reason: "handshake header is cut short" } : { kind: "need-more" };
  if (message[0] !== HANDSHAKE_CLIENT_HELLO) return { kind: "malformed", reason: `first handshake message is type ${message[0]}, not a ClientHello` };
  const length = ((message[1] ?? 0) << 16) | ((message[2] ?? 0) << 8) | (message[3] ?? 0);
  if (length > MAX_CLIENT_HELLO_BYTES) return { kind: "malformed", reason: `ClientHello of ${length} bytes is larger than ${MAX_CLIENT_HELLO_BYTES}` };
  if (message.length < 4 + length) return assembled.complete ? { kind: "malformed", reason: "ClientHello is cut short" } : { kind: "need-more" };
  return parseHello(message.subarray(4, 4 + length));
}

type Reassembled = { kind: "handshake"; data: Uint8Array; complete: boolean } | { kind: "need-more" } | { kind: "malformed"; reason: string };

/**
 * Concatenates the handshake fragments of consecutive records. Stops at the first incomplete
 * record; `complete` is false when more records may still arrive.
 */
function reassemble(bytes: Uint8Array): Reassembled {
  const parts: Uint8Array[] = [];
  let total = 0;
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < RECORD_HEADER) break;
    const type = bytes[offset];
    const major = bytes[offset + 1];
    const length = ((bytes[offset + 3] ?? 0) << 8) | (bytes[offset + 4] ?? 0);
    if (type !== CONTENT_HANDSHAKE) {
      // The hello must be complete before anything else is sent; parts would hide it.
      if (total > 0) break;
      return { kind: "malformed", reason: `TLS record type ${type} before the ClientHello` };
    }
    if (major !== 3) return { kind: "malformed", reason: `TLS record version ${major}.${bytes[offset + 2]} is not 3.x` };
    if (length === 0) return { kind: "malformed", reason: "empty TLS handshake record" };
    if (length > MAX_RECORD_BYTES) return { kind: "malformed", reason: `TLS record of ${length} bytes exceeds 2^14` };
    if (bytes.length - offset - RECORD_HEADER < length) break;
    parts.push(bytes.subarray(offset + RECORD_HEADER, offset + RECORD_HEADER + length));
    total += length;
    offset += RECORD_HEADER + length;
    if (total > MAX_CLIENT_HELLO_BYTES + 4) break;
  }
  if (parts.length === 0) return { kind: "need-more" };
  const data = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    data.set(part, at);
    at += part.length;
  }
  // Bytes after the last whole record that are not a record start mean the stream moved on.
  return { kind: "handshake", data, complete: offset < bytes.length && bytes[offset] !== CONTENT_HANDSHAKE };
}

/** A cursor that answers undefined instead of reading past the end. */
class Cursor {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  get remaining(): number {
    return this.bytes.length - this.at;
  }
  take(count: number): Uint8Array | undefined {
    if (count > this.remaining) return undefined;
    const part = this.bytes.subarray(this.at, this.at + count);
    this.at += count;
    return part;
  }
  u8(): number | undefined {
    return this.take(1)?.[0];
  }
  u16(): number | undefined {
    const part = this.take(2);
    return part === undefined ? undefined : ((part[0] ?? 0) << 8) | (part[1] ?? 0);
  }
  /** A vector with a `width`-byte length prefix. */
  vector(width: 1 | 2): Uint8Array | undefined {
    const length = width === 1 ? this.u8() : this.u16();
    return length === undefined ? undefined : this.take(length);
  }
}

function parseHello(body: Uint8Array): HelloResult {
  const cut = (what: string): HelloResult => ({ kind: "malformed", reason: `ClientHello ${what} is cut short` });
  const hello = new Cursor(body);
  if (hello.take(2) === undefined || hello.take(32) === undefined) return cut("version or random");
  const session = hello.vector(1);
  if (session === undefined || session.length > 32) return { kind: "malformed", reason: "ClientHello session id is cut short or longer than 32 bytes" };
  const suites = hello.vector(2);
  if (suites === undefined || suites.length === 0 || suites.length % 2 !== 0) return { kind: "malformed", reason: "ClientHello cipher suites are missing or odd" };
  const compression = hello.vector(1);
  if (compression === undefined || compression.length === 0) return { kind: "malformed", reason: "ClientHello compression methods are missing" };
  if (hello.remaining === 0) return { kind: "client-hello", serverName: undefined, encryptedHello: false };
  const extensions = hello.vector(2);
  if (extensions === undefined || hello.remaining !== 0) return { kind: "malformed", reason: "ClientHello extensions do not fill the message exactly" };
  return parseExtensions(new Cursor(extensions));
}

function parseExtensions(list: Cursor): HelloResult {
  const seen = new Set<number>();
  let serverName: string | undefined;
  let encryptedHello = false;
  while (list.remaining > 0) {
    const type = list.u16();
    const data = list.vector(2);
    if (type === undefined || data === undefined) return { kind: "malformed", reason: "ClientHello extension is cut short" };
    // RFC 8446 §4.2: at most one extension of each type; two SNIs could tell the proxy one name and the server another.
    if (seen.has(type)) return { kind: "malformed", reason: `ClientHello repeats extension ${type}` };
    seen.add(type);
    if (EXT_ENCRYPTED_HELLO.has(type)) encryptedHello = true;
    if (type !== EXT_SERVER_NAME) continue;
    const name = parseServerName(new Cursor(data));
    if (typeof name !== "string") return name;
    serverName = name;
  }
  return { kind: "client-hello", serverName, encryptedHello };
}

function parseServerName(ext: Cursor): string | HelloResult {
  const list = ext.vector(2);
  if (list === undefined || ext.remaining !== 0 || list.length === 0) return { kind: "malformed", reason: "server_name extension is malformed" };
  const names = new Cursor(list);
  let host: string | undefined;
  while (names.remaining > 0) {
    const nameType = names.u8();
    const name = names.vector(2);
    if (nameType === undefined || name === undefined) return { kind: "malformed", reason: "server_name entry is cut short" };
    // RFC 6066 §3: only host_name (0) exists, and at most one of it.
    if (nameType !== 0 || host !== undefined) return { kind: "malformed", reason: "server_name must hold exactly one host_name" };
    host = decodeHost(name);
    if (host === undefined) return { kind: "malformed", reason: "server_name is not a valid DNS host name" };
  }
  return host ?? { kind: "malformed", reason: "server_name extension is empty" };
}

/** ASCII host name, lower-cased, one trailing dot removed; undefined for anything else. */
function decodeHost(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0 || bytes.length > 254) return undefined;
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  const lower = text.toLowerCase();
  const host = lower.endsWith(".") ? lower.slice(0, -1) : lower;
  return host.length <= 253 && HOST_NAME.test(host) ? host : undefined;
}
