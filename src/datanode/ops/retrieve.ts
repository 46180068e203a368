/**
 * RETRIEVE: sends a block, or a byte range of it. Each stored chunk is read from the file
 * into a pooled buffer, verified against its stored checksum and sent from that same buffer
 * (16 bytes of headroom before it take the frame header, so each frame is one write). With a
 * second pooled buffer free, the next chunk is read and verified while the current one is being
 * written to the socket (a pipeline of two: disk and hashing overlap with the network); under
 * memory pressure the handler makes do with one buffer. A chunk that fails verification is
 * never sent: the handler throws `CORRUPT` in its place and the connection loop sends that
 * ERROR and closes.
 *
 * @module
 */
import { formatChecksum, hashInPlace } from "../../checksum/checksum.ts";
import { CdfsError } from "../../core/errors.ts";
import { FRAME_HEADER_SIZE, FRAME_TYPE } from "../../protocol/frame.ts";
import type { RetrieveResponse } from "../../protocol/responses.ts";
import { type OutgoingChunk, sendChunks } from "../../protocol/stream.ts";
import type { BlockReader } from "../../store/block_reader.ts";
import type { ByteRange } from "../../store/block_reader.ts";
import { RequestBuffers } from "../buffers.ts";
import { type OpContext, type OpHandler, parseRequestAs } from "../op.ts";

/**
 * The RETRIEVE handler.
 */
export const retrieveOp: OpHandler = {
  op: "RETRIEVE",
  clientStreams: false,
  async run(ctx, raw) {
    const request = parseRequestAs("RETRIEVE", raw);
    const { block } = request;
    ctx.block = block;
    const range: ByteRange = {};
    if (request.offset !== undefined) range.offset = request.offset;
    if (request.length !== undefined) range.length = request.length;
    using reader = await ctx.store.openReader(block, range);
    const { chunkSize, length: blockLength, digest } = reader.info;
    if (Math.min(chunkSize, blockLength) > ctx.maxChunkSize) {
      throw new CdfsError(
        "UNAVAILABLE",
        `block '${block}' has ${chunkSize}-byte chunks, larger than this node's buffers ` +
          `(${ctx.maxChunkSize} bytes; see datanode serve --chunk-size)`,
      );
    }
    // Verification then reads the pooled chunks where they lie instead of copying them.
    hashInPlace(ctx.pool.arena);
    // A bounded wait for the buffer (then BUSY); a spare only when the pool has room.
    const buffers = new RequestBuffers(ctx.pool, {
      signal: ctx.signal,
      ...(ctx.bufferWaitMs === undefined ? {} : { waitMs: ctx.bufferWaitMs }),
    });
    const buffer = await buffers.acquire();
    const spare = reader.endChunk - reader.firstChunk > 1 ? buffers.tryAcquire() : undefined;
    try {
      const response: RetrieveResponse = {
        block,
        length: reader.length,
        blockLength,
        chunkSize,
        digest: formatChecksum(digest),
      };
      ctx.frameOpen = true;
      await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
      ctx.frameOpen = false;
      ctx.streaming = true;
      // Whole-block reads send the stored chunks as they are (canonical frames, END digest =
      // block digest); a range's first and last frames cut a chunk.
      const whole = reader.offset === 0 && reader.length === blockLength;
      await sendChunks(
        ctx.conn,
        verifiedFrames(
          ctx,
          reader,
          buffer.bytes.subarray(FRAME_HEADER_SIZE),
          spare?.bytes.subarray(FRAME_HEADER_SIZE),
        ),
        { chunkSize, length: reader.length, canonical: whole },
      );
    } finally {
      spare?.release();
      buffer.release();
    }
  },
};

/**
 * The verified pieces of the reader's range as outgoing chunks, read into `into` and, reading
 * ahead, `readAhead` (each has 16 spare bytes before it for the frame header). Marks the
 * context while a frame is being written, so that an error there (the socket broke mid-frame)
 * is not followed by an ERROR frame, while a verification error (between frames) is. A chunk
 * read ahead that fails verification is thrown only once the frame before it is fully written.
 */
async function* verifiedFrames(
  ctx: OpContext,
  reader: BlockReader,
  into: Uint8Array,
  readAhead: Uint8Array | undefined,
): AsyncGenerator<OutgoingChunk, void, undefined> {
  for await (const slice of reader.slices(into, readAhead)) {
    ctx.frameOpen = true;
    yield { bytes: slice.bytes, checksum: slice.checksum, headroom: true };
    ctx.frameOpen = false;
    ctx.bytes += slice.bytes.length;
  }
  // sendChunks writes END next; a failure there is a broken socket, not something to report.
  ctx.frameOpen = true;
}
