/**
 * {@linkcode NodeConnection}: the connection of a client to one datanode, and its
 * reconnection. One connection serves any number of requests, one at a time. When a request
 * breaks it (a STORE error — the node closes after those —, a timeout, a lost link) or the
 * node closed it while idle, the next request opens a new one. Every error is named after
 * the node ({@linkcode nameNodeError}). A node that answers `BUSY` (its connection cap, or no
 * buffer free in time) is asked again after a pause that doubles each time, with jitter
 * ({@linkcode retryBusy}), a bounded number of times.
 *
 * @module
 */
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { formatNodeAddress, type NodeAddress } from "../core/address.ts";
import { validateBlockId } from "../core/block_id.ts";
import type { ByteMeter } from "../protocol/byte_meter.ts";
import type { FrameConnection, FrameConnectionOptions } from "../protocol/connection.ts";
import { FRAME_TYPE } from "../protocol/frame.ts";
import { PeerError } from "../protocol/peer_error.ts";
import { MAX_CODING_TIMEOUT_MS, MIN_CODING_TIMEOUT_MS } from "../protocol/requests.ts";
import { DEFAULT_FRAME_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS } from "../protocol/timed_socket.ts";
import { dialFrameConnection } from "../protocol/dial.ts";
import type { TlsClientConfig } from "../protocol/tls.ts";

/**
 * The default time to wait for a TCP connection to a node, 10 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONNECT_TIMEOUT_MS } from "./node_connection.ts";
 * console.log(DEFAULT_CONNECT_TIMEOUT_MS); // 10000
 * ```
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Options of a client connection to a node (`DataNodeClient.connect`): the protocol's idle
 * and frame timeouts (defaults 60 s and 30 s, `docs/protocol.md` §5) and the connect timeout.
 *
 * @example
 * ```ts
 * import type { DataNodeClientOptions } from "./node_connection.ts";
 * const options: DataNodeClientOptions = { connectTimeoutMs: 2000, idleTimeoutMs: 10_000 };
 * ```
 */
export interface DataNodeClientOptions extends FrameConnectionOptions {
  /** How long to wait for the TCP connection and the preamble exchange (default 10 s). */
  connectTimeoutMs?: number;
  /** TLS: the CA certificates, or null for plain TCP (default: `defaultTls()`, `tls.ts`). */
  tls?: TlsClientConfig | null;
}

/**
 * The options of a connection that belongs to a coding run with stall timeout `timeoutMs`
 * (the CODING request's `timeoutMs`): the connect, idle and frame timeouts each at most that
 * long. Without a stall timeout, the options as they are.
 *
 * @example
 * ```ts
 * import { withStallTimeout } from "./node_connection.ts";
 * console.log(withStallTimeout({ idleTimeoutMs: 500 }, 2000));
 * // { idleTimeoutMs: 500, connectTimeoutMs: 2000, frameTimeoutMs: 2000 }
 * ```
 *
 * @param options The connection's own options.
 * @param timeoutMs The run's stall timeout, if it has one.
 * @returns The options to connect with.
 * @throws {CdfsError} `BAD_REQUEST` for a stall timeout the CODING request would refuse (an
 * integer of {@linkcode MIN_CODING_TIMEOUT_MS}..{@linkcode MAX_CODING_TIMEOUT_MS} ms).
 */
export function withStallTimeout(
  options: DataNodeClientOptions,
  timeoutMs: number | undefined,
): DataNodeClientOptions {
  if (timeoutMs === undefined) return options;
  if (
    !Number.isInteger(timeoutMs) || timeoutMs < MIN_CODING_TIMEOUT_MS ||
    timeoutMs > MAX_CODING_TIMEOUT_MS
  ) {
    throw new CdfsError(
      "BAD_REQUEST",
      `a coding run's stall timeout must be an integer in ${MIN_CODING_TIMEOUT_MS}..${MAX_CODING_TIMEOUT_MS} ms, got ${timeoutMs}`,
    );
  }
  return {
    ...options,
    connectTimeoutMs: Math.min(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, timeoutMs),
    idleTimeoutMs: Math.min(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, timeoutMs),
    frameTimeoutMs: Math.min(options.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS, timeoutMs),
  };
}

/**
 * How {@linkcode retryBusy} retries: attempts in all, the first pause and the longest one, and
 * the source of jitter.
 *
 * @example
 * ```ts
 * import type { BusyRetry } from "./node_connection.ts";
 * const retry: BusyRetry = { attempts: 3, baseMs: 10, maxMs: 100 };
 * ```
 */
export interface BusyRetry {
  /** Tries in all, the first included (default 6). */
  attempts?: number;
  /** The pause before the first retry is up to this long (default 100 ms); it doubles after. */
  baseMs?: number;
  /** The longest pause (default 2 s). */
  maxMs?: number;
  /** A number in 0..1 (default `Math.random`): pauses are drawn up to their bound. */
  random?: () => number;
}

/**
 * Runs `attempt`, and again while it fails with `BUSY` (a node under pressure), after pauses
 * drawn at random up to a bound that doubles each time ("full jitter", so that the clients a
 * node turned away do not come back all at once). The last failure is thrown as it is.
 *
 * @example
 * ```ts
 * import { CdfsError } from "../core/errors.ts";
 * import { retryBusy } from "./node_connection.ts";
 * let tries = 0;
 * const answer = await retryBusy(async () => {
 *   if (++tries < 3) throw new CdfsError("BUSY", "no buffer came free");
 *   return "ok";
 * }, { baseMs: 1 });
 * console.log(answer, tries); // ok 3
 * ```
 *
 * @param attempt One try.
 * @param options Attempts and pauses.
 * @returns What the first successful try returned.
 * @throws What the last try threw, or the first error that is not `BUSY`.
 */
export async function retryBusy<T>(attempt: () => Promise<T>, options: BusyRetry = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  const baseMs = options.baseMs ?? 100;
  const maxMs = options.maxMs ?? 2000;
  const random = options.random ?? Math.random;
  for (let i = 1;; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (i >= attempts || !isCdfsError(e, "BUSY")) throw e;
      const bound = Math.min(maxMs, baseMs * 2 ** (i - 1));
      await new Promise((resolve) => setTimeout(resolve, random() * bound));
    }
  }
}

/**
 * Any failure as a {@linkcode CdfsError} whose message names the node `address` (`node
 * HOST:PORT: ...`); one that already does passes unchanged, and so does a thrown value that
 * is no `Error`.
 *
 * @example
 * ```ts
 * import { nameNodeError } from "./node_connection.ts";
 * const e = nameNodeError("127.0.0.1:13100", new Error("connection reset")) as Error;
 * console.log(e.message); // node 127.0.0.1:13100: connection reset
 * ```
 *
 * @param address The node's `HOST:PORT`.
 * @param error What failed.
 * @returns The error to throw.
 */
export function nameNodeError(address: string, error: unknown): unknown {
  const prefix = `node ${address}: `;
  if (error instanceof CdfsError) {
    if (error.message.startsWith(prefix)) return error;
    return new CdfsError(error.code, prefix + error.message, { cause: error });
  }
  if (error instanceof Error) {
    return new CdfsError("UNAVAILABLE", prefix + error.message, { cause: error });
  }
  return error;
}

/**
 * Whether a failure after a request went out means its reply was lost, so that the request
 * may or may not have taken effect: the connection closed or broke (`UNAVAILABLE`, or closed
 * in the middle of the reply's frame). Not the node's own ERROR (`PeerError`), not a
 * timeout (a node that does not answer), not a reply that came and was malformed.
 *
 * @example
 * ```ts
 * import { CdfsError } from "../core/errors.ts";
 * import { isLostReply } from "./node_connection.ts";
 * const closed = new CdfsError("UNAVAILABLE", "the node closed the connection without answering");
 * console.log(isLostReply(closed), isLostReply(new CdfsError("TIMEOUT", "idle timeout"))); // true false
 * ```
 *
 * @param error What reading the reply threw.
 * @returns True when the outcome of the request is unknown.
 */
export function isLostReply(error: unknown): boolean {
  if (error instanceof PeerError) return false;
  if (error instanceof CdfsError) {
    return error.code === "UNAVAILABLE" ||
      (error.code === "BAD_REQUEST" && error.message.includes("connection closed in the middle"));
  }
  return error instanceof Error; // a socket error: reset, broken pipe
}

/**
 * An exchange with a node that goes on after the request was sent (a CODING run): the
 * connection, which the client serves nothing else on until `done` or `detach`.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * const exchange = await client.openExchange(request, request.timeoutMs);
 * try {
 *   console.log(await exchange.conn.readJsonFrame(FRAME_TYPE.RESPONSE));
 *   exchange.done();
 * } catch (e) {
 *   exchange.detach();
 *   exchange.conn.close();
 *   throw exchange.error(e);
 * }
 * ```
 */
export interface NodeExchange {
  /** The connection the request went out on. */
  readonly conn: FrameConnection;
  /** A failure as an error naming the node ({@linkcode nameNodeError}). */
  error(error: unknown): unknown;
  /** The exchange ended cleanly: the connection serves the next request. */
  done(): void;
  /** The exchange failed: the client lets go of the connection (the caller closes it). */
  detach(): void;
}

/**
 * The connection of a client to one node, reopened when it broke or the node closed it while
 * idle. Not for concurrent use: one request at a time.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { NodeConnection } from "./node_connection.ts";
 * const link = await NodeConnection.open({ hostname: "127.0.0.1", port: 13100 }, {});
 * const conn = await link.acquire();
 * await conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "PING" });
 * console.log(await link.readResponse(conn));
 * link.release(conn);
 * link.close();
 * ```
 */
export class NodeConnection {
  /** The node's address as `HOST:PORT` (brackets around IPv6), as used in messages. */
  readonly address: string;
  readonly #target: NodeAddress;
  #options: DataNodeClientOptions;
  #conn: FrameConnection | null;
  #closed = false;

  private constructor(target: NodeAddress, conn: FrameConnection, options: DataNodeClientOptions) {
    this.#target = target;
    this.address = formatNodeAddress(target);
    this.#conn = conn;
    this.#options = options;
  }

  /**
   * Connects to a node and exchanges preambles.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const link = await NodeConnection.open(parseNodeAddress("[::1]:13100"), {});
   * ```
   *
   * @param target The node's address.
   * @param options Timeouts.
   * @returns The connection.
   * @throws {CdfsError} `UNAVAILABLE` when the node cannot be reached; `TIMEOUT`; the node's
   * error when it refuses the preamble.
   */
  static async open(
    target: NodeAddress,
    options: DataNodeClientOptions,
  ): Promise<NodeConnection> {
    const conn = await retryBusy(() => openConnection(target, options));
    return new NodeConnection(target, conn, options);
  }

  /**
   * The connection for the next request: the current one, unless it is gone or the node sent
   * something (or closed) while it sat idle — then a new one.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const conn = await link.acquire(request.timeoutMs);
   * ```
   *
   * @param stallTimeoutMs The stall timeout of a coding run the connection is for.
   * @returns The connection.
   * @throws {CdfsError} `UNAVAILABLE` once closed, and what connecting throws.
   */
  async acquire(stallTimeoutMs?: number): Promise<FrameConnection> {
    if (this.#closed) {
      throw new CdfsError("UNAVAILABLE", `node ${this.address}: the client was closed`);
    }
    const current = this.#conn;
    if (current !== null && !current.closed && !current.peerSentData) {
      return current;
    }
    this.drop();
    const options = withStallTimeout(this.#options, stallTimeoutMs);
    // A node at its connection cap answers the preamble with BUSY: ask again a little later.
    const fresh = await retryBusy(() => openConnection(this.#target, options));
    if (this.#closed) {
      fresh.close();
      throw new CdfsError("UNAVAILABLE", `node ${this.address}: the client was closed`);
    }
    this.#conn = fresh;
    return fresh;
  }

  /**
   * A request finished cleanly: keep a read pending on the idle connection, so that a node
   * that closes it (its idle timeout) is noticed before the next request is sent into it.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * link.release(conn);
   * ```
   *
   * @param conn The connection the request used.
   */
  release(conn: FrameConnection): void {
    if (this.#conn === conn && !conn.closed) conn.prefetchHeader();
  }

  /**
   * Closes the current connection (the next request opens a new one).
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * link.drop();
   * ```
   */
  drop(): void {
    this.#conn?.close();
    this.#conn = null;
  }

  /**
   * Lets go of `conn` without closing it (its user closes it): the next request opens a new
   * connection.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * link.detach(conn);
   * conn.close();
   * ```
   *
   * @param conn The connection of a failed exchange.
   */
  detach(conn: FrameConnection): void {
    if (this.#conn === conn) this.#conn = null;
  }

  /**
   * Closes `conn`, which may be the current connection (then dropped) or one already let go.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * link.discard(conn);
   * ```
   *
   * @param conn The connection of a stream abandoned mid-way.
   */
  discard(conn: FrameConnection): void {
    if (this.#conn === conn) this.drop();
    else conn.close();
  }

  /**
   * Whether the next request would go out on the connection already open: one is, and the node
   * neither closed it nor sent anything on it while it sat idle.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * if (!link.reusable) link.close();
   * ```
   */
  get reusable(): boolean {
    const conn = this.#conn;
    return !this.#closed && conn !== null && !conn.closed && !conn.peerSentData;
  }

  /**
   * Counts the traffic of the open connection, and of any opened later, on `meter` from now on
   * (a connection kept for another coding run counts as that run's).
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * link.meterWith({ bytesIn: 0, bytesOut: 0 });
   * ```
   *
   * @param meter The meter, or undefined for none.
   */
  meterWith(meter: ByteMeter | undefined): void {
    const { meter: _, ...rest } = this.#options;
    this.#options = meter === undefined ? rest : { ...rest, meter };
    if (this.#conn !== null) this.#conn.meter = meter ?? null;
  }

  /**
   * Closes the connection for good; idempotent. Later requests fail.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * link.close();
   * ```
   */
  close(): void {
    this.#closed = true;
    this.drop();
  }

  /**
   * Any failure as a CdfsError whose message names this node ({@linkcode nameNodeError}).
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * throw link.nodeError(e);
   * ```
   *
   * @param error What failed.
   * @returns The error to throw.
   */
  nodeError(error: unknown): unknown {
    return nameNodeError(this.address, error);
  }

  /**
   * Reads the RESPONSE frame that answers a request (an ERROR frame is thrown as the node's
   * error).
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const body = await link.readResponse(conn);
   * ```
   *
   * @param conn The connection the request went out on.
   * @returns The reply's JSON object.
   * @throws {CdfsError} `UNAVAILABLE` when the node closed without answering.
   */
  async readResponse(conn: FrameConnection): Promise<Record<string, unknown>> {
    const body = await conn.readJsonFrame(FRAME_TYPE.RESPONSE);
    if (body === null) {
      throw new CdfsError("UNAVAILABLE", "the node closed the connection without answering");
    }
    return body;
  }

  /**
   * A valid block id, or an error naming the node.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const block = link.checkId("movie.mkv.0");
   * ```
   *
   * @param id The block id asked for.
   * @returns The id.
   * @throws {CdfsError} `BAD_REQUEST` for an invalid id.
   */
  checkId(id: string): string {
    try {
      return validateBlockId(id);
    } catch (e) {
      throw this.nodeError(e);
    }
  }

  /**
   * Checks that the node answered for the block asked about.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * link.expectBlock(response.block, block, "STAT");
   * ```
   *
   * @param answered The block of the reply.
   * @param asked The block of the request.
   * @param op The request's op, for the message.
   * @throws {CdfsError} `BAD_REQUEST` naming the node when they differ.
   */
  expectBlock(answered: string, asked: string, op: string): void {
    if (answered !== asked) {
      throw this.nodeError(
        new CdfsError("BAD_REQUEST", `${op} of block '${asked}' was answered for '${answered}'`),
      );
    }
  }
}

function openConnection(
  target: NodeAddress,
  options: DataNodeClientOptions,
): Promise<FrameConnection> {
  const address = formatNodeAddress(target);
  return dialFrameConnection(target, {
    timeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    unreachable: `cannot reach node ${address}: `,
    peer: `node ${address}: `,
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    ...(options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs }),
    ...(options.meter === undefined ? {} : { meter: options.meter }),
    ...(options.signer === undefined ? {} : { signer: options.signer }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
}
