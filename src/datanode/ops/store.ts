/**
 * STORE: receives a block's data stream into the block store. The frames go from the socket
 * into pooled buffers (one, or two when the pool has one to spare so the next frame is read
 * while the previous one is written), from there into the block's temp file; the block
 * becomes visible only once it is complete, verified against the END trailer, fsynced and
 * moved into place. Any failure removes the temp file.
 *
 * @module
 */
import type { PooledBuffer } from "../../buffer/pool.ts";
import { formatChecksum } from "../../checksum/checksum.ts";
import { CdfsError } from "../../core/errors.ts";
import { FRAME_TYPE } from "../../protocol/frame.ts";
import type { StoreResponse } from "../../protocol/responses.ts";
import { type ChunkBufferPool, receiveChunks } from "../../protocol/stream.ts";
import type { CreateBlockOptions } from "../../store/block_store.ts";
import { type OpHandler, parseRequestAs } from "../op.ts";

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
    const options: CreateBlockOptions = { chunkSize, overwrite: request.overwrite ?? false };
    if (request.length !== undefined) options.length = request.length;
    // Created before any buffer is taken, so that EXISTS is answered without waiting for
    // memory; from here on every way out either commits or aborts the writer.
    const writer = await ctx.store.create(block, options);
    const buffers: PooledBuffer[] = [];
    try {
      buffers.push(await ctx.pool.acquire(ctx.signal));
      // A second buffer lets receiving overlap writing, but only if one is free right now:
      // waiting for it while holding the first could deadlock connections against each other.
      const spare = ctx.pool.tryAcquire();
      if (spare !== undefined) buffers.push(spare);
      const summary = await receiveChunks(
        ctx.conn,
        lendOnly(buffers),
        {
          chunkSize,
          ...(request.length === undefined ? {} : { length: request.length }),
          overlap: buffers.length === 2,
        },
        async (chunk) => {
          await writer.write(chunk.bytes, chunk.checksum);
          ctx.bytes += chunk.bytes.length;
        },
      );
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
    } finally {
      for (const buffer of buffers) buffer.release();
    }
  },
};

/**
 * Lends `buffers` (already acquired) to `receiveChunks` in turn. Their release there is a
 * no-op: this handler releases them itself, once the stream is over.
 */
function lendOnly(buffers: readonly PooledBuffer[]): ChunkBufferPool {
  let next = 0;
  return {
    acquire() {
      const buffer = buffers[next++];
      if (buffer === undefined) {
        return Promise.reject(new CdfsError("INTERNAL", "more buffers asked for than lent"));
      }
      return Promise.resolve({ bytes: buffer.bytes, release() {} });
    },
  };
}
