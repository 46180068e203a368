/**
 * What the coding runtime needs of the node serving a CODING request: the request's connection
 * and the node's store and pool ({@linkcode CodingSession}, which the datanode's op context
 * provides), and the node's run registry, connection timeouts and traffic counters
 * ({@linkcode CodingRunServices}).
 *
 * @module
 */
import type { BufferPool } from "../../buffer/pool.ts";
import type { DataNodeClientOptions } from "../../client/node_connection.ts";
import type { FrameConnection } from "../../protocol/connection.ts";
import type { BlockStore } from "../../store/block_store.ts";
import type { RunRegistry } from "./run_registry.ts";
import type { CodingRunTraffic } from "./run_traffic.ts";

/**
 * One CODING request being served. The mutable fields are how the runtime reports back to the
 * node's connection loop (for the log, and for what to do after an error).
 *
 * @example
 * ```ts
 * import type { CodingSession } from "./coding_session.ts";
 * function describe(session: CodingSession): string {
 *   return `${session.bytes} bytes${session.streaming ? ", streaming" : ""}`;
 * }
 * ```
 */
export interface CodingSession {
  /** The requester's connection, positioned right after the REQUEST frame. */
  readonly conn: FrameConnection;
  /** The node's block store. */
  readonly store: BlockStore;
  /** The node's buffer pool (its arena's kernels do the arithmetic on these buffers). */
  readonly pool: BufferPool;
  /** The largest chunk size this node can stream. */
  readonly maxChunkSize: number;
  /** Aborted when the node gives up on the request (its shutdown). */
  readonly signal: AbortSignal;
  /** Data bytes computed or sent so far (for the log and the progress replies). */
  bytes: number;
  /**
   * A stream is under way on the connection: after an error it cannot find the next request,
   * so the loop closes it after the ERROR frame.
   */
  streaming: boolean;
  /** A frame is partly written: no ERROR frame can follow it, so the loop just closes. */
  frameOpen: boolean;
}

/**
 * What the runs of a node share, whichever connection serves them.
 *
 * @example
 * ```ts
 * import type { CodingRunServices } from "./coding_session.ts";
 * import { RunRegistry } from "./run_registry.ts";
 * const services: CodingRunServices = { runs: new RunRegistry(), client: { frameTimeoutMs: 5000 } };
 * ```
 */
export interface CodingRunServices {
  /** The node's runs (PUSH/POP queues and lengths), shared by all its connections. */
  readonly runs: RunRegistry;
  /** Timeouts of the connections to other nodes (default: the protocol's). */
  readonly client?: DataNodeClientOptions;
  /** Where connections to other nodes and steps are counted, as the run's (upstream). */
  readonly traffic?: CodingRunTraffic;
}
