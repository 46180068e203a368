/**
 * The inputs of a CODING program on a datanode: a {@linkcode StepInput} fills one buffer of the
 * node's pool per step from a {@linkcode ChunkSource} (a stored block's chunks, or another
 * node's DATA frames). A frame or stored chunk that fits in what is left of the step is read
 * straight into the step buffer (no copy: the sockets and the file read into the WebAssembly
 * memory the kernels work in); only a chunk larger than the step (a block stored with larger
 * chunks than the run's) goes through a staging buffer and is copied. While the interpreter
 * computes a step, every input already reads the next one (read-ahead of one step, one extra
 * buffer per input).
 *
 * @module
 */
import type { BufferPool, PooledBuffer } from "../../buffer/pool.ts";
import type { RetrieveStream } from "../../client/retrieve_stream.ts";
import type { CodingStream } from "./coding_stream.ts";
import type { CodingInput } from "./stream_resolver.ts";
import { CdfsError } from "../../core/errors.ts";
import type { CommittedBlock } from "../../protocol/responses.ts";
import type { BlockReader } from "../../store/block_reader.ts";

/**
 * What a {@linkcode StepInput} needs of its resolver.
 *
 * @example
 * ```ts
 * import type { InputHost } from "./step_input.ts";
 * import { BufferPool } from "../../buffer/pool.ts";
 * const host: InputHost = {
 *   pool: new BufferPool({ bufferSize: 4096 }),
 *   chunkSize: 4096,
 *   signal: new AbortController().signal,
 *   committing: () => false,
 *   prepared: () => {},
 *   failed: () => {},
 * };
 * ```
 */
export interface InputHost {
  /** The node's pool, where step buffers come from. */
  readonly pool: BufferPool;
  /** The run's step size. */
  readonly chunkSize: number;
  /** Aborts waits for buffers. */
  readonly signal: AbortSignal;
  /** The longest wait for a buffer, then `BUSY` (default: as long as it takes). */
  readonly bufferWaitMs?: number;
  /** Whether inputs closing now are prepared rather than aborted. */
  committing(): boolean;
  /** An input closed in commit mode: its upstream is prepared. */
  prepared(): void;
  /** An input could not be prepared: the run fails (every connection closed). */
  failed(): void;
}

/**
 * A source of stored chunks or DATA frames, read one at a time into the caller's memory.
 *
 * @example
 * ```ts
 * import type { ChunkSource } from "./step_input.ts";
 * function oneChunk(data: Uint8Array): ChunkSource {
 *   let done = false;
 *   return {
 *     next: () => Promise.resolve(done ? null : data.length),
 *     read: (view) => {
 *       view.set(data);
 *       done = true;
 *       return Promise.resolve();
 *     },
 *     stop: () => {},
 *   };
 * }
 * ```
 */
export interface ChunkSource {
  /** The length of the next chunk, or null at the end (trailer verified). */
  next(): Promise<number | null>;
  /** Reads the announced chunk into `view` (exactly its length). */
  read(view: Uint8Array): Promise<void>;
  /** Gives up on the source at once: a pending read fails (an abort, not the normal end). */
  stop(): void;
}

/**
 * The chunks of a stored block, as its verified reader gives them.
 *
 * @example
 * Not run by `deno test --doc`: needs a block store with the block.
 * ```ts ignore
 * import { localChunks } from "./step_input.ts";
 * const source = localChunks(await store.openReader("movie.part0"));
 * ```
 *
 * @param reader The block's reader (closed by `stop()`).
 * @returns The source.
 */
export function localChunks(reader: BlockReader): ChunkSource {
  let index = reader.firstChunk;
  return {
    next: () => Promise.resolve(index < reader.endChunk ? reader.chunkLength(index) : null),
    read: async (view) => {
      await reader.readChunk(index++, view);
    },
    stop: () => reader.close(),
  };
}

/**
 * The DATA frames of another node's stream (a RETRIEVE or an upstream program), errors named
 * by `name`.
 *
 * @example
 * Not run by `deno test --doc`: needs a connection to another node.
 * ```ts ignore
 * import { remoteChunks } from "./step_input.ts";
 * const source = remoteChunks(retrieve, (e) => e, () => retrieve.close());
 * ```
 *
 * @param stream The stream.
 * @param name Names its errors after the node.
 * @param stop Gives up on it.
 * @returns The source.
 */
export function remoteChunks(
  stream: RetrieveStream | CodingStream,
  name: (e: unknown) => unknown,
  stop: () => void,
): ChunkSource {
  return {
    next: () => stream.next().catch((e) => Promise.reject(name(e))),
    read: (view) => stream.read(view).catch((e) => Promise.reject(name(e))),
    stop,
  };
}

/**
 * One input of a program: fills a pool buffer per step from its chunk source, one step ahead.
 * A frame or stored chunk that fits in what is left of the step is read straight into the step
 * buffer; a larger one goes through a staging buffer.
 *
 * @example
 * ```ts
 * import { type InputHost, StepInput } from "./step_input.ts";
 * import { BufferPool } from "../../buffer/pool.ts";
 * const data = new Uint8Array([1, 2, 3, 4, 5]);
 * let done = false;
 * const source = {
 *   next: () => Promise.resolve(done ? null : data.length),
 *   read: (view: Uint8Array) => {
 *     view.set(data);
 *     done = true;
 *     return Promise.resolve();
 *   },
 *   stop: () => {},
 * };
 * const host: InputHost = {
 *   pool: new BufferPool({ bufferSize: 4096 }),
 *   chunkSize: 4096,
 *   signal: new AbortController().signal,
 *   committing: () => false,
 *   prepared: () => {},
 *   failed: () => {},
 * };
 * const input = new StepInput("part0", source, data.length, host);
 * const buffer = (await input.next(5))!;
 * console.log(buffer.bytes[4]); // 5
 * buffer.release();
 * await input.close();
 * ```
 */
export class StepInput implements CodingInput {
  readonly length: number;
  /** Called once by `close()` (after the source is released), with whether the stream ended. */
  onClose: ((ended: boolean) => void | Promise<void>) | undefined;
  /** For an upstream program: sends the commit and returns its blocks. */
  onCommit: (() => Promise<CommittedBlock[]>) | undefined;

  readonly #name: string;
  readonly #source: ChunkSource;
  readonly #host: InputHost;
  /** The announced length, checked before the first step when the input started on trust. */
  readonly #announced: Promise<number> | undefined;
  readonly #aborter = new AbortController();
  readonly #signal: AbortSignal;
  #delivered = 0;
  /** The fill of the next step, started ahead. */
  #ahead: { length: number; fill: Promise<PooledBuffer> } | null = null;
  /** A chunk larger than the rest of a step: its bytes and how far they were copied. */
  #stage: Uint8Array | null = null;
  #staged = 0;
  #stagedEnd = 0;
  #ended = false;
  #closed: Promise<void> | null = null;

  /**
   * Makes the input of a stream (nothing is read before the first `next()`).
   *
   * @param name The stream's name in the program.
   * @param source Its chunks.
   * @param length Its length.
   * @param host The resolver's pool, step size and commit state.
   * @param announced The length the source announced, when the input starts on trust (checked
   * before the first step).
   */
  constructor(
    name: string,
    source: ChunkSource,
    length: number,
    host: InputHost,
    announced?: Promise<number>,
  ) {
    this.#name = name;
    this.#source = source;
    this.length = length;
    this.#host = host;
    this.#announced = announced;
    this.#signal = AbortSignal.any([host.signal, this.#aborter.signal]);
  }

  next(length: number): Promise<PooledBuffer | null> {
    if (this.#closed !== null) {
      return Promise.reject(new CdfsError("UNAVAILABLE", `input '${this.#name}' was closed`));
    }
    let fill: Promise<PooledBuffer>;
    const ahead = this.#ahead;
    this.#ahead = null;
    if (ahead !== null && ahead.length === length) {
      fill = ahead.fill;
    } else {
      if (ahead !== null) {
        // Not the length read ahead (the executor asks in step order, so this is a bug).
        return Promise.reject(
          new CdfsError("INTERNAL", `input '${this.#name}': step of ${length} bytes out of order`),
        );
      }
      fill = this.#fill(length);
    }
    return fill.then((buffer) => {
      this.#delivered += length;
      const rest = this.length - this.#delivered;
      if (rest > 0 && this.#closed === null) {
        const nextLength = Math.min(this.#host.chunkSize, rest);
        const started = this.#fill(nextLength);
        started.catch(() => {}); // rethrown by the next next()
        this.#ahead = { length: nextLength, fill: started };
      }
      return buffer;
    });
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  /** Makes pending reads fail at once (the run is being torn down). */
  interrupt(): void {
    if (this.#aborter.signal.aborted) return;
    this.#aborter.abort(new CdfsError("UNAVAILABLE", `input '${this.#name}' was interrupted`));
    this.#source.stop();
  }

  async #close(): Promise<void> {
    // Closed after every step was delivered, in commit mode: the normal end, which prepares
    // the upstream program. Anything else is an abort.
    const committing = this.#host.committing() && this.#delivered === this.length;
    if (!committing) this.interrupt();
    const ahead = this.#ahead;
    this.#ahead = null;
    if (ahead !== null) {
      const outcome = await ahead.fill.then((b) => b, () => null);
      outcome?.release();
    }
    try {
      if (committing) await this.#finishStream();
      await this.onClose?.(this.#ended);
    } catch (e) {
      // An input that cannot be prepared fails the run: stop waiting for the others.
      if (committing) this.#host.failed();
      this.interrupt();
      throw e;
    }
    if (committing) this.#host.prepared();
  }

  /** After the last step (or with no step, L = 0): the source must end here. */
  async #finishStream(): Promise<void> {
    if (this.#ended) return;
    await this.#checkAnnounced();
    if (await this.#source.next() !== null) {
      throw new CdfsError("CORRUPT", `input '${this.#name}' is longer than ${this.length} bytes`);
    }
    this.#ended = true;
  }

  async #checkAnnounced(): Promise<void> {
    if (this.#announced === undefined) return;
    const announced = await this.#announced;
    if (announced !== this.length) {
      throw new CdfsError(
        "BAD_REQUEST",
        `input '${this.#name}' has ${announced} bytes, the program's other inputs ${this.length}`,
      );
    }
  }

  /** Reads the next `length` bytes of the stream into a fresh pool buffer. */
  async #fill(length: number): Promise<PooledBuffer> {
    const pool = this.#host.pool;
    const buffer = pool.tryAcquire() ??
      await pool.acquireWithin(this.#host.bufferWaitMs, this.#signal);
    try {
      if (this.#delivered === 0) await this.#checkAnnounced();
      const target = buffer.bytes;
      let filled = 0;
      while (filled < length) {
        if (this.#stage !== null && this.#staged < this.#stagedEnd) {
          const n = Math.min(this.#stagedEnd - this.#staged, length - filled);
          target.set(this.#stage.subarray(this.#staged, this.#staged + n), filled);
          this.#staged += n;
          filled += n;
          continue;
        }
        const n = await this.#source.next();
        if (n === null) {
          throw new CdfsError(
            "CORRUPT",
            `input '${this.#name}' ended after ${this.#delivered + filled} of ${this.length} bytes`,
          );
        }
        if (n <= length - filled) {
          // The fast path: the frame or chunk goes straight into the step buffer.
          await this.#source.read(target.subarray(filled, filled + n));
          filled += n;
        } else {
          // A chunk larger than the rest of the step: staged, then copied in pieces.
          if (this.#stage === null || this.#stage.length < n) this.#stage = new Uint8Array(n);
          await this.#source.read(this.#stage.subarray(0, n));
          this.#staged = 0;
          this.#stagedEnd = n;
        }
      }
      if (this.#delivered + length === this.length) {
        if (this.#staged !== this.#stagedEnd) {
          throw new CdfsError(
            "CORRUPT",
            `input '${this.#name}' is longer than ${this.length} bytes`,
          );
        }
        // The last step: a network stream's END is verified now, before the last buffer is
        // handed on.
        await this.#finishStream();
      }
      return buffer;
    } catch (e) {
      buffer.release();
      throw e;
    }
  }
}
