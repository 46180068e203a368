/**
 * The JSON messages of wire format v1: the REQUEST of each operation, the RESPONSE to it and
 * the body of an ERROR frame, with strict validators. A validator accepts exactly the fields
 * its message defines (an unknown field is an error, not something to ignore), checks every
 * type and integer range, and throws {@linkcode CdfsError} `BAD_REQUEST` naming the field. The
 * server validates requests and the client validates responses: each side trusts only itself.
 *
 * @module
 */
import { CdfsError, ERROR_CODES, type ErrorCode } from "../core/errors.ts";
import { parseNodeAddress } from "../core/address.ts";
import { MAX_BLOCK_ID_LENGTH, validateBlockId, validateBlockIdFragment } from "../core/block_id.ts";
import { quoteForMessage, typeName } from "../core/quote.ts";
import { MAX_CHUNK_SIZE, MAX_JSON_PAYLOAD, MIN_CHUNK_SIZE } from "./frame.ts";
import {
  booleanField,
  expectObject,
  integerField,
  type JsonObject,
  onlyFields,
  requestOp,
  timeField,
} from "./json_fields.ts";

/**
 * The operations of v1.
 *
 * @example
 * ```ts
 * import { OPS } from "./messages.ts";
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
] as const;

/**
 * One of {@linkcode OPS}.
 *
 * @example
 * ```ts
 * import type { Op } from "./messages.ts";
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
 * import type { PingRequest } from "./messages.ts";
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
 * import type { StatsRequest } from "./messages.ts";
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
 * import type { StoreRequest } from "./messages.ts";
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
}

/**
 * Reads a block, or `length` bytes of it from `offset`.
 *
 * @example
 * ```ts
 * import type { RetrieveRequest } from "./messages.ts";
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
 * import type { DeleteRequest } from "./messages.ts";
 * const del: DeleteRequest = { op: "DELETE", block: "b1" };
 * ```
 */
export interface DeleteRequest {
  /** The operation. */
  op: "DELETE";
  /** The block id. */
  block: string;
}

/**
 * Describes a block.
 *
 * @example
 * ```ts
 * import type { StatRequest } from "./messages.ts";
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
 * import type { ListRequest } from "./messages.ts";
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
 * import type { CodingRequest } from "./messages.ts";
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
  /** The coding module, one the node serves (`[a-z][a-z0-9_-]{0,63}`). */
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
 * import type { CodingPush } from "./messages.ts";
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
 * import type { CodingCommitRequest } from "./messages.ts";
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
 * import type { Request } from "./messages.ts";
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
  | StatsRequest;

/**
 * The reply to PING.
 *
 * @example
 * ```ts
 * import type { PingResponse } from "./messages.ts";
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
}

/**
 * The reply to STORE, sent once the block is durable.
 *
 * @example
 * ```ts
 * import type { StoreResponse } from "./messages.ts";
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
}

/**
 * The reply to RETRIEVE, followed by DATA frames and END.
 *
 * @example
 * ```ts
 * import type { RetrieveResponse } from "./messages.ts";
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
 * import type { DeleteResponse } from "./messages.ts";
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
 * import type { StatResponse } from "./messages.ts";
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
 * import type { ListEntry } from "./messages.ts";
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
 * import type { ListResponse } from "./messages.ts";
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
 * import type { CodingStartResponse } from "./messages.ts";
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
 * import type { CodingProgressResponse } from "./messages.ts";
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
 * import type { CodingPreparedResponse } from "./messages.ts";
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
 * import type { CommittedBlock } from "./messages.ts";
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
 * import type { CodingCommittedResponse } from "./messages.ts";
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
 * import type { CodingResponse } from "./messages.ts";
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
 * import type { OpTraffic } from "./messages.ts";
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
 * import type { PeerTraffic } from "./messages.ts";
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
 * import type { RunTraffic } from "./messages.ts";
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
 * import type { RunTimes } from "./messages.ts";
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
 * import type { StatsResponse } from "./messages.ts";
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
}

/**
 * The RESPONSE type of each operation.
 *
 * @example
 * ```ts
 * import type { ResponseOf } from "./messages.ts";
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
}

/**
 * The JSON body of an ERROR frame.
 *
 * @example
 * ```ts
 * import type { ErrorBody } from "./messages.ts";
 * const e: ErrorBody = { code: "NOT_FOUND", message: "block \"x\" does not exist" };
 * ```
 */
export interface ErrorBody {
  /** A stable code. */
  code: ErrorCode;
  /** One line for a person. */
  message: string;
}

/**
 * Validates a parsed REQUEST payload.
 *
 * @example
 * ```ts
 * import { parseRequest } from "./messages.ts";
 * const r = parseRequest({ op: "STAT", block: "b1" });
 * console.log(r.op); // "STAT"
 * ```
 *
 * @param value The parsed JSON.
 * @returns The request, holding only validated fields.
 * @throws {CdfsError} `BAD_REQUEST` naming the field or the unknown op.
 */
export function parseRequest(value: unknown): Request {
  const { object, op } = requestOp(value);
  switch (op) {
    case "PING":
      onlyFields(object, op, ["op"]);
      return { op };
    case "STORE": {
      onlyFields(object, op, ["op", "block", "chunkSize", "length", "overwrite"]);
      const request: StoreRequest = {
        op,
        block: validateBlockId(object.block),
        chunkSize: integerField(object, op, "chunkSize", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
      };
      if (object.length !== undefined) {
        request.length = integerField(object, op, "length", 0, Number.MAX_SAFE_INTEGER);
      }
      if (object.overwrite !== undefined) {
        request.overwrite = booleanField(object, op, "overwrite");
      }
      return request;
    }
    case "RETRIEVE": {
      onlyFields(object, op, ["op", "block", "offset", "length"]);
      const request: RetrieveRequest = { op, block: validateBlockId(object.block) };
      if (object.offset !== undefined) {
        request.offset = integerField(object, op, "offset", 0, Number.MAX_SAFE_INTEGER);
      }
      if (object.length !== undefined) {
        request.length = integerField(object, op, "length", 0, Number.MAX_SAFE_INTEGER);
      }
      return request;
    }
    case "DELETE":
    case "STAT":
      onlyFields(object, op, ["op", "block"]);
      return { op, block: validateBlockId(object.block) };
    case "LIST": {
      onlyFields(object, op, ["op", "prefix", "after", "limit"]);
      const request: ListRequest = { op };
      if (object.prefix !== undefined) {
        request.prefix = validateBlockIdFragment(object.prefix, `LIST "prefix"`, 0);
      }
      if (object.after !== undefined) {
        request.after = validateBlockIdFragment(object.after, `LIST "after"`, 1);
      }
      if (object.limit !== undefined) {
        request.limit = integerField(object, op, "limit", 1, MAX_LIST_LIMIT);
      }
      return request;
    }
    case "CODING":
      return parseCodingRequest(object);
    case "STATS": {
      onlyFields(object, op, ["op", "run"]);
      const request: StatsRequest = { op };
      if (object.run !== undefined) request.run = runIdField(object, op);
      return request;
    }
    default:
      throw new CdfsError("BAD_REQUEST", `unknown op ${quoteForMessage(op)}`);
  }
}

/**
 * Validates a parsed RESPONSE payload against the operation it answers.
 *
 * @example
 * ```ts
 * import { parseResponse } from "./messages.ts";
 * const r = parseResponse("DELETE", { block: "b1", deleted: true });
 * console.log(r.deleted); // true
 * ```
 *
 * @param op The operation of the request.
 * @param value The parsed JSON.
 * @returns The response, holding only validated fields.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function parseResponse<K extends Op>(op: K, value: unknown): ResponseOf[K] {
  const object = expectObject(value, `${op} response`);
  const what = `${op} response`;
  const parsers: { [P in Op]: () => ResponseOf[P] } = {
    PING: () => {
      onlyFields(object, what, ["node", "version", "freeBytes", "blocks"]);
      return {
        node: validateNodeId(object.node),
        version: versionField(object, what),
        freeBytes: integerField(object, what, "freeBytes", 0, Number.MAX_SAFE_INTEGER),
        blocks: integerField(object, what, "blocks", 0, Number.MAX_SAFE_INTEGER),
      };
    },
    STORE: () => {
      onlyFields(object, what, ["block", "length", "digest"]);
      return {
        block: validateBlockId(object.block),
        length: integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER),
        digest: digestField(object, what),
      };
    },
    RETRIEVE: () => {
      onlyFields(object, what, ["block", "length", "blockLength", "chunkSize", "digest"]);
      const response: RetrieveResponse = {
        block: validateBlockId(object.block),
        length: integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER),
        blockLength: integerField(object, what, "blockLength", 0, Number.MAX_SAFE_INTEGER),
        chunkSize: integerField(object, what, "chunkSize", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
        digest: digestField(object, what),
      };
      if (response.length > response.blockLength) {
        throw new CdfsError(
          "BAD_REQUEST",
          `${what} "length" ${response.length} exceeds "blockLength" ${response.blockLength}`,
        );
      }
      return response;
    },
    DELETE: () => {
      onlyFields(object, what, ["block", "deleted"]);
      if (object.deleted !== true) {
        throw new CdfsError("BAD_REQUEST", `${what} "deleted" must be true`);
      }
      return { block: validateBlockId(object.block), deleted: true };
    },
    STAT: () => {
      onlyFields(object, what, ["block", "length", "chunkSize", "digest", "created"]);
      return {
        block: validateBlockId(object.block),
        length: integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER),
        chunkSize: integerField(object, what, "chunkSize", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
        digest: digestField(object, what),
        created: timeField(object, what, "created"),
      };
    },
    LIST: () => {
      onlyFields(object, what, ["blocks", "next"]);
      if (!Array.isArray(object.blocks)) {
        throw new CdfsError(
          "BAD_REQUEST",
          `${what} "blocks" must be an array, got ${typeName(object.blocks)}`,
        );
      }
      if (object.blocks.length > MAX_LIST_LIMIT) {
        throw new CdfsError("BAD_REQUEST", `${what} has more than ${MAX_LIST_LIMIT} entries`);
      }
      const blocks = object.blocks.map((entry: unknown, i: number): ListEntry => {
        const where = `${what} entry ${i}`;
        const item = expectObject(entry, where);
        onlyFields(item, where, ["block", "length", "created"]);
        return {
          block: validateBlockId(item.block),
          length: integerField(item, where, "length", 0, Number.MAX_SAFE_INTEGER),
          created: timeField(item, where, "created"),
        };
      });
      const next = object.next === null ? null : validateBlockId(object.next, `${what} "next"`);
      return { blocks, next };
    },
    CODING: () => parseCodingResponse(object, what),
    STATS: () => parseStatsResponse(object, what),
  };
  const parse = Object.hasOwn(parsers, op) ? parsers[op] : undefined;
  if (parse === undefined) {
    throw new CdfsError("BAD_REQUEST", `unknown op ${quoteForMessage(String(op))}`);
  }
  return parse();
}

/**
 * Validates the parsed body of an ERROR frame. A well-formed code that this side does not know
 * (a newer peer may add codes) becomes `INTERNAL` with the original code in the message;
 * control characters in the message become spaces, so it stays one line.
 *
 * @example
 * ```ts
 * import { parseErrorBody } from "./messages.ts";
 * console.log(parseErrorBody({ code: "EXISTS", message: "block \"b\" exists" }).code); // "EXISTS"
 * ```
 *
 * @param value The parsed JSON.
 * @returns The code and message.
 * @throws {CdfsError} `BAD_REQUEST` when the body is malformed.
 */
export function parseErrorBody(value: unknown): ErrorBody {
  const object = expectObject(value, "error");
  onlyFields(object, "error", ["code", "message"]);
  const { code, message } = object;
  if (typeof code !== "string" || !/^[A-Z][A-Z0-9_]{0,31}$/.test(code)) {
    throw new CdfsError("BAD_REQUEST", `error "code" must be an upper-case name`);
  }
  if (typeof message !== "string") {
    throw new CdfsError(
      "BAD_REQUEST",
      `error "message" must be a string, got ${typeName(message)}`,
    );
  }
  const line = oneLine(message);
  if ((ERROR_CODES as readonly string[]).includes(code)) {
    return { code: code as ErrorCode, message: line };
  }
  return { code: "INTERNAL", message: `${code}: ${line}` };
}

/**
 * Makes the body of an ERROR frame that fits its 4 KiB bound: the message is cut to 1000
 * characters and control characters become spaces.
 *
 * @example
 * ```ts
 * import { errorBody } from "./messages.ts";
 * console.log(errorBody("TIMEOUT", "idle\nfor 60 s").message); // "idle for 60 s"
 * ```
 *
 * @param code The code.
 * @param message The message.
 * @returns The body to send.
 */
export function errorBody(code: ErrorCode, message: string): ErrorBody {
  const line = oneLine(message);
  return { code, message: line.length > 1000 ? `${line.slice(0, 997)}...` : line };
}

/**
 * Validates a node id (the `--id` of a datanode): 1 to 200 characters from
 * `[A-Za-z0-9._:@-]`.
 *
 * @example
 * ```ts
 * import { validateNodeId } from "./messages.ts";
 * console.log(validateNodeId("dn-1@rack2")); // "dn-1@rack2"
 * ```
 *
 * @param id The candidate.
 * @returns `id`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateNodeId(id: unknown): string {
  if (typeof id !== "string" || !/^[A-Za-z0-9._:@-]{1,200}$/.test(id)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `node id must be 1 to 200 characters from A-Z a-z 0-9 . _ : @ -, got ${
        typeof id === "string" ? quoteForMessage(id) : typeName(id)
      }`,
    );
  }
  return id;
}

/**
 * Builds a LIST page from the candidate entries (those after `after` with the prefix, in
 * order): at most `limit` of them and, whatever `limit` says, no more than fit the RESPONSE
 * bound of 64 KiB, so a page of 10000 entries with long ids is cut short rather than failing.
 * `next` is set when any candidate was left out. Pass at least `limit + 1` candidates when
 * there are that many, so the last page is recognised.
 *
 * @example
 * ```ts
 * import { buildListResponse } from "./messages.ts";
 * const created = "2025-01-01T00:00:00.000Z";
 * const page = buildListResponse([
 *   { block: "a", length: 1, created },
 *   { block: "b", length: 2, created },
 * ], 1);
 * console.log(page.next); // "a"
 * ```
 *
 * @param candidates Entries in code-unit order of their ids.
 * @param limit The most entries to include.
 * @param maxBytes The bound of the encoded JSON.
 * @returns The page.
 */
export function buildListResponse(
  candidates: readonly ListEntry[],
  limit: number,
  maxBytes: number = MAX_JSON_PAYLOAD,
): ListResponse {
  // Ids and timestamps are ASCII, so string length is byte length. Reserve room for the
  // envelope and the longest possible `next`.
  let size = `{"blocks":[],"next":""}`.length + MAX_BLOCK_ID_LENGTH;
  const blocks: ListEntry[] = [];
  for (const candidate of candidates) {
    if (blocks.length >= limit) break;
    const entry = { block: candidate.block, length: candidate.length, created: candidate.created };
    const entrySize = JSON.stringify(entry).length + (blocks.length > 0 ? 1 : 0);
    if (size + entrySize > maxBytes) break;
    blocks.push(entry);
    size += entrySize;
  }
  const last = blocks[blocks.length - 1];
  return { blocks, next: blocks.length < candidates.length && last ? last.block : null };
}

/**
 * Validates the commit decision of a CODING exchange (a REQUEST frame's JSON).
 *
 * @example
 * ```ts
 * import { parseCodingCommit } from "./messages.ts";
 * const run = "0123456789abcdef0123456789abcdef";
 * console.log(parseCodingCommit({ op: "COMMIT", run }, run).op); // "COMMIT"
 * ```
 *
 * @param value The parsed JSON.
 * @param run The run id of the CODING request it must name.
 * @returns The decision.
 * @throws {CdfsError} `BAD_REQUEST` when it is anything else.
 */
export function parseCodingCommit(value: unknown, run: string): CodingCommitRequest {
  const object = expectObject(value, "CODING commit");
  onlyFields(object, "CODING commit", ["op", "run"]);
  if (object.op !== "COMMIT") {
    throw new CdfsError(
      "BAD_REQUEST",
      `expected the CODING commit {"op": "COMMIT"}, got op ${
        typeof object.op === "string" ? quoteForMessage(object.op) : typeName(object.op)
      }`,
    );
  }
  const got = runIdField(object, "CODING commit");
  if (got !== run) {
    throw new CdfsError("BAD_REQUEST", `CODING commit names run ${got}, not the run ${run}`);
  }
  return { op: "COMMIT", run: got };
}

/** The module names a CODING request may carry (the loader's rule). */
const MODULE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
/** The program names a CODING request may carry (the coding validator's rule). */
const PROGRAM_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const RUN_ID = /^[0-9a-f]{32}$/;

function nameField(object: JsonObject, what: string, key: string, pattern: RegExp): string {
  const value = object[key];
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "${key}" must match ${pattern.source}, got ${
        typeof value === "string" ? quoteForMessage(value) : typeName(value)
      }`,
    );
  }
  return value;
}

function runIdField(object: JsonObject, what: string): string {
  const value = object.run;
  if (typeof value !== "string" || !RUN_ID.test(value)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "run" must be 32 lower-case hex digits, got ${
        typeof value === "string" ? quoteForMessage(value) : typeName(value)
      }`,
    );
  }
  return value;
}

function parseCodingRequest(object: JsonObject): CodingRequest {
  const what = "CODING";
  onlyFields(object, what, [
    "op",
    "module",
    "program",
    "object",
    "run",
    "nodes",
    "chunkSize",
    "overwrite",
    "inline",
    "push",
    "timeoutMs",
  ]);
  const nodes = object.nodes;
  if (!Array.isArray(nodes) || nodes.length < 1 || nodes.length > MAX_CODING_NODES) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "nodes" must be an array of 1..${MAX_CODING_NODES} addresses, got ${
        Array.isArray(nodes) ? `${nodes.length} entries` : typeName(nodes)
      }`,
    );
  }
  const request: CodingRequest = {
    op: "CODING",
    module: nameField(object, what, "module", MODULE_NAME),
    program: nameField(object, what, "program", PROGRAM_NAME),
    object: validateBlockId(object.object, `${what} "object"`),
    run: runIdField(object, what),
    nodes: nodes.map((node: unknown, i: number) => {
      const where = `${what} "nodes"[${i}]`;
      if (typeof node !== "string") {
        throw new CdfsError("BAD_REQUEST", `${where} must be a string, got ${typeName(node)}`);
      }
      parseNodeAddress(node, { what: where, code: "BAD_REQUEST" });
      return node;
    }),
    chunkSize: integerField(object, what, "chunkSize", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
  };
  if (object.overwrite !== undefined) request.overwrite = booleanField(object, what, "overwrite");
  if (object.inline !== undefined) {
    const inline = expectObject(object.inline, `${what} "inline"`);
    const names = Object.keys(inline);
    if (names.length < 1 || names.length > MAX_INLINE_PROGRAMS) {
      throw new CdfsError(
        "BAD_REQUEST",
        `${what} "inline" must hold 1..${MAX_INLINE_PROGRAMS} programs, got ${names.length}`,
      );
    }
    for (const name of names) {
      if (!PROGRAM_NAME.test(name)) {
        throw new CdfsError(
          "BAD_REQUEST",
          `${what} "inline" program name ${
            quoteForMessage(name)
          } must match ${PROGRAM_NAME.source}`,
        );
      }
      expectObject(inline[name], `${what} "inline" program '${name}'`);
    }
    request.inline = inline as Record<string, object>;
  }
  if (object.push !== undefined) request.push = parseCodingPush(object.push, request.program);
  if (object.timeoutMs !== undefined) {
    request.timeoutMs = integerField(
      object,
      what,
      "timeoutMs",
      MIN_CODING_TIMEOUT_MS,
      MAX_CODING_TIMEOUT_MS,
    );
  }
  return request;
}

/** The `push` of a CODING request: a chain of distinct program names holding `program`. */
function parseCodingPush(value: unknown, program: string): CodingPush {
  const what = `CODING "push"`;
  const object = expectObject(value, what);
  onlyFields(object, what, ["chain", "length"]);
  const chain = object.chain;
  if (!Array.isArray(chain) || chain.length < 2 || chain.length > MAX_CODING_NODES) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "chain" must be an array of 2..${MAX_CODING_NODES} program names, got ${
        Array.isArray(chain) ? `${chain.length} entries` : typeName(chain)
      }`,
    );
  }
  const names = chain.map((name: unknown, i: number) => {
    if (typeof name !== "string" || !PROGRAM_NAME.test(name)) {
      throw new CdfsError(
        "BAD_REQUEST",
        `${what} "chain"[${i}] must match ${PROGRAM_NAME.source}, got ${
          typeof name === "string" ? quoteForMessage(name) : typeName(name)
        }`,
      );
    }
    return name;
  });
  const at = names.indexOf(program);
  if (at < 0) {
    throw new CdfsError("BAD_REQUEST", `${what} "chain" does not name the program '${program}'`);
  }
  const push: CodingPush = { chain: names };
  if (object.length !== undefined) {
    push.length = integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER);
  }
  // The first program's request comes from the client; every other one from its producer,
  // which says how long the stream that follows is.
  if ((at === 0) !== (push.length === undefined)) {
    throw new CdfsError(
      "BAD_REQUEST",
      at === 0
        ? `${what} "length" must be absent for the chain's first program`
        : `${what} "length" is required for '${program}' (the length of the pushed stream)`,
    );
  }
  return push;
}

function parseCodingResponse(object: JsonObject, what: string): CodingResponse {
  if ("program" in object) {
    onlyFields(object, what, ["program", "length", "stream"]);
    return {
      program: nameField(object, what, "program", PROGRAM_NAME),
      length: integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER),
      stream: booleanField(object, what, "stream"),
    };
  }
  if ("progress" in object) {
    onlyFields(object, what, ["progress"]);
    return { progress: integerField(object, what, "progress", 0, Number.MAX_SAFE_INTEGER) };
  }
  if ("prepared" in object) {
    onlyFields(object, what, ["prepared"]);
    if (object.prepared !== true) {
      throw new CdfsError("BAD_REQUEST", `${what} "prepared" must be true`);
    }
    return { prepared: true };
  }
  if ("committed" in object) {
    onlyFields(object, what, ["committed"]);
    const list = object.committed;
    if (!Array.isArray(list) || list.length > MAX_JSON_PAYLOAD / 64) {
      throw new CdfsError(
        "BAD_REQUEST",
        `${what} "committed" must be an array of blocks, got ${typeName(list)}`,
      );
    }
    return {
      committed: list.map((entry: unknown, i: number): CommittedBlock => {
        const where = `${what} "committed"[${i}]`;
        const item = expectObject(entry, where);
        onlyFields(item, where, ["node", "block", "length", "digest"]);
        return {
          node: integerField(item, where, "node", 0, MAX_CODING_NODES - 1),
          block: validateBlockId(item.block),
          length: integerField(item, where, "length", 0, Number.MAX_SAFE_INTEGER),
          digest: digestField(item, where),
        };
      }),
    };
  }
  throw new CdfsError(
    "BAD_REQUEST",
    `${what} must be a start ("program"), "progress", "prepared" or "committed" reply`,
  );
}

function parseStatsResponse(object: JsonObject, what: string): StatsResponse {
  onlyFields(object, what, ["node", "since", "total", "ops", "runs"]);
  const since = timeField(object, what, "since");
  const ops: Record<string, OpTraffic> = {};
  for (const [op, counters] of Object.entries(expectObject(object.ops, `${what} "ops"`))) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(op)) {
      throw new CdfsError("BAD_REQUEST", `${what} names an invalid op ${quoteForMessage(op)}`);
    }
    defineEntry(ops, op, opTraffic(counters, `${what} op ${op}`));
  }
  const runs: Record<string, RunTraffic> = {};
  for (const [run, value] of Object.entries(expectObject(object.runs, `${what} "runs"`))) {
    if (!RUN_ID.test(run)) {
      throw new CdfsError("BAD_REQUEST", `${what} names an invalid run ${quoteForMessage(run)}`);
    }
    const where = `${what} run ${run}`;
    const entry = expectObject(value, where);
    onlyFields(entry, where, ["served", "upstream", "times"]);
    const upstream: Record<string, PeerTraffic> = {};
    for (const [address, peer] of Object.entries(expectObject(entry.upstream, where))) {
      if (address.length < 1 || address.length > 300) {
        throw new CdfsError("BAD_REQUEST", `${where} names an invalid node address`);
      }
      const at = `${where} upstream ${quoteForMessage(address)}`;
      const fields = expectObject(peer, at);
      onlyFields(fields, at, ["connections", "bytesIn", "bytesOut"]);
      defineEntry(upstream, address, {
        connections: integerField(fields, at, "connections", 0, Number.MAX_SAFE_INTEGER),
        bytesIn: integerField(fields, at, "bytesIn", 0, Number.MAX_SAFE_INTEGER),
        bytesOut: integerField(fields, at, "bytesOut", 0, Number.MAX_SAFE_INTEGER),
      });
    }
    const traffic: RunTraffic = { served: opTraffic(entry.served, `${where} served`), upstream };
    if (entry.times !== undefined) traffic.times = runTimes(entry.times, `${where} times`);
    defineEntry(runs, run, traffic);
  }
  return {
    node: validateNodeId(object.node),
    since,
    total: opTraffic(object.total, `${what} "total"`),
    ops,
    runs,
  };
}

function runTimes(value: unknown, what: string): RunTimes {
  const object = expectObject(value, what);
  const names = ["startedAt", "firstStepAt", "lastStepAt", "endedAt"] as const;
  onlyFields(object, what, names);
  const times: RunTimes = { startedAt: integerField(object, what, "startedAt", 0, 2 ** 50) };
  for (const name of names.slice(1)) {
    if (object[name] !== undefined) times[name] = integerField(object, what, name, 0, 2 ** 50);
  }
  return times;
}

function opTraffic(value: unknown, what: string): OpTraffic {
  const object = expectObject(value, what);
  onlyFields(object, what, ["requests", "errors", "bytesIn", "bytesOut", "ms"]);
  const ms = object.ms;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    throw new CdfsError("BAD_REQUEST", `${what} "ms" must be a number of milliseconds`);
  }
  return {
    requests: integerField(object, what, "requests", 0, Number.MAX_SAFE_INTEGER),
    errors: integerField(object, what, "errors", 0, Number.MAX_SAFE_INTEGER),
    bytesIn: integerField(object, what, "bytesIn", 0, Number.MAX_SAFE_INTEGER),
    bytesOut: integerField(object, what, "bytesOut", 0, Number.MAX_SAFE_INTEGER),
    ms,
  };
}

/** Sets a key that came from the peer without going through a `__proto__` setter. */
function defineEntry<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true });
}

function digestField(object: JsonObject, what: string): string {
  const value = object.digest;
  if (typeof value !== "string" || !/^[0-9a-f]{16}$/.test(value)) {
    throw new CdfsError("BAD_REQUEST", `${what} "digest" must be 16 lower-case hex digits`);
  }
  return value;
}

function versionField(object: JsonObject, what: string): string {
  const value = object.version;
  if (typeof value !== "string" || !/^[0-9A-Za-z.+-]{1,64}$/.test(value)) {
    throw new CdfsError("BAD_REQUEST", `${what} "version" must be a version string`);
  }
  return value;
}

function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ");
}
