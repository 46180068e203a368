/**
 * Buffers in WebAssembly memory: the arena that owns the memory (and runs the GF(2^8) kernels
 * on it) and the bounded, reference-counted buffer pool carved from it.
 *
 * @example
 * ```ts
 * import { BufferPool, defaultArena } from "./mod.ts";
 * const pool = new BufferPool({ arena: defaultArena(), bufferSize: 64 * 1024, maxBuffers: 8 });
 * const buffer = await pool.acquire();
 * buffer.bytes.fill(0);
 * buffer.release();
 * ```
 *
 * @module
 */

export * from "./arena.ts";
export * from "./pool.ts";
