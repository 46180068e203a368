/**
 * The RESPONSE payloads of wire format v1 (docs/protocol.md): the reply of each operation,
 * the replies of a CODING exchange and the traffic counters of STATS. The client checks them
 * with `parseResponse` (`response_validation.ts`).
 *
 * @module
 */
import type { ScrubResponse, ScrubStatus } from "./scrub_messages.ts";

/**
 * The reply to PING.
 *
 * @example
 * ```ts
 * import type { PingResponse } from "./responses.ts";
 * const r: PingResponse = { node: "dn1", version: "0.1.0", freeBytes: 1e9, blocks: 3 };
 * ```
 */
export interface PingResponse {
  /** The node id given at `cdfs datanode serve --id`. */
  node: string;
  /** The cdfs version of the node. */
  version: string;
  /** Free bytes in the node's data directory. */
  freeBytes: number;
  /** How many blocks the node holds. */
  blocks: number;
  /** The node's buffer pool: buffers lent out, its size, requests waiting for one. */
  pool?: PoolPressure;
  /** The node's client connections: open now, and the most it serves at once. */
  connections?: ConnectionPressure;
  /**
   * The GF(2^8) kernels the node codes with: `isal` (ISA-L through FFI), `wasm` or `ts`
   * (optional: an older node leaves it out).
   */
  gfBackend?: string;
}

/**
 * How much of a datanode's buffer pool is in use (PING): a node whose `inUse` is `size` with
 * requests `waiting` is saturated, whatever else it answers.
 *
 * @example
 * ```ts
 * import type { PoolPressure } from "./responses.ts";
 * const p: PoolPressure = { inUse: 64, size: 64, waiting: 3 };
 * ```
 */
export interface PoolPressure {
  /** Buffers lent out now. */
  inUse: number;
  /** Buffers in the pool. */
  size: number;
  /** Requests waiting for a buffer. */
  waiting: number;
}

/**
 * How many connections a datanode serves (PING); at `max`, new ones are refused with `BUSY`.
 *
 * @example
 * ```ts
 * import type { ConnectionPressure } from "./responses.ts";
 * const c: ConnectionPressure = { open: 12, max: 480 };
 * ```
 */
export interface ConnectionPressure {
  /** Connections open now (this PING's included). */
  open: number;
  /** The cap (`--max-connections`). */
  max: number;
}

/**
 * The reply to STORE, sent once the block is durable.
 *
 * @example
 * ```ts
 * import type { StoreResponse } from "./responses.ts";
 * const r: StoreResponse = { block: "b1", length: 10, digest: "0123456789abcdef" };
 * ```
 */
export interface StoreResponse {
  /** The block id. */
  block: string;
  /** The stored length. */
  length: number;
  /** The block digest, 16 hex digits. */
  digest: string;
  /**
   * True when nothing was written: the block was already stored with the request's declared
   * length, chunk size and digest (a retried STORE), and the stream was verified against it.
   */
  existed?: true;
}

/**
 * The reply to RETRIEVE, followed by DATA frames and END.
 *
 * @example
 * ```ts
 * import type { RetrieveResponse } from "./responses.ts";
 * const r: RetrieveResponse = {
 *   block: "b1",
 *   length: 10,
 *   blockLength: 10,
 *   chunkSize: 1048576,
 *   digest: "0123456789abcdef",
 * };
 * ```
 */
export interface RetrieveResponse {
  /** The block id. */
  block: string;
  /** The number of bytes that follow. */
  length: number;
  /** The length of the whole block. */
  blockLength: number;
  /** The chunk size of the stored block, and the largest DATA frame that follows. */
  chunkSize: number;
  /** The digest of the whole block, 16 hex digits. */
  digest: string;
}

/**
 * The reply to DELETE.
 *
 * @example
 * ```ts
 * import type { DeleteResponse } from "./responses.ts";
 * const r: DeleteResponse = { block: "b1", deleted: true };
 * ```
 */
export interface DeleteResponse {
  /** The block id. */
  block: string;
  /** Always true (a missing block is an ERROR NOT_FOUND). */
  deleted: true;
}

/**
 * The reply to STAT.
 *
 * @example
 * ```ts
 * import type { StatResponse } from "./responses.ts";
 * const r: StatResponse = {
 *   block: "b1",
 *   length: 10,
 *   chunkSize: 1048576,
 *   digest: "0123456789abcdef",
 *   created: "2025-01-01T00:00:00.000Z",
 * };
 * ```
 */
export interface StatResponse {
  /** The block id. */
  block: string;
  /** The length. */
  length: number;
  /** The chunk size the block was stored with. */
  chunkSize: number;
  /** The block digest, 16 hex digits. */
  digest: string;
  /** When the block was stored, ISO-8601. */
  created: string;
}

/**
 * One entry of a LIST page.
 *
 * @example
 * ```ts
 * import type { ListEntry } from "./responses.ts";
 * const e: ListEntry = { block: "b1", length: 10, created: "2025-01-01T00:00:00.000Z" };
 * ```
 */
export interface ListEntry {
  /** The block id. */
  block: string;
  /** The length. */
  length: number;
  /** When the block was stored, ISO-8601. */
  created: string;
}

/**
 * The reply to LIST.
 *
 * @example
 * ```ts
 * import type { ListResponse } from "./responses.ts";
 * const r: ListResponse = { blocks: [], next: null };
 * ```
 */
export interface ListResponse {
  /** The entries of this page, in code-unit order of their ids. */
  blocks: ListEntry[];
  /** The `after` of the next page, or null when this is the last page. */
  next: string | null;
}

/**
 * The first reply to CODING: the program's inputs are open (or being opened) and their length
 * is known. A stream program's DATA frames follow, a local program's progress replies.
 *
 * @example
 * ```ts
 * import type { CodingStartResponse } from "./responses.ts";
 * const r: CodingStartResponse = { program: "enc_node14", length: 97612894, stream: true };
 * ```
 */
export interface CodingStartResponse {
  /** The program's name. */
  program: string;
  /** The stream length L: the bytes of every input and output stream of the program. */
  length: number;
  /** Whether the program streams its output back (DATA frames and END follow). */
  stream: boolean;
}

/**
 * A progress reply of a local CODING program (at most about ten a second).
 *
 * @example
 * ```ts
 * import type { CodingProgressResponse } from "./responses.ts";
 * const r: CodingProgressResponse = { progress: 1048576 };
 * ```
 */
export interface CodingProgressResponse {
  /** Bytes of the stream processed so far. */
  progress: number;
}

/**
 * The CODING reply after the last step: the program and every program it pulled finished, and
 * their blocks are written but not yet visible. The node waits for the client's
 * {@linkcode CodingCommitRequest}.
 *
 * @example
 * ```ts
 * import type { CodingPreparedResponse } from "./responses.ts";
 * const r: CodingPreparedResponse = { prepared: true };
 * ```
 */
export interface CodingPreparedResponse {
  /** Always true. */
  prepared: true;
}

/**
 * A block a CODING run made visible.
 *
 * @example
 * ```ts
 * import type { CommittedBlock } from "./responses.ts";
 * const b: CommittedBlock = { node: 3, block: "file1.coded3", length: 10, digest: "0123456789abcdef" };
 * ```
 */
export interface CommittedBlock {
  /** The logical node that stores it. */
  node: number;
  /** The block id. */
  block: string;
  /** Its length. */
  length: number;
  /** Its block digest, 16 hex digits. */
  digest: string;
}

/**
 * The last reply to CODING, after the commit: the blocks the program and the programs it pulled
 * made visible.
 *
 * @example
 * ```ts
 * import type { CodingCommittedResponse } from "./responses.ts";
 * const r: CodingCommittedResponse = { committed: [] };
 * ```
 */
export interface CodingCommittedResponse {
  /** The committed blocks, this node's first. */
  committed: CommittedBlock[];
}

/**
 * Any RESPONSE of a CODING exchange.
 *
 * @example
 * ```ts
 * import type { CodingResponse } from "./responses.ts";
 * function isDone(r: CodingResponse): boolean {
 *   return "committed" in r;
 * }
 * ```
 */
export type CodingResponse =
  | CodingStartResponse
  | CodingProgressResponse
  | CodingPreparedResponse
  | CodingCommittedResponse;

/**
 * Traffic counters of one op (or of one run's requests): frame bytes (16-byte header plus
 * payload) in and out, and time.
 *
 * @example
 * ```ts
 * import type { OpTraffic } from "./responses.ts";
 * const t: OpTraffic = { requests: 1, errors: 0, bytesIn: 120, bytesOut: 90, ms: 0.4 };
 * ```
 */
export interface OpTraffic {
  /** Requests served (finished, with or without an error). */
  requests: number;
  /** Of those, the ones that ended in an error. */
  errors: number;
  /** Frame bytes received. */
  bytesIn: number;
  /** Frame bytes sent. */
  bytesOut: number;
  /** Time spent serving them, in milliseconds. */
  ms: number;
}

/**
 * Traffic counters of the connections a node opened to one other node.
 *
 * @example
 * ```ts
 * import type { PeerTraffic } from "./responses.ts";
 * const t: PeerTraffic = { connections: 1, bytesIn: 262_300, bytesOut: 420 };
 * ```
 */
export interface PeerTraffic {
  /** Connections opened. */
  connections: number;
  /** Frame bytes received from that node. */
  bytesIn: number;
  /** Frame bytes sent to that node. */
  bytesOut: number;
}

/**
 * Traffic counters of one CODING run on one node.
 *
 * @example
 * ```ts
 * import type { RunTraffic } from "./responses.ts";
 * const t: RunTraffic = {
 *   served: { requests: 1, errors: 0, bytesIn: 900, bytesOut: 262_300, ms: 35 },
 *   upstream: {},
 * };
 * ```
 */
export interface RunTraffic {
  /** The run's CODING requests this node served. */
  served: OpTraffic;
  /**
   * When the run was busy on this node, in milliseconds since the epoch by this node's clock
   * (for timelines): the first request began, its first and last step were computed, the last
   * request ended. Absent until known.
   */
  times?: RunTimes;
  /** The connections this node opened for the run, by the other node's `HOST:PORT`. */
  upstream: Record<string, PeerTraffic>;
}

/**
 * When a run was busy on one node ({@linkcode RunTraffic}), in milliseconds since the epoch.
 *
 * @example
 * ```ts
 * import type { RunTimes } from "./responses.ts";
 * const t: RunTimes = { startedAt: 1_800_000_000_000, firstStepAt: 1_800_000_000_004 };
 * ```
 */
export interface RunTimes {
  /** The run's first CODING request here began. */
  startedAt: number;
  /** Its first step was computed. */
  firstStepAt?: number;
  /** Its last step was computed. */
  lastStepAt?: number;
  /** Its last CODING request here ended. */
  endedAt?: number;
}

/**
 * The reply to STATS.
 *
 * @example
 * ```ts
 * import type { StatsResponse } from "./responses.ts";
 * const r: StatsResponse = {
 *   node: "dn1",
 *   since: "2026-01-01T00:00:00.000Z",
 *   total: { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, ms: 0 },
 *   ops: {},
 *   runs: {},
 * };
 * ```
 */
export interface StatsResponse {
  /** The node id. */
  node: string;
  /** When counting started (the node's start). */
  since: string;
  /** Every request served, whatever its op. */
  total: OpTraffic;
  /** By op. */
  ops: Record<string, OpTraffic>;
  /** The most recent runs (or the one asked for), least recently active first. */
  runs: Record<string, RunTraffic>;
  /** The node's scrub progress (absent from nodes without a scrubber). */
  scrub?: ScrubStatus;
}

/**
 * The RESPONSE type of each operation.
 *
 * @example
 * ```ts
 * import type { ResponseOf } from "./responses.ts";
 * const r: ResponseOf["DELETE"] = { block: "x", deleted: true };
 * ```
 */
export interface ResponseOf {
  /** Reply to PING. */
  PING: PingResponse;
  /** Reply to STORE. */
  STORE: StoreResponse;
  /** Reply to RETRIEVE. */
  RETRIEVE: RetrieveResponse;
  /** Reply to DELETE. */
  DELETE: DeleteResponse;
  /** Reply to STAT. */
  STAT: StatResponse;
  /** Reply to LIST. */
  LIST: ListResponse;
  /** Replies to CODING (start, progress, prepared, committed). */
  CODING: CodingResponse;
  /** Reply to STATS. */
  STATS: StatsResponse;
  /** Replies to SCRUB (progress, then the summary). */
  SCRUB: ScrubResponse;
}
