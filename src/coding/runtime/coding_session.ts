/**
 * What the coding runtime needs of the node serving a CODING request: the request's connection
 * and the node's store and pool ({@linkcode CodingSession}, which the datanode's op context
 * provides), and the node's run registry, connection timeouts, traffic counters and peers
 * ({@linkcode CodingRunServices}, {@linkcode PeerGate}).
 *
 * @module
 */
import type { CommittedRuns } from "./committed_runs.ts";
import type { BufferPool } from "../../buffer/pool.ts";
import type { DataNodeClientOptions } from "../../client/node_connection.ts";
import { isLoopbackAddress, literalNodeAddress } from "../../core/address.ts";
import { CdfsError } from "../../core/errors.ts";
import type { FrameConnection } from "../../protocol/connection.ts";
import type { BlockStore } from "../../store/block_store.ts";
import type { PeerClientPool } from "./peer_client_pool.ts";
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
  /**
   * The longest the run waits for a pooled buffer, then `BUSY` (the node's `--buffer-wait`);
   * absent: as long as it takes (within the run's stall timeout).
   */
  readonly bufferWaitMs?: number;
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
  /**
   * The programs the node committed recently: a request for one of them again (the same run
   * id) gets the same outcome and computes nothing. Absent: every request runs.
   */
  readonly committed?: CommittedRuns;
  /** Timeouts of the connections to other nodes (default: the protocol's). */
  readonly client?: DataNodeClientOptions;
  /** Where connections to other nodes and steps are counted, as the run's (upstream). */
  readonly traffic?: CodingRunTraffic;
  /**
   * The addresses a run may connect to (docs/protocol.md, CODING, peers). Default
   * {@linkcode LOOPBACK_PEERS}.
   */
  readonly peers?: PeerGate;
  /**
   * Told why connecting to another node of a run failed (refused, closed during the preamble,
   * not a cdfs service, timed out): the requester hears only that the node is unreachable,
   * the node's own log keeps the cause.
   */
  readonly peerFailed?: (address: string, error: unknown) => void;
  /** Connections to other nodes kept between runs (absent: every run connects anew). */
  readonly peerClients?: PeerClientPool;
}

/**
 * Which addresses a node's CODING runs may connect to: its cluster's members. A request naming
 * any other address is refused before any connection is made (docs/protocol.md, CODING, peers).
 *
 * @example
 * ```ts
 * import { CdfsError } from "../../core/errors.ts";
 * import type { PeerGate } from "./coding_session.ts";
 * const members = new Set(["10.0.0.1:13100", "10.0.0.2:13100"]);
 * const gate: PeerGate = {
 *   admit: (addresses) => {
 *     const stranger = addresses.find((a) => !members.has(a));
 *     if (stranger === undefined) return Promise.resolve();
 *     return Promise.reject(new CdfsError("BAD_REQUEST", `${stranger} is not a peer`));
 *   },
 * };
 * await gate.admit(["10.0.0.2:13100"]);
 * ```
 */
export interface PeerGate {
  /**
   * Checks a request's node list.
   *
   * @param addresses The request's `nodes`, as sent.
   * @returns Resolves when every address is a member.
   * @throws {CdfsError} `BAD_REQUEST` naming the first node that is not.
   */
  admit(addresses: readonly string[]): Promise<void>;
}

/**
 * The peers of a datanode that has no membership (no namenode, no peer list) and listens on
 * loopback: literal loopback addresses (`127.0.0.0/8`, `[::1]`), never a host name. Whoever
 * reaches such a node runs on this host, and could connect to those addresses itself.
 *
 * @example
 * ```ts
 * import { LOOPBACK_PEERS } from "./coding_session.ts";
 * await LOOPBACK_PEERS.admit(["127.0.0.1:13100", "[::1]:13101"]);
 * const refused = await LOOPBACK_PEERS.admit(["localhost:13100"]).catch((e) => e.code);
 * console.log(refused); // "BAD_REQUEST"
 * ```
 */
export const LOOPBACK_PEERS: PeerGate = {
  admit(addresses) {
    const index = addresses.findIndex((address) => !isLoopbackAddress(address));
    if (index < 0) return Promise.resolve();
    return Promise.reject(
      notAPeer(
        index,
        addresses[index]!,
        "this node has no peer list (no --namenode, --peers or --peers-file) and admits only " +
          "literal loopback addresses",
      ),
    );
  },
};

/**
 * The error of a request naming an address that is not a peer: `the request's node i (ADDR) is
 * not a peer of this node (why)` (not `node i (ADDR): ...`, which would blame node i for the
 * failure); a host name is said to be one, as host names are never resolved.
 *
 * @example
 * ```ts
 * import { notAPeer } from "./coding_session.ts";
 * console.log(notAPeer(2, "10.9.9.9:22", "not in --peers").message);
 * // "the request's node 2 (10.9.9.9:22) is not a peer of this node (not in --peers)"
 * ```
 *
 * @param index The node's index in the request's list.
 * @param address The address as the request gave it.
 * @param why What the node's peers are.
 * @returns A `BAD_REQUEST`.
 */
export function notAPeer(index: number, address: string, why: string): CdfsError {
  const shown = address.length > 80 ? `${address.slice(0, 77)}...` : address;
  const name = literalNodeAddress(address) === undefined
    ? "; a host name is never resolved for a request, peers are literal IP:PORT"
    : "";
  return new CdfsError(
    "BAD_REQUEST",
    `the request's node ${index} (${shown}) is not a peer of this node (${why}${name})`,
  );
}
