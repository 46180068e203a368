/**
 * The byte layouts of cdfs wire format v1: the 8-byte connection preamble, the 16-byte frame
 * header and the 16-byte END trailer, with their bounds. Encoding writes into a caller's buffer
 * (so a header can sit right before its payload and go out in one write); decoding validates
 * every field and throws {@linkcode CdfsError} `BAD_REQUEST` naming the problem. See
 * `docs/protocol.md` for the reasoning.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";

/**
 * The protocol version this code speaks, sent in the preamble.
 */
export const PROTOCOL_VERSION = 1;

/**
 * The size of the connection preamble: "CDFS", u16 BE version, u16 BE 0.
 *
 * @example
 * ```ts
 * import { PREAMBLE_SIZE } from "./frame.ts";
 * const preamble = new Uint8Array(PREAMBLE_SIZE);
 * ```
 */
export const PREAMBLE_SIZE = 8;

/**
 * The size of a frame header: type, flags, reserved, length, checksum.
 */
export const FRAME_HEADER_SIZE = 16;

/**
 * The frame types of v1 and their numbers on the wire.
 */
export const FRAME_TYPE = {
  REQUEST: 1,
  RESPONSE: 2,
  DATA: 3,
  END: 4,
  ERROR: 5,
  AUTH: 6,
} as const;

/**
 * The number of a frame type, one of the values of {@linkcode FRAME_TYPE}.
 *
 * @example
 * ```ts
 * import { FRAME_TYPE, type FrameType } from "./frame.ts";
 * const type: FrameType = FRAME_TYPE.END;
 * ```
 */
export type FrameType = typeof FRAME_TYPE[keyof typeof FRAME_TYPE];

/**
 * The largest REQUEST or RESPONSE payload (a JSON object), 64 KiB.
 */
export const MAX_JSON_PAYLOAD = 64 * 1024;

/**
 * The largest ERROR payload (`{"code","message"}` JSON), 4 KiB.
 */
export const MAX_ERROR_PAYLOAD = 4 * 1024;

/**
 * The largest AUTH payload (the `{"key","time","nonce","mac"}` JSON that signs the REQUEST
 * after it, `auth.ts`), 512 bytes.
 */
export const MAX_AUTH_PAYLOAD = 512;

/**
 * The smallest chunk size a stream may use, 4 KiB. Smaller chunks would let a peer make a node
 * keep 8 bytes of checksum per few bytes of data and pay a frame header per few bytes.
 */
export const MIN_CHUNK_SIZE = 4 * 1024;

/**
 * The largest chunk size a stream may use, and so the largest DATA payload, 16 MiB.
 */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

/**
 * The default chunk size, 1 MiB: large enough that the 16-byte header and the per-frame work
 * vanish, small enough that a connection holds little memory.
 */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

/**
 * The size of an END payload: u64 BE total length, u64 BE block digest.
 */
export const END_PAYLOAD_SIZE = 16;

const MAGIC = [0x43, 0x44, 0x46, 0x53]; // "CDFS"
const TYPE_NAMES = ["", "REQUEST", "RESPONSE", "DATA", "END", "ERROR", "AUTH"] as const;

/**
 * A decoded frame header.
 *
 * @example
 * ```ts
 * import { FRAME_TYPE, type FrameHeader } from "./frame.ts";
 * const header: FrameHeader = { type: FRAME_TYPE.DATA, length: 1024, checksum: 0n };
 * ```
 */
export interface FrameHeader {
  /** The frame type. */
  type: FrameType;
  /** The payload length in bytes. */
  length: number;
  /** The xxh64 (seed 0) of the payload. */
  checksum: bigint;
}

/**
 * The name of a frame type, for messages.
 *
 * @example
 * ```ts
 * import { FRAME_TYPE, frameTypeName } from "./frame.ts";
 * console.log(frameTypeName(FRAME_TYPE.END)); // "END"
 * ```
 *
 * @param type A frame type.
 * @returns Its name, e.g. `"DATA"`.
 */
export function frameTypeName(type: FrameType): string {
  return TYPE_NAMES[type];
}

/**
 * The largest payload a frame of `type` may carry (END: exactly this many bytes).
 *
 * @example
 * ```ts
 * import { FRAME_TYPE, maxPayloadLength } from "./frame.ts";
 * console.log(maxPayloadLength(FRAME_TYPE.ERROR)); // 4096
 * ```
 *
 * @param type A frame type.
 * @returns The bound in bytes.
 */
export function maxPayloadLength(type: FrameType): number {
  switch (type) {
    case FRAME_TYPE.REQUEST:
    case FRAME_TYPE.RESPONSE:
      return MAX_JSON_PAYLOAD;
    case FRAME_TYPE.DATA:
      return MAX_CHUNK_SIZE;
    case FRAME_TYPE.END:
      return END_PAYLOAD_SIZE;
    case FRAME_TYPE.ERROR:
      return MAX_ERROR_PAYLOAD;
    case FRAME_TYPE.AUTH:
      return MAX_AUTH_PAYLOAD;
  }
}

/**
 * Writes the preamble of `version` into `target` (8 bytes at `offset`).
 *
 * @example
 * ```ts
 * import { encodePreamble, PREAMBLE_SIZE } from "./frame.ts";
 * const bytes = new Uint8Array(PREAMBLE_SIZE);
 * encodePreamble(bytes);
 * console.log(new TextDecoder().decode(bytes.subarray(0, 4))); // "CDFS"
 * ```
 *
 * @param target Where to write.
 * @param version The protocol version to announce.
 * @param offset Where in `target` the preamble starts.
 */
export function encodePreamble(
  target: Uint8Array,
  version: number = PROTOCOL_VERSION,
  offset = 0,
): void {
  if (target.length - offset < PREAMBLE_SIZE) {
    throw new RangeError(`a preamble needs ${PREAMBLE_SIZE} bytes`);
  }
  target.set(MAGIC, offset);
  const view = new DataView(target.buffer, target.byteOffset + offset, PREAMBLE_SIZE);
  view.setUint16(4, version, false);
  view.setUint16(6, 0, false);
}

/**
 * Reads and validates a preamble, returning the version it announces. Only
 * {@linkcode PROTOCOL_VERSION} is accepted.
 *
 * @example
 * ```ts
 * import { decodePreamble, encodePreamble, PREAMBLE_SIZE } from "./frame.ts";
 * const bytes = new Uint8Array(PREAMBLE_SIZE);
 * encodePreamble(bytes);
 * console.log(decodePreamble(bytes)); // 1
 * ```
 *
 * @param bytes At least 8 bytes.
 * @returns The version, always {@linkcode PROTOCOL_VERSION}.
 * @throws {CdfsError} `BAD_REQUEST` "bad magic", "unsupported version N" or non-zero reserved.
 */
export function decodePreamble(bytes: Uint8Array): number {
  if (bytes.length < PREAMBLE_SIZE) {
    throw new CdfsError("BAD_REQUEST", `preamble is ${bytes.length} bytes, expected 8`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new CdfsError("BAD_REQUEST", "bad magic");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, PREAMBLE_SIZE);
  const version = view.getUint16(4, false);
  if (version !== PROTOCOL_VERSION) {
    throw new CdfsError(
      "BAD_REQUEST",
      `unsupported version ${version} (this side speaks ${PROTOCOL_VERSION})`,
    );
  }
  const reserved = view.getUint16(6, false);
  if (reserved !== 0) {
    throw new CdfsError("BAD_REQUEST", `preamble reserved field is ${reserved}, expected 0`);
  }
  return version;
}

/**
 * Writes a frame header into `target` (16 bytes at `offset`).
 *
 * @example
 * ```ts
 * import { encodeFrameHeader, FRAME_HEADER_SIZE, FRAME_TYPE } from "./frame.ts";
 * const bytes = new Uint8Array(FRAME_HEADER_SIZE);
 * encodeFrameHeader(bytes, { type: FRAME_TYPE.DATA, length: 5, checksum: 42n });
 * console.log(bytes[0], bytes[7]); // 3 5
 * ```
 *
 * @param target Where to write.
 * @param header The header; its length must be within the bound of its type.
 * @param offset Where in `target` the header starts.
 * @throws {RangeError} When `target` is too small or the length is out of bounds (a bug of the
 * sender, not of a peer).
 */
export function encodeFrameHeader(target: Uint8Array, header: FrameHeader, offset = 0): void {
  if (target.length - offset < FRAME_HEADER_SIZE) {
    throw new RangeError(`a frame header needs ${FRAME_HEADER_SIZE} bytes`);
  }
  const { type, length, checksum } = header;
  if (!Number.isInteger(type) || type < FRAME_TYPE.REQUEST || type > FRAME_TYPE.AUTH) {
    throw new RangeError(`unknown frame type ${type}`);
  }
  if (!Number.isInteger(length) || length < 0 || length > maxPayloadLength(type)) {
    throw new RangeError(
      `${frameTypeName(type)} payload of ${length} bytes is outside 0..${maxPayloadLength(type)}`,
    );
  }
  if (type === FRAME_TYPE.END && length !== END_PAYLOAD_SIZE) {
    throw new RangeError(`an END payload is ${END_PAYLOAD_SIZE} bytes, not ${length}`);
  }
  const view = new DataView(target.buffer, target.byteOffset + offset, FRAME_HEADER_SIZE);
  view.setUint8(0, type);
  view.setUint8(1, 0);
  view.setUint16(2, 0, false);
  view.setUint32(4, length, false);
  view.setBigUint64(8, checksum, false);
}

/**
 * Reads and validates a frame header: known type, zero flags and reserved bytes, and a length
 * within the bound of its type (checked here, before any payload is read).
 *
 * @example
 * ```ts
 * import { decodeFrameHeader, encodeFrameHeader, FRAME_TYPE } from "./frame.ts";
 * const bytes = new Uint8Array(16);
 * encodeFrameHeader(bytes, { type: FRAME_TYPE.END, length: 16, checksum: 7n });
 * console.log(decodeFrameHeader(bytes)); // { type: 4, length: 16, checksum: 7n }
 * ```
 *
 * @param bytes At least 16 bytes.
 * @returns The header.
 * @throws {CdfsError} `BAD_REQUEST` naming the field that is wrong.
 */
export function decodeFrameHeader(bytes: Uint8Array): FrameHeader {
  if (bytes.length < FRAME_HEADER_SIZE) {
    throw new CdfsError("BAD_REQUEST", `frame header is ${bytes.length} bytes, expected 16`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER_SIZE);
  const rawType = view.getUint8(0);
  if (rawType < FRAME_TYPE.REQUEST || rawType > FRAME_TYPE.AUTH) {
    throw new CdfsError("BAD_REQUEST", `unknown frame type ${rawType}`);
  }
  const type = rawType as FrameType;
  const flags = view.getUint8(1);
  if (flags !== 0) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${frameTypeName(type)} frame has flags ${flags}, expected 0`,
    );
  }
  const reserved = view.getUint16(2, false);
  if (reserved !== 0) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${frameTypeName(type)} frame has reserved field ${reserved}, expected 0`,
    );
  }
  const length = view.getUint32(4, false);
  if (type === FRAME_TYPE.END && length !== END_PAYLOAD_SIZE) {
    throw new CdfsError(
      "BAD_REQUEST",
      `END payload is ${length} bytes, expected ${END_PAYLOAD_SIZE}`,
    );
  }
  const bound = maxPayloadLength(type);
  if (length > bound) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${frameTypeName(type)} payload of ${length} bytes exceeds the bound of ${bound}`,
    );
  }
  return { type, length, checksum: view.getBigUint64(8, false) };
}

/**
 * The END trailer of a data stream.
 *
 * @example
 * ```ts
 * import type { EndTrailer } from "./frame.ts";
 * const end: EndTrailer = { length: 0, digest: 0xef46db3751d8e999n };
 * ```
 */
export interface EndTrailer {
  /** Total payload bytes of the DATA frames of the stream. */
  length: number;
  /** xxh64 of the DATA frames' checksums (big-endian u64s, in order). */
  digest: bigint;
}

/**
 * Writes an END payload (16 bytes at `offset`).
 *
 * @example
 * ```ts
 * import { decodeEndPayload, encodeEndPayload } from "./frame.ts";
 * const bytes = new Uint8Array(16);
 * encodeEndPayload(bytes, { length: 3, digest: 9n });
 * console.log(decodeEndPayload(bytes)); // { length: 3, digest: 9n }
 * ```
 *
 * @param target Where to write.
 * @param trailer The total length and digest.
 * @param offset Where in `target` the payload starts.
 */
export function encodeEndPayload(target: Uint8Array, trailer: EndTrailer, offset = 0): void {
  if (target.length - offset < END_PAYLOAD_SIZE) {
    throw new RangeError(`an END payload needs ${END_PAYLOAD_SIZE} bytes`);
  }
  if (!Number.isSafeInteger(trailer.length) || trailer.length < 0) {
    throw new RangeError(`END length ${trailer.length} is not a non-negative safe integer`);
  }
  const view = new DataView(target.buffer, target.byteOffset + offset, END_PAYLOAD_SIZE);
  view.setBigUint64(0, BigInt(trailer.length), false);
  view.setBigUint64(8, trailer.digest, false);
}

/**
 * Reads an END payload.
 *
 * @example
 * ```ts
 * import { decodeEndPayload } from "./frame.ts";
 * console.log(decodeEndPayload(new Uint8Array(16))); // { length: 0, digest: 0n }
 * ```
 *
 * @param bytes At least 16 bytes.
 * @returns The trailer.
 * @throws {CdfsError} `BAD_REQUEST` when the length does not fit a safe integer.
 */
export function decodeEndPayload(bytes: Uint8Array): EndTrailer {
  if (bytes.length < END_PAYLOAD_SIZE) {
    throw new CdfsError("BAD_REQUEST", `END payload is ${bytes.length} bytes, expected 16`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, END_PAYLOAD_SIZE);
  const length = view.getBigUint64(0, false);
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CdfsError("BAD_REQUEST", `END length ${length} is too large`);
  }
  return { length: Number(length), digest: view.getBigUint64(8, false) };
}
