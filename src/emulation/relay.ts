/**
 * A TCP relay that adds link delay: the stand-in for `netem delay`, which this kernel lacks.
 *
 * The relay accepts connections on one address and opens one connection to its target for
 * each. Every chunk read from either side is held for a delay (uniform in `delay ± jitter`)
 * before it is written to the other side:
 *
 * - Order is kept: a chunk is never released before the one read ahead of it on the same
 *   direction of the same connection (a TCP stream cannot reorder, and jitter on a stream is
 *   seen as variation of arrival times, not reordering). With jitter close to the spacing of
 *   the chunks, this pushes some holds up to their predecessor's release time.
 * - Memory is bounded: each direction of a connection holds at most `maxBufferedBytes`. When
 *   that is full the relay stops reading, so the sender's TCP window closes and the sender
 *   waits: backpressure, end to end. A consequence worth knowing: one connection cannot move
 *   more than `maxBufferedBytes / delay` (8 MiB per 100 ms is about 670 Mbit/s), much as a
 *   real TCP window (Linux's default maximum is 6 MiB) limits a real long link.
 * - A half-close travels with the same delay: the end of a stream is released after the last
 *   chunk, then the write side of the other socket is shut.
 * - An error on either socket (reset, refused target) closes both sockets of that connection.
 *
 * The hold toward the target depends on who connected (see {@linkcode DelayRelayOptions}), so
 * one relay in front of a node can apply every sender's own link delay.
 *
 * What a relay does not emulate: it ends TCP on both sides, so the endpoints' TCP sees the
 * short hops to the relay, not the long path. Slow start and loss recovery run at the hop's
 * round trip, so a short transfer finishes sooner than over a real long link; transfers that
 * last many round trips (the bulk of a storage system's traffic) see the delay and the rate as
 * configured. Holds are timed by a {@linkcode PreciseTimer}; docs/netem.md has the accuracy.
 *
 * @module
 */
import { PreciseTimer, type Sleeper } from "./precise_timer.ts";

/**
 * A delay and its jitter, in milliseconds; each hold is uniform in `delayMs ± jitterMs`.
 *
 * @example
 * ```ts
 * import type { HoldSettings } from "./relay.ts";
 * const hold: HoldSettings = { delayMs: 10, jitterMs: 1 };
 * ```
 */
export interface HoldSettings {
  /** The mean hold. */
  readonly delayMs: number;
  /** The half width of the uniform spread (0 for none; at most `delayMs`). */
  readonly jitterMs: number;
}

/**
 * Options of {@linkcode DelayRelay.listen}.
 *
 * @example
 * ```ts
 * import type { DelayRelayOptions } from "./relay.ts";
 * const options: DelayRelayOptions = {
 *   listen: { hostname: "127.0.0.1", port: 0 },
 *   target: { hostname: "127.0.0.1", port: 13100 },
 *   toPeer: { delayMs: 10, jitterMs: 0 },
 *   toTargetDefault: { delayMs: 10, jitterMs: 0 },
 * };
 * ```
 */
export interface DelayRelayOptions {
  /** Where to accept connections (port 0: any free port, see {@linkcode DelayRelay.addr}). */
  readonly listen: { readonly hostname: string; readonly port: number };
  /** Where each accepted connection is forwarded. */
  readonly target: { readonly hostname: string; readonly port: number };
  /** The hold of bytes from the target back to the peer: the target node's own link delay. */
  readonly toPeer: HoldSettings;
  /**
   * The hold of bytes from a peer to the target, by the peer's IP address (as `remoteAddr`
   * shows it): the sending node's own link delay.
   */
  readonly toTargetByPeer?: ReadonlyMap<string, HoldSettings>;
  /** The hold toward the target for peers not in `toTargetByPeer` (default none). */
  readonly toTargetDefault?: HoldSettings;
  /**
   * Peer addresses that are the target's own node (its local addresses): such connections are
   * relayed with no hold in either direction, as a node talking to itself crosses no link.
   */
  readonly localAddresses?: readonly string[];
  /**
   * The bound of bytes held per direction of each connection (default 8 MiB, >= 64 KiB); a
   * chunk counts as at least 512 bytes, so the number of held chunks is bounded too.
   */
  readonly maxBufferedBytes?: number;
  /** The source of jitter, numbers in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
  /** What waits out the holds (default: a {@linkcode PreciseTimer} the relay owns). */
  readonly sleeper?: Sleeper;
}

/**
 * Counters of a relay, for logs and tests.
 *
 * @example
 * ```ts
 * import type { RelayStats } from "./relay.ts";
 * const stats: RelayStats = {
 *   accepted: 0,
 *   open: 0,
 *   failed: 0,
 *   bytesToTarget: 0,
 *   bytesToPeer: 0,
 *   heldBytesPeak: 0,
 *   heldChunks: 0,
 *   releaseErrorMsTotal: 0,
 *   releaseLateMsMax: 0,
 * };
 * ```
 */
export interface RelayStats {
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Connections that ended in an error (target refused, reset, ...). */
  failed: number;
  /** Bytes written to targets. */
  bytesToTarget: number;
  /** Bytes written back to peers. */
  bytesToPeer: number;
  /**
   * The most one direction of one connection has held at once (<= the bound), in bytes, each
   * chunk counted as at least 512.
   */
  heldBytesPeak: number;
  /** Chunks that were held (a hold above 0). */
  heldChunks: number;
  /**
   * The sum over held chunks of (when its write started - its release time), in milliseconds:
   * timer error plus the relay's own work; negative when a chunk went out early (the timer
   * wakes early by the lateness it has been seeing). Divided by `heldChunks` it is the mean
   * error of the holds.
   */
  releaseErrorMsTotal: number;
  /** The latest any held chunk was written, in milliseconds after its release time. */
  releaseLateMsMax: number;
}

/** The default bound of bytes held per direction of a connection. */
export const DEFAULT_RELAY_BUFFER_BYTES = 8 * 1024 * 1024;
/** The largest read: one chunk of the hold queue. */
const READ_SIZE = 64 * 1024;
/** Reads shorter than this are copied out, so a small message does not pin a 64 KiB buffer. */
const COPY_BELOW = 16 * 1024;
/**
 * What a held chunk counts against the bound at least: its bytes, or this much for a tiny one,
 * so a sender of 1-byte segments cannot pile up millions of queue entries.
 */
const MIN_CHUNK_COST = 512;
const NO_HOLD: HoldSettings = { delayMs: 0, jitterMs: 0 };

/**
 * Draws one hold: uniform in `delayMs ± jitterMs`, never below 0.
 *
 * @example
 * ```ts
 * import { sampleHold } from "./relay.ts";
 * console.log(sampleHold({ delayMs: 10, jitterMs: 2 }, () => 0.5)); // 10
 * ```
 *
 * @param hold The delay and jitter.
 * @param random A number source in [0, 1).
 * @returns The hold in milliseconds.
 */
export function sampleHold(hold: HoldSettings, random: () => number): number {
  if (hold.jitterMs === 0) return hold.delayMs;
  return Math.max(0, hold.delayMs + (2 * random() - 1) * hold.jitterMs);
}

/**
 * A running delay relay.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { DelayRelay } from "./relay.ts";
 * const relay = DelayRelay.listen({
 *   listen: { hostname: "127.0.0.1", port: 0 },
 *   target: { hostname: "127.0.0.1", port: 13100 },
 *   toPeer: { delayMs: 10, jitterMs: 0 },
 *   toTargetDefault: { delayMs: 10, jitterMs: 0 },
 * });
 * console.log(`relaying ${relay.addr.port} -> 13100`);
 * await relay.close();
 * ```
 */
export class DelayRelay {
  /** The address the relay accepts on (with the real port when port 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** Live counters. */
  readonly stats: RelayStats = {
    accepted: 0,
    open: 0,
    failed: 0,
    bytesToTarget: 0,
    bytesToPeer: 0,
    heldBytesPeak: 0,
    heldChunks: 0,
    releaseErrorMsTotal: 0,
    releaseLateMsMax: 0,
  };

  readonly #listener: Deno.TcpListener;
  readonly #options: DelayRelayOptions;
  readonly #sleeper: Sleeper;
  readonly #ownsSleeper: boolean;
  readonly #random: () => number;
  readonly #maxBuffered: number;
  readonly #local: ReadonlySet<string>;
  readonly #connections = new Set<RelayedConnection>();
  readonly #accepting: Promise<void>;
  #closed = false;

  /**
   * Resolves when the relay's timer is running, so that the first held chunk is not late by
   * the time it takes to start it.
   */
  readonly ready: Promise<void>;

  private constructor(listener: Deno.TcpListener, options: DelayRelayOptions) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.#options = options;
    this.#ownsSleeper = options.sleeper === undefined;
    this.#sleeper = options.sleeper ?? new PreciseTimer();
    this.#random = options.random ?? Math.random;
    this.#maxBuffered = options.maxBufferedBytes ?? DEFAULT_RELAY_BUFFER_BYTES;
    this.#local = new Set(options.localAddresses ?? []);
    this.ready = this.#sleeper instanceof PreciseTimer ? this.#sleeper.warmUp() : Promise.resolve();
    this.#accepting = this.#acceptLoop();
  }

  /**
   * Starts accepting.
   *
   * @param options Addresses, holds, bound.
   * @returns The relay, listening.
   * @throws {RangeError} When `maxBufferedBytes` is below 64 KiB or a hold is invalid.
   * @throws {Deno.errors.AddrInUse} (and the other errors of `Deno.listen`) when it cannot
   * listen.
   */
  static listen(options: DelayRelayOptions): DelayRelay {
    const maxBuffered = options.maxBufferedBytes ?? DEFAULT_RELAY_BUFFER_BYTES;
    if (!Number.isSafeInteger(maxBuffered) || maxBuffered < READ_SIZE) {
      throw new RangeError(`maxBufferedBytes must be a whole number >= ${READ_SIZE}`);
    }
    const holds = [options.toPeer, options.toTargetDefault ?? NO_HOLD];
    for (const hold of options.toTargetByPeer?.values() ?? []) holds.push(hold);
    for (const hold of holds) {
      if (!(hold.delayMs >= 0) || !(hold.jitterMs >= 0) || hold.jitterMs > hold.delayMs) {
        throw new RangeError(`invalid hold ${JSON.stringify(hold)}: need 0 <= jitter <= delay`);
      }
    }
    const listener = Deno.listen({
      hostname: options.listen.hostname,
      port: options.listen.port,
      transport: "tcp",
    });
    return new DelayRelay(listener, options);
  }

  /**
   * Stops accepting, closes every relayed connection at once (held bytes are dropped, as a
   * cable pulled drops what is on it) and releases the timer.
   *
   * @returns A promise that settles when everything is closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const connection of this.#connections) connection.shutDown();
    await this.#accepting;
    await Promise.all([...this.#connections].map((connection) => connection.done));
    if (this.#ownsSleeper) this.#sleeper.close();
  }

  /** Closes the relay (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let peer: Deno.TcpConn;
      try {
        peer = await this.#listener.accept();
      } catch {
        return; // The listener was closed.
      }
      if (this.#closed) {
        peer.close();
        return;
      }
      this.stats.accepted++;
      this.stats.open++;
      const peerAddress = (peer.remoteAddr as Deno.NetAddr).hostname;
      const local = this.#local.has(peerAddress);
      const connection = new RelayedConnection(peer, {
        target: this.#options.target,
        toTarget: local
          ? NO_HOLD
          : this.#options.toTargetByPeer?.get(peerAddress) ?? this.#options.toTargetDefault ??
            NO_HOLD,
        toPeer: local ? NO_HOLD : this.#options.toPeer,
        maxBuffered: this.#maxBuffered,
        sleeper: this.#sleeper,
        random: this.#random,
        stats: this.stats,
      });
      this.#connections.add(connection);
      connection.done.then(() => {
        this.#connections.delete(connection);
        this.stats.open--;
      });
    }
  }
}

interface ConnectionSettings {
  target: { readonly hostname: string; readonly port: number };
  toTarget: HoldSettings;
  toPeer: HoldSettings;
  maxBuffered: number;
  sleeper: Sleeper;
  random: () => number;
  stats: RelayStats;
}

/** One accepted connection and its connection to the target. */
class RelayedConnection {
  readonly done: Promise<void>;
  #target: Deno.TcpConn | undefined;
  #aborted = false;
  #shutDown = false;
  #pipes: DelayedPipe[] = [];
  readonly #peer: Deno.TcpConn;

  constructor(peer: Deno.TcpConn, settings: ConnectionSettings) {
    this.#peer = peer;
    this.done = this.#run(settings);
  }

  /** Closes both sockets because the relay closes: not counted as a failure. */
  shutDown(): void {
    this.#shutDown = true;
    this.abort();
  }

  /** Closes both sockets and stops both pipes, even where they wait on a hold. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    for (const pipe of this.#pipes) pipe.stop();
    closeQuietly(this.#peer);
    if (this.#target !== undefined) closeQuietly(this.#target);
  }

  async #run(settings: ConnectionSettings): Promise<void> {
    const { stats } = settings;
    try {
      this.#target = await Deno.connect({
        hostname: settings.target.hostname,
        port: settings.target.port,
        transport: "tcp",
      });
    } catch {
      if (!this.#shutDown) stats.failed++;
      this.abort();
      return;
    }
    if (this.#aborted) {
      closeQuietly(this.#target);
      return;
    }
    // Small messages must not wait for Nagle's algorithm: the relay adds only the hold.
    this.#peer.setNoDelay(true);
    this.#target.setNoDelay(true);
    const pipes = this.#pipes = [
      new DelayedPipe(this.#peer, this.#target, settings.toTarget, settings, (n) => {
        stats.bytesToTarget += n;
      }),
      new DelayedPipe(this.#target, this.#peer, settings.toPeer, settings, (n) => {
        stats.bytesToPeer += n;
      }),
    ];
    // The first failure closes both sockets, which ends the other pipe too.
    const results = await Promise.all(pipes.map((pipe) =>
      pipe.run().then(() => true, () => {
        this.abort();
        return false;
      })
    ));
    if (results.includes(false) && !this.#shutDown) stats.failed++;
    this.abort();
  }
}

interface HeldChunk {
  /** The bytes, or null for the end of the stream. */
  readonly bytes: Uint8Array<ArrayBuffer> | null;
  /** When to write it, on the `performance.now()` clock. */
  readonly releaseAt: number;
  /** Whether it is held at all (a hold of 0 is not counted in the lateness statistics). */
  readonly held: boolean;
}

/** One direction: reads, holds, writes; at most `maxBuffered` bytes held. */
class DelayedPipe {
  readonly #from: Deno.TcpConn;
  readonly #to: Deno.TcpConn;
  readonly #hold: HoldSettings;
  readonly #settings: ConnectionSettings;
  readonly #counted: (bytes: number) => void;
  readonly #queue: HeldChunk[] = [];
  #queueHead = 0;
  #held = 0;
  #lastRelease = 0;
  #failed = false;
  /** Resolves on failure: a hold in progress is abandoned then. */
  readonly #stopped = Promise.withResolvers<void>();
  /** Wakes the writer when a chunk arrives. */
  #chunkArrived: (() => void) | undefined;
  /** Wakes the reader when space is freed. */
  #spaceFreed: (() => void) | undefined;

  constructor(
    from: Deno.TcpConn,
    to: Deno.TcpConn,
    hold: HoldSettings,
    settings: ConnectionSettings,
    counted: (bytes: number) => void,
  ) {
    this.#from = from;
    this.#to = to;
    this.#hold = hold;
    this.#settings = settings;
    this.#counted = counted;
  }

  /** Relays until the end of the stream; rejects on the first socket error. */
  async run(): Promise<void> {
    const reading = this.#read().catch((e) => {
      this.#fail();
      throw e;
    });
    const writing = this.#write().catch((e) => {
      this.#fail();
      throw e;
    });
    await Promise.all([reading, writing]);
  }

  /** Stops both loops, wherever they wait (the sockets are closed by the caller). */
  stop(): void {
    this.#fail();
  }

  /** Wakes both loops so that they notice the failure. */
  #fail(): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#stopped.resolve();
    this.#chunkArrived?.();
    this.#spaceFreed?.();
  }

  async #read(): Promise<void> {
    const readSize = Math.min(READ_SIZE, this.#settings.maxBuffered);
    let buffer = new Uint8Array(readSize);
    for (;;) {
      while (this.#held + readSize > this.#settings.maxBuffered && !this.#failed) {
        await new Promise<void>((resolve) => this.#spaceFreed = resolve);
        this.#spaceFreed = undefined;
      }
      if (this.#failed) return;
      const n = await this.#from.read(buffer);
      if (this.#failed) return;
      let bytes: Uint8Array<ArrayBuffer> | null = null;
      if (n !== null) {
        if (n < COPY_BELOW) {
          bytes = buffer.slice(0, n);
        } else {
          bytes = buffer.subarray(0, n);
          buffer = new Uint8Array(readSize);
        }
        this.#held += cost(bytes);
        const { stats } = this.#settings;
        if (this.#held > stats.heldBytesPeak) stats.heldBytesPeak = this.#held;
      }
      const hold = sampleHold(this.#hold, this.#settings.random);
      const releaseAt = Math.max(this.#lastRelease, performance.now() + hold);
      this.#lastRelease = releaseAt;
      this.#queue.push({ bytes, releaseAt, held: hold > 0 });
      this.#chunkArrived?.();
      if (n === null) return;
    }
  }

  async #write(): Promise<void> {
    for (;;) {
      while (this.#queueHead === this.#queue.length && !this.#failed) {
        await new Promise<void>((resolve) => this.#chunkArrived = resolve);
        this.#chunkArrived = undefined;
      }
      if (this.#failed) return;
      const chunk = this.#queue[this.#queueHead]!;
      const wait = chunk.releaseAt - performance.now();
      if (wait > 0) await Promise.race([this.#settings.sleeper.sleep(wait), this.#stopped.promise]);
      if (this.#failed) return;
      if (chunk.held) {
        const error = performance.now() - chunk.releaseAt;
        const { stats } = this.#settings;
        stats.heldChunks++;
        stats.releaseErrorMsTotal += error;
        if (error > stats.releaseLateMsMax) stats.releaseLateMsMax = error;
      }
      this.#queue[this.#queueHead++] = undefined as unknown as HeldChunk;
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#queueHead);
        this.#queueHead = 0;
      }
      if (chunk.bytes === null) {
        await this.#to.closeWrite();
        return;
      }
      await writeAll(this.#to, chunk.bytes);
      this.#counted(chunk.bytes.length);
      this.#held -= cost(chunk.bytes);
      this.#spaceFreed?.();
    }
  }
}

function cost(bytes: Uint8Array): number {
  return Math.max(MIN_CHUNK_COST, bytes.byteLength);
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
