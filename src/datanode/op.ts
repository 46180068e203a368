/**
 * The contract between the datanode's connection loop and the modules that carry out one
 * operation each (`ops/*.ts`): what a handler is given ({@linkcode OpContext}) and what it
 * declares about itself ({@linkcode OpHandler}).
 *
 * A handler validates its request, does the work, writes the RESPONSE (and, for RETRIEVE, the
 * data stream) and returns; on failure it throws, and the connection loop turns the error into
 * an ERROR frame. The two flags on the context tell the loop what is still possible then.
 *
 * @module
 */
import type { BufferPool } from "../buffer/pool.ts";
import { CdfsError } from "../core/errors.ts";
import type { FrameConnection } from "../protocol/connection.ts";
import { parseRequest } from "../protocol/request_validation.ts";
import type { Op, Request } from "../protocol/requests.ts";
import type { ConnectionPressure, PoolPressure } from "../protocol/responses.ts";
import type { BlockStore } from "../store/block_store.ts";
import type { RequestMemory } from "./request_memory.ts";

/**
 * What a handler works with, for one request. The mutable fields are how a handler reports
 * back to the connection loop (for the log, and for what to do after an error).
 *
 * @example
 * ```ts
 * import type { OpContext } from "./op.ts";
 * function describe(ctx: OpContext): string {
 *   return `${ctx.nodeId}: ${ctx.block ?? "-"} (${ctx.bytes} bytes)`;
 * }
 * ```
 */
export interface OpContext {
  /** The client's connection, positioned right after the REQUEST frame. */
  readonly conn: FrameConnection;
  /** The node's block store. */
  readonly store: BlockStore;
  /**
   * The node's buffer pool, shared by all connections: its bound is the node's memory bound,
   * and waiting for a buffer is how a busy node pushes back on its clients.
   */
  readonly pool: BufferPool;
  /**
   * The largest chunk size this node can stream: its buffer size minus the 16 bytes of headroom
   * a frame header needs.
   */
  readonly maxChunkSize: number;
  /** This node's id. */
  readonly nodeId: string;
  /**
   * Aborted when the node gives up on the request (its shutdown grace period ran out); pass it
   * to waits that the closing socket does not end, such as `pool.acquire(signal)`.
   */
  readonly signal: AbortSignal;
  /**
   * The longest a request waits for a pooled buffer before failing with `BUSY` (default
   * `DEFAULT_BUFFER_WAIT_MS`, buffers.ts).
   */
  readonly bufferWaitMs?: number;
  /**
   * The outcomes of recent requests by request id (a retried DELETE gets the first one's);
   * absent: requests are carried out every time.
   */
  readonly requests?: RequestMemory;
  /** The node's pressure now, for PING (absent: PING reports none). */
  readonly pressure?: () => NodePressure;
  /** The block the request is about, once validated (for the log). */
  block: string | undefined;
  /** Data bytes moved so far: received for STORE, sent for RETRIEVE (for the log). */
  bytes: number;
  /**
   * A data stream is under way (the client's, for STORE, from the start; the node's, for
   * RETRIEVE, once its RESPONSE went out): after an error the connection cannot find the next
   * request, so the loop closes it after the ERROR frame.
   */
  streaming: boolean;
  /**
   * A frame is partly written (a write was in progress when the error struck): no ERROR frame
   * can follow it, so the loop just closes.
   */
  frameOpen: boolean;
}

/**
 * How loaded a datanode is: its buffer pool and its connections (PING reports both).
 *
 * @example
 * ```ts
 * import type { NodePressure } from "./op.ts";
 * const p: NodePressure = {
 *   pool: { inUse: 3, size: 64, waiting: 0 },
 *   connections: { open: 2, max: 480 },
 * };
 * ```
 */
export interface NodePressure {
  /** The buffer pool. */
  pool: PoolPressure;
  /** The client connections. */
  connections: ConnectionPressure;
}

/**
 * One operation of the datanode. Register it in `STANDARD_OPS` (dispatch.ts), or pass a list
 * with it to the server.
 *
 * @example
 * ```ts
 * import { FRAME_TYPE } from "../protocol/frame.ts";
 * import { type OpHandler, parseRequestAs } from "./op.ts";
 * const pingOp: OpHandler = {
 *   op: "PING",
 *   clientStreams: false,
 *   async run(ctx, raw) {
 *     parseRequestAs("PING", raw);
 *     await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { node: ctx.nodeId });
 *   },
 * };
 * ```
 */
export interface OpHandler {
  /** The `op` of the requests it serves. */
  readonly op: string;
  /**
   * Whether the client sends a data stream right after the request without waiting (STORE).
   * Any error, even one found in the request itself, then closes the connection.
   */
  readonly clientStreams: boolean;
  /**
   * Serves one request: validates `raw`, does the work and writes the reply. Throws on failure
   * (a `CdfsError` for anything the client should hear about by its code).
   *
   * @param ctx The request's context.
   * @param raw The REQUEST frame's JSON object, not yet validated.
   */
  run(ctx: OpContext, raw: Record<string, unknown>): Promise<void>;
}

/**
 * Validates a raw request that the dispatcher routed to the handler of `op`, with the protocol's
 * validator (every field checked, unknown fields rejected).
 *
 * @example
 * ```ts
 * import { parseRequestAs } from "./op.ts";
 * const request = parseRequestAs("STAT", { op: "STAT", block: "b1" });
 * console.log(request.block); // "b1"
 * ```
 *
 * @param op The op the handler serves.
 * @param raw The parsed JSON of the REQUEST frame.
 * @returns The validated request.
 * @throws {CdfsError} `BAD_REQUEST` naming the bad field; `INTERNAL` when `raw` is of another
 * op (a dispatcher bug).
 */
export function parseRequestAs<K extends Op>(
  op: K,
  raw: Record<string, unknown>,
): Extract<Request, { op: K }> {
  const request = parseRequest(raw);
  if (request.op !== op) {
    throw new CdfsError("INTERNAL", `the ${op} handler was given a ${request.op} request`);
  }
  return request as Extract<Request, { op: K }>;
}
