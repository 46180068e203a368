/**
 * The pools of the client's stream buffers, one per buffer size, shared by every client of
 * the process and carved from the default WebAssembly arena. A buffer holds a chunk plus the
 * 16-byte frame header in front of it, so a DATA frame goes out in one write.
 *
 * @module
 */
import { BufferPool } from "../buffer/pool.ts";
import { FRAME_HEADER_SIZE } from "../protocol/frame.ts";

const pools = new Map<number, BufferPool>();

/** Buffers per pool: a RETRIEVE holds two (read-ahead), a STORE one. */
const BUFFERS_PER_POOL = 32;

/**
 * The shared pool whose buffers hold a chunk of `chunkSize` bytes and a frame header.
 *
 * @example
 * ```ts
 * import { bufferPoolFor } from "./buffer_pools.ts";
 * const buffer = await bufferPoolFor(4096).acquire();
 * console.log(buffer.bytes.length >= 4096 + 16); // true
 * buffer.release();
 * ```
 *
 * @param chunkSize The largest chunk the buffers carry.
 * @returns The pool (the same one for every chunk size of one buffer size).
 */
export function bufferPoolFor(chunkSize: number): BufferPool {
  const bufferSize = Math.ceil((chunkSize + FRAME_HEADER_SIZE) / 64) * 64;
  let pool = pools.get(bufferSize);
  if (pool === undefined) {
    pool = new BufferPool({ bufferSize, maxBuffers: BUFFERS_PER_POOL });
    pools.set(bufferSize, pool);
  }
  return pool;
}
