/**
 * The RETRIEVE of a block or a byte range of it into a writer or a function
 * ({@linkcode retrieveBlock}, `DataNodeClient.retrieve`): every chunk is verified on arrival,
 * and a whole block also end to end against the stored digest.
 *
 * @module
 */
import { formatChecksum } from "../checksum/checksum.ts";
import { CdfsError } from "../core/errors.ts";
import { FRAME_TYPE } from "../protocol/frame.ts";
import { PeerError } from "../protocol/peer_error.ts";
import type { RetrieveRequest } from "../protocol/requests.ts";
import { parseResponse } from "../protocol/response_validation.ts";
import type { RetrieveResponse } from "../protocol/responses.ts";
import { receiveChunks } from "../protocol/stream.ts";
import { bufferPoolFor } from "./buffer_pools.ts";
import { type ByteWriter, writeFully } from "./byte_io.ts";
import type { NodeConnection } from "./node_connection.ts";
import { checkByteCount } from "./request_checks.ts";

/**
 * Where a RETRIEVE delivers the block: a writer (a `Deno.FsFile`, `Deno.stdout`) or a function
 * given each verified chunk in order. A chunk is a view on pooled memory, valid until the
 * function's promise settles: copy what must outlive that.
 *
 * @example
 * ```ts
 * import type { RetrieveSink } from "./retrieve.ts";
 * let total = 0;
 * const counter: RetrieveSink = (chunk) => void (total += chunk.length);
 * const toStdout: RetrieveSink = Deno.stdout;
 * ```
 */
export type RetrieveSink = ByteWriter | ((chunk: Uint8Array) => void | Promise<void>);

/**
 * Options of {@linkcode retrieveBlock}: a byte range and a progress callback.
 *
 * @example
 * ```ts
 * import type { RetrieveOptions } from "./retrieve.ts";
 * const options: RetrieveOptions = { offset: 4096, length: 100, onResponse: (r) => void r.length };
 * ```
 */
export interface RetrieveOptions {
  /** The first byte (default 0). */
  offset?: number;
  /** How many bytes (default: to the end of the block). */
  length?: number;
  /** Called once the node has accepted the request, before any byte: how many will follow. */
  onResponse?: (response: RetrieveResponse) => void;
  /** Called after each chunk was delivered, with the bytes delivered so far. */
  onProgress?: (bytesReceived: number) => void;
}

/**
 * What a RETRIEVE delivered.
 *
 * @example
 * ```ts
 * import type { RetrieveResult } from "./retrieve.ts";
 * const r: RetrieveResult = {
 *   block: "b",
 *   offset: 0,
 *   length: 0,
 *   blockLength: 0,
 *   chunkSize: 1048576,
 *   digest: "ef46db3751d8e999",
 *   verified: true,
 * };
 * ```
 */
export interface RetrieveResult {
  /** The block id. */
  block: string;
  /** The offset of the first byte delivered. */
  offset: number;
  /** Bytes delivered. */
  length: number;
  /** The length of the whole block. */
  blockLength: number;
  /** The chunk size the block is stored with. */
  chunkSize: number;
  /** The stored block digest (16 hex digits). */
  digest: string;
  /**
   * True for a whole-block read: the chunks received hash to the stored block digest. A range
   * is verified chunk by chunk only.
   */
  verified: boolean;
}

/**
 * Retrieves a block, or a byte range of it, into a writer or a function. Every chunk is
 * verified before it is delivered; for a whole block the chunks must also hash to the
 * stored digest. On an error some chunks may already have been delivered: a caller writing
 * a file should write a temporary one and rename it on success.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * using file = await Deno.open("copy.mkv", { write: true, create: true, truncate: true });
 * await retrieveBlock(link, "movie.mkv.0", file);
 * await retrieveBlock(link, "movie.mkv.0", (chunk) => hash.update(chunk), { offset: 10, length: 5 });
 * ```
 *
 * @param link The connection to the node.
 * @param id The block id.
 * @param sink Where the bytes go.
 * @param options A byte range, progress.
 * @returns What was delivered.
 * @throws {CdfsError} `NOT_FOUND`, `BAD_REQUEST` (a range outside the block), `CORRUPT`,
 * `UNAVAILABLE`, `TIMEOUT`, all naming the node; an error of the sink is thrown as it is.
 */
export async function retrieveBlock(
  link: NodeConnection,
  id: string,
  sink: RetrieveSink,
  options: RetrieveOptions = {},
): Promise<RetrieveResult> {
  const block = link.checkId(id);
  const request: RetrieveRequest = { op: "RETRIEVE", block };
  if (options.offset !== undefined && options.offset !== 0) {
    request.offset = checkByteCount(options.offset, "offset");
  }
  if (options.length !== undefined) {
    request.length = checkByteCount(options.length, "length");
  }
  const whole = request.offset === undefined && request.length === undefined;
  const deliver = typeof sink === "function"
    ? sink
    : (chunk: Uint8Array) => writeFully(sink, chunk);
  const { onProgress } = options;
  let sinkError: unknown = undefined;
  let refusedBeforeData = false;
  const conn = await link.acquire();
  try {
    await conn.writeJsonFrame(FRAME_TYPE.REQUEST, request);
    let response;
    try {
      response = parseResponse("RETRIEVE", await link.readResponse(conn));
    } catch (e) {
      refusedBeforeData = e instanceof PeerError;
      throw e;
    }
    link.expectBlock(response.block, block, "RETRIEVE");
    if (request.length !== undefined && response.length !== request.length) {
      throw new CdfsError(
        "BAD_REQUEST",
        `RETRIEVE of ${request.length} bytes was answered with ${response.length}`,
      );
    }
    options.onResponse?.(response);
    let delivered = 0;
    const summary = await receiveChunks(
      conn,
      bufferPoolFor(response.chunkSize),
      { chunkSize: response.chunkSize, length: response.length, canonical: whole, overlap: true },
      async (chunk) => {
        try {
          await deliver(chunk.bytes);
        } catch (e) {
          sinkError = e;
          throw e;
        }
        delivered += chunk.bytes.length;
        onProgress?.(delivered);
      },
    );
    if (whole && formatChecksum(summary.digest) !== response.digest) {
      throw new CdfsError(
        "CORRUPT",
        `block '${block}': the chunks received hash to ${
          formatChecksum(summary.digest)
        }, the stored digest is ${response.digest}`,
      );
    }
    link.release(conn);
    return {
      block,
      offset: request.offset ?? 0,
      length: summary.length,
      blockLength: response.blockLength,
      chunkSize: response.chunkSize,
      digest: response.digest,
      verified: whole,
    };
  } catch (e) {
    // Refused before any data (NOT_FOUND, a bad range): the connection stays usable.
    // Anywhere later the stream is cut off mid-way, and the node closes after an ERROR in it.
    if (refusedBeforeData) link.release(conn);
    else link.drop();
    if (sinkError !== undefined && e === sinkError) throw e;
    throw link.nodeError(e);
  }
}
