/**
 * A {@linkcode TimedSocket} is the socket under a `FrameConnection` (`connection.ts`) and its
 * two timeouts; it knows no frames:
 *
 * - idle: waiting for the first byte of a frame (default 60 s; a server uses it to drop idle
 *   clients, a client to give up on a silent server);
 * - frame: once a frame has started, the rest of it must arrive, or a frame being written must
 *   be accepted by the peer, within this time (default 30 s). A peer that does not read but
 *   keeps sending frames is alive (busy elsewhere, as a node of a coding pipeline waiting for
 *   its own downstream is): a write times out only once the peer has also sent nothing for
 *   that long.
 *
 * A server may also ask for a minimum data rate while a frame is being read (a peer that
 * trickles a frame a byte at a time, a "slowloris", is cut off long before the frame timeout)
 * and for a last word before a timeout closes the socket (the `TIMEOUT` ERROR frame that
 * docs/protocol.md promises, handed over ready-made by the frame layer).
 *
 * A timeout closes the socket and throws {@linkcode CdfsError} `TIMEOUT`; a lost socket is
 * `UNAVAILABLE`. Reads go straight into the caller's buffer (a view on WebAssembly memory
 * works: `conn.read(view)` is used directly, never a stream reader), except a frame's first
 * read, which may bring a small frame whole ({@linkcode ReadAhead}).
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { sayLastWord } from "./last_word.ts";
import { ReadAhead, SMALL_FRAME_READ } from "./read_ahead.ts";
import { closedWithoutNotify } from "./tls.ts";

/**
 * The default idle timeout, 60 s.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * The default frame timeout, 30 s.
 */
export const DEFAULT_FRAME_TIMEOUT_MS = 30_000;

/**
 * The timeouts of a {@linkcode TimedSocket}.
 *
 * @example
 * ```ts
 * import type { SocketTimeoutOptions } from "./timed_socket.ts";
 * const options: SocketTimeoutOptions = { idleTimeoutMs: 5000, frameTimeoutMs: 2000 };
 * ```
 */
export interface SocketTimeoutOptions {
  /** How long to wait for the first byte of a frame (default 60 s). */
  idleTimeoutMs?: number;
  /** How long the rest of a started frame may take to arrive or to be written (default 30 s). */
  frameTimeoutMs?: number;
  /**
   * The slowest a started frame may arrive (off by default): see {@linkcode MinDataRate}.
   */
  minRate?: MinDataRate;
  /**
   * The bytes to send when a read times out, before the socket is closed (a server's `TIMEOUT`
   * ERROR frame); not sent while a write is under way (it would land inside a frame).
   */
  timeoutReply?: (error: CdfsError) => Uint8Array;
}

/**
 * A minimum data rate while a frame is being read: each read of the rest of a frame (the
 * header after its first byte, then the payload) must, after `graceMs`, have brought at least
 * `bytesPerSecond` for every second past the grace; otherwise the read times out (`TIMEOUT`).
 * The frame timeout still bounds the whole frame.
 *
 * @example
 * ```ts
 * import type { MinDataRate } from "./timed_socket.ts";
 * const rate: MinDataRate = { bytesPerSecond: 16 * 1024, graceMs: 5000 };
 * ```
 */
export interface MinDataRate {
  /** The least bytes per second, once the grace is over. */
  bytesPerSecond: number;
  /** How long a read may bring nothing before the rate counts. */
  graceMs: number;
}

/**
 * One socket with the idle and frame timeouts, the liveness of its peer, a background read of
 * the peer's next bytes, and a close that does not lose the last reply. The frame layer
 * (`FrameConnection`) is built on it.
 *
 * @example
 * Not run by `deno test --doc`: it needs a peer on a live connection.
 * ```ts ignore
 * import { TimedSocket } from "./timed_socket.ts";
 * const socket = new TimedSocket(await Deno.connect({ port: 7070 }), { idleTimeoutMs: 5000 });
 * socket.close();
 * ```
 */
export class TimedSocket {
  /** The socket. */
  readonly conn: Deno.Conn;

  #idleTimeoutMs: number;
  #frameTimeoutMs: number;
  #minRate: MinDataRate | undefined;
  #timeoutReply: ((error: CdfsError) => Uint8Array) | undefined;
  /** Writes under way: no timeout reply may be sent into the middle of one. */
  #writing = 0;
  #closed = false;
  #timedOut: CdfsError | null = null;
  /** When bytes last arrived from the peer (`performance.now()`): it is alive. */
  #lastHeard = performance.now();
  /** Whether any byte has come from the peer. */
  #everHeard = false;
  #readDeadline = 0;
  #writeDeadline = 0;
  #prefetch: Promise<number | null> | null = null;
  #prefetchSettled = false;
  /** What a frame's first read brought beyond the bytes asked for, and that read's room. */
  #ahead = new ReadAhead();
  #readAheadBytes = SMALL_FRAME_READ;
  /** Ends the wait under way now, as its timeout would (see {@linkcode TimedSocket.cutShort}). */
  #endWait: ((error: CdfsError) => void) | null = null;

  /**
   * Wraps a socket.
   *
   * @param conn The socket.
   * @param options Timeouts.
   */
  constructor(conn: Deno.Conn, options: SocketTimeoutOptions = {}) {
    this.conn = conn;
    this.#idleTimeoutMs = positiveTimeout(options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
    this.#frameTimeoutMs = positiveTimeout(options.frameTimeoutMs, DEFAULT_FRAME_TIMEOUT_MS);
    if (options.minRate !== undefined) {
      const { bytesPerSecond, graceMs } = options.minRate;
      if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
        throw new RangeError(`a minimum data rate must be positive, got ${bytesPerSecond}`);
      }
      positiveTimeout(graceMs, 0);
      this.#minRate = { bytesPerSecond, graceMs };
    }
    this.#timeoutReply = options.timeoutReply;
  }

  /** The idle timeout in milliseconds. */
  get idleTimeoutMs(): number {
    return this.#idleTimeoutMs;
  }

  /** The frame timeout in milliseconds. */
  get frameTimeoutMs(): number {
    return this.#frameTimeoutMs;
  }

  /**
   * Lowers the idle and frame timeouts to at most `ms` (a CODING run's stall timeout, for the
   * length of the run) and returns the function that puts them back. A wait already under way
   * keeps the limit it started with.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * const restore = conn.limitTimeouts(request.timeoutMs);
   * try {
   *   await serveTheRun(conn);
   * } finally {
   *   restore();
   * }
   * ```
   *
   * @param ms The most either timeout may be; undefined leaves them as they are.
   * @returns Restores the timeouts the connection had before.
   */
  limitTimeouts(ms: number | undefined): () => void {
    const idle = this.#idleTimeoutMs;
    const frame = this.#frameTimeoutMs;
    if (ms !== undefined) {
      const limit = positiveTimeout(ms, idle);
      this.#idleTimeoutMs = Math.min(idle, limit);
      this.#frameTimeoutMs = Math.min(frame, limit);
    }
    return () => {
      this.#idleTimeoutMs = idle;
      this.#frameTimeoutMs = frame;
    };
  }

  /**
   * Whether {@linkcode TimedSocket.close} was called, or a timeout closed the socket (or is
   * closing it, after its last word): nothing more may be written.
   */
  get closed(): boolean {
    return this.#closed || this.#timedOut !== null;
  }

  /** Whether no byte has come from the peer yet (a server waits for its preamble). */
  get silent(): boolean {
    return !this.#everHeard;
  }

  /**
   * Whether a background read started by {@linkcode TimedSocket.prefetchInto} has finished:
   * the peer sent something (or closed) while this side was still writing.
   */
  get peerSentData(): boolean {
    return this.#prefetchSettled;
  }

  /**
   * Ends the wait under way now, as if its time were up, with `error` in place of `TIMEOUT`:
   * the peer is told `error` (the timeout reply, when there is one and no write is under way),
   * the socket is closed, and the wait throws `error`. A server uses it to take back the slot
   * of a connection that is still waiting for its peer's first word when a newcomer needs it.
   *
   * @example
   * Not run by `deno test --doc`: it needs a connection waiting for its peer (`conn`).
   * ```ts ignore
   * import { CdfsError } from "../core/errors.ts";
   * conn.cutShort(new CdfsError("BUSY", "the node serves its limit of connections"));
   * ```
   *
   * @param error What the wait throws and the peer is told.
   * @returns Whether a wait was under way (false: nothing was done).
   */
  cutShort(error: CdfsError): boolean {
    const end = this.#endWait;
    if (end === null || this.closed) return false;
    end(error);
    return true;
  }

  /**
   * Closes the socket; idempotent.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * conn.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed by the runtime; nothing left to release.
    }
  }

  /**
   * Closes after an error reply without losing it: shuts down the sending side (so the ERROR
   * already written is followed by FIN, not lost to a reset), then reads and discards what the
   * peer still sends for up to `lingerMs` or until it closes, then closes. A server uses this
   * after answering ERROR in the middle of an upload.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * await conn.writeError("CORRUPT", "frame checksum mismatch");
   * await conn.closeGracefully();
   * ```
   *
   * @param lingerMs The most time to spend draining.
   */
  async closeGracefully(lingerMs = 1000): Promise<void> {
    if (this.closed) return;
    try {
      await this.conn.closeWrite();
      const scratch = new Uint8Array(64 * 1024);
      const until = performance.now() + lingerMs;
      const pending = this.#takePrefetch();
      this.#ahead.discard();
      if (
        pending !== null && await this.#withTimeout(pending, lingerMs, "draining", "frame") === null
      ) {
        return;
      }
      while (true) {
        const left = until - performance.now();
        if (left <= 0) return;
        if (await this.#withTimeout(this.conn.read(scratch), left, "draining", "frame") === null) {
          return;
        }
      }
    } catch {
      // Draining is best effort; the connection is being dropped anyway.
    } finally {
      this.close();
    }
  }

  /**
   * Starts reading the peer's next bytes into `view` in the background (unless such a read is
   * under way), so that an early reply is noticed while this side is still writing: see
   * {@linkcode TimedSocket.peerSentData}. The next {@linkcode TimedSocket.readFirstBytes}
   * continues this read, so it must be given the same `view`.
   *
   * @param view Where the bytes go.
   */
  protected prefetchInto(view: Uint8Array): void {
    if (this.#prefetch !== null) return;
    if (this.#ahead.available > 0) {
      this.#prefetch = Promise.resolve(this.#ahead.available);
      this.#prefetchSettled = true;
      return;
    }
    this.#prefetchSettled = false;
    const read = this.#readAhead(view.length);
    read.then(
      (n) => {
        if (n !== null) this.#heard(performance.now());
        this.#prefetchSettled = true;
      },
      () => this.#prefetchSettled = true,
    );
    this.#prefetch = read;
  }

  /**
   * Waits up to `waitMs` for the background read of {@linkcode TimedSocket.prefetchInto} to
   * finish (it goes on if it does not).
   *
   * @param waitMs How long to wait.
   * @returns Whether the peer sent something (or closed); false when no read was started.
   */
  protected async waitForPrefetch(waitMs: number): Promise<boolean> {
    const prefetch = this.#prefetch;
    if (prefetch === null) return false;
    if (!this.#prefetchSettled) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        prefetch.catch(() => null),
        new Promise((resolve) => timer = setTimeout(resolve, waitMs)),
      ]);
      clearTimeout(timer);
    }
    return this.#prefetchSettled;
  }

  /**
   * Reads at least one byte into `view` within the idle timeout, continuing a prefetch if one
   * is under way, or taking bytes an earlier read brought; starts the frame deadline. The
   * read may bring up to {@linkcode TimedSocket.readAheadUpTo} bytes: those past `view` wait
   * for the reads that follow.
   *
   * @param view Where the bytes go.
   * @returns The number of bytes read, or null on a clean end of stream.
   */
  protected async readFirstBytes(view: Uint8Array): Promise<number | null> {
    const prefetch = this.#takePrefetch();
    if (this.#ahead.available === 0) {
      // Between frames, a TLS peer that closes without a close_notify has closed all the same.
      const read = (prefetch ?? this.#readAhead(view.length)).catch((error) => {
        if (closedWithoutNotify(error)) return null;
        throw error;
      });
      const n = await this.#withTimeout(read, this.#idleTimeoutMs, "waiting for a frame", "idle");
      if (n === null) return null;
      this.#heard(performance.now());
    }
    this.#readDeadline = performance.now() + this.#frameTimeoutMs;
    return this.#ahead.take(view);
  }

  /**
   * Sets how many bytes a frame's first read may bring (at least the bytes asked for): a
   * connection expecting small frames reads a few KiB, one in the middle of a data stream
   * only the header, so that payloads go straight where they belong.
   *
   * @param bytes The most bytes; 0 reads just what is asked for.
   */
  protected readAheadUpTo(bytes: number): void {
    this.#readAheadBytes = bytes;
  }

  /** Reads into the read-ahead buffer: `asked` bytes, or more when reading ahead. */
  #readAhead(asked: number): Promise<number | null> {
    const room = this.#ahead.room(Math.max(asked, this.#readAheadBytes));
    return this.conn.read(room).then((n) => {
      if (n !== null) this.#ahead.filled(n);
      return n;
    });
  }

  /**
   * Fills `view` from byte `filled` on before the frame deadline; the end of stream here is an
   * error.
   *
   * @param view Where the bytes go.
   * @param what What is being read, for errors.
   * @param filled The bytes of `view` already read.
   */
  protected async readExactly(view: Uint8Array, what: string, filled = 0): Promise<void> {
    if (filled < view.length) filled += this.#ahead.take(view.subarray(filled));
    const rate = this.#minRate;
    const start = performance.now();
    const first = filled;
    while (filled < view.length) {
      const now = performance.now();
      let left = this.#readDeadline - now;
      let slow: (() => string) | undefined;
      if (rate !== undefined) {
        const received = filled - first;
        const rateLeft = start + rate.graceMs + received * 1000 / rate.bytesPerSecond - now;
        if (rateLeft < left) {
          left = rateLeft;
          slow = () =>
            `too slow: ${received} bytes in ${
              Math.round(performance.now() - start)
            } ms while reading ${what} (the minimum is ${rate.bytesPerSecond} bytes/s after ${rate.graceMs} ms)`;
        }
      }
      const n = await this.#withTimeout(
        this.conn.read(view.subarray(filled)),
        left,
        `reading ${what}`,
        "frame",
        undefined,
        slow,
      );
      if (n === null) {
        throw new CdfsError(
          "BAD_REQUEST",
          `connection closed in the middle of ${what} (${filled} of ${view.length} bytes)`,
        );
      }
      this.#heard(performance.now());
      filled += n;
    }
  }

  /** Starts the frame deadline of a frame about to be written. */
  protected beginWrite(): void {
    this.#writeDeadline = performance.now() + this.#frameTimeoutMs;
  }

  /**
   * Writes a preamble-sized buffer under a fresh frame deadline.
   *
   * @param bytes The bytes.
   * @param what What is being written, for errors.
   */
  protected async writeWhole(bytes: Uint8Array, what: string): Promise<void> {
    this.beginWrite();
    await this.writeAll(bytes, what);
  }

  /**
   * Writes all of `bytes` before the frame deadline (`write` may accept fewer bytes). The
   * deadline moves on while the peer keeps sending: a peer that does not read but talks is
   * busy, not gone (a node of a coding pipeline waiting for its own downstream keeps sending
   * keepalives), and only the node next to a silent one may time out, so that its error names
   * the right node.
   *
   * @param bytes The bytes.
   * @param what What is being written, for errors.
   */
  protected async writeAll(bytes: Uint8Array, what: string): Promise<void> {
    let written = 0;
    const left = () =>
      Math.max(this.#writeDeadline, this.#lastHeard + this.#frameTimeoutMs) - performance.now();
    this.#writing++;
    try {
      while (written < bytes.length) {
        written += await this.#withTimeout(
          this.conn.write(bytes.subarray(written)),
          left(),
          what,
          "frame",
          left,
        );
      }
    } finally {
      this.#writing--;
    }
  }

  /** Bytes came from the peer at `now`. */
  #heard(now: number): void {
    this.#lastHeard = now;
    this.#everHeard = true;
  }

  #takePrefetch(): Promise<number | null> | null {
    const prefetch = this.#prefetch;
    this.#prefetch = null;
    this.#prefetchSettled = false;
    return prefetch;
  }

  /**
   * Awaits a socket operation for at most `ms`; on timeout closes the connection (which also
   * ends the operation) and throws TIMEOUT. `extend`, asked when the time is up, may grant
   * more (the milliseconds it returns, when positive); `slow`, when given, says that the time
   * was the minimum data rate's and makes the message. A read that times out (no `extend`)
   * sends the timeout reply first, if there is one and no write is under way; the operation's
   * own result is then ignored, and TIMEOUT is thrown once the socket is closed. Maps socket
   * errors to CdfsError.
   */
  async #withTimeout<T>(
    operation: Promise<T>,
    ms: number,
    what: string,
    kind: "idle" | "frame",
    extend?: () => number,
    slow?: () => string,
  ): Promise<T> {
    if (this.closed) {
      operation.catch(() => {});
      throw this.#timedOut ?? new CdfsError("UNAVAILABLE", `connection closed before ${what}`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let expired = false;
    let endThisWait: ((error: CdfsError) => void) | null = null;
    const timeout = new Promise<never>((_, reject) => {
      const end = (error: CdfsError, last: boolean) => {
        clearTimeout(timer);
        expired = true;
        this.#timedOut = error;
        const reply = last && this.#writing === 0 ? this.#timeoutReply?.(error) : undefined;
        if (reply === undefined) {
          reject(error);
          this.close();
          return;
        }
        void sayLastWord(this.conn, reply, operation, () => this.close())
          .finally(() => reject(error));
      };
      const expire = () => {
        const more = extend?.() ?? 0;
        if (more > 0) {
          timer = setTimeout(expire, more);
          return;
        }
        const limit = kind === "idle" ? this.#idleTimeoutMs : this.#frameTimeoutMs;
        const message = `${kind} timeout: nothing for ${limit} ms while ${what}`;
        const error = new CdfsError(
          "TIMEOUT",
          slow !== undefined
            ? slow()
            : extend === undefined
            ? message
            : `${message} (the peer neither took it nor sent anything)`,
        );
        end(error, extend === undefined);
      };
      timer = setTimeout(expire, Math.max(0, ms));
      endThisWait = (error) => end(error, true);
    });
    // The latest wait is the one cutShort ends (a server's handshake has only one).
    this.#endWait = endThisWait;
    timeout.catch(() => {});
    // Once the time is up, the operation's result no longer counts: wait for the close.
    const guarded = operation.then(
      (value) => expired ? timeout : value,
      (error) => expired ? timeout : Promise.reject(error),
    );
    try {
      return await Promise.race([guarded, timeout]);
    } catch (e) {
      throw this.#socketError(e, what);
    } finally {
      clearTimeout(timer);
      if (this.#endWait === endThisWait) this.#endWait = null;
    }
  }

  #socketError(error: unknown, what: string): unknown {
    if (error instanceof CdfsError) return error;
    if (this.#timedOut !== null) return this.#timedOut;
    if (error instanceof Deno.errors.Interrupted || error instanceof Deno.errors.BadResource) {
      return new CdfsError("UNAVAILABLE", `connection closed while ${what}`, { cause: error });
    }
    if (error instanceof Error) {
      return new CdfsError("UNAVAILABLE", `connection lost while ${what}: ${error.message}`, {
        cause: error,
      });
    }
    return error;
  }
}

function positiveTimeout(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`a timeout must be a positive number of milliseconds, got ${value}`);
  }
  return value;
}
