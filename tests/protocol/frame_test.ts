import assert from "node:assert/strict";
import { cdfsError } from "../helpers/assert_error.ts";
import {
  decodeEndPayload,
  decodeFrameHeader,
  decodePreamble,
  encodeEndPayload,
  encodeFrameHeader,
  encodePreamble,
  FRAME_TYPE,
  type FrameHeader,
  type FrameType,
  MAX_CHUNK_SIZE,
  MAX_ERROR_PAYLOAD,
  MAX_JSON_PAYLOAD,
  PROTOCOL_VERSION,
} from "../../src/protocol/frame.ts";

function badRequest(pattern: RegExp): (e: unknown) => boolean {
  return cdfsError("BAD_REQUEST", pattern);
}

function rawHeader(bytes: number[]): Uint8Array {
  const header = new Uint8Array(16);
  header.set(bytes);
  return header;
}

Deno.test("preamble has the documented layout and decodes to version 1", () => {
  const bytes = new Uint8Array(8);
  encodePreamble(bytes);
  assert.deepEqual([...bytes], [0x43, 0x44, 0x46, 0x53, 0, 1, 0, 0]);
  assert.equal(decodePreamble(bytes), PROTOCOL_VERSION);
});

Deno.test("preamble: bad magic, unsupported version, reserved bits", () => {
  assert.throws(
    () => decodePreamble(new TextEncoder().encode("GET / HT")),
    badRequest(/^bad magic$/),
  );
  const v2 = new Uint8Array(8);
  encodePreamble(v2, 2);
  assert.throws(() => decodePreamble(v2), badRequest(/unsupported version 2/));
  const v0 = new Uint8Array(8);
  encodePreamble(v0, 0);
  assert.throws(() => decodePreamble(v0), badRequest(/unsupported version 0/));
  const reserved = new Uint8Array(8);
  encodePreamble(reserved);
  reserved[7] = 1;
  assert.throws(() => decodePreamble(reserved), badRequest(/reserved/));
  assert.throws(() => decodePreamble(new Uint8Array(5)), badRequest(/5 bytes/));
});

Deno.test("frame header round trips and has the documented byte layout", () => {
  const cases: FrameHeader[] = [
    { type: FRAME_TYPE.REQUEST, length: 0, checksum: 0n },
    { type: FRAME_TYPE.RESPONSE, length: MAX_JSON_PAYLOAD, checksum: 0xffff_ffff_ffff_ffffn },
    { type: FRAME_TYPE.DATA, length: MAX_CHUNK_SIZE, checksum: 0x0123_4567_89ab_cdefn },
    { type: FRAME_TYPE.END, length: 16, checksum: 1n },
    { type: FRAME_TYPE.ERROR, length: MAX_ERROR_PAYLOAD, checksum: 1n << 63n },
  ];
  for (const header of cases) {
    const bytes = new Uint8Array(20);
    encodeFrameHeader(bytes, header, 2);
    assert.deepEqual(decodeFrameHeader(bytes.subarray(2)), header);
    const view = new DataView(bytes.buffer, 2);
    assert.equal(view.getUint8(0), header.type);
    assert.equal(view.getUint8(1), 0);
    assert.equal(view.getUint16(2), 0);
    assert.equal(view.getUint32(4, false), header.length);
    assert.equal(view.getBigUint64(8, false), header.checksum);
  }
  // Big-endian, byte by byte.
  const bytes = new Uint8Array(16);
  encodeFrameHeader(bytes, { type: FRAME_TYPE.DATA, length: 0x010203, checksum: 0x0a0bn });
  assert.deepEqual([...bytes], [3, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0x0a, 0x0b]);
});

Deno.test("frame header: unknown type, flags, reserved field are rejected", () => {
  for (const type of [0, 7, 255]) {
    assert.throws(
      () => decodeFrameHeader(rawHeader([type])),
      badRequest(new RegExp(`unknown frame type ${type}`)),
    );
  }
  assert.throws(() => decodeFrameHeader(rawHeader([3, 1])), badRequest(/flags 1/));
  assert.throws(() => decodeFrameHeader(rawHeader([3, 0x80])), badRequest(/flags 128/));
  assert.throws(() => decodeFrameHeader(rawHeader([3, 0, 0, 2])), badRequest(/reserved/));
  assert.throws(() => decodeFrameHeader(rawHeader([3, 0, 1, 0])), badRequest(/reserved/));
  assert.throws(() => decodeFrameHeader(new Uint8Array(15)), badRequest(/15 bytes/));
});

Deno.test("frame header: payload lengths over the bound of their type are rejected", () => {
  const over = (type: FrameType, length: number) => {
    const bytes = rawHeader([type]);
    new DataView(bytes.buffer).setUint32(4, length, false);
    return bytes;
  };
  const cases: [FrameType, number, RegExp][] = [
    [FRAME_TYPE.REQUEST, MAX_JSON_PAYLOAD + 1, /REQUEST payload of 65537 bytes exceeds/],
    [FRAME_TYPE.RESPONSE, 0xffff_ffff, /RESPONSE payload of 4294967295 bytes exceeds/],
    [FRAME_TYPE.ERROR, MAX_ERROR_PAYLOAD + 1, /ERROR payload of 4097 bytes exceeds/],
    [FRAME_TYPE.DATA, MAX_CHUNK_SIZE + 1, /DATA payload of 16777217 bytes exceeds/],
    [FRAME_TYPE.END, 15, /END payload is 15 bytes, expected 16/],
    [FRAME_TYPE.END, 17, /END payload is 17 bytes, expected 16/],
    [FRAME_TYPE.END, 0, /END payload is 0 bytes, expected 16/],
  ];
  for (const [type, length, pattern] of cases) {
    assert.throws(() => decodeFrameHeader(over(type, length)), badRequest(pattern));
  }
  // Exactly at the bound is fine.
  assert.equal(decodeFrameHeader(over(FRAME_TYPE.REQUEST, MAX_JSON_PAYLOAD)).length, 65536);
});

Deno.test("encodeFrameHeader refuses headers this side must never send", () => {
  const bytes = new Uint8Array(16);
  assert.throws(
    () => encodeFrameHeader(bytes, { type: FRAME_TYPE.ERROR, length: 5000, checksum: 0n }),
    RangeError,
  );
  assert.throws(
    () => encodeFrameHeader(bytes, { type: FRAME_TYPE.END, length: 8, checksum: 0n }),
    RangeError,
  );
  assert.throws(
    () => encodeFrameHeader(bytes, { type: 9 as FrameType, length: 0, checksum: 0n }),
    RangeError,
  );
  assert.throws(
    () => encodeFrameHeader(new Uint8Array(10), { type: 1, length: 0, checksum: 0n }),
    RangeError,
  );
});

Deno.test("END payload round trips; a length beyond 2^53 is rejected", () => {
  for (
    const trailer of [
      { length: 0, digest: 0n },
      { length: Number.MAX_SAFE_INTEGER, digest: 0xffff_ffff_ffff_ffffn },
      { length: 10 * 2 ** 30, digest: 0xef46_db37_51d8_e999n },
    ]
  ) {
    const bytes = new Uint8Array(16);
    encodeEndPayload(bytes, trailer);
    assert.deepEqual(decodeEndPayload(bytes), trailer);
    assert.equal(new DataView(bytes.buffer).getBigUint64(0, false), BigInt(trailer.length));
  }
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 1n << 60n, false);
  assert.throws(() => decodeEndPayload(huge), badRequest(/too large/));
  assert.throws(() => encodeEndPayload(new Uint8Array(16), { length: -1, digest: 0n }), RangeError);
});
