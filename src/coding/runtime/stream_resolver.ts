/**
 * What the interpreter needs of the world around it: a {@linkcode StreamResolver} opens a
 * program's input and output streams ({@linkcode CodingInput}, {@linkcode CodingOutput}) from
 * where the program says they come from ({@linkcode ResolvedSource}). The DataNode implements
 * it over disk and network, the in-process cluster over memory.
 *
 * @module
 */

import type { PooledBuffer } from "../../buffer/pool.ts";

/**
 * An input stream opened by a {@linkcode StreamResolver}.
 *
 * @example
 * ```ts
 * import type { CodingInput } from "./stream_resolver.ts";
 * import { BufferPool } from "../../buffer/pool.ts";
 * function memoryInput(pool: BufferPool, data: Uint8Array): CodingInput {
 *   let at = 0;
 *   return {
 *     length: data.length,
 *     async next(length) {
 *       if (at + length > data.length) return null;
 *       const buffer = await pool.acquire();
 *       buffer.bytes.set(data.subarray(at, at += length));
 *       return buffer;
 *     },
 *     async close() {},
 *   };
 * }
 * ```
 */
export interface CodingInput {
  /** The stream's total length in bytes. */
  readonly length: number;
  /**
   * The next `length` bytes of the stream (the step's length, decided by the executor), in
   * `bytes.subarray(0, length)` of a buffer whose reference moves to the caller; `null` when
   * the stream ended before (the executor reports it as truncated). An input whose own framing
   * disagrees with `length` throws `CORRUPT` naming the stream.
   */
  next(length: number): Promise<PooledBuffer | null>;
  /**
   * Releases the stream (also after a failure, and before it is read to the end). It may be
   * called while a `next()` is pending (an abort): that call must then settle (reject, or
   * resolve with a buffer, which the executor releases).
   */
  close(): Promise<void>;
}

/**
 * An output stream (a block being written) opened by a {@linkcode StreamResolver}.
 *
 * @example
 * ```ts
 * import type { CodingOutput } from "./stream_resolver.ts";
 * function memoryOutput(length: number, done: (bytes: Uint8Array) => void): CodingOutput {
 *   const bytes = new Uint8Array(length);
 *   let at = 0;
 *   return {
 *     async write(buffer, n) { bytes.set(buffer.bytes.subarray(0, n), at); at += n; },
 *     async commit() { done(bytes); },
 *     async abort() {},
 *   };
 * }
 * ```
 */
export interface CodingOutput {
  /**
   * Appends `bytes.subarray(0, length)` of `buffer`. The caller keeps its reference until the
   * promise settles; the output retains the buffer if it needs it longer. Calls are never
   * concurrent: the next `write` waits for the previous one.
   */
  write(buffer: PooledBuffer, length: number): Promise<void>;
  /** Makes the block visible (all of it, or nothing). */
  commit(): Promise<void>;
  /** Discards what was written; nothing becomes visible. Called after pending writes settled. */
  abort(): Promise<void>;
}

/**
 * Where an input stream comes from, with the template expanded and the node resolved.
 * - `block`: a block of logical node `node` (`local` when that is the node running the program).
 * - `program`: the stream output of another program of the run, which runs on `node`.
 *
 * @example
 * ```ts
 * import type { ResolvedSource } from "./stream_resolver.ts";
 * const source: ResolvedSource = { kind: "block", block: "movie.part0", node: 0, local: true };
 * ```
 */
export type ResolvedSource =
  | {
    readonly kind: "block";
    readonly block: string;
    readonly node: number;
    readonly local: boolean;
  }
  | { readonly kind: "program"; readonly program: string; readonly node: number };

/**
 * Opens a program's streams; implemented by the DataNode (disk and network) and by the
 * in-process cluster (`local_cluster.ts`).
 *
 * @example
 * ```ts
 * import type { CodingInput, StreamResolver } from "./stream_resolver.ts";
 * function openPart0(resolver: StreamResolver): Promise<CodingInput> {
 *   return resolver.openInput("part0", { kind: "block", block: "x.part0", node: 0, local: true });
 * }
 * ```
 */
export interface StreamResolver {
  /**
   * Opens an input stream.
   *
   * @param stream The stream's name in the program.
   * @param source Where it comes from.
   */
  openInput(stream: string, source: ResolvedSource): Promise<CodingInput>;
  /**
   * Opens an output block of the node running the program. Outputs are opened after every
   * input, so the block's final length is known.
   *
   * @param stream The stream's name in the program.
   * @param block The block id (template expanded).
   * @param length The bytes that will be written.
   */
  openOutput(stream: string, block: string, length: number): Promise<CodingOutput>;
}
