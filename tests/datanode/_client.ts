/**
 * A raw-protocol test client for the datanode tests, built straight on src/protocol (not on
 * src/client, which is tested on its own): requests, STORE and RETRIEVE streams, raw sockets
 * for malformed input, a parser that checks what the server sent is well-formed, and seeded
 * pseudo-random block contents that can be regenerated instead of kept in memory.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createChecksummer } from "../../src/checksum/checksum.ts";
import { CdfsError, type ErrorCode } from "../../src/core/errors.ts";
import { FrameConnection, type FrameConnectionOptions } from "../../src/protocol/connection.ts";
import {
  decodeFrameHeader,
  decodePreamble,
  FRAME_HEADER_SIZE,
  FRAME_TYPE,
  frameTypeName,
  PREAMBLE_SIZE,
} from "../../src/protocol/frame.ts";
import { parseErrorBody } from "../../src/protocol/error_body.ts";
import { parseResponse } from "../../src/protocol/response_validation.ts";
import type { Op } from "../../src/protocol/requests.ts";
import type { ResponseOf } from "../../src/protocol/responses.ts";
import {
  type ChunkBufferPool,
  type IncomingChunk,
  type OutgoingChunk,
  receiveChunks,
  sendChunks,
  type StreamSummary,
} from "../../src/protocol/stream.ts";

export const MiB = 1024 * 1024;

/** A shared checksummer for tests (used between awaits only). */
export const checksummer = await createChecksummer();

/** Connects and does the client handshake. */
export async function connect(
  port: number,
  options: FrameConnectionOptions = { idleTimeoutMs: 60_000, frameTimeoutMs: 60_000 },
): Promise<FrameConnection> {
  const socket = await Deno.connect({ hostname: "127.0.0.1", port });
  const conn = await FrameConnection.create(socket, options);
  try {
    await conn.clientHandshake();
  } catch (e) {
    conn.close();
    throw e;
  }
  return conn;
}

/** Sends a request without a data stream and returns its validated response. */
export async function call<K extends Op>(
  conn: FrameConnection,
  op: K,
  fields: Record<string, unknown> = {},
): Promise<ResponseOf[K]> {
  await conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op, ...fields });
  const response = await conn.readJsonFrame(FRAME_TYPE.RESPONSE);
  if (response === null) throw new CdfsError("UNAVAILABLE", "server closed the connection");
  return parseResponse(op, response);
}

/** PINGs on a fresh connection and closes it: is the node serving? */
export async function pingFresh(port: number): Promise<ResponseOf["PING"]> {
  const conn = await connect(port);
  try {
    return await call(conn, "PING");
  } finally {
    conn.close();
  }
}

/** A pool of plain buffers for the client side of streams. */
export function plainPool(size = 16 * MiB + 64): ChunkBufferPool {
  return {
    acquire: () => Promise.resolve({ bytes: new Uint8Array(size), release() {} }),
  };
}

/** Options of {@linkcode storeBlock}. */
export interface StoreOptions {
  chunkSize?: number;
  length?: number;
  overwrite?: boolean;
  /** The declared block digest (16 hex digits; needs `length`). */
  digest?: string;
}

/** STOREs a block from a chunk producer; returns the server's response and what was sent. */
export async function storeBlock(
  conn: FrameConnection,
  block: string,
  chunks: AsyncIterable<OutgoingChunk> | Iterable<OutgoingChunk>,
  options: StoreOptions = {},
): Promise<{ response: ResponseOf["STORE"]; sent: StreamSummary }> {
  const chunkSize = options.chunkSize ?? MiB;
  const request: Record<string, unknown> = { op: "STORE", block, chunkSize };
  if (options.length !== undefined) request.length = options.length;
  if (options.overwrite !== undefined) request.overwrite = options.overwrite;
  if (options.digest !== undefined) request.digest = options.digest;
  await conn.writeJsonFrame(FRAME_TYPE.REQUEST, request);
  const sent = await sendChunks(conn, chunks, {
    chunkSize,
    watchPeer: true,
    ...(options.length === undefined ? {} : { length: options.length }),
  });
  const raw = await conn.readJsonFrame(FRAME_TYPE.RESPONSE);
  if (raw === null) throw new CdfsError("UNAVAILABLE", "server closed the connection");
  return { response: parseResponse("STORE", raw), sent };
}

/** The chunks of `bytes` (each a view; `bytes` must outlive the stream). */
export function* chunksOf(bytes: Uint8Array, chunkSize: number): Generator<OutgoingChunk> {
  for (let at = 0; at < bytes.length; at += chunkSize) {
    yield { bytes: bytes.subarray(at, Math.min(bytes.length, at + chunkSize)) };
  }
}

/** RETRIEVEs a block (or a range), handing each verified chunk to `onChunk`. */
export async function retrieveBlock(
  conn: FrameConnection,
  block: string,
  range: { offset?: number; length?: number } = {},
  onChunk: (chunk: IncomingChunk) => void | Promise<void> = () => {},
): Promise<{ response: ResponseOf["RETRIEVE"]; summary: StreamSummary }> {
  await conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "RETRIEVE", block, ...range });
  const raw = await conn.readJsonFrame(FRAME_TYPE.RESPONSE);
  if (raw === null) throw new CdfsError("UNAVAILABLE", "server closed the connection");
  const response = parseResponse("RETRIEVE", raw);
  const whole = range.offset === undefined && range.length === undefined;
  const summary = await receiveChunks(conn, plainPool(response.chunkSize), {
    chunkSize: response.chunkSize,
    length: response.length,
    canonical: whole,
  }, onChunk);
  return { response, summary };
}

/** RETRIEVEs a whole block into memory (small blocks only). */
export async function retrieveBytes(conn: FrameConnection, block: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const { response } = await retrieveBlock(conn, block, {}, (c) => {
    parts.push(c.bytes.slice());
  });
  const out = new Uint8Array(response.length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Asserts that `promise` rejects with a CdfsError of `code` (and a message matching). */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  pattern?: RegExp,
): Promise<CdfsError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CdfsError, `expected a CdfsError ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

/**
 * Seeded pseudo-random block contents, chunk by chunk (xorshift32 over 32-bit words), so that
 * a test can send a block and later check it by regenerating the same bytes instead of keeping
 * them.
 */
export class PatternBlock {
  readonly length: number;
  readonly chunkSize: number;
  readonly seed: number;
  #buffer: Uint8Array;
  #words: Uint32Array;

  constructor(length: number, chunkSize: number, seed: number) {
    this.length = length;
    this.chunkSize = chunkSize;
    this.seed = seed;
    // 16 bytes of headroom before the chunk, so frames go out in one write.
    this.#buffer = new Uint8Array(FRAME_HEADER_SIZE + Math.ceil(chunkSize / 4) * 4);
    this.#words = new Uint32Array(this.#buffer.buffer, FRAME_HEADER_SIZE);
  }

  /** The number of chunks. */
  get chunkCount(): number {
    return Math.ceil(this.length / this.chunkSize);
  }

  /** Fills the internal buffer with chunk `index` and returns a view of it. */
  chunk(index: number): Uint8Array {
    let x = (this.seed * 0x9e3779b1 + index * 0x85ebca77 + 1) >>> 0 || 1;
    const words = this.#words;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      words[i] = x;
    }
    const size = Math.min(this.chunkSize, this.length - index * this.chunkSize);
    return this.#buffer.subarray(FRAME_HEADER_SIZE, FRAME_HEADER_SIZE + size);
  }

  /** The chunks, for {@linkcode storeBlock}; each valid until the next is asked for. */
  *chunks(upTo = this.chunkCount): Generator<OutgoingChunk> {
    for (let i = 0; i < upTo; i++) yield { bytes: this.chunk(i), headroom: true };
  }

  /** The xxh64 of every chunk, computed from regenerated bytes. */
  checksums(): bigint[] {
    const sums: bigint[] = [];
    for (let i = 0; i < this.chunkCount; i++) sums.push(checksummer.checksum(this.chunk(i)));
    return sums;
  }
}

/** A byte sequence with a per-block pattern (for small blocks kept in memory). */
export function patternBytes(length: number, seed: number): Uint8Array {
  const block = new PatternBlock(length, Math.max(4, length), seed);
  return length === 0 ? new Uint8Array(0) : block.chunk(0).slice();
}

/** Writes all of `bytes` to a raw socket. */
export async function writeRaw(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/**
 * Reads from a raw socket until the peer closes (or resets) or `timeoutMs` passes.
 * `closed` tells which; `bytes` is everything received.
 */
export async function readUntilClosed(
  conn: Deno.Conn,
  timeoutMs: number,
): Promise<{ bytes: Uint8Array; closed: boolean }> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(64 * 1024);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  let closed = false;
  try {
    while (true) {
      const read = conn.read(buffer).catch(() => null);
      const n = await Promise.race([read, timeout]);
      if (n === "timeout") {
        // Close the socket to end the pending read, then let it settle.
        conn.close();
        await read;
        break;
      }
      if (n === null) {
        closed = true;
        break;
      }
      parts.push(buffer.slice(0, n));
      total += n;
    }
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, closed };
}

/** A frame as the server sent it. */
export interface ServerFrame {
  type: string;
  length: number;
  /** The JSON of RESPONSE and ERROR frames. */
  json?: Record<string, unknown>;
}

/**
 * Parses what a server sent on a connection: its preamble (or an ERROR frame instead), then
 * whole frames, each with a valid header and checksum. Throws when the bytes are not
 * well-formed: the server must never send a broken frame. Bytes missing at the end are
 * allowed only when `allowCut` (the client closed the socket on the server).
 */
export function parseServerBytes(bytes: Uint8Array, allowCut = false): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let at = 0;
  if (bytes.length === 0) return frames;
  if (bytes[0] !== FRAME_TYPE.ERROR) {
    if (bytes.length < PREAMBLE_SIZE) {
      if (allowCut) return frames;
      throw new Error(`server preamble cut at ${bytes.length} bytes`);
    }
    decodePreamble(bytes.subarray(0, PREAMBLE_SIZE));
    at = PREAMBLE_SIZE;
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  while (at < bytes.length) {
    if (bytes.length - at < FRAME_HEADER_SIZE) {
      if (allowCut) break;
      throw new Error(`frame header cut at offset ${at}`);
    }
    const header = decodeFrameHeader(bytes.subarray(at, at + FRAME_HEADER_SIZE));
    const start = at + FRAME_HEADER_SIZE;
    if (bytes.length - start < header.length) {
      if (allowCut) break;
      throw new Error(`${frameTypeName(header.type)} payload cut at offset ${at}`);
    }
    const payload = bytes.subarray(start, start + header.length);
    if (checksummer.checksum(payload) !== header.checksum) {
      throw new Error(`${frameTypeName(header.type)} frame at ${at} has a bad checksum`);
    }
    const frame: ServerFrame = { type: frameTypeName(header.type), length: header.length };
    if (header.type === FRAME_TYPE.RESPONSE || header.type === FRAME_TYPE.ERROR) {
      frame.json = JSON.parse(decoder.decode(payload));
      if (header.type === FRAME_TYPE.ERROR) parseErrorBody(frame.json);
    }
    frames.push(frame);
    at = start + header.length;
  }
  return frames;
}

/** The code of the last frame when it is an ERROR, else undefined. */
export function lastErrorCode(frames: ServerFrame[]): string | undefined {
  const last = frames.at(-1);
  return last?.type === "ERROR" ? String(last.json?.code) : undefined;
}
