/**
 * The bytes a socket read brought beyond what its caller asked for. A frame's first read may
 * take up to a few KiB from the socket: a small frame (a request, a reply) then arrives whole
 * in one read instead of two (its header, then its payload), which saves an I/O operation
 * and its timer on each end of every request. What the read brought past the header stays
 * here until the payload read (or the next frame's) takes it. Data frames are read with no
 * room beyond their header, so their payloads still go straight into the caller's buffer.
 *
 * @module
 */

/**
 * How many bytes a frame's first read may bring when small frames are expected: a request
 * or a reply (a file's view with its 22 blocks is about 2.5 KB) arrives whole.
 *
 * @example
 * ```ts
 * import { SMALL_FRAME_READ } from "./read_ahead.ts";
 * console.log(SMALL_FRAME_READ); // 4096
 * ```
 */
export const SMALL_FRAME_READ = 4096;

/**
 * A buffer of bytes read from a socket and not taken yet.
 *
 * @example
 * ```ts
 * import { ReadAhead } from "./read_ahead.ts";
 * const ahead = new ReadAhead();
 * const room = ahead.room(8);
 * room.set([1, 2, 3]); // as a socket read of 3 bytes would
 * ahead.filled(3);
 * const view = new Uint8Array(2);
 * console.log(ahead.take(view), view, ahead.available); // 2 Uint8Array(2) [ 1, 2 ] 1
 * ```
 */
export class ReadAhead {
  #bytes = new Uint8Array(0);
  #start = 0;
  #end = 0;

  /**
   * How many bytes are waiting.
   *
   * @example
   * ```ts
   * import { ReadAhead } from "./read_ahead.ts";
   * console.log(new ReadAhead().available); // 0
   * ```
   */
  get available(): number {
    return this.#end - this.#start;
  }

  /**
   * Where the next socket read goes: `size` bytes, once every waiting byte was taken (a read
   * into the buffer while bytes wait would reorder the stream). The buffer is made once, as
   * large as the largest size asked for.
   *
   * @example
   * ```ts
   * import { ReadAhead } from "./read_ahead.ts";
   * console.log(new ReadAhead().room(16).length); // 16
   * ```
   *
   * @param size The most bytes the read may bring, at least 1.
   * @returns The view to read into.
   * @throws {RangeError} While bytes are waiting, or for a size below 1.
   */
  room(size: number): Uint8Array {
    if (this.available > 0) throw new RangeError("bytes read ahead are still waiting");
    if (!(size >= 1)) throw new RangeError(`a read needs room for at least 1 byte, got ${size}`);
    if (this.#bytes.length < size) this.#bytes = new Uint8Array(size);
    this.#start = 0;
    this.#end = 0;
    return this.#bytes.subarray(0, size);
  }

  /**
   * Records that the read into {@linkcode ReadAhead.room} brought `n` bytes.
   *
   * @example
   * ```ts
   * import { ReadAhead } from "./read_ahead.ts";
   * const ahead = new ReadAhead();
   * ahead.room(4);
   * ahead.filled(4);
   * console.log(ahead.available); // 4
   * ```
   *
   * @param n The bytes read.
   */
  filled(n: number): void {
    this.#end = this.#start + n;
  }

  /**
   * Moves waiting bytes into `view`, as many as fit.
   *
   * @example
   * ```ts
   * import { ReadAhead } from "./read_ahead.ts";
   * console.log(new ReadAhead().take(new Uint8Array(4))); // 0
   * ```
   *
   * @param view Where they go.
   * @returns How many were moved.
   */
  take(view: Uint8Array): number {
    const n = Math.min(view.length, this.available);
    if (n === 0) return 0;
    view.set(this.#bytes.subarray(this.#start, this.#start + n));
    this.#start += n;
    return n;
  }

  /**
   * Forgets the waiting bytes (the connection is being drained or closed).
   *
   * @example
   * ```ts
   * import { ReadAhead } from "./read_ahead.ts";
   * const ahead = new ReadAhead();
   * ahead.room(2);
   * ahead.filled(2);
   * ahead.discard();
   * console.log(ahead.available); // 0
   * ```
   */
  discard(): void {
    this.#start = this.#end = 0;
  }
}
