/**
 * What a `NetworkStreamResolver` (`resolver.ts`) is given for one CODING request: the
 * node's store, pool and timeouts, the request, and the push-mode input that arrives on the
 * request's own connection.
 *
 * @module
 */

import type { BufferPool } from "../../buffer/pool.ts";
import type { DataNodeClientOptions } from "../../client/node_connection.ts";
import type { FrameConnection } from "../../protocol/connection.ts";
import type { CodingRequest } from "../../protocol/requests.ts";
import type { BlockStore } from "../../store/block_store.ts";
import type { PeerClientPool } from "./peer_client_pool.ts";
import type { CodingRunTraffic } from "./run_traffic.ts";

/**
 * What a `NetworkStreamResolver` (`resolver.ts`) needs for one CODING request.
 *
 * @example
 * Not run by `deno test --doc`: a fragment of a datanode's CODING handler (`request`, `store`).
 * ```ts ignore
 * import type { NetworkResolverOptions } from "./resolver_options.ts";
 * const options: NetworkResolverOptions = { store, pool, request, node: 15, signal, client: {} };
 * ```
 */
export interface NetworkResolverOptions {
  /** The node's block store. */
  readonly store: BlockStore;
  /** The node's buffer pool (its arena's kernels do the arithmetic on these buffers). */
  readonly pool: BufferPool;
  /** The validated CODING request being served. */
  readonly request: CodingRequest;
  /** The logical node running the program (an index into `request.nodes`). */
  readonly node: number;
  /** Aborts every read and connection (the node's shutdown). */
  readonly signal: AbortSignal;
  /** The longest wait of an input for a buffer, then `BUSY` (default: as long as it takes). */
  readonly bufferWaitMs?: number;
  /** Timeouts of the connections to the other nodes. */
  readonly client: DataNodeClientOptions;
  /** Where the connections to the other nodes count their bytes, as the run's upstream. */
  readonly traffic?: CodingRunTraffic;
  /**
   * Push mode: the `{ program }` input whose stream the producer sends on the request's own
   * connection (after the REQUEST frame), instead of one this node would pull.
   */
  readonly pushed?: PushedInput;
  /**
   * Told why a connection to another node failed: the error says only `unreachable` (which
   * of refused, closed, not a cdfs service or silent it was is the node's log's business).
   */
  readonly peerFailed?: (address: string, error: unknown) => void;
  /** Where the connections of pulled programs come from and go back to once committed. */
  readonly peerClients?: PeerClientPool;
}

/**
 * The input a push-mode request brings along ({@linkcode NetworkResolverOptions.pushed}).
 *
 * @example
 * Not run by `deno test --doc`: a fragment of a datanode's CODING handler (`request`, `store`).
 * ```ts ignore
 * import type { PushedInput } from "./resolver_options.ts";
 * const pushed: PushedInput = { program: "enc_node3", node: 3, conn: ctx.conn, length: 1 << 20 };
 * ```
 */
export interface PushedInput {
  /** The producing program. */
  readonly program: string;
  /** Its logical node. */
  readonly node: number;
  /** The connection its stream arrives on. */
  readonly conn: FrameConnection;
  /** The stream's length, as the producer announced it. */
  readonly length: number;
}
