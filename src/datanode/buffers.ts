/**
 * The buffers of one request, lent from the node's shared pool with a quota and a bounded wait,
 * so that no client can freeze the others by holding the pool:
 *
 * - a request (and so a connection, which serves one request at a time) holds at most
 *   {@linkcode BUFFERS_PER_REQUEST} buffers;
 * - a buffer it needs is waited for at most `waitMs`, then the request fails with `BUSY` (the
 *   client retries later, with backoff) instead of waiting behind clients that may never
 *   finish;
 * - a spare buffer (reading ahead) is lent only while a quarter of the pool is free and nobody
 *   waits: under pressure every request makes do with one.
 *
 * @module
 */
import type { BufferPool } from "../buffer/pool.ts";
import { CdfsError } from "../core/errors.ts";
import type { ChunkBuffer, ChunkBufferPool } from "../protocol/stream.ts";

/**
 * The default longest wait for a pooled buffer before a request fails with `BUSY`, 5 s.
 */
export const DEFAULT_BUFFER_WAIT_MS = 5_000;

/**
 * The most pooled buffers one request holds at once (one to read into, one to read ahead).
 */
export const BUFFERS_PER_REQUEST = 2;

/**
 * A buffer lent by {@linkcode RequestBuffers}: its memory, and the release that gives it back.
 *
 * @example
 * ```ts
 * import type { LentBuffer } from "./buffers.ts";
 * const lent: LentBuffer = { bytes: new Uint8Array(new SharedArrayBuffer(64)), release() {} };
 * ```
 */
export interface LentBuffer extends ChunkBuffer {
  /** The buffer, a view on the pool's arena. */
  readonly bytes: Uint8Array<SharedArrayBuffer>;
}

/**
 * The buffers one request borrows from the node's pool (see the module doc): a
 * `ChunkBufferPool` for the data streams, whose buffers go back to the pool when released.
 *
 * @example
 * ```ts
 * import { BufferPool } from "../buffer/pool.ts";
 * import { WasmArena } from "../buffer/arena.ts";
 * import { RequestBuffers } from "./buffers.ts";
 * const pool = new BufferPool({ arena: new WasmArena({ maxBytes: 1 << 20 }), bufferSize: 8192 });
 * const buffers = new RequestBuffers(pool, { waitMs: 100 });
 * const buffer = await buffers.acquire();
 * console.log(buffers.held, pool.inUse); // 1 1
 * buffer.release();
 * console.log(buffers.held, pool.inUse); // 0 0
 * ```
 */
export class RequestBuffers implements ChunkBufferPool {
  readonly #pool: BufferPool;
  readonly #waitMs: number;
  readonly #signal: AbortSignal | undefined;
  #held = 0;

  /**
   * Lends from `pool` for one request.
   *
   * @param pool The node's pool.
   * @param options The longest wait for a buffer (default {@linkcode DEFAULT_BUFFER_WAIT_MS});
   * the request's signal, which ends a wait at once when the node gives up on the request.
   */
  constructor(pool: BufferPool, options: { waitMs?: number; signal?: AbortSignal } = {}) {
    this.#pool = pool;
    this.#waitMs = options.waitMs ?? DEFAULT_BUFFER_WAIT_MS;
    this.#signal = options.signal;
  }

  /** The arena of the pool: chunks are hashed where they lie. */
  get arena(): BufferPool["arena"] {
    return this.#pool.arena;
  }

  /** The size of every buffer. */
  get bufferSize(): number {
    return this.#pool.bufferSize;
  }

  /** Buffers this request holds now. */
  get held(): number {
    return this.#held;
  }

  /**
   * Lends a buffer, waiting at most the bounded wait for one.
   *
   * @example
   * Not run by `deno test --doc`: a fragment of an op (`ctx`).
   * ```ts ignore
   * const buffer = await requestBuffers(ctx).acquire();
   * ```
   *
   * @returns The buffer; its `release` gives it back to the pool.
   * @throws {CdfsError} `BUSY` when the request holds its quota already or no buffer came free
   * in time; the request's signal's reason when it aborts.
   */
  async acquire(): Promise<LentBuffer> {
    if (this.#held >= BUFFERS_PER_REQUEST) {
      throw new CdfsError(
        "BUSY",
        `a request may hold ${BUFFERS_PER_REQUEST} of the node's buffers at once`,
      );
    }
    return this.#lend(await this.#pool.acquireWithin(this.#waitMs, this.#signal));
  }

  /**
   * Lends a spare buffer if the quota allows, a quarter of the pool is free and nobody waits.
   *
   * @example
   * Not run by `deno test --doc`: a fragment of an op (`buffers`).
   * ```ts ignore
   * const spare = buffers.tryAcquire(); // undefined under pressure: no reading ahead
   * ```
   *
   * @returns The buffer, or undefined.
   */
  tryAcquire(): LentBuffer | undefined {
    const pool = this.#pool;
    if (
      this.#held >= BUFFERS_PER_REQUEST || pool.waiting > 0 ||
      pool.available <= Math.floor(pool.capacity / 4)
    ) {
      return undefined;
    }
    let buffer;
    try {
      buffer = pool.tryAcquire();
    } catch (e) {
      if (e instanceof RangeError) return undefined; // the arena is full: no spare
      throw e;
    }
    return buffer === undefined ? undefined : this.#lend(buffer);
  }

  #lend(buffer: { bytes: Uint8Array<SharedArrayBuffer>; release(): void }): LentBuffer {
    this.#held++;
    let released = false;
    return {
      bytes: buffer.bytes,
      release: () => {
        if (released) return;
        released = true;
        this.#held--;
        buffer.release();
      },
    };
  }
}
