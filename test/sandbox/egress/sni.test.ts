/** The bounded ClientHello reader: real hellos, fragmentation, truncation and malformed input. */
import { describe, expect, test } from "bun:test";
import { MAX_CLIENT_HELLO_BYTES, readClientHello } from "../../../src/sandbox/egress/sni.ts";
import { buildHello, captureClientHello, fragment, sniExtension, u16 } from "./tls-hello.ts";

describe("egress sni", () => {
  test("sni: reads the server name from a real ClientHello, lower-cased", async () => {
    const hello = await captureClientHello("Example.COM");
    expect(readClientHello(hello)).toEqual({ kind: "client-hello", serverName: "example.com", encryptedHello: false });
  });

  test("sni: a hello without SNI (IP destination) has no server name", async () => {
    const hello = await captureClientHello(undefined);
    expect(readClientHello(hello)).toMatchObject({ kind: "client-hello", serverName: undefined });
  });

  test("sni: every strict prefix of a hello needs more bytes; the whole one parses", async () => {
    const hello = await captureClientHello("api.example.org");
    for (let cut = 1; cut < hello.length; cut++) expect(readClientHello(hello.subarray(0, cut)).kind).toBe("need-more");
    expect(readClientHello(hello)).toMatchObject({ serverName: "api.example.org" });
  });

  test("sni: a hello split over many TLS records is reassembled, prefixes still need more", async () => {
    const split = fragment(await captureClientHello("split.example.net"), 7);
    expect(readClientHello(split)).toMatchObject({ kind: "client-hello", serverName: "split.example.net" });
    for (const cut of [6, 12, 100, split.length - 1]) expect(readClientHello(split.subarray(0, cut)).kind).toBe("need-more");
  });

  test("sni: data after the hello does not change the answer", async () => {
    const hello = await captureClientHello("example.com");
    expect(readClientHello(Buffer.concat([hello, Buffer.from([0x17, 3, 3, 0, 2, 1, 2])]))).toMatchObject({ serverName: "example.com" });
  });

  test("sni: other protocols are not TLS", () => {
    for (const text of ["GET / HTTP/1.1\r\n", "SSH-2.0-OpenSSH\r\n", "\x00"]) expect(readClientHello(Buffer.from(text)).kind).toBe("not-tls");
    expect(readClientHello(Buffer.alloc(0)).kind).toBe("need-more");
  });

  test("sni: a hand-built hello with one name parses; trailing dot removed", () => {
    expect(readClientHello(buildHello([[0, sniExtension("Host.Example.")]]))).toEqual({ kind: "client-hello", serverName: "host.example", encryptedHello: false });
    expect(readClientHello(buildHello([]))).toEqual({ kind: "client-hello", serverName: undefined, encryptedHello: false });
  });

  test("sni: ECH (and the ESNI draft) are flagged", () => {
    expect(readClientHello(buildHello([[0, sniExtension("public.example")], [0xfe0d, Buffer.from([1, 2, 3])]]))).toMatchObject({ serverName: "public.example", encryptedHello: true });
    expect(readClientHello(buildHello([[0xffce, Buffer.from([1])]]))).toMatchObject({ encryptedHello: true });
  });

  const malformed: Array<[string, () => Buffer]> = [
    ["two host names", () => buildHello([[0, sniExtension("a.example", "b.example")]])],
    ["two server_name extensions", () => buildHello([[0, sniExtension("a.example")], [0, sniExtension("b.example")]])],
    ["a name with a NUL", () => buildHello([[0, sniExtension("a.example\0.evil")]])],
    ["a name with a space", () => buildHello([[0, sniExtension("a example")]])],
    ["an empty name", () => buildHello([[0, sniExtension("")]])],
    ["a non-host_name type", () => buildHello([[0, Buffer.concat([u16(4), Buffer.from([1]), u16(1), Buffer.from("a")])]])],
    ["an empty server_name list", () => buildHello([[0, u16(0)]])],
    ["a server_name list longer than its extension", () => buildHello([[0, Buffer.concat([u16(50), Buffer.from([0]), u16(1), Buffer.from("a")])]])],
    ["an extension longer than the list", () => {
      const hello = buildHello([[0, sniExtension("a.example")]]);
      hello.writeUInt16BE(0x4000, hello.length - sniExtension("a.example").length - 2);
      return hello;
    }],
    ["a handshake that is not a ClientHello", () => {
      const hello = buildHello([]);
      hello[5] = 2;
      return hello;
    }],
    ["a record version other than 3.x", () => {
      const hello = buildHello([]);
      hello[1] = 2;
      return hello;
    }],
    ["an empty handshake record", () => Buffer.from([0x16, 3, 1, 0, 0])],
    ["a record over 2^14 bytes", () => Buffer.from([0x16, 3, 1, 0x40, 0x01])],
    ["a ClientHello larger than the ceiling", () => Buffer.from([0x16, 3, 1, 0, 4, 1, 0x01, 0x00, 0x00])],
    ["an alert record inside the hello's first bytes", () => Buffer.from([0x16, 3, 1, 0, 3, 1, 0, 0, 0x15, 3, 3, 0, 2, 2, 40])],
    ["a hello cut short by an application-data record", () => {
      const hello = buildHello([[0, sniExtension("a.example")]]);
      const short = Buffer.from(hello.subarray(0, hello.length - 3));
      short.writeUInt16BE(short.length - 5, 3);
      return Buffer.concat([short, Buffer.from([0x17, 3, 3, 0, 1, 0])]);
    }],
    ["no cipher suites", () => {
      const hello = buildHello([]);
      hello.writeUInt16BE(0, 5 + 4 + 2 + 32 + 1);
      return hello;
    }],
  ];
  test.each(malformed)("sni: %s is malformed", (_, build) => {
    expect(readClientHello(build()).kind).toBe("malformed");
  });

  test("sni: the ceiling is what a real client needs, with room to spare", async () => {
    expect((await captureClientHello("example.com")).length).toBeLessThan(MAX_CLIENT_HELLO_BYTES / 4);
  });

  test("sni: random bytes after a handshake header never throw and never read as a hello with a foreign name", () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let run = 0; run < 3000; run++) {
      const length = 1 + (random() % 120);
      const bytes = Buffer.from(Array.from({ length }, random));
      bytes[0] = 0x16;
      if (length > 1) bytes[1] = 3;
      const result = readClientHello(bytes);
      expect(["need-more", "malformed", "client-hello"]).toContain(result.kind);
    }
  });
});
