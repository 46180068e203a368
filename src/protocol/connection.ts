/**
 * A {@linkcode FrameConnection} speaks wire format v1 over one `Deno.Conn`: the preamble
 * exchange, frame headers, payloads read straight into the caller's buffer, JSON frames, ERROR
 * frames and early replies, on a {@linkcode TimedSocket} (`timed_socket.ts`), which holds the
 * idle and frame timeouts and the close.
 *
 * A timeout closes the connection and throws {@linkcode CdfsError} `TIMEOUT`. An ERROR frame
 * from the peer is thrown as a {@linkcode PeerError}. After any other error thrown by a read or
 * write the connection is in an unknown state and the caller should close it; errors found
 * while validating a JSON payload that was read whole leave it usable.
 *
 * @module
 */
import { formatChecksum, type OneShotHasher, sharedChecksummer } from "../checksum/checksum.ts";
import { CdfsError, type ErrorCode } from "../core/errors.ts";
import {
  decodeFrameHeader,
  decodePreamble,
  encodeEndPayload,
  encodeFrameHeader,
  encodePreamble,
  END_PAYLOAD_SIZE,
  type EndTrailer,
  FRAME_HEADER_SIZE,
  FRAME_TYPE,
  type FrameHeader,
  type FrameType,
  frameTypeName,
  maxPayloadLength,
  PREAMBLE_SIZE,
} from "./frame.ts";
import { encodeErrorFrame, errorBody, parseErrorBody } from "./error_body.ts";
import { readRequestFrame, type RequestSigner, type RequestVerifier } from "./auth.ts";
import { decodeJsonObject } from "./json_payload.ts";
import type { ByteMeter } from "./byte_meter.ts";
import { PeerError } from "./peer_error.ts";
import { SMALL_FRAME_READ } from "./read_ahead.ts";
import { type SocketTimeoutOptions, TimedSocket } from "./timed_socket.ts";
import { startsTlsRecord } from "./tls.ts";

/**
 * Payloads up to this size are copied behind their header and sent in one write; larger ones
 * go out as two writes unless the caller offers headroom.
 */
const COALESCE_LIMIT = 64 * 1024;

/**
 * Timeouts of a {@linkcode FrameConnection}, and a meter it counts its traffic on.
 *
 * @example
 * ```ts
 * import type { FrameConnectionOptions } from "./connection.ts";
 * const options: FrameConnectionOptions = { idleTimeoutMs: 5000, frameTimeoutMs: 2000 };
 * ```
 */
export interface FrameConnectionOptions extends SocketTimeoutOptions {
  /** Where to count frame bytes besides the connection's own counters (see `meter`). */
  meter?: ByteMeter;
  /** Signs every REQUEST written (an AUTH frame before it, `auth.ts`); null: unsigned. */
  signer?: RequestSigner | null;
  /** Checks the AUTH frame of every REQUEST read (a server's); none accepts any request. */
  verifier?: RequestVerifier | null;
  /** On a read timeout, send the TIMEOUT ERROR frame before closing (docs/protocol.md §5). */
  sendTimeoutError?: boolean;
}

/**
 * Options of {@linkcode FrameConnection.writeFrame}.
 *
 * @example
 * ```ts
 * import type { WriteFrameOptions } from "./connection.ts";
 * const options: WriteFrameOptions = { checksum: 0x1234n, headroom: true };
 * ```
 */
export interface WriteFrameOptions {
  /** The payload's xxh64 when the caller already has it (it is trusted, not recomputed). */
  checksum?: bigint;
  /**
   * The 16 bytes right before the payload in its buffer are scratch space: the header is put
   * there and header and payload go out in one write.
   */
  headroom?: boolean;
}

/**
 * One v1 connection. Not safe for concurrent use: one request (and its frames) at a time.
 *
 * @example
 * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
 * ```ts ignore
 * import { FrameConnection } from "./connection.ts";
 * import { FRAME_TYPE } from "./frame.ts";
 * const conn = await FrameConnection.create(await Deno.connect({ port: 7070 }));
 * await conn.clientHandshake();
 * await conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "PING" });
 * console.log(await conn.readJsonFrame(FRAME_TYPE.RESPONSE));
 * conn.close();
 * ```
 */
export class FrameConnection extends TimedSocket {
  /** The hasher of this connection's frames (the process's shared one, unless given another). */
  readonly checksummer: OneShotHasher;
  /** Frame bytes read so far (whole headers and payloads). */
  bytesRead = 0;
  /** Frame bytes written so far (whole frames). */
  bytesWritten = 0;
  /**
   * A meter that frame bytes are also counted on, from now on (a server switches it per
   * request, e.g. to the counters of a coding run); null for none.
   */
  meter: ByteMeter | null;
  /** Signs the REQUEST frames written (see {@linkcode FrameConnectionOptions.signer}). */
  readonly signer: RequestSigner | null;
  /** Checks the REQUEST frames read (see {@linkcode FrameConnectionOptions.verifier}). */
  readonly verifier: RequestVerifier | null;

  #headerIn = new Uint8Array(FRAME_HEADER_SIZE);
  #headerOut = new Uint8Array(FRAME_HEADER_SIZE);
  #pendingPayload: FrameHeader | null = null;

  /**
   * Wraps a socket. Prefer {@linkcode FrameConnection.create}, which gives it the shared hasher.
   *
   * @param conn The socket.
   * @param checksummer The hasher of its frames.
   * @param options Timeouts.
   */
  constructor(conn: Deno.Conn, checksummer: OneShotHasher, options: FrameConnectionOptions = {}) {
    const reply = (e: CdfsError) =>
      encodeErrorFrame(e.code, e.message, (b) => checksummer.checksum(b));
    super(conn, options.sendTimeoutError ? { ...options, timeoutReply: reply } : options);
    this.checksummer = checksummer;
    this.meter = options.meter ?? null;
    this.signer = options.signer ?? null;
    this.verifier = options.verifier ?? null;
  }

  /**
   * Wraps a socket with a fresh hasher.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * import { FrameConnection } from "./connection.ts";
   * const conn = await FrameConnection.create(await Deno.connect({ port: 7070 }));
   * ```
   *
   * @param conn The socket.
   * @param options Timeouts.
   * @returns The connection.
   */
  static async create(
    conn: Deno.Conn,
    options: FrameConnectionOptions = {},
  ): Promise<FrameConnection> {
    return new FrameConnection(conn, await sharedChecksummer(), options);
  }

  /**
   * Client side of the preamble exchange: sends ours, then reads the server's, or the ERROR
   * frame a server sends instead.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * await conn.clientHandshake();
   * ```
   *
   * @throws {PeerError} When the server refused the preamble.
   * @throws {CdfsError} `BAD_REQUEST` for a malformed server preamble, `UNAVAILABLE` when the
   * server closed, `TIMEOUT`.
   */
  async clientHandshake(): Promise<void> {
    const preamble = new Uint8Array(PREAMBLE_SIZE);
    encodePreamble(preamble);
    await this.writeWhole(preamble, "writing the preamble");
    const first = await this.readFirstBytes(this.#headerIn.subarray(0, PREAMBLE_SIZE));
    if (first === null) {
      throw new CdfsError("UNAVAILABLE", "the server closed the connection during the handshake");
    }
    if (startsTlsRecord(this.#headerIn, first)) {
      throw new CdfsError(
        "UNAVAILABLE",
        "the node speaks TLS and this client does not: give the CA certificate that signed " +
          "the nodes' certificates (--tls-ca FILE, CDFS_TLS_CA, or a cluster file that names one)",
      );
    }
    await this.readExactly(this.#headerIn.subarray(0, PREAMBLE_SIZE), "the preamble", first);
    if (this.#headerIn[0] === FRAME_TYPE.ERROR) {
      await this.readExactly(this.#headerIn, "a frame header", PREAMBLE_SIZE);
      this.#countRead(FRAME_HEADER_SIZE);
      const header = decodeFrameHeader(this.#headerIn);
      this.#pendingPayload = header;
      throw await this.readErrorPayload(header);
    }
    try {
      decodePreamble(this.#headerIn);
    } catch (e) {
      if (e instanceof CdfsError) {
        throw new CdfsError(e.code, `server preamble: ${e.message}`);
      }
      throw e;
    }
  }

  /**
   * Server side of the preamble exchange: reads the client's preamble and answers with ours,
   * or with an ERROR frame (`BAD_REQUEST` "bad magic" or "unsupported version N") after which
   * the connection is closed and the error thrown.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * if (!await conn.serverHandshake()) return; // the client left without a word
   * ```
   *
   * @returns False when the client closed before sending a byte.
   * @throws {CdfsError} `BAD_REQUEST` for a bad preamble, `TIMEOUT`.
   */
  async serverHandshake(): Promise<boolean> {
    const preamble = this.#headerIn.subarray(0, PREAMBLE_SIZE);
    const first = await this.readFirstBytes(preamble);
    if (first === null) return false;
    await this.readExactly(preamble, "the preamble", first);
    try {
      if (startsTlsRecord(preamble, first)) {
        throw new CdfsError("BAD_REQUEST", "a TLS client: this node does not serve TLS");
      }
      decodePreamble(preamble);
    } catch (e) {
      if (e instanceof CdfsError) {
        await this.writeError(e.code, e.message).catch(() => {});
        await this.closeGracefully(200);
      }
      throw e;
    }
    const ours = new Uint8Array(PREAMBLE_SIZE);
    encodePreamble(ours);
    await this.writeWhole(ours, "writing the preamble");
    return true;
  }

  /**
   * Reads and validates the next frame header. Waiting for its first byte is bounded by the
   * idle timeout, the rest of the frame (header and payload) by the frame timeout. The payload
   * must then be read with {@linkcode FrameConnection.readPayloadInto} (or
   * {@linkcode FrameConnection.readErrorPayload}) before the next header.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * const header = await conn.readFrameHeader();
   * if (header === null) return; // the peer closed between frames
   * ```
   *
   * @returns The header, or null when the peer closed before its first byte.
   * @throws {CdfsError} `BAD_REQUEST` for an invalid header or a connection closed inside it,
   * `TIMEOUT`, `UNAVAILABLE`.
   */
  async readFrameHeader(): Promise<FrameHeader | null> {
    if (this.#pendingPayload !== null) {
      throw new CdfsError(
        "INTERNAL",
        `the payload of a ${frameTypeName(this.#pendingPayload.type)} frame was not read`,
      );
    }
    const first = await this.readFirstBytes(this.#headerIn);
    if (first === null) return null;
    await this.readExactly(this.#headerIn, "a frame header", first);
    this.#countRead(FRAME_HEADER_SIZE);
    const header = decodeFrameHeader(this.#headerIn);
    this.#pendingPayload = header;
    // Inside a data stream the next frame is data too: its payload goes where it belongs.
    this.readAheadUpTo(header.type === FRAME_TYPE.DATA ? 0 : SMALL_FRAME_READ);
    return header;
  }

  /**
   * Reads the payload of the frame whose header was just read into `view` (whose length must be
   * the payload length) and verifies its checksum. `view` may be a view on WebAssembly memory.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * const header = await conn.readFrameHeader();
   * const view = buffer.bytes.subarray(0, header!.length);
   * await conn.readPayloadInto(view);
   * ```
   *
   * @param view Where the payload goes.
   * @throws {CdfsError} `CORRUPT` "frame checksum mismatch", `BAD_REQUEST` when the connection
   * closed inside the payload, `TIMEOUT`, `UNAVAILABLE`.
   */
  async readPayloadInto(view: Uint8Array): Promise<void> {
    const header = this.#pendingPayload;
    if (header === null) {
      throw new CdfsError("INTERNAL", "readPayloadInto called without a frame header");
    }
    if (view.length !== header.length) {
      throw new CdfsError(
        "INTERNAL",
        `a ${header.length}-byte payload cannot be read into ${view.length} bytes`,
      );
    }
    await this.readExactly(view, `a ${frameTypeName(header.type)} payload`);
    this.#countRead(view.length);
    this.#pendingPayload = null;
    const actual = this.checksummer.checksum(view);
    if (actual !== header.checksum) {
      throw new CdfsError(
        "CORRUPT",
        `frame checksum mismatch in a ${frameTypeName(header.type)} frame (header ${
          formatChecksum(header.checksum)
        }, payload ${formatChecksum(actual)})`,
      );
    }
  }

  /**
   * Reads the payload of an ERROR frame whose header was just read and returns it as a
   * {@linkcode PeerError} for the caller to throw.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * const header = await conn.readFrameHeader();
   * if (header?.type === FRAME_TYPE.ERROR) throw await conn.readErrorPayload(header);
   * ```
   *
   * @param header The ERROR frame's header.
   * @returns The peer's error.
   * @throws {CdfsError} When the payload is malformed (`BAD_REQUEST`, `CORRUPT`).
   */
  async readErrorPayload(header: FrameHeader): Promise<PeerError> {
    if (header.type !== FRAME_TYPE.ERROR) {
      throw new CdfsError("INTERNAL", `readErrorPayload given a ${frameTypeName(header.type)}`);
    }
    const body = parseErrorBody(await this.#readJsonPayload(header));
    return new PeerError(body.code, body.message);
  }

  /**
   * Reads a JSON frame of `expectedType` (REQUEST, RESPONSE or ERROR) and returns its object.
   * An ERROR frame, when another type was expected, is thrown as a {@linkcode PeerError}.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * const request = await conn.readJsonFrame(FRAME_TYPE.REQUEST);
   * if (request === null) return; // the client closed between requests
   * ```
   *
   * @param expectedType The frame type wanted.
   * @param maxBytes A bound below the type's own (64 KiB, ERROR 4 KiB).
   * @returns The parsed object (not yet validated: see `parseRequest`, `parseResponse`), or
   * null when the peer closed before the frame's first byte.
   * @throws {CdfsError} `BAD_REQUEST` (wrong type, over the bound, not UTF-8, not JSON, not an
   * object), `CORRUPT`, `TIMEOUT`, `UNAVAILABLE`; {@linkcode PeerError}.
   */
  async readJsonFrame(
    expectedType: FrameType,
    maxBytes?: number,
  ): Promise<Record<string, unknown> | null> {
    if (expectedType === FRAME_TYPE.DATA || expectedType === FRAME_TYPE.END) {
      throw new RangeError(`${frameTypeName(expectedType)} frames do not carry JSON`);
    }
    const header = await this.readFrameHeader();
    if (header === null) return null;
    if (expectedType === FRAME_TYPE.REQUEST) {
      // A request inside an op (a push run's COMMIT) is signed as every request is.
      const signed = await readRequestFrame(this, header, this.verifier, maxBytes);
      return decodeJsonObject(signed.payload, "REQUEST");
    }
    if (header.type === FRAME_TYPE.ERROR && expectedType !== FRAME_TYPE.ERROR) {
      throw await this.readErrorPayload(header);
    }
    if (header.type !== expectedType) {
      throw new CdfsError(
        "BAD_REQUEST",
        `expected a ${frameTypeName(expectedType)} frame, got ${frameTypeName(header.type)}`,
      );
    }
    const bound = Math.min(maxBytes ?? Infinity, maxPayloadLength(header.type));
    if (header.length > bound) {
      throw new CdfsError(
        "BAD_REQUEST",
        `${
          frameTypeName(header.type)
        } payload of ${header.length} bytes exceeds the bound of ${bound}`,
      );
    }
    return await this.#readJsonPayload(header);
  }

  /**
   * Writes one frame: header and payload.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * await conn.writeFrame(FRAME_TYPE.DATA, chunk, { checksum: storedChecksum });
   * ```
   *
   * @param type The frame type.
   * @param payload The payload, within the bound of the type.
   * @param options A known checksum; headroom before the payload.
   * @returns The checksum sent.
   * @throws {CdfsError} `TIMEOUT`, `UNAVAILABLE`.
   */
  async writeFrame(
    type: FrameType,
    payload: Uint8Array,
    options: WriteFrameOptions = {},
  ): Promise<bigint> {
    const checksum = options.checksum ?? this.checksummer.checksum(payload);
    const header = { type, length: payload.length, checksum };
    const what = `writing a ${frameTypeName(type)} frame`;
    this.beginWrite();
    if (options.headroom) {
      if (payload.byteOffset < FRAME_HEADER_SIZE) {
        throw new RangeError(`headroom needs ${FRAME_HEADER_SIZE} bytes before the payload`);
      }
      const whole = new Uint8Array(
        payload.buffer,
        payload.byteOffset - FRAME_HEADER_SIZE,
        FRAME_HEADER_SIZE + payload.length,
      );
      encodeFrameHeader(whole, header);
      await this.writeAll(whole, what);
    } else if (payload.length <= COALESCE_LIMIT) {
      const whole = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
      encodeFrameHeader(whole, header);
      whole.set(payload, FRAME_HEADER_SIZE);
      await this.writeAll(whole, what);
    } else {
      encodeFrameHeader(this.#headerOut, header);
      await this.writeAll(this.#headerOut, what);
      await this.writeAll(payload, what);
    }
    const written = FRAME_HEADER_SIZE + payload.length;
    this.bytesWritten += written;
    if (this.meter !== null) this.meter.bytesOut += written;
    return checksum;
  }

  /**
   * Writes a DATA frame.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * const checksum = await conn.writeDataFrame(chunk);
   * ```
   *
   * @param payload 1 byte up to the chunk size.
   * @param checksum The payload's xxh64 when already known.
   * @param options Headroom before the payload (see {@linkcode WriteFrameOptions}).
   * @returns The checksum sent.
   */
  writeDataFrame(
    payload: Uint8Array,
    checksum?: bigint,
    options: { headroom?: boolean } = {},
  ): Promise<bigint> {
    const frameOptions: WriteFrameOptions = {};
    if (checksum !== undefined) frameOptions.checksum = checksum;
    if (options.headroom) frameOptions.headroom = true;
    return this.writeFrame(FRAME_TYPE.DATA, payload, frameOptions);
  }

  /**
   * Writes the END frame of a data stream.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * await conn.writeEnd({ length: total, digest });
   * ```
   *
   * @param trailer Total length and digest of the stream.
   */
  async writeEnd(trailer: EndTrailer): Promise<void> {
    const payload = new Uint8Array(END_PAYLOAD_SIZE);
    encodeEndPayload(payload, trailer);
    await this.writeFrame(FRAME_TYPE.END, payload);
  }

  /**
   * Writes a JSON frame (REQUEST, RESPONSE or ERROR).
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * await conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { block: "b1", deleted: true });
   * ```
   *
   * @param type The frame type.
   * @param value The object to send.
   * @throws {CdfsError} `INTERNAL` when the JSON exceeds the bound of the type (a bug of this
   * side), `TIMEOUT`, `UNAVAILABLE`.
   */
  async writeJsonFrame(type: FrameType, value: object): Promise<void> {
    const payload = new TextEncoder().encode(JSON.stringify(value));
    const bound = maxPayloadLength(type);
    if (payload.length > bound) {
      throw new CdfsError(
        "INTERNAL",
        `${frameTypeName(type)} payload of ${payload.length} bytes exceeds the bound of ${bound}`,
      );
    }
    if (type === FRAME_TYPE.REQUEST && this.signer !== null) {
      await this.writeFrame(FRAME_TYPE.AUTH, this.signer.sign(payload));
    }
    await this.writeFrame(type, payload);
  }

  /**
   * Writes an ERROR frame; the message is made one line and cut to fit.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * await conn.writeError("NOT_FOUND", `block "b1" does not exist`);
   * ```
   *
   * @param code The code.
   * @param message The message.
   */
  async writeError(code: ErrorCode, message: string): Promise<void> {
    await this.writeJsonFrame(FRAME_TYPE.ERROR, errorBody(code, message));
  }

  /**
   * Starts reading the next frame header in the background, so that an early reply of the
   * peer (an ERROR in the middle of an upload) is noticed while this side is still writing:
   * poll {@linkcode FrameConnection.peerSentData} between frames. The next
   * {@linkcode FrameConnection.readFrameHeader} continues this read.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * conn.prefetchHeader();
   * for (const chunk of chunks) {
   *   if (conn.peerSentData) break;
   *   await conn.writeDataFrame(chunk);
   * }
   * ```
   */
  prefetchHeader(): void {
    if (this.#pendingPayload !== null) return;
    this.prefetchInto(this.#headerIn);
  }

  /**
   * After {@linkcode FrameConnection.prefetchHeader}: waits up to `waitMs` for the peer's early
   * reply and returns it as an error to throw: the {@linkcode PeerError} of an ERROR frame, a
   * `BAD_REQUEST` for any other frame, or `UNAVAILABLE` when the peer closed. Returns null when
   * nothing arrived in time (the background read goes on).
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * if (conn.peerSentData) throw await conn.takeEarlyReply(0);
   * ```
   *
   * @param waitMs How long to wait for the reply.
   * @returns The error, or null.
   */
  async takeEarlyReply(waitMs: number): Promise<CdfsError | null> {
    if (!await this.waitForPrefetch(waitMs)) return null;
    try {
      const header = await this.readFrameHeader();
      if (header === null) {
        return new CdfsError("UNAVAILABLE", "the peer closed the connection during the stream");
      }
      if (header.type === FRAME_TYPE.ERROR) return await this.readErrorPayload(header);
      return new CdfsError(
        "BAD_REQUEST",
        `the peer sent a ${frameTypeName(header.type)} frame in the middle of the stream`,
      );
    } catch (e) {
      if (e instanceof CdfsError) return e;
      throw e;
    }
  }

  async #readJsonPayload(header: FrameHeader): Promise<Record<string, unknown>> {
    // A fresh, regular buffer: TextDecoder refuses views on shared memory, and JSON frames are
    // small and off the hot path.
    const payload = new Uint8Array(header.length);
    await this.readPayloadInto(payload);
    return decodeJsonObject(payload, frameTypeName(header.type));
  }

  #countRead(n: number): void {
    this.bytesRead += n;
    if (this.meter !== null) this.meter.bytesIn += n;
  }
}
