import { mixEqual, ref, tagged } from "@amp/codec";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BrokerError,
  DriverParam,
  DriverRequest,
  decodeDriverFrame,
  decodeHeader,
  decodeMessage,
  driverValue,
  encodeDriverFrame,
  encodeHeader,
  encodeMessage,
  type RemixMessage,
} from "../src/index.js";

const field = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[,=;\n\r]/.test(s));
const envelope = fc.record({
  type: field,
  sender: field,
  route: fc.array(field, { maxLength: 4 }),
});
// JSON text has no -0 (the codec writes it as 0, as Remix's JS host does): generate only what JSON can carry.
const jsonValue = fc
  .jsonValue()
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
  .filter((v) => v !== null);

const message: fc.Arbitrary<RemixMessage> = fc.oneof(
  fc.tuple(envelope, fc.string()).map(([e, body]) => ({ ...e, encoding: "text" as const, body })),
  fc.tuple(envelope, fc.uint8Array()).map(([e, body]) => ({ ...e, encoding: "binary" as const, body })),
  fc
    .tuple(envelope, jsonValue)
    .map(([e, body]) => ({ ...e, encoding: "json" as const, body: body as never })),
);

function expectCode(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).code).toBe(code);
    return;
  }
  throw new Error("expected a BrokerError");
}

describe("payload header", () => {
  it("writes the line Remix clients parse", () => {
    const bytes = encodeMessage({
      type: "msg_x",
      encoding: "text",
      sender: "s1",
      route: ["a", "b"],
      body: "hi",
    });
    expect(Buffer.from(bytes).toString()).toBe(
      "_rmx_type=msg_x,_rmx_encoding=text,_rmx_sender=s1,_rmx_route=a;b\nhi",
    );
  });

  it("round-trips every message", () => {
    fc.assert(
      fc.property(message, (m) => {
        const back = decodeMessage(encodeMessage(m));
        expect(back).toEqual(m);
      }),
    );
  });

  it("carries Mix values through json bodies as tagged JSON", () => {
    const body = { doc: ref("abc123"), label: tagged("color", "red"), n: 1 } as never;
    const bytes = encodeMessage({ type: "t", encoding: "json", sender: "s", route: [], body });
    expect(Buffer.from(bytes).toString()).toContain('"_rmx_type":"{tag}color"');
    expect(mixEqual(decodeMessage(bytes).body as never, body)).toBe(true);
  });

  it("round-trips request fields", () => {
    const bytes = encodeHeader({
      type: "t",
      encoding: "json",
      sender: "s",
      route: [],
      replyTo: "/a/b",
      correlationId: "c-1",
    });
    expect(decodeHeader(bytes).header).toMatchObject({ replyTo: "/a/b", correlationId: "c-1", route: [] });
  });

  it("refuses fields that would break the line", () => {
    expectCode(
      () => encodeHeader({ type: "a,b", encoding: "text", sender: "s", route: [] }),
      "BROKER_BAD_HEADER",
    );
    expectCode(
      () => encodeHeader({ type: "a", encoding: "xml" as never, sender: "s", route: [] }),
      "BROKER_BAD_HEADER",
    );
    expectCode(
      () => encodeHeader({ type: "a", encoding: "text", sender: "s", route: ["x;y"] }),
      "BROKER_BAD_HEADER",
    );
  });

  it("rejects bad payloads with a typed error, never a crash", () => {
    const bad = [
      "no header line at all",
      "_rmx_type=x,_rmx_encoding=yaml,_rmx_sender=s,_rmx_route=\nbody",
      "_rmx_encoding=json\n{}",
      "_rmx_type=x,_rmx_encoding=json,_rmx_sender=s,_rmx_route=\n{not json",
      "garbage,,==\n",
      `_rmx_type=${"x".repeat(5000)},_rmx_encoding=text\nbody`,
    ];
    for (const text of bad) expectCode(() => decodeMessage(Buffer.from(text)), "BROKER_BAD_HEADER");
    expectCode(
      () => decodeMessage(Buffer.from([...Buffer.from("_rmx_type=x,_rmx_encoding=text\n"), 0xff, 0xfe])),
      "BROKER_BAD_HEADER",
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeMessage(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(BrokerError);
        }
      }),
    );
  });
});

const frame = fc.record({
  type: fc.integer({ min: 0, max: 0xffff }),
  params: fc.array(
    fc.record({ code: fc.integer({ min: 1, max: 0xffff }), value: fc.uint8Array({ maxLength: 64 }) }),
    { maxLength: 8 },
  ),
});

describe("driver frames", () => {
  it("lays out a Create frame as the VM expects", () => {
    const bytes = encodeDriverFrame({
      type: DriverRequest.Create,
      params: [{ code: DriverParam.instID, value: driverValue.int4(7) }],
    });
    // len = type(2) + param(2+4+4) + terminator(2) = 14
    expect([...bytes]).toEqual([
      14,
      0,
      0,
      0,
      0x01,
      0x01,
      0x00,
      0x10,
      4,
      0,
      0,
      0,
      7,
      0,
      0,
      0,
      0,
      0,
      ...[14 ^ 0xff, 0xff, 0xff, 0xff],
    ]);
  });

  it("round-trips every frame", () => {
    fc.assert(
      fc.property(frame, (f) => {
        const back = decodeDriverFrame(encodeDriverFrame(f));
        expect(back.type).toBe(f.type);
        expect(back.params.map((p) => [p.code, [...p.value]])).toEqual(
          f.params.map((p) => [p.code, [...p.value]]),
        );
      }),
    );
  });

  it("round-trips typed values", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.bigUint64Array({ minLength: 1, maxLength: 1 }),
        fc.string(),
        (n, [b], s) => {
          expect(driverValue.readInt4(driverValue.int4(n))).toBe(n);
          expect(driverValue.readInt8(driverValue.int8(b!))).toBe(b);
          expect(driverValue.readString(driverValue.string(s))).toBe(s);
        },
      ),
    );
    expectCode(() => driverValue.readInt4(new Uint8Array(3)), "BROKER_BAD_FRAME");
  });

  it("rejects every corruption with BROKER_BAD_FRAME", () => {
    const good = encodeDriverFrame({ type: 0x0402, params: [{ code: 0x1000, value: driverValue.int4(1) }] });
    const corrupt = (mutate: (b: Buffer) => Buffer) => mutate(Buffer.from(good));
    const cases = [
      corrupt((b) => b.subarray(0, 8)),
      corrupt((b) => b.subarray(0, b.length - 1)),
      corrupt((b) => {
        b[b.length - 1]! ^= 1; // check word
        return b;
      }),
      corrupt((b) => {
        b.writeUInt32LE(1000, 8); // a param claims more bytes than there are
        return b;
      }),
      corrupt((b) => Buffer.concat([b, Buffer.alloc(1)])),
    ];
    for (const bytes of cases) expectCode(() => decodeDriverFrame(bytes), "BROKER_BAD_FRAME");
    expectCode(() => encodeDriverFrame({ type: 0x10000, params: [] }), "BROKER_BAD_FRAME");
    expectCode(
      () => encodeDriverFrame({ type: 1, params: [{ code: 0, value: new Uint8Array() }] }),
      "BROKER_BAD_FRAME",
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        try {
          decodeDriverFrame(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(BrokerError);
        }
      }),
    );
  });
});
