/**
 * A bounded pool of fixed-size buffers in WebAssembly memory: the unit of memory a connection
 * or a coding step holds, so that memory use is bounded and waiting for a buffer is the
 * backpressure.
 *
 * Buffers are carved from a {@linkcode WasmArena} the first time they are needed, up to the
 * pool's capacity, and recycled for the life of the pool. Their start addresses are staggered
 * by 320 bytes within a 4 KiB page (five cache lines, cycling through all 64 line positions), so
 * that kernels streaming several buffers at once do not suffer 4 KiB aliasing (~16% measured).
 *
 * A buffer is reference counted: a coding step may write it to a file and push it to the next
 * node at once, and it goes back to the pool when the last holder releases it. Buffers are not
 * cleared on release (that would cost a memset per use): an acquired buffer holds whatever the
 * previous holder left in it.
 *
 * @module
 */

import { CdfsError } from "../core/errors.ts";
import { defaultArena, type WasmArena } from "./arena.ts";

/**
 * The default buffer size: 1 MiB.
 */
export const DEFAULT_BUFFER_SIZE: number = 1 << 20;

/**
 * The default capacity when neither `maxBuffers` nor `maxBytes` is given.
 */
export const DEFAULT_MAX_BUFFERS: number = 64;

/** The step between the page offsets of consecutive buffers (a multiple of 64, coprime to 64 lines). */
const STAGGER = 320;
const PAGE_4K = 4096;

/** Counts staggered buffers across all pools, so that pools sharing an arena interleave too. */
let staggerIndex = 0;

/**
 * Options of {@linkcode BufferPool}.
 *
 * @example
 * ```ts
 * import type { BufferPoolOptions } from "./pool.ts";
 * const options: BufferPoolOptions = { bufferSize: 256 * 1024, maxBytes: 32 << 20 };
 * ```
 */
export interface BufferPoolOptions {
  /** Where buffers are carved from (default: {@linkcode defaultArena}). */
  arena?: WasmArena;
  /** The size of every buffer: a positive multiple of 64 (default 1 MiB). */
  bufferSize?: number;
  /** At most this many buffers. */
  maxBuffers?: number;
  /** At most this many bytes of buffers (rounded down to whole buffers). */
  maxBytes?: number;
}

/**
 * A buffer lent by a {@linkcode BufferPool}. Each `acquire` returns a new handle with a
 * reference count of 1; the buffer returns to the pool when the count drops to 0. A handle is
 * dead after that: using it (`bytes`, `retain`, `release`) throws instead of touching a buffer
 * that someone else may hold by then.
 *
 * @example
 * ```ts
 * import { BufferPool } from "./pool.ts";
 * import { WasmArena } from "./arena.ts";
 * const pool = new BufferPool({ arena: new WasmArena({ maxBytes: 4 << 20 }), maxBuffers: 2 });
 * const buffer = await pool.acquire();
 * buffer.retain(); // a second holder
 * buffer.release();
 * buffer.release(); // the last one: back to the pool
 * console.log(pool.inUse); // 0
 * ```
 */
export interface PooledBuffer {
  /** The whole buffer, a view over arena memory. Holds stale bytes when acquired. */
  readonly bytes: Uint8Array<SharedArrayBuffer>;
  /** The current number of holders. */
  readonly refCount: number;
  /** Adds a holder. Returns this handle. */
  retain(): PooledBuffer;
  /** Drops a holder; the last release returns the buffer to the pool. */
  release(): void;
}

/** One lending of a buffer. */
class Lease implements PooledBuffer {
  #bytes: Uint8Array<SharedArrayBuffer>;
  #refs = 1;
  #giveBack: (bytes: Uint8Array<SharedArrayBuffer>) => void;

  constructor(
    bytes: Uint8Array<SharedArrayBuffer>,
    giveBack: (bytes: Uint8Array<SharedArrayBuffer>) => void,
  ) {
    this.#bytes = bytes;
    this.#giveBack = giveBack;
  }

  get bytes(): Uint8Array<SharedArrayBuffer> {
    if (this.#refs === 0) throw new Error("pooled buffer used after its last release");
    return this.#bytes;
  }

  get refCount(): number {
    return this.#refs;
  }

  retain(): PooledBuffer {
    if (this.#refs === 0) throw new Error("pooled buffer retained after its last release");
    this.#refs++;
    return this;
  }

  release(): void {
    if (this.#refs === 0) {
      throw new Error("pooled buffer released twice: its reference count is already 0");
    }
    if (--this.#refs === 0) this.#giveBack(this.#bytes);
  }
}

interface Waiter {
  resolve(buffer: PooledBuffer): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort(): void;
}

function checkCount(name: string, value: number, multipleOf = 1): void {
  if (!Number.isSafeInteger(value) || value <= 0 || value % multipleOf !== 0) {
    const what = multipleOf === 1 ? "a positive integer" : `a positive multiple of ${multipleOf}`;
    throw new RangeError(`${name} must be ${what}, got ${value}`);
  }
}

/**
 * A bounded pool of equal buffers in WebAssembly memory. `acquire` waits (first come, first
 * served) while every buffer is lent out; `tryAcquire` never waits.
 *
 * @example
 * ```ts
 * import { BufferPool } from "./pool.ts";
 * import { WasmArena } from "./arena.ts";
 * const pool = new BufferPool({ arena: new WasmArena({ maxBytes: 8 << 20 }), maxBuffers: 4 });
 * const a = await pool.acquire();
 * const b = await pool.acquire();
 * b.bytes.fill(1);
 * pool.arena.kernels.mulAdd(a.bytes, 3, b.bytes); // both in arena memory: no copy
 * a.release();
 * b.release();
 * console.log(pool.capacity, pool.inUse); // 4 0
 * ```
 */
export class BufferPool {
  /** The arena the buffers are carved from. */
  readonly arena: WasmArena;
  /** The size of every buffer in bytes. */
  readonly bufferSize: number;
  /** The most buffers the pool will ever hold. */
  readonly capacity: number;
  /** Buffers carved and not lent out; the most recently returned (cache-warm) last. */
  readonly #free: Uint8Array<SharedArrayBuffer>[] = [];
  readonly #waiters: Waiter[] = [];
  #allocated = 0;
  #inUse = 0;

  /**
   * Creates a pool; no memory is taken until buffers are acquired.
   *
   * @param options The arena, the buffer size and the bound (default 64 buffers).
   * @throws {RangeError} When the size is not a positive multiple of 64 or the bound is below
   * one buffer.
   */
  constructor(options: BufferPoolOptions = {}) {
    this.arena = options.arena ?? defaultArena();
    this.bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
    checkCount("bufferSize", this.bufferSize, 64);
    let capacity = Infinity;
    if (options.maxBuffers !== undefined) {
      checkCount("maxBuffers", options.maxBuffers);
      capacity = options.maxBuffers;
    }
    if (options.maxBytes !== undefined) {
      checkCount("maxBytes", options.maxBytes);
      capacity = Math.min(capacity, Math.floor(options.maxBytes / this.bufferSize));
    }
    if (capacity === Infinity) capacity = DEFAULT_MAX_BUFFERS;
    if (capacity < 1) {
      throw new RangeError(
        `maxBytes ${options.maxBytes} is smaller than one buffer of ${this.bufferSize} bytes`,
      );
    }
    this.capacity = capacity;
  }

  /** Buffers lent out now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Buffers that can be acquired without waiting (carved or not yet). */
  get available(): number {
    return this.capacity - this.#inUse;
  }

  /** Buffers carved from the arena so far. */
  get allocated(): number {
    return this.#allocated;
  }

  /** Callers waiting in `acquire`. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Lends a buffer, waiting in line while all are lent out.
   *
   * @example
   * ```ts
   * import { BufferPool } from "./pool.ts";
   * import { WasmArena } from "./arena.ts";
   * const pool = new BufferPool({ arena: new WasmArena({ maxBytes: 4 << 20 }), maxBuffers: 1 });
   * const held = await pool.acquire();
   * const waiting = pool.acquire(AbortSignal.timeout(1000));
   * held.release(); // hands the buffer to the waiter
   * (await waiting).release();
   * ```
   *
   * @param signal Gives up waiting when aborted.
   * @returns A handle with a reference count of 1.
   * @throws The signal's reason when it aborts first; a `RangeError` when the arena is full.
   */
  acquire(signal?: AbortSignal): Promise<PooledBuffer> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let buffer: PooledBuffer | undefined;
    try {
      buffer = this.tryAcquire();
    } catch (error) {
      return Promise.reject(error);
    }
    if (buffer !== undefined) return Promise.resolve(buffer);
    return new Promise<PooledBuffer>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          reject(signal!.reason);
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * Lends a buffer, waiting at most `waitMs` for one: a request of a node's client or of a
   * coding run must not wait without end behind others that may never finish (under pressure,
   * or when runs hold buffers that each other need).
   *
   * @example
   * ```ts
   * import { BufferPool } from "./pool.ts";
   * import { WasmArena } from "./arena.ts";
   * const pool = new BufferPool({ arena: new WasmArena({ maxBytes: 4 << 20 }), maxBuffers: 1 });
   * const held = await pool.acquireWithin(100);
   * await pool.acquireWithin(10).catch((e) => console.log(e.code)); // BUSY
   * held.release();
   * ```
   *
   * @param waitMs The longest wait; undefined: as long as it takes (as {@linkcode BufferPool.acquire}).
   * @param signal Gives up waiting when aborted.
   * @returns A handle with a reference count of 1.
   * @throws {CdfsError} `BUSY` when no buffer came free in time; the signal's reason when it
   * aborts first.
   */
  async acquireWithin(waitMs: number | undefined, signal?: AbortSignal): Promise<PooledBuffer> {
    if (waitMs === undefined) return await this.acquire(signal);
    if (signal?.aborted) throw signal.reason;
    const now = this.tryAcquire();
    if (now !== undefined) return now;
    const timeout = AbortSignal.timeout(waitMs);
    try {
      return await this.acquire(
        signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      );
    } catch (e) {
      if (timeout.aborted && !signal?.aborted) {
        throw new CdfsError(
          "BUSY",
          `no buffer came free within ${waitMs} ms (all ${this.capacity} of the node's buffers ` +
            `are in use); retry later`,
        );
      }
      throw e;
    }
  }

  /**
   * Lends a buffer if one is available now.
   *
   * @example
   * ```ts
   * import { BufferPool } from "./pool.ts";
   * import { WasmArena } from "./arena.ts";
   * const pool = new BufferPool({ arena: new WasmArena({ maxBytes: 4 << 20 }), maxBuffers: 1 });
   * const first = pool.tryAcquire();
   * console.log(first !== undefined, pool.tryAcquire()); // true undefined
   * ```
   *
   * @returns A handle with a reference count of 1, or `undefined` when all are lent out.
   * @throws {RangeError} When a new buffer does not fit in the arena.
   */
  tryAcquire(): PooledBuffer | undefined {
    // While anyone waits, nothing is free (returned buffers go straight to waiters).
    let bytes = this.#free.pop();
    if (bytes === undefined && this.#allocated < this.capacity) {
      bytes = this.#carve();
      this.#allocated++;
    }
    return bytes === undefined ? undefined : this.#lend(bytes);
  }

  #lend(bytes: Uint8Array<SharedArrayBuffer>): PooledBuffer {
    this.#inUse++;
    return new Lease(bytes, (b) => this.#giveBack(b));
  }

  #giveBack(bytes: Uint8Array<SharedArrayBuffer>): void {
    this.#inUse--;
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#free.push(bytes);
      return;
    }
    waiter.signal?.removeEventListener("abort", waiter.onAbort);
    waiter.resolve(this.#lend(bytes));
  }

  #carve(): Uint8Array<SharedArrayBuffer> {
    if (this.bufferSize < PAGE_4K) return this.arena.alloc(this.bufferSize, { align: 64 });
    const alignOffset = (staggerIndex++ * STAGGER) % PAGE_4K;
    return this.arena.alloc(this.bufferSize, { align: PAGE_4K, alignOffset });
  }
}
