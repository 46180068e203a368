/**
 * What a server built on the shared server loop (`FrameServer`, `frame_server.ts`) provides
 * and what it is told: the {@linkcode FrameServerHandler} with its ops and log, the connection
 * and request as the handler sees them, and the outcome of each request.
 *
 * @module
 */
import type { FrameConnection } from "./connection.ts";
import type { Failure } from "./failure.ts";

/**
 * The bytes a connection moved in frames since they were last taken.
 *
 * @example
 * ```ts
 * import type { FrameTraffic } from "./frame_server_handler.ts";
 * const t: FrameTraffic = { bytesIn: 128, bytesOut: 64 };
 * ```
 */
export interface FrameTraffic {
  /** Frame bytes read. */
  readonly bytesIn: number;
  /** Frame bytes written. */
  readonly bytesOut: number;
}

/**
 * One client connection of a `FrameServer`, as its handler sees it.
 *
 * @example
 * ```ts
 * import type { ServerConnection } from "./frame_server_handler.ts";
 * const describe = (c: ServerConnection) => `${c.peer}${c.closing ? " (closing)" : ""}`;
 * ```
 */
export interface ServerConnection {
  /** The client's `HOST:PORT`. */
  readonly peer: string;
  /** The frame connection, once the socket has one. */
  readonly conn: FrameConnection | null;
  /** Closed by the server (its shutdown): the errors that follow are not the client's. */
  readonly closing: boolean;
  /** Aborted when the server gives up on the request under way (its grace period ran out). */
  readonly signal: AbortSignal;
  /**
   * The frame bytes read and written since the current request began or since the last call,
   * whichever is later (`null` before the frame connection exists).
   */
  takeTraffic(): FrameTraffic | null;
}

/**
 * What a server's handler tells the loop about a request it is serving, for the moment it
 * fails.
 *
 * @example
 * ```ts
 * import type { RequestState } from "./frame_server_handler.ts";
 * const state: RequestState = { streaming: false, frameOpen: false };
 * ```
 */
export interface RequestState {
  /**
   * A data stream is under way (the client's, or the server's once its RESPONSE went out):
   * after an error the connection cannot find the next request, so the ERROR frame is
   * followed by a close.
   */
  streaming: boolean;
  /** A frame is partly written: no ERROR frame can follow it, the connection is just closed. */
  frameOpen: boolean;
}

/**
 * One outcome of a `FrameServer`: a request served or refused, or a connection whose
 * frames could no longer be followed (a bad preamble, a broken frame, a timeout, an ERROR from
 * the client). Told once the reply went out, before any close.
 *
 * @example
 * ```ts
 * import type { FrameOutcome, RequestState } from "./frame_server_handler.ts";
 * const line = (o: FrameOutcome<RequestState>) =>
 *   `${o.connection.peer} ${o.op ?? "-"} ${o.failure?.code ?? "ok"}`;
 * ```
 */
export interface FrameOutcome<R extends RequestState> {
  /** The connection. */
  readonly connection: ServerConnection;
  /** The request's state, once its REQUEST frame arrived whole (else null). */
  readonly request: R | null;
  /** The request's op (its first 40 characters), when it named one as a string. */
  readonly op: string | null;
  /** Why it failed, or null. */
  readonly failure: Failure | null;
  /** `performance.now()` when the request's frame arrived (or the wait for it began). */
  readonly started: number;
}

/**
 * A server's part of a `FrameServer`: its ops and what it logs.
 *
 * @example
 * ```ts
 * import { FRAME_TYPE } from "./frame.ts";
 * import type { FrameConnection } from "./connection.ts";
 * import type { FrameServerHandler, RequestState } from "./frame_server_handler.ts";
 * type Echo = RequestState & { conn: FrameConnection };
 * const echo: FrameServerHandler<Echo> = {
 *   request: (_connection, conn) => ({ conn, streaming: false, frameOpen: false }),
 *   async serve(request, raw) {
 *     await request.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, raw);
 *   },
 *   outcome: () => {},
 *   acceptFailed: () => {},
 *   connectionFailed: () => {},
 * };
 * ```
 */
export interface FrameServerHandler<R extends RequestState> {
  /**
   * The state of a new request, made once its REQUEST frame arrived whole; `conn` is
   * positioned right after it.
   */
  request(connection: ServerConnection, conn: FrameConnection, started: number): R;
  /**
   * Serves one request: validates it, does the work and writes the RESPONSE (and any data
   * stream). Throws to have the failure answered with an ERROR frame.
   */
  serve(request: R, raw: Record<string, unknown>, payloadLength: number): Promise<void>;
  /** Every outcome (for logs and counters); it must not throw. */
  outcome(outcome: FrameOutcome<R>): void;
  /** A request is over, its connection closed if it had to be (optional). */
  finished?(request: R, failed: boolean): void;
  /**
   * Accepting failed (e.g. out of file descriptors); the server backs off and goes on. Told at
   * most once per 10 s; `unreported` counts the failures since the last time it was told.
   */
  acceptFailed(error: unknown, unreported: number): void;
  /**
   * A connection over the cap was refused with BUSY (optional). Told at most once per 10 s;
   * `unreported` counts the refusals since the last time it was told.
   */
  refused?(peer: string, maxConnections: number, unreported: number): void;
  /** A connection's task failed unexpectedly. */
  connectionFailed(connection: ServerConnection, error: unknown): void;
  /** Called once every connection ended, before `FrameServer.finished` settles. */
  stopped?(): void | Promise<void>;
}
