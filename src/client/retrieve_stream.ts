/**
 * {@linkcode openRetrieveStream}: a RETRIEVE of a whole block read frame by frame into memory
 * of the caller's choosing (a datanode pulling a block into its buffer pool), checked against
 * the stored digest at the end.
 *
 * @module
 */
import { formatChecksum } from "../checksum/checksum.ts";
import { CdfsError } from "../core/errors.ts";
import { FRAME_TYPE } from "../protocol/frame.ts";
import { parseResponse } from "../protocol/response_validation.ts";
import type { RetrieveResponse } from "../protocol/responses.ts";
import type { NodeConnection } from "./node_connection.ts";
import { PullStream } from "./pull_stream.ts";

/**
 * A RETRIEVE whose data is read frame by frame into memory of the caller's choosing (see
 * {@linkcode openRetrieveStream}).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * const retrieve = await client.openRetrieve("b1");
 * const { length } = await retrieve.response();
 * for (let n = await retrieve.next(); n !== null; n = await retrieve.next()) {
 *   await retrieve.read(buffer.subarray(0, n));
 * }
 * ```
 */
export interface RetrieveStream {
  /** The node's reply (read once, in the background from the start). */
  response(): Promise<RetrieveResponse>;
  /**
   * The length of the next DATA frame, whose payload must then be read with `read`; null once
   * END arrived and the chunks matched the stored digest.
   */
  next(): Promise<number | null>;
  /** Reads the pending frame's payload into `view` (exactly its length) and verifies it. */
  read(view: Uint8Array): Promise<void>;
  /** Abandons the stream (closes the connection unless it ended); idempotent. */
  close(): void;
}

/**
 * Sends a RETRIEVE of a whole block and returns at once, for a caller that reads the frames
 * into memory of its own (see {@linkcode RetrieveStream}); `DataNodeClient.retrieve` is the
 * simple form. The chunks are checked against the stored digest at the end. The
 * client serves nothing else until the stream ended or was closed.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * const retrieve = await openRetrieveStream(link, "movie.part0");
 * console.log((await retrieve.response()).length);
 * retrieve.close();
 * ```
 *
 * @param link The connection to the node.
 * @param id The block id.
 * @returns The stream.
 * @throws {CdfsError} `BAD_REQUEST` for a bad id, connection errors.
 */
export async function openRetrieveStream(
  link: NodeConnection,
  id: string,
): Promise<RetrieveStream> {
  const block = link.checkId(id);
  const conn = await link.acquire();
  try {
    await conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "RETRIEVE", block });
  } catch (e) {
    link.drop();
    throw link.nodeError(e);
  }
  let finished = false;
  let stream: PullStream | null = null;
  const fail = (e: unknown): never => {
    if (!finished) {
      finished = true;
      link.discard(conn);
    }
    throw link.nodeError(e);
  };
  const response = link.readResponse(conn).then((body) => {
    const parsed = parseResponse("RETRIEVE", body);
    link.expectBlock(parsed.block, block, "RETRIEVE");
    return parsed;
  }).catch(fail);
  response.catch(() => {}); // observed by whoever asks; never "unhandled"
  return {
    response: () => response,
    next: async () => {
      const announced = await response;
      try {
        stream ??= await PullStream.create(conn, {
          chunkSize: announced.chunkSize,
          length: announced.length,
        });
        const n = await stream.next();
        if (n === null && !finished) {
          const digest = formatChecksum(stream.digest);
          if (digest !== announced.digest) {
            throw new CdfsError(
              "CORRUPT",
              `block '${block}': the chunks received hash to ${digest}, the stored digest is ${announced.digest}`,
            );
          }
          finished = true;
          link.release(conn);
        }
        return n;
      } catch (e) {
        return fail(e);
      }
    },
    read: async (view) => {
      try {
        if (stream === null) throw new CdfsError("INTERNAL", "read() before next()");
        await stream.read(view);
      } catch (e) {
        fail(e);
      }
    },
    close: () => {
      if (finished) return;
      finished = true;
      link.discard(conn);
    },
  };
}
