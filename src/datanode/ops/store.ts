/**
 * STORE: receives a block's data stream into the block store. The frames go from the socket
 * into pooled buffers (one, or two when the pool has room to spare so the next frame is read
 * while the previous one is written; each taken when a frame arrives and given back once it
 * is written), from there into the block's temp file; the block
 * becomes visible only once it is complete, verified against the END trailer, fsynced and
 * moved into place. Any failure removes the temp file. A declared length over the free space
 * is refused up front (`NO_SPACE`), before the stream is read.
 *
 * A STORE that declares its digest (a client retrying after a lost reply) is idempotent: when
 * the block is already stored with exactly that length, chunk size and digest, the stream is
 * read and verified against it but nothing is written, and the reply says `existed`; other
 * content still gets `EXISTS` (without `overwrite`) before the stream is read.
 *
 * @module
 */
import { formatChecksum } from "../../checksum/checksum.ts";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import type { StoreRequest } from "../../protocol/requests.ts";
import { FRAME_TYPE } from "../../protocol/frame.ts";
import type { StoreResponse } from "../../protocol/responses.ts";
import { receiveChunks } from "../../protocol/stream.ts";
import type { CreateBlockOptions } from "../../store/block_store.ts";
import { RequestBuffers } from "../buffers.ts";
import { type OpContext, type OpHandler, parseRequestAs } from "../op.ts";

/**
 * The STORE handler.
 */
export const storeOp: OpHandler = {
  op: "STORE",
  clientStreams: true,
  async run(ctx, raw) {
    const request = parseRequestAs("STORE", raw);
    const { block, chunkSize } = request;
    ctx.block = block;
    if (chunkSize > ctx.maxChunkSize) {
      throw new CdfsError(
        "BAD_REQUEST",
        `chunk size ${chunkSize} exceeds this node's limit of ${ctx.maxChunkSize} bytes`,
      );
    }
    // A retry of a STORE that took effect (its reply was lost): the same content is there.
    if (request.digest !== undefined && await storedAlready(ctx, request)) {
      await confirmStored(ctx, request);
      return;
    }
    if (request.length !== undefined) {
      // Refused before a byte of the stream is read: the disk could not hold it.
      const free = await ctx.store.freeBytes();
      if (request.length > free) {
        throw new CdfsError(
          "NO_SPACE",
          `block '${block}' declares ${request.length} bytes, but only ${free} are free here`,
        );
      }
    }
    const options: CreateBlockOptions = { chunkSize, overwrite: request.overwrite ?? false };
    if (request.length !== undefined) options.length = request.length;
    // Created before any buffer is taken, so that EXISTS is answered without waiting for
    // memory; from here on every way out either commits or aborts the writer.
    const writer = await ctx.store.create(block, options);
    try {
      // A buffer is taken per frame, once its header arrived (a client that goes quiet holds
      // none), with a bounded wait (then BUSY); a second reads ahead only when the pool has
      // room to spare.
      const buffers = new RequestBuffers(ctx.pool, {
        signal: ctx.signal,
        ...(ctx.bufferWaitMs === undefined ? {} : { waitMs: ctx.bufferWaitMs }),
      });
      const summary = await receiveChunks(
        ctx.conn,
        buffers,
        {
          chunkSize,
          ...(request.length === undefined ? {} : { length: request.length }),
          overlap: true,
        },
        async (chunk) => {
          await writer.write(chunk.bytes, chunk.checksum);
          ctx.bytes += chunk.bytes.length;
        },
      );
      if (request.digest !== undefined && formatChecksum(summary.digest) !== request.digest) {
        throw new CdfsError(
          "CORRUPT",
          `block '${block}': the stream's digest ${
            formatChecksum(summary.digest)
          } is not the declared ${request.digest}`,
        );
      }
      const info = await writer.commit({ length: summary.length, digest: summary.digest });
      const response: StoreResponse = {
        block,
        length: info.length,
        digest: formatChecksum(info.digest),
      };
      await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
    } catch (e) {
      await writer.abort();
      throw e;
    }
  },
};

/** Whether the block is stored with exactly the request's declared length, chunk size, digest. */
async function storedAlready(ctx: OpContext, request: StoreRequest): Promise<boolean> {
  try {
    const info = await ctx.store.stat(request.block);
    return info.length === request.length && info.chunkSize === request.chunkSize &&
      formatChecksum(info.digest) === request.digest;
  } catch (e) {
    if (isCdfsError(e, "NOT_FOUND")) return false;
    throw e;
  }
}

/**
 * Answers a STORE whose content is already stored: the stream is read (so the connection
 * stays usable) and must be exactly that content — canonical chunks, each verified, the END
 * trailer matching the declared length and digest — but nothing is written.
 */
async function confirmStored(ctx: OpContext, request: StoreRequest): Promise<void> {
  const { block, chunkSize } = request;
  const buffers = new RequestBuffers(ctx.pool, {
    signal: ctx.signal,
    ...(ctx.bufferWaitMs === undefined ? {} : { waitMs: ctx.bufferWaitMs }),
  });
  const summary = await receiveChunks(
    ctx.conn,
    buffers,
    { chunkSize, length: request.length!, overlap: false },
    (chunk) => {
      ctx.bytes += chunk.bytes.length;
    },
  );
  const digest = formatChecksum(summary.digest);
  if (digest !== request.digest) {
    throw new CdfsError(
      "CORRUPT",
      `block '${block}': the stream's digest ${digest} is not the declared ${request.digest}`,
    );
  }
  const response: StoreResponse = { block, length: summary.length, digest, existed: true };
  await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
}
