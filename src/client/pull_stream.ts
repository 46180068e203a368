/**
 * {@linkcode PullStream}: a data stream (DATA frames, then END) received in pull mode: the
 * caller asks for the next frame's length, then reads its payload into memory of its choosing
 * (for a datanode, a buffer of its own WebAssembly pool, where the coding kernels work). The
 * push-mode `receiveChunks` of src/protocol owns its buffers and calls back; a coding input
 * must hand each buffer on to the interpreter instead, hence this second form.
 *
 * @module
 */
import { type Checksummer, createChecksummer } from "../checksum/checksum.ts";
import { CdfsError } from "../core/errors.ts";
import type { FrameConnection } from "../protocol/connection.ts";
import {
  decodeEndPayload,
  END_PAYLOAD_SIZE,
  FRAME_TYPE,
  type FrameHeader,
  frameTypeName,
  MAX_JSON_PAYLOAD,
} from "../protocol/frame.ts";
import { checkEndTrailer } from "../protocol/stream.ts";

/**
 * The rules a {@linkcode PullStream} checks.
 *
 * @example
 * ```ts
 * import type { PullStreamRules } from "./pull_stream.ts";
 * const rules: PullStreamRules = { chunkSize: 1 << 20, length: 5_000_000 };
 * ```
 */
export interface PullStreamRules {
  /** The largest DATA payload. */
  readonly chunkSize: number;
  /** The exact total length, when announced (a RETRIEVE or CODING response). */
  readonly length?: number;
  /**
   * Accepts RESPONSE frames between the DATA frames (a CODING stream's keepalives) and hands
   * their JSON object to this function, which throws when it is not acceptable. Without it a
   * RESPONSE frame in the stream is an error.
   */
  readonly onReply?: (reply: Record<string, unknown>) => void;
}

/**
 * A data stream on a connection, read frame by frame. Every payload is verified against its
 * frame checksum; the END trailer against the total and the digest of the frames received.
 * An ERROR frame in the stream is thrown as the peer's error.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { PullStream } from "./pull_stream.ts";
 * const stream = await PullStream.create(conn, { chunkSize: 1 << 20, length: 10 });
 * for (let n = await stream.next(); n !== null; n = await stream.next()) {
 *   await stream.read(buffer.subarray(0, n));
 * }
 * ```
 */
export class PullStream {
  /** The rules checked. */
  readonly rules: PullStreamRules;
  readonly #conn: FrameConnection;
  readonly #digester: Checksummer;
  readonly #encoded = new Uint8Array(8);
  readonly #encodedView = new DataView(this.#encoded.buffer);
  #received = 0;
  #frames = 0;
  /** The length of the DATA frame whose payload is to be read next, or -1. */
  #pending = -1;
  /** Its checksum, from the frame header (verified against the payload by the read). */
  #pendingChecksum = 0n;
  #ended = false;
  #digest = 0n;

  private constructor(conn: FrameConnection, rules: PullStreamRules, digester: Checksummer) {
    this.#conn = conn;
    this.rules = rules;
    this.#digester = digester;
    digester.start();
  }

  /**
   * Starts reading a stream from `conn`, which must be right before its first frame.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const stream = await PullStream.create(conn, { chunkSize: response.chunkSize });
   * ```
   *
   * @param conn The connection.
   * @param rules The chunk size and the announced length.
   * @returns The stream.
   */
  static async create(conn: FrameConnection, rules: PullStreamRules): Promise<PullStream> {
    return new PullStream(conn, rules, await createChecksummer());
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#received;
  }

  /** The stream digest (xxh64 of the frame checksums), once END arrived and matched it. */
  get digest(): bigint {
    return this.#digest;
  }

  /** Whether END arrived and was verified. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Reads the next frame header: the length of a DATA frame (whose payload must then be read
   * with {@linkcode PullStream.read}), or null once END arrived and matched.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const n = await stream.next();
   * if (n !== null) await stream.read(view.subarray(0, n));
   * ```
   *
   * @returns The payload length, or null at the end.
   * @throws {CdfsError} `BAD_REQUEST` (a frame out of place, an oversized frame, more or fewer
   * bytes than announced, the connection closed), `CORRUPT` (END length or digest), the peer's
   * error for an ERROR frame, the connection's errors.
   */
  async next(): Promise<number | null> {
    if (this.#ended) return null;
    if (this.#pending >= 0) {
      throw new CdfsError("INTERNAL", "PullStream.next() before the pending payload was read");
    }
    let header = await this.#readHeader();
    while (header.type === FRAME_TYPE.RESPONSE && this.rules.onReply !== undefined) {
      if (header.length > MAX_JSON_PAYLOAD) {
        throw new CdfsError(
          "BAD_REQUEST",
          `a RESPONSE frame of ${header.length} bytes in a data stream`,
        );
      }
      const payload = new Uint8Array(header.length);
      await this.#conn.readPayloadInto(payload);
      this.rules.onReply(parseJsonObject(payload));
      header = await this.#readHeader();
    }
    if (header.type === FRAME_TYPE.ERROR) throw await this.#conn.readErrorPayload(header);
    const expected = this.rules.length;
    if (header.type === FRAME_TYPE.END) {
      const payload = new Uint8Array(END_PAYLOAD_SIZE);
      await this.#conn.readPayloadInto(payload);
      const trailer = decodeEndPayload(payload);
      if (expected !== undefined && this.#received !== expected) {
        throw new CdfsError(
          "BAD_REQUEST",
          `the stream ended after ${this.#received} of the announced ${expected} bytes`,
        );
      }
      const digest = this.#digester.finish();
      checkEndTrailer(trailer, this.#received, digest);
      this.#ended = true;
      this.#digest = digest;
      return null;
    }
    if (header.type !== FRAME_TYPE.DATA) {
      throw new CdfsError(
        "BAD_REQUEST",
        `expected a DATA or END frame, got ${frameTypeName(header.type)}`,
      );
    }
    const size = header.length;
    if (size === 0 || size > this.rules.chunkSize) {
      throw new CdfsError(
        "BAD_REQUEST",
        `DATA frame ${this.#frames} has ${size} bytes, expected 1..${this.rules.chunkSize}`,
      );
    }
    if (expected !== undefined && this.#received + size > expected) {
      throw new CdfsError(
        "BAD_REQUEST",
        `the stream is longer than the announced ${expected} bytes`,
      );
    }
    this.#pending = size;
    this.#pendingChecksum = header.checksum;
    return size;
  }

  async #readHeader(): Promise<FrameHeader> {
    const header = await this.#conn.readFrameHeader();
    if (header === null) {
      throw new CdfsError(
        "UNAVAILABLE",
        `the connection closed in the middle of a data stream (after ${this.#received} bytes)`,
      );
    }
    return header;
  }

  /**
   * Reads the payload of the DATA frame announced by {@linkcode PullStream.next} into `view`
   * (exactly its length; any memory, e.g. a view on WebAssembly memory) and verifies it.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * await stream.read(buffer.bytes.subarray(0, n));
   * ```
   *
   * @param view Where the payload goes.
   * @returns The payload's checksum.
   * @throws {CdfsError} `CORRUPT` "frame checksum mismatch", the connection's errors.
   */
  async read(view: Uint8Array): Promise<bigint> {
    if (this.#pending < 0) {
      throw new CdfsError("INTERNAL", "PullStream.read() without a pending DATA frame");
    }
    if (view.length !== this.#pending) {
      throw new CdfsError(
        "INTERNAL",
        `a ${this.#pending}-byte DATA payload cannot be read into ${view.length} bytes`,
      );
    }
    // readPayloadInto verifies the payload against the header's checksum: hashed once.
    await this.#conn.readPayloadInto(view);
    const checksum = this.#pendingChecksum;
    this.#encodedView.setBigUint64(0, checksum, false);
    this.#digester.update(this.#encoded);
    this.#received += view.length;
    this.#frames++;
    this.#pending = -1;
    return checksum;
  }
}

function parseJsonObject(payload: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw new CdfsError("BAD_REQUEST", "a RESPONSE frame in a data stream is not UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CdfsError("BAD_REQUEST", "a RESPONSE frame in a data stream must be a JSON object");
  }
  return value as Record<string, unknown>;
}
