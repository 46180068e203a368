/**
 * The REQUEST payloads of wire format v1 (docs/protocol.md): one type per operation, the
 * operations themselves, and the limits their fields must keep. The server checks them with
 * `parseRequest` (`request_validation.ts`).
 *
 * @module
 */
import type { ScrubRequest } from "./scrub_messages.ts";

/**
 * The operations of v1.
 *
 * @example
 * ```ts
 * import { OPS } from "./requests.ts";
 * console.log(OPS.includes("STORE")); // true
 * ```
 */
export const OPS = [
  "PING",
  "STORE",
  "RETRIEVE",
  "DELETE",
  "STAT",
  "LIST",
  "CODING",
  "STATS",
  "SCRUB",
] as const;

/**
 * One of {@linkcode OPS}.
 *
 * @example
 * ```ts
 * import type { Op } from "./requests.ts";
 * const op: Op = "STAT";
 * ```
 */
export type Op = typeof OPS[number];

/**
 * The default number of entries of a LIST page.
 */
export const DEFAULT_LIST_LIMIT = 1000;

/**
 * The largest `limit` a LIST request may ask for.
 */
export const MAX_LIST_LIMIT = 10000;

/**
 * `{"op":"PING"}`: is the node there, and how full is it.
 *
 * @example
 * ```ts
 * import type { PingRequest } from "./requests.ts";
 * const ping: PingRequest = { op: "PING" };
 * ```
 */
export interface PingRequest {
  /** The operation. */
  op: "PING";
}

/**
 * `{"op":"STATS"}`: the node's traffic counters; with `run`, only that run's.
 *
 * @example
 * ```ts
 * import type { StatsRequest } from "./requests.ts";
 * const stats: StatsRequest = { op: "STATS" };
 * ```
 */
export interface StatsRequest {
  /** The operation. */
  op: "STATS";
  /** Only this run (32 lower-case hex digits) in `runs`. */
  run?: string;
}

/**
 * Stores a block from the DATA frames that follow.
 *
 * @example
 * ```ts
 * import type { StoreRequest } from "./requests.ts";
 * const store: StoreRequest = { op: "STORE", block: "b1", chunkSize: 1048576, length: 10 };
 * ```
 */
export interface StoreRequest {
  /** The operation. */
  op: "STORE";
  /** The block id. */
  block: string;
  /** The size of every DATA frame but the last. */
  chunkSize: number;
  /** The total length, when the sender knows it in advance. */
  length?: number;
  /** Replace an existing block of that id instead of failing with EXISTS. */
  overwrite?: boolean;
  /**
   * The block digest of the stream that follows (16 hex digits; needs `length`): the node
   * checks the END trailer against it, and answers a block that is already stored with
   * exactly this length, chunk size and digest as stored (`existed`) instead of `EXISTS`,
   * which makes a retried STORE idempotent (docs/protocol.md, STORE).
   */
  digest?: string;
}

/**
 * Reads a block, or `length` bytes of it from `offset`.
 *
 * @example
 * ```ts
 * import type { RetrieveRequest } from "./requests.ts";
 * const range: RetrieveRequest = { op: "RETRIEVE", block: "b1", offset: 4096, length: 100 };
 * ```
 */
export interface RetrieveRequest {
  /** The operation. */
  op: "RETRIEVE";
  /** The block id. */
  block: string;
  /** The first byte to send (default 0). */
  offset?: number;
  /** How many bytes to send (default: to the end of the block). */
  length?: number;
}

/**
 * Deletes a block.
 *
 * @example
 * ```ts
 * import type { DeleteRequest } from "./requests.ts";
 * const del: DeleteRequest = { op: "DELETE", block: "b1" };
 * const retried: DeleteRequest = { ...del, request: "0123456789abcdef0123456789abcdef" };
 * ```
 */
export interface DeleteRequest {
  /** The operation. */
  op: "DELETE";
  /** The block id. */
  block: string;
  /**
   * The request id (32 lower-case hex digits, random): a DELETE sent again with the same id
   * gets the first one's outcome while the node remembers it (docs/protocol.md, DELETE).
   */
  request?: string;
}

/**
 * Describes a block.
 *
 * @example
 * ```ts
 * import type { StatRequest } from "./requests.ts";
 * const stat: StatRequest = { op: "STAT", block: "b1" };
 * ```
 */
export interface StatRequest {
  /** The operation. */
  op: "STAT";
  /** The block id. */
  block: string;
}

/**
 * Lists blocks in code-unit order, one page at a time.
 *
 * @example
 * ```ts
 * import type { ListRequest } from "./requests.ts";
 * const list: ListRequest = { op: "LIST", prefix: "file7.", limit: 100 };
 * ```
 */
export interface ListRequest {
  /** The operation. */
  op: "LIST";
  /** Only ids starting with this. */
  prefix?: string;
  /** Only ids after this one (the `next` of the previous page). */
  after?: string;
  /** At most this many entries (default 1000, at most 10000). */
  limit?: number;
}

/**
 * The most nodes a CODING request may list (a code has at most 256 coded blocks in GF(2^8)).
 */
export const MAX_CODING_NODES = 256;

/**
 * The most programs a CODING request may carry inline.
 */
export const MAX_INLINE_PROGRAMS = 64;

/**
 * The shortest stall timeout a CODING request may ask for (`timeoutMs`), 100 ms: below it the
 * keepalives (a third of it) would be most of the traffic.
 */
export const MIN_CODING_TIMEOUT_MS = 100;

/**
 * The longest stall timeout a CODING request may ask for (`timeoutMs`), one day.
 */
export const MAX_CODING_TIMEOUT_MS = 86_400_000;

/**
 * Runs one program of a coding module on the node, for one object and one run
 * (docs/protocol.md, CODING). The node pulls the program's inputs (local blocks, other
 * nodes' blocks, other programs of the run on other nodes), writes its output blocks and, for a
 * stream program, streams its output back.
 *
 * @example
 * ```ts
 * import type { CodingRequest } from "./requests.ts";
 * const encode: CodingRequest = {
 *   op: "CODING",
 *   module: "rapidraid",
 *   program: "enc_node15",
 *   object: "file1",
 *   run: "0123456789abcdef0123456789abcdef",
 *   nodes: Array.from({ length: 16 }, (_, i) => `127.0.0.1:${13100 + i}`),
 *   chunkSize: 1048576,
 * };
 * ```
 */
export interface CodingRequest {
  /** The operation. */
  op: "CODING";
  /** The coding module, one the node serves: a name or a family spec such as `rs:k=6,m=3`. */
  module: string;
  /** The program to run: one of the module's, or of `inline`. */
  program: string;
  /** The object id: replaces `{id}` in the module's block names (a block id itself). */
  object: string;
  /** The run id, 32 lower-case hex digits, the same for every program of the run. */
  run: string;
  /** The run's nodes as `HOST:PORT`: logical node i is `nodes[i]`. */
  nodes: string[];
  /** The step size, and the size of every DATA frame but the last (4096..16777216). */
  chunkSize: number;
  /** Replace coded blocks that already exist instead of failing with EXISTS. */
  overwrite?: boolean;
  /**
   * Programs derived by the client (decode and repair plans), by name, validated by the node;
   * they may pull each other and the module's programs.
   */
  inline?: Readonly<Record<string, object>>;
  /**
   * Push mode (docs/protocol.md, CODING, push mode): the pipeline of programs the data is
   * pushed through, producer first. The node runs `program` (one of `chain`) and sends its
   * output to the node of the next program of the chain, in a CODING request of its own
   * followed by the data. `length` is the length of that data, given by the producer; a
   * request from the client (for `chain[0]`) has none.
   */
  push?: CodingPush;
  /**
   * The run's stall timeout in milliseconds ({@linkcode MIN_CODING_TIMEOUT_MS}..
   * {@linkcode MAX_CODING_TIMEOUT_MS}): every connection of the run, on every node, gives up
   * on a peer that sent nothing (and took nothing) for this long, and connecting may take no
   * longer. A node uses the smaller of it and its own timeouts; without it, its own.
   */
  timeoutMs?: number;
}

/**
 * The push-mode part of a {@linkcode CodingRequest}.
 *
 * @example
 * ```ts
 * import type { CodingPush } from "./requests.ts";
 * const push: CodingPush = { chain: ["enc_node0", "enc_node1"], length: 1024 };
 * ```
 */
export interface CodingPush {
  /** The programs the stream goes through, producer first; the last one is a local program. */
  chain: string[];
  /** The length of the stream that follows the request (absent for `chain[0]`). */
  length?: number;
}

/**
 * The commit decision a client sends when a CODING program is prepared (docs/protocol.md,
 * CODING): make the program's blocks visible. (To abort instead, send ERROR or close.)
 *
 * @example
 * ```ts
 * import type { CodingCommitRequest } from "./requests.ts";
 * const commit: CodingCommitRequest = { op: "COMMIT", run: "0123456789abcdef0123456789abcdef" };
 * ```
 */
export interface CodingCommitRequest {
  /** Always "COMMIT" (valid only at this point of a CODING exchange, not as an op of its own). */
  op: "COMMIT";
  /** The run id of the CODING request. */
  run: string;
}

/**
 * Any request of v1.
 *
 * @example
 * ```ts
 * import type { Request } from "./requests.ts";
 * function blockOf(r: Request): string | undefined {
 *   return "block" in r ? r.block : undefined;
 * }
 * ```
 */
export type Request =
  | PingRequest
  | StoreRequest
  | RetrieveRequest
  | DeleteRequest
  | StatRequest
  | ListRequest
  | CodingRequest
  | StatsRequest
  | ScrubRequest;
