/**
 * The bounded FIFO queues of pooled buffers that PUSH and POP use: a pusher waits while a queue
 * is full, a popper while it is empty, and closing a queue releases what it holds and fails
 * every waiter.
 *
 * @module
 */

import { removeItem } from "../../core/arrays.ts";
import type { PooledBuffer } from "../../buffer/pool.ts";

/**
 * The default bound of one queue, in buffers.
 *
 * @example
 * ```ts
 * import { DEFAULT_QUEUE_CAPACITY } from "./buffer_queue.ts";
 * console.log(DEFAULT_QUEUE_CAPACITY); // 16
 * ```
 */
export const DEFAULT_QUEUE_CAPACITY = 16;

/**
 * A buffer in a queue with the number of bytes of it that hold data.
 *
 * @example
 * ```ts
 * import type { QueuedBuffer } from "./buffer_queue.ts";
 * function dataOf(entry: QueuedBuffer): Uint8Array {
 *   return entry.buffer.bytes.subarray(0, entry.length);
 * }
 * ```
 */
export interface QueuedBuffer {
  /** The buffer; whoever pops it owns the queue's reference. */
  readonly buffer: PooledBuffer;
  /** The bytes of data at its start. */
  readonly length: number;
}

interface PushWaiter {
  readonly entry: QueuedBuffer;
  resolve(): void;
  reject(reason: unknown): void;
  cancel(): void;
}

interface PopWaiter {
  resolve(entry: QueuedBuffer): void;
  reject(reason: unknown): void;
  cancel(): void;
}

/**
 * A bounded FIFO queue of pooled buffers. Each entry holds one reference.
 *
 * @example
 * ```ts
 * import { BufferQueue } from "./buffer_queue.ts";
 * import { BufferPool } from "../../buffer/pool.ts";
 * const pool = new BufferPool({ bufferSize: 4096, maxBuffers: 2 });
 * const queue = new BufferQueue("queue", 4);
 * await queue.push(await pool.acquire(), 10); // the queue now owns that reference
 * const { buffer, length } = await queue.pop();
 * buffer.release();
 * console.log(length, pool.inUse); // 10 0
 * ```
 */
export class BufferQueue {
  /** The queue's name in the program. */
  readonly name: string;
  /** The most entries it holds; `push` waits beyond. */
  readonly capacity: number;
  readonly #entries: QueuedBuffer[] = [];
  readonly #pushers: PushWaiter[] = [];
  readonly #poppers: PopWaiter[] = [];
  readonly #onChange: (() => void) | undefined;
  #closed = false;
  #reason: unknown;

  /**
   * Creates an empty queue.
   *
   * @param name The queue's name (for messages).
   * @param capacity The bound, at least 1.
   * @param onChange Called after every push, pop and close (the registry tracks activity).
   * @throws {RangeError} When the capacity is not a positive integer.
   */
  constructor(name: string, capacity: number = DEFAULT_QUEUE_CAPACITY, onChange?: () => void) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    }
    this.name = name;
    this.capacity = capacity;
    this.#onChange = onChange;
  }

  /** Entries in the queue now. */
  get size(): number {
    return this.#entries.length;
  }

  /** Whether nothing is queued and nobody waits to push or pop. */
  get idle(): boolean {
    return this.#entries.length === 0 && this.#pushers.length === 0 &&
      this.#poppers.length === 0;
  }

  /** Whether the queue was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Appends a buffer, waiting while the queue is full. Takes over one reference of `buffer`
   * (on failure it is released).
   *
   * @example
   * ```ts
   * import { BufferQueue } from "./buffer_queue.ts";
   * import { BufferPool } from "../../buffer/pool.ts";
   * const pool = new BufferPool({ bufferSize: 4096, maxBuffers: 1 });
   * const queue = new BufferQueue("q", 1);
   * await queue.push(await pool.acquire(), 4096);
   * queue.close(new Error("done")); // releases the queued buffer
   * console.log(pool.inUse); // 0
   * ```
   *
   * @param buffer The buffer (its reference moves to the queue).
   * @param length The bytes of data at its start.
   * @param signal Gives up waiting when aborted.
   * @throws The queue's close reason, or the signal's reason.
   */
  push(buffer: PooledBuffer, length: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted) {
      buffer.release();
      return Promise.reject(this.#closed ? this.#reason : signal!.reason);
    }
    const entry: QueuedBuffer = { buffer, length };
    const popper = this.#poppers.shift();
    if (popper !== undefined) {
      popper.resolve(entry);
      this.#onChange?.();
      return Promise.resolve();
    }
    if (this.#entries.length < this.capacity) {
      this.#entries.push(entry);
      this.#onChange?.();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        removeItem(this.#pushers, waiter);
        buffer.release();
        reject(signal!.reason);
      };
      const waiter: PushWaiter = {
        entry,
        resolve,
        reject,
        cancel: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pushers.push(waiter);
    });
  }

  /**
   * Takes the oldest entry, waiting while the queue is empty. The caller owns its reference.
   *
   * @example
   * ```ts
   * import { BufferQueue } from "./buffer_queue.ts";
   * const queue = new BufferQueue("q");
   * const waiting = queue.pop(AbortSignal.timeout(10));
   * await waiting.catch((e) => console.log(e.name)); // "TimeoutError"
   * ```
   *
   * @param signal Gives up waiting when aborted.
   * @returns The entry.
   * @throws The queue's close reason, or the signal's reason.
   */
  pop(signal?: AbortSignal): Promise<QueuedBuffer> {
    const entry = this.#entries.shift();
    if (entry !== undefined) {
      // Room for the longest-waiting pusher.
      const pusher = this.#pushers.shift();
      if (pusher !== undefined) {
        pusher.cancel();
        this.#entries.push(pusher.entry);
        pusher.resolve();
      }
      this.#onChange?.();
      return Promise.resolve(entry);
    }
    if (this.#closed) return Promise.reject(this.#reason);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<QueuedBuffer>((resolve, reject) => {
      const onAbort = (): void => {
        removeItem(this.#poppers, waiter);
        reject(signal!.reason);
      };
      const waiter: PopWaiter = {
        resolve: (e) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(e);
        },
        reject,
        cancel: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#poppers.push(waiter);
    });
  }

  /**
   * Closes the queue: releases every queued buffer and fails every waiter and every later
   * call with `reason`. Idempotent.
   *
   * @example
   * ```ts
   * import { BufferQueue } from "./buffer_queue.ts";
   * const queue = new BufferQueue("q");
   * queue.close(new Error("run aborted"));
   * await queue.pop().catch((e) => console.log(e.message)); // "run aborted"
   * ```
   *
   * @param reason The error waiters and later calls get.
   */
  close(reason: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reason = reason;
    for (const entry of this.#entries.splice(0)) entry.buffer.release();
    for (const pusher of this.#pushers.splice(0)) {
      pusher.cancel();
      pusher.entry.buffer.release();
      pusher.reject(reason);
    }
    for (const popper of this.#poppers.splice(0)) {
      popper.cancel();
      popper.reject(reason);
    }
    this.#onChange?.();
  }
}
