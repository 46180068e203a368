/**
 * {@linkcode DataNodeClient}: one client connection to a datanode, speaking wire format v1
 * (`docs/protocol.md`). Blocks stream through pooled buffers in WebAssembly memory — a 10 GiB
 * block costs the same memory as a 1 MiB one — and every chunk is verified on arrival; a
 * whole-block RETRIEVE is also checked end to end against the stored digest, and a STORE's
 * reply against the digest of what was sent.
 *
 * One connection serves any number of requests, one at a time. When a request breaks the
 * connection (a STORE error — the node closes after those —, a timeout, a lost link) or the node
 * closed it while idle, the next request opens a new one. Every error is a
 * {@linkcode CdfsError} with the node's code and a message naming the node address.
 *
 * @module
 */
import { BufferPool } from "../buffer/pool.ts";
import { formatChecksum } from "../checksum/checksum.ts";
import { CdfsError } from "../core/errors.ts";
import {
  type CodingCommittedResponse,
  type CodingRequest,
  type CodingResponse,
  type CodingStartResponse,
  type CommittedBlock,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  FRAME_HEADER_SIZE,
  FRAME_TYPE,
  FrameConnection,
  type FrameConnectionOptions,
  type ListEntry,
  type ListRequest,
  type ListResponse,
  MAX_CHUNK_SIZE,
  MAX_CODING_TIMEOUT_MS,
  MAX_LIST_LIMIT,
  MIN_CHUNK_SIZE,
  MIN_CODING_TIMEOUT_MS,
  type Op,
  type OutgoingChunk,
  parseRequest,
  parseResponse,
  PeerError,
  type PingResponse,
  readChunks,
  receiveChunks,
  type Request,
  type ResponseOf,
  type RetrieveRequest,
  type RetrieveResponse,
  sendChunks,
  type StatResponse,
  type StatsResponse,
  type StoreRequest,
  validateBlockId,
  validateBlockIdFragment,
} from "../protocol/mod.ts";
import { formatNodeAddress, type NodeAddress, parseNodeAddress } from "../core/address.ts";
import { dialFrameConnection } from "../protocol/dial.ts";
import {
  type ByteReader,
  type ByteWriter,
  isByteReader,
  iterableReader,
  writeFully,
} from "./byte_io.ts";
import {
  ABORT_LINGER_MS,
  ClientCodingPush,
  type CodingExchangeHost,
  type CodingPushStream,
  readCodingReply,
  readCommitReply,
} from "../coding/runtime/push_stream.ts";
import { PullStream } from "../coding/runtime/pull_stream.ts";

export type { CodingRequest, CodingStartResponse, CommittedBlock } from "../protocol/messages.ts";
export type { CodingPushStream } from "../coding/runtime/push_stream.ts";

/**
 * The default time to wait for a TCP connection to a node, 10 s.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Options of {@linkcode DataNodeClient.connect}: the protocol's idle and frame timeouts
 * (defaults 60 s and 30 s, `docs/protocol.md` §5) and the connect timeout.
 *
 * @example
 * ```ts
 * import type { DataNodeClientOptions } from "./datanode_client.ts";
 * const options: DataNodeClientOptions = { connectTimeoutMs: 2000, idleTimeoutMs: 10_000 };
 * ```
 */
export interface DataNodeClientOptions extends FrameConnectionOptions {
  /** How long to wait for the TCP connection and the preamble exchange (default 10 s). */
  connectTimeoutMs?: number;
}

/**
 * The options of a connection that belongs to a coding run with stall timeout `timeoutMs`
 * (the CODING request's `timeoutMs`): the connect, idle and frame timeouts each at most that
 * long. Without a stall timeout, the options as they are.
 *
 * @example
 * ```ts
 * import { withStallTimeout } from "./datanode_client.ts";
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
 * Where a STORE reads the block from: a reader (a `Deno.FsFile`, `Deno.stdin`), read straight
 * into pooled buffers, or chunks of any sizes (copied once into pooled buffers).
 *
 * @example
 * ```ts
 * import type { StoreSource } from "./datanode_client.ts";
 * const fromMemory: StoreSource = [new TextEncoder().encode("hello")];
 * const fromStdin: StoreSource = Deno.stdin;
 * ```
 */
export type StoreSource = ByteReader | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Options of {@linkcode DataNodeClient.store}.
 *
 * @example
 * ```ts
 * import type { StoreOptions } from "./datanode_client.ts";
 * const options: StoreOptions = { overwrite: true, length: 5, onProgress: (n) => void n };
 * ```
 */
export interface StoreOptions {
  /** Replace an existing block instead of failing with `EXISTS` (default false). */
  overwrite?: boolean;
  /**
   * The exact length, when known: the node rejects a stream of another length, and this side
   * stops before sending more than that.
   */
  length?: number;
  /** The chunk size, 4096..16777216 (default 1 MiB). */
  chunkSize?: number;
  /** Called after each chunk was sent, with the bytes sent so far. */
  onProgress?: (bytesSent: number) => void;
}

/**
 * What a STORE did; `digest` is the block digest the node confirmed.
 *
 * @example
 * ```ts
 * import type { StoreResult } from "./datanode_client.ts";
 * const r: StoreResult = { block: "b", length: 0, chunks: 0, digest: "ef46db3751d8e999" };
 * ```
 */
export interface StoreResult {
  /** The block id. */
  block: string;
  /** Bytes stored. */
  length: number;
  /** Chunks sent. */
  chunks: number;
  /** The block digest (16 hex digits), equal on both sides. */
  digest: string;
}

/**
 * Where a RETRIEVE delivers the block: a writer (a `Deno.FsFile`, `Deno.stdout`) or a function
 * given each verified chunk in order. A chunk is a view on pooled memory, valid until the
 * function's promise settles: copy what must outlive that.
 *
 * @example
 * ```ts
 * import type { RetrieveSink } from "./datanode_client.ts";
 * let total = 0;
 * const counter: RetrieveSink = (chunk) => void (total += chunk.length);
 * const toStdout: RetrieveSink = Deno.stdout;
 * ```
 */
export type RetrieveSink = ByteWriter | ((chunk: Uint8Array) => void | Promise<void>);

/**
 * Options of {@linkcode DataNodeClient.retrieve}: a byte range and a progress callback.
 *
 * @example
 * ```ts
 * import type { RetrieveOptions } from "./datanode_client.ts";
 * const options: RetrieveOptions = { offset: 4096, length: 100, onResponse: (r) => void r.length };
 * ```
 */
export interface RetrieveOptions {
  /** The first byte (default 0). */
  offset?: number;
  /** How many bytes (default: to the end of the block). */
  length?: number;
  /** Called once the node has accepted the request, before any byte: how many will follow. */
  onResponse?: (response: RetrieveResponse) => void;
  /** Called after each chunk was delivered, with the bytes delivered so far. */
  onProgress?: (bytesReceived: number) => void;
}

/**
 * What a RETRIEVE delivered.
 *
 * @example
 * ```ts
 * import type { RetrieveResult } from "./datanode_client.ts";
 * const r: RetrieveResult = {
 *   block: "b",
 *   offset: 0,
 *   length: 0,
 *   blockLength: 0,
 *   chunkSize: 1048576,
 *   digest: "ef46db3751d8e999",
 *   verified: true,
 * };
 * ```
 */
export interface RetrieveResult {
  /** The block id. */
  block: string;
  /** The offset of the first byte delivered. */
  offset: number;
  /** Bytes delivered. */
  length: number;
  /** The length of the whole block. */
  blockLength: number;
  /** The chunk size the block is stored with. */
  chunkSize: number;
  /** The stored block digest (16 hex digits). */
  digest: string;
  /**
   * True for a whole-block read: the chunks received hash to the stored block digest. A range
   * is verified chunk by chunk only.
   */
  verified: boolean;
}

/**
 * Options of {@linkcode DataNodeClient.list} (one page).
 *
 * @example
 * ```ts
 * import type { ListOptions } from "./datanode_client.ts";
 * const options: ListOptions = { prefix: "movie.", limit: 100 };
 * ```
 */
export interface ListOptions {
  /** Only ids starting with this. */
  prefix?: string;
  /** Only ids after this one: the `next` of the previous page. */
  after?: string;
  /** At most this many entries, 1..10000 (default 1000); a page may hold fewer. */
  limit?: number;
}

/**
 * What {@linkcode DataNodeClient.coding} reports while a program runs. Every handler is
 * optional; a handler that throws aborts the run (nothing it was writing becomes visible).
 *
 * @example
 * ```ts
 * import type { CodingHandlers } from "./datanode_client.ts";
 * let received = 0;
 * const handlers: CodingHandlers = {
 *   onResponse: (r) => console.log(`${r.program}: ${r.length} bytes`),
 *   onData: (bytes, length) => void (received += length),
 * };
 * ```
 */
export interface CodingHandlers {
  /** The node's first reply: the program, its stream length L, and whether it streams. */
  onResponse?: (response: CodingStartResponse) => void;
  /**
   * Each chunk a stream program sends, in order: `bytes` (exactly `length` bytes, a view on
   * pooled memory) is valid until the returned promise settles. Without it the chunks are
   * received, verified and dropped.
   */
  onData?: (bytes: Uint8Array, length: number) => void | Promise<void>;
  /**
   * A local program's progress: bytes of its stream done so far (the node reports at most
   * about ten times a second). Not called for stream programs: count `onData` instead.
   */
  onProgress?: (bytesDone: number) => void;
  /**
   * Called when the program and every program it pulled have finished and their blocks are
   * written but not yet visible; the commit is sent when it resolves, and the run is aborted
   * when it throws. Lets a client commit several programs of one run together (e.g. wait
   * until all are prepared). Default: commit at once.
   */
  onPrepared?: () => void | Promise<void>;
}

/**
 * What a CODING run did.
 *
 * @example
 * ```ts
 * import type { CodingResult } from "./datanode_client.ts";
 * const r: CodingResult = { program: "enc_node15", length: 0, stream: false, committed: [] };
 * ```
 */
export interface CodingResult {
  /** The program run. */
  program: string;
  /** Its stream length L. */
  length: number;
  /** Whether it was a stream program. */
  stream: boolean;
  /** The blocks it and the programs it pulled made visible, with their digests. */
  committed: CommittedBlock[];
}

/**
 * A RETRIEVE whose data is read frame by frame into memory of the caller's choosing (see
 * {@linkcode DataNodeClient.openRetrieve}).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * const retrieve = await client.openRetrieve("b1");
 * const { length } = await retrieve.response();
 * for (let n = await retrieve.next(); n !== null; n = await retrieve.next()) {
 *   await retrieve.read(buffer.subarray(0, n));
 * }
 * ```
 */
export interface RetrieveStream {
  /** The node's reply (read once, in the background from the start). */
  response(): Promise<RetrieveResponse>;
  /**
   * The length of the next DATA frame, whose payload must then be read with `read`; null once
   * END arrived and the chunks matched the stored digest.
   */
  next(): Promise<number | null>;
  /** Reads the pending frame's payload into `view` (exactly its length) and verifies it. */
  read(view: Uint8Array): Promise<void>;
  /** Abandons the stream (closes the connection unless it ended); idempotent. */
  close(): void;
}

/**
 * A CODING request in pull mode (see {@linkcode DataNodeClient.openCoding}): the stream of a
 * stream program read frame by frame, then the commit exchange.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * const run = await client.openCoding(request);
 * const { length } = await run.response();
 * for (let n = await run.next(); n !== null; n = await run.next()) {
 *   await run.read(buffer.subarray(0, n));
 * }
 * await run.prepared();
 * const committed = await run.commit();
 * ```
 */
export interface CodingStream {
  /** The node's start reply (read once, in the background from the start). */
  response(): Promise<CodingStartResponse>;
  /** A stream program's next DATA frame length, or null after its END (verified). */
  next(): Promise<number | null>;
  /** Reads the pending frame's payload into `view` (exactly its length) and verifies it. */
  read(view: Uint8Array): Promise<void>;
  /**
   * Waits for the node's prepared reply (after a stream program's END, or after a local
   * program's progress replies, which go to `onProgress`).
   */
  prepared(onProgress?: (bytesDone: number) => void): Promise<void>;
  /** Sends the commit and returns the blocks made visible; the connection is free again. */
  commit(): Promise<CommittedBlock[]>;
  /**
   * Abandons the run: sends an ERROR with `reason` when possible and closes the connection,
   * so the node aborts (nothing of the run becomes visible there). Idempotent.
   */
  abort(reason?: unknown): void;
}

/**
 * A connection to one datanode. Not for concurrent use: one request at a time (open more
 * clients for parallel transfers).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { DataNodeClient } from "./datanode_client.ts";
 * using client = await DataNodeClient.connect("127.0.0.1:13100");
 * await client.store("greeting", [new TextEncoder().encode("hello")], { overwrite: true });
 * await client.retrieve("greeting", Deno.stdout);
 * console.log((await client.stat("greeting")).digest);
 * ```
 */
export class DataNodeClient {
  /** The node's address as `HOST:PORT` (brackets around IPv6), as used in messages. */
  readonly address: string;
  readonly #target: NodeAddress;
  readonly #options: DataNodeClientOptions;
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
   * import { DataNodeClient } from "./datanode_client.ts";
   * const client = await DataNodeClient.connect("[::1]:13100", { connectTimeoutMs: 2000 });
   * client.close();
   * ```
   *
   * @param address `HOST:PORT` or `[IPV6]:PORT`, or an already parsed address.
   * @param options Timeouts.
   * @returns The connected client.
   * @throws {CdfsError} `USAGE` for a malformed address; `UNAVAILABLE` when the node cannot be
   * reached; `TIMEOUT`; the node's error when it refuses the preamble.
   */
  static async connect(
    address: string | NodeAddress,
    options: DataNodeClientOptions = {},
  ): Promise<DataNodeClient> {
    const target = typeof address === "string" ? parseNodeAddress(address) : address;
    const conn = await openConnection(target, options);
    return new DataNodeClient(target, conn, options);
  }

  /**
   * Closes the connection; idempotent. Later requests fail. An open client keeps a read
   * pending on its idle connection (to notice the node closing it), which keeps the process
   * alive: close every client (or declare it with `using`).
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * client.close();
   * ```
   */
  close(): void {
    this.#closed = true;
    this.#drop();
  }

  /** Closes the connection (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Asks the node who it is and how full it is.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const { node, freeBytes } = await client.ping();
   * ```
   *
   * @returns Node id, version, free bytes and block count.
   */
  ping(): Promise<PingResponse> {
    return this.#simpleRequest({ op: "PING" });
  }

  /**
   * Describes a block.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const { length, digest, created } = await client.stat("movie.mkv.0");
   * ```
   *
   * @param id The block id.
   * @returns Length, chunk size, digest and creation time.
   * @throws {CdfsError} `NOT_FOUND`, `BAD_REQUEST` for an invalid id, connection errors.
   */
  async stat(id: string): Promise<StatResponse> {
    const block = this.#checkId(id);
    const response = await this.#simpleRequest({ op: "STAT", block });
    this.#expectBlock(response.block, block, "STAT");
    return response;
  }

  /**
   * The node's traffic counters (STATS): frame bytes in and out and time per op, and per
   * recent CODING run.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const { ops, runs } = await client.stats();
   * console.log(ops.STORE?.bytesIn, Object.keys(runs));
   * ```
   *
   * @param run Only this run (32 lower-case hex digits) in `runs`.
   * @returns The counters.
   * @throws {CdfsError} `BAD_REQUEST` for a malformed run id, connection errors.
   */
  stats(run?: string): Promise<StatsResponse> {
    return this.#simpleRequest(run === undefined ? { op: "STATS" } : { op: "STATS", run });
  }

  /**
   * Deletes a block.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * await client.delete("movie.mkv.0");
   * ```
   *
   * @param id The block id.
   * @throws {CdfsError} `NOT_FOUND`, `BAD_REQUEST`, connection errors.
   */
  async delete(id: string): Promise<void> {
    const block = this.#checkId(id);
    const response = await this.#simpleRequest({ op: "DELETE", block });
    this.#expectBlock(response.block, block, "DELETE");
  }

  /**
   * Lists one page of blocks in id order. A page may hold fewer than `limit` entries while
   * `next` is set (pages are bounded to 64 KiB): continue with `after: next` until `next` is
   * null, or use {@linkcode DataNodeClient.listAll}.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const page = await client.list({ prefix: "movie.", limit: 100 });
   * if (page.next !== null) await client.list({ prefix: "movie.", after: page.next });
   * ```
   *
   * @param options Prefix, cursor and page size.
   * @returns The entries and the cursor of the next page.
   */
  async list(options: ListOptions = {}): Promise<ListResponse> {
    return await this.#simpleRequest(this.#listRequest(options));
  }

  /**
   * Lists every block (with the prefix, after the cursor), requesting page after page.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * for await (const entry of client.listAll({ prefix: "movie." })) console.log(entry.block);
   * ```
   *
   * @param options Prefix, a starting cursor, and `limit` as the size of each page.
   * @returns The entries in id order.
   */
  async *listAll(options: ListOptions = {}): AsyncGenerator<ListEntry, void, undefined> {
    let after = options.after;
    while (true) {
      const page = await this.list({ ...options, ...(after === undefined ? {} : { after }) });
      yield* page.blocks;
      if (page.next === null) return;
      if (after !== undefined && page.next <= after) {
        throw new CdfsError(
          "BAD_REQUEST",
          `node ${this.address}: LIST cursor went backwards ("${page.next}" after "${after}")`,
        );
      }
      after = page.next;
    }
  }

  /**
   * Stores a block from a reader or from chunks. Resolves once the node has made the block
   * durable and confirmed the digest of exactly the bytes sent.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * using file = await Deno.open("movie.mkv");
   * const { size } = await file.stat();
   * const result = await client.store("movie.mkv.0", file, { length: size });
   * console.log(result.digest);
   * ```
   *
   * @param id The block id.
   * @param source The bytes.
   * @param options Overwrite, declared length, chunk size, progress.
   * @returns Length, chunk count and digest.
   * @throws {CdfsError} `EXISTS` (without `overwrite`), `BAD_REQUEST` (length mismatch, bad
   * id), `CORRUPT`, `UNAVAILABLE`, `TIMEOUT`, all naming the node; an error of the source
   * itself is thrown as it is.
   */
  async store(id: string, source: StoreSource, options: StoreOptions = {}): Promise<StoreResult> {
    const block = this.#checkId(id);
    const chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    const request: StoreRequest = { op: "STORE", block, chunkSize };
    if (options.length !== undefined) {
      request.length = checkByteCount(options.length, "store length");
    }
    if (options.overwrite) request.overwrite = true;
    const reader = isByteReader(source) ? source : iterableReader(source);
    // Errors of the source are the caller's, not the node's: remember them to tell them apart.
    let sourceError: unknown = undefined;
    const guarded: ByteReader = {
      read: async (view) => {
        try {
          return await reader.read(view);
        } catch (e) {
          sourceError = e;
          throw e;
        }
      },
    };
    const conn = await this.#connection();
    try {
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, request);
      const chunks = counted(
        readChunks(guarded, bufferPoolFor(chunkSize), chunkSize, { headroom: true }),
        options.onProgress,
      );
      const sent = await sendChunks(conn, chunks, {
        chunkSize,
        watchPeer: true,
        ...(request.length === undefined ? {} : { length: request.length }),
      });
      const response = parseResponse("STORE", await this.#readResponse(conn));
      this.#expectBlock(response.block, block, "STORE");
      const digest = formatChecksum(sent.digest);
      if (response.length !== sent.length || response.digest !== digest) {
        throw new CdfsError(
          "CORRUPT",
          `STORE of block '${block}' confirmed ${response.length} bytes with digest ` +
            `${response.digest}, but ${sent.length} bytes with digest ${digest} were sent`,
        );
      }
      this.#afterRequest(conn);
      return { block, length: sent.length, chunks: sent.chunks, digest };
    } catch (e) {
      // The node closes the connection after any STORE error; a local failure left it mid-stream.
      this.#drop();
      if (sourceError !== undefined && e === sourceError) throw e;
      throw this.#nodeError(e);
    }
  }

  /**
   * Retrieves a block, or a byte range of it, into a writer or a function. Every chunk is
   * verified before it is delivered; for a whole block the chunks must also hash to the
   * stored digest. On an error some chunks may already have been delivered: a caller writing
   * a file should write a temporary one and rename it on success.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * using file = await Deno.open("copy.mkv", { write: true, create: true, truncate: true });
   * await client.retrieve("movie.mkv.0", file);
   * await client.retrieve("movie.mkv.0", (chunk) => hash.update(chunk), { offset: 10, length: 5 });
   * ```
   *
   * @param id The block id.
   * @param sink Where the bytes go.
   * @param options A byte range, progress.
   * @returns What was delivered.
   * @throws {CdfsError} `NOT_FOUND`, `BAD_REQUEST` (a range outside the block), `CORRUPT`,
   * `UNAVAILABLE`, `TIMEOUT`, all naming the node; an error of the sink is thrown as it is.
   */
  async retrieve(
    id: string,
    sink: RetrieveSink,
    options: RetrieveOptions = {},
  ): Promise<RetrieveResult> {
    const block = this.#checkId(id);
    const request: RetrieveRequest = { op: "RETRIEVE", block };
    if (options.offset !== undefined && options.offset !== 0) {
      request.offset = checkByteCount(options.offset, "offset");
    }
    if (options.length !== undefined) {
      request.length = checkByteCount(options.length, "length");
    }
    const whole = request.offset === undefined && request.length === undefined;
    const deliver = typeof sink === "function"
      ? sink
      : (chunk: Uint8Array) => writeFully(sink, chunk);
    const { onProgress } = options;
    let sinkError: unknown = undefined;
    let refusedBeforeData = false;
    const conn = await this.#connection();
    try {
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, request);
      let response;
      try {
        response = parseResponse("RETRIEVE", await this.#readResponse(conn));
      } catch (e) {
        refusedBeforeData = e instanceof PeerError;
        throw e;
      }
      this.#expectBlock(response.block, block, "RETRIEVE");
      if (request.length !== undefined && response.length !== request.length) {
        throw new CdfsError(
          "BAD_REQUEST",
          `RETRIEVE of ${request.length} bytes was answered with ${response.length}`,
        );
      }
      options.onResponse?.(response);
      let delivered = 0;
      const summary = await receiveChunks(
        conn,
        bufferPoolFor(response.chunkSize),
        { chunkSize: response.chunkSize, length: response.length, canonical: whole, overlap: true },
        async (chunk) => {
          try {
            await deliver(chunk.bytes);
          } catch (e) {
            sinkError = e;
            throw e;
          }
          delivered += chunk.bytes.length;
          onProgress?.(delivered);
        },
      );
      if (whole && formatChecksum(summary.digest) !== response.digest) {
        throw new CdfsError(
          "CORRUPT",
          `block '${block}': the chunks received hash to ${
            formatChecksum(summary.digest)
          }, the stored digest is ${response.digest}`,
        );
      }
      this.#afterRequest(conn);
      return {
        block,
        offset: request.offset ?? 0,
        length: summary.length,
        blockLength: response.blockLength,
        chunkSize: response.chunkSize,
        digest: response.digest,
        verified: whole,
      };
    } catch (e) {
      // Refused before any data (NOT_FOUND, a bad range): the connection stays usable.
      // Anywhere later the stream is cut off mid-way, and the node closes after an ERROR in it.
      if (refusedBeforeData) this.#afterRequest(conn);
      else this.#drop();
      if (sinkError !== undefined && e === sinkError) throw e;
      throw this.#nodeError(e);
    }
  }

  /**
   * Runs a program of a coding module on the node (the CODING operation, docs/protocol.md):
   * the node pulls what the program needs from the other nodes of `request.nodes`, writes its
   * blocks and, for a stream program, streams its output here (`onData`). When the program
   * and everything it pulled has finished, the client commits (after `onPrepared`, if given)
   * and the blocks become visible; any failure before that leaves nothing visible anywhere.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * using client = await DataNodeClient.connect(nodes[15]!);
   * const result = await client.coding({
   *   op: "CODING",
   *   module: "rapidraid",
   *   program: "enc_node15",
   *   object: "file1",
   *   run: "0123456789abcdef0123456789abcdef",
   *   nodes,
   *   chunkSize: 1 << 20,
   * }, { onProgress: (done) => console.log(done) });
   * console.log(result.committed.map((b) => b.block));
   * ```
   *
   * @param request The CODING request (validated here first).
   * @param handlers Start reply, stream data, progress, the commit hook.
   * @returns The program's length and the committed blocks.
   * @throws {CdfsError} The first failure: an error of a node of the run names it (`node 7
   * (127.0.0.1:13107): ...`); so does a failure of this client's own connection (its node
   * stalled: `TIMEOUT`, or went away), by the node's index in `request.nodes` when the list
   * holds its address once, else by address alone; a handler's own error is thrown as it is.
   */
  async coding(request: CodingRequest, handlers: CodingHandlers = {}): Promise<CodingResult> {
    try {
      return await this.#runCoding(request, handlers);
    } catch (e) {
      throw this.#runNodeError(e, request.nodes);
    }
  }

  async #runCoding(request: CodingRequest, handlers: CodingHandlers): Promise<CodingResult> {
    const run = await this.openCoding(request);
    try {
      const start = await run.response();
      handlers.onResponse?.(start);
      if (start.stream) {
        const { onData } = handlers;
        await pullAll(
          run,
          request.chunkSize,
          onData && (async (bytes, n) => await onData(bytes, n)),
        );
      }
      await run.prepared(handlers.onProgress);
      await handlers.onPrepared?.();
      const committed = await run.commit();
      return { program: start.program, length: start.length, stream: start.stream, committed };
    } catch (e) {
      run.abort(e);
      throw e;
    }
  }

  /**
   * Sends a CODING request and returns at once (the reply is read in the background), for a
   * caller that reads the stream frame by frame into memory of its own (a datanode pulling an
   * upstream program into its buffer pool). {@linkcode DataNodeClient.coding} is the simple
   * form. The client serves nothing else until the stream is committed or aborted.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const run = await client.openCoding(request);
   * console.log((await run.response()).length);
   * run.abort();
   * ```
   *
   * @param request The CODING request (validated here first).
   * @returns The run in pull mode.
   * @throws {CdfsError} `BAD_REQUEST` for an invalid request, connection errors.
   */
  async openCoding(request: CodingRequest): Promise<CodingStream> {
    const { conn, checked, host } = await this.#sendCoding(request, false);
    return new ClientCodingStream(conn, checked, host);
  }

  /**
   * Sends a push-mode CODING request (`request.push` set, for a program after the chain's
   * first) and returns at once: the caller then sends the program's input stream with
   * {@linkcode CodingPushStream.send} and `end`, waits for `prepared` and commits. The next
   * node's replies are read in the background; its progress goes to `onProgress`. The client
   * serves nothing else until the run is committed or aborted.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const push = await client.openCodingPush({ ...request, program: "enc_node1", push });
   * await push.send(chunk);
   * await push.end({ length: chunk.length, digest });
   * await push.prepared();
   * console.log(await push.commit());
   * ```
   *
   * @param request The CODING request, with `push` (validated here first).
   * @param onProgress Told the progress the node reports.
   * @returns The sending side of the run.
   * @throws {CdfsError} `BAD_REQUEST` for an invalid request or one without `push`, connection
   * errors.
   */
  async openCodingPush(
    request: CodingRequest,
    onProgress?: (done: number) => void,
  ): Promise<CodingPushStream> {
    const { conn, checked, host } = await this.#sendCoding(request, true);
    return new ClientCodingPush(conn, checked, host, onProgress);
  }

  /**
   * Validates and sends a CODING request (`pushing`: one followed by a pushed stream); returns
   * the connection and the hooks of the exchange that follows.
   */
  async #sendCoding(
    request: CodingRequest,
    pushing: boolean,
  ): Promise<{ conn: FrameConnection; checked: CodingRequest; host: CodingExchangeHost }> {
    let checked: CodingRequest;
    try {
      checked = parseRequest(request) as CodingRequest;
      if (checked.op !== "CODING") throw new CdfsError("BAD_REQUEST", "not a CODING request");
      if (pushing !== (checked.push?.length !== undefined)) {
        throw new CdfsError(
          "BAD_REQUEST",
          pushing
            ? "not a CODING request that pushes a stream (push.length missing)"
            : "a CODING request with push.length is followed by a stream: use openCodingPush",
        );
      }
    } catch (e) {
      throw this.#nodeError(e);
    }
    const conn = await this.#connection(checked.timeoutMs);
    // The run's stall timeout holds for this exchange; the connection's own ones after it.
    const restore = conn.limitTimeouts(checked.timeoutMs);
    try {
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, checked);
    } catch (e) {
      restore();
      this.#drop();
      throw this.#nodeError(e);
    }
    const host: CodingExchangeHost = {
      error: (e) => this.#codingError(e),
      done: () => {
        restore();
        this.#afterRequest(conn);
      },
      detach: () => {
        restore();
        if (this.#conn === conn) this.#conn = null;
      },
    };
    return { conn, checked, host };
  }

  /**
   * Sends a RETRIEVE of a whole block and returns at once, for a caller that reads the frames
   * into memory of its own (see {@linkcode RetrieveStream}); {@linkcode DataNodeClient.retrieve}
   * is the simple form. The chunks are checked against the stored digest at the end. The
   * client serves nothing else until the stream ended or was closed.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const retrieve = await client.openRetrieve("movie.part0");
   * console.log((await retrieve.response()).length);
   * retrieve.close();
   * ```
   *
   * @param id The block id.
   * @returns The stream.
   * @throws {CdfsError} `BAD_REQUEST` for a bad id, connection errors.
   */
  async openRetrieve(id: string): Promise<RetrieveStream> {
    const block = this.#checkId(id);
    const conn = await this.#connection();
    try {
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "RETRIEVE", block });
    } catch (e) {
      this.#drop();
      throw this.#nodeError(e);
    }
    let finished = false;
    let stream: PullStream | null = null;
    const fail = (e: unknown): never => {
      if (!finished) {
        finished = true;
        if (this.#conn === conn) this.#drop();
        else conn.close();
      }
      throw this.#nodeError(e);
    };
    const response = this.#readResponse(conn).then((body) => {
      const parsed = parseResponse("RETRIEVE", body);
      this.#expectBlock(parsed.block, block, "RETRIEVE");
      return parsed;
    }).catch(fail);
    response.catch(() => {}); // observed by whoever asks; never "unhandled"
    return {
      response: () => response,
      next: async () => {
        const announced = await response;
        try {
          stream ??= await PullStream.create(conn, {
            chunkSize: announced.chunkSize,
            length: announced.length,
          });
          const n = await stream.next();
          if (n === null && !finished) {
            const digest = formatChecksum(stream.digest);
            if (digest !== announced.digest) {
              throw new CdfsError(
                "CORRUPT",
                `block '${block}': the chunks received hash to ${digest}, the stored digest is ${announced.digest}`,
              );
            }
            finished = true;
            this.#afterRequest(conn);
          }
          return n;
        } catch (e) {
          return fail(e);
        }
      },
      read: async (view) => {
        try {
          if (stream === null) throw new CdfsError("INTERNAL", "read() before next()");
          await stream.read(view);
        } catch (e) {
          fail(e);
        }
      },
      close: () => {
        if (finished) return;
        finished = true;
        if (this.#conn === conn) this.#drop();
        else conn.close();
      },
    };
  }

  /**
   * A failure this client saw on its own connection (a timeout or the connection lost, named
   * `node HOST:PORT: ...` by {@linkcode DataNodeClient.#nodeError}) renamed after the node's
   * index in the run's node list, `node 15 (HOST:PORT): ...`, the way the nodes name each
   * other: the client is the neighbour that notices when the node it talks to stalls. What
   * the node said itself, and anything else, passes unchanged.
   */
  #runNodeError(error: unknown, nodes: readonly string[]): unknown {
    const prefix = `node ${this.address}: `;
    if (!(error instanceof CdfsError) || !error.message.startsWith(prefix)) return error;
    // The node's own word, or a request found invalid before it was sent, is no stall.
    if (error.cause instanceof PeerError) return error;
    if (error.code !== "TIMEOUT" && error.code !== "UNAVAILABLE") return error;
    const at: number[] = [];
    nodes.forEach((node, i) => {
      try {
        if (formatNodeAddress(parseNodeAddress(node)) === this.address) at.push(i);
      } catch {
        // Not an address (the request was refused for it): not this node.
      }
    });
    if (at.length !== 1) return error;
    return new CdfsError(
      error.code,
      `node ${at[0]} (${this.address}): ${error.message.slice(prefix.length)}`,
      { cause: error },
    );
  }

  /** A node error; one that already names a node of a coding run passes unchanged. */
  #codingError(error: unknown): unknown {
    if (error instanceof CdfsError && NAMED_CODING_ERROR.test(error.message)) {
      return error instanceof PeerError ? new CdfsError(error.code, error.message) : error;
    }
    return this.#nodeError(error);
  }

  /** A request answered by one RESPONSE (or ERROR) and nothing else. */
  async #simpleRequest<K extends Exclude<Op, "STORE" | "RETRIEVE" | "CODING">>(
    request: Request & { op: K },
  ): Promise<ResponseOf[K]> {
    const conn = await this.#connection();
    try {
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, request);
      const response = parseResponse<K>(request.op, await this.#readResponse(conn));
      this.#afterRequest(conn);
      return response;
    } catch (e) {
      // An ERROR reply to a request without data leaves the connection usable.
      if (e instanceof PeerError) this.#afterRequest(conn);
      else this.#drop();
      throw this.#nodeError(e);
    }
  }

  async #readResponse(conn: FrameConnection): Promise<Record<string, unknown>> {
    const body = await conn.readJsonFrame(FRAME_TYPE.RESPONSE);
    if (body === null) {
      throw new CdfsError("UNAVAILABLE", "the node closed the connection without answering");
    }
    return body;
  }

  /**
   * The connection for the next request: the current one, unless it is gone or the node sent
   * something (or closed) while it sat idle — then a new one.
   */
  async #connection(stallTimeoutMs?: number): Promise<FrameConnection> {
    if (this.#closed) {
      throw new CdfsError("UNAVAILABLE", `node ${this.address}: the client was closed`);
    }
    const current = this.#conn;
    if (current !== null && !current.closed && !current.peerSentData) {
      return current;
    }
    this.#drop();
    const fresh = await openConnection(
      this.#target,
      withStallTimeout(this.#options, stallTimeoutMs),
    );
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
   */
  #afterRequest(conn: FrameConnection): void {
    if (this.#conn === conn && !conn.closed) conn.prefetchHeader();
  }

  #drop(): void {
    this.#conn?.close();
    this.#conn = null;
  }

  #checkId(id: string): string {
    try {
      return validateBlockId(id);
    } catch (e) {
      throw this.#nodeError(e);
    }
  }

  #listRequest(options: ListOptions): ListRequest {
    const request: ListRequest = { op: "LIST" };
    try {
      if (options.prefix !== undefined && options.prefix !== "") {
        request.prefix = validateBlockIdFragment(options.prefix, "LIST prefix", 0);
      }
      if (options.after !== undefined) {
        request.after = validateBlockIdFragment(options.after, "LIST after", 1);
      }
    } catch (e) {
      throw this.#nodeError(e);
    }
    if (options.limit !== undefined) {
      const { limit } = options;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
        throw new CdfsError(
          "BAD_REQUEST",
          `LIST limit must be in 1..${MAX_LIST_LIMIT}, got ${limit}`,
        );
      }
      request.limit = limit;
    }
    return request;
  }

  #expectBlock(answered: string, asked: string, op: string): void {
    if (answered !== asked) {
      throw this.#nodeError(
        new CdfsError("BAD_REQUEST", `${op} of block '${asked}' was answered for '${answered}'`),
      );
    }
  }

  /** Any failure as a CdfsError whose message names this node. */
  #nodeError(error: unknown): unknown {
    const prefix = `node ${this.address}: `;
    if (error instanceof CdfsError) {
      if (error.message.startsWith(prefix)) return error;
      return new CdfsError(error.code, prefix + error.message, { cause: error });
    }
    if (error instanceof Error) {
      return new CdfsError("UNAVAILABLE", prefix + error.message, { cause: error });
    }
    return error;
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
  });
}

/** Counts the bytes of the chunks a producer yields, reporting after each one was consumed. */
async function* counted(
  chunks: AsyncIterable<OutgoingChunk>,
  onProgress: ((bytes: number) => void) | undefined,
): AsyncGenerator<OutgoingChunk, void, undefined> {
  let total = 0;
  for await (const chunk of chunks) {
    yield chunk;
    total += chunk.bytes.length;
    onProgress?.(total);
  }
}

function checkChunkSize(chunkSize: number): number {
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new CdfsError(
      "BAD_REQUEST",
      `chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}, got ${chunkSize}`,
    );
  }
  return chunkSize;
}

function checkByteCount(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CdfsError("BAD_REQUEST", `${what} must be a non-negative integer, got ${value}`);
  }
  return value;
}

/**
 * Pools of the client's stream buffers, one per buffer size, shared by every client of the
 * process and carved from the default WebAssembly arena. A buffer holds a chunk plus the
 * 16-byte frame header in front of it, so a DATA frame goes out in one write.
 */
const pools = new Map<number, BufferPool>();

/** Buffers per pool: a RETRIEVE holds two (read-ahead), a STORE one. */
const BUFFERS_PER_POOL = 32;

function bufferPoolFor(chunkSize: number): BufferPool {
  const bufferSize = Math.ceil((chunkSize + FRAME_HEADER_SIZE) / 64) * 64;
  let pool = pools.get(bufferSize);
  if (pool === undefined) {
    pool = new BufferPool({ bufferSize, maxBuffers: BUFFERS_PER_POOL });
    pools.set(bufferSize, pool);
  }
  return pool;
}

/** The message of an error that names the node of a coding run it happened on. */
const NAMED_CODING_ERROR = /^node \d+ \(/;

const enum CodingPhase {
  Start,
  Stream,
  Prepare,
  Commit,
  Done,
  Failed,
}

/** The pull-mode CODING exchange of one connection (see {@linkcode CodingStream}). */
class ClientCodingStream implements CodingStream {
  readonly #conn: FrameConnection;
  readonly #request: CodingRequest;
  readonly #host: CodingExchangeHost;
  readonly #start: Promise<CodingStartResponse>;
  #phase = CodingPhase.Start;
  #stream: PullStream | null = null;

  constructor(conn: FrameConnection, request: CodingRequest, host: CodingExchangeHost) {
    this.#conn = conn;
    this.#request = request;
    this.#host = host;
    this.#start = this.#readStart();
    this.#start.catch(() => {}); // observed by whoever asks; never "unhandled"
  }

  response(): Promise<CodingStartResponse> {
    return this.#start;
  }

  async next(): Promise<number | null> {
    const start = await this.#start;
    try {
      if (!start.stream) {
        throw new CdfsError("INTERNAL", `program '${start.program}' is not a stream program`);
      }
      if (this.#phase !== CodingPhase.Start && this.#phase !== CodingPhase.Stream) {
        throw new CdfsError("INTERNAL", "next() after the end of the coding stream");
      }
      this.#phase = CodingPhase.Stream;
      this.#stream ??= await PullStream.create(this.#conn, {
        chunkSize: this.#request.chunkSize,
        length: start.length,
        // A node waiting for its own inputs says it is alive with progress replies.
        onReply: (body) => {
          if (!("progress" in parseResponse("CODING", body))) {
            throw new CdfsError("BAD_REQUEST", `unexpected CODING reply ${JSON.stringify(body)}`);
          }
        },
      });
      const n = await this.#stream.next();
      if (n === null) this.#phase = CodingPhase.Prepare;
      return n;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  async read(view: Uint8Array): Promise<void> {
    try {
      if (this.#stream === null) throw new CdfsError("INTERNAL", "read() before next()");
      await this.#stream.read(view);
    } catch (e) {
      throw this.#fail(e);
    }
  }

  async prepared(onProgress?: (bytesDone: number) => void): Promise<void> {
    const start = await this.#start;
    try {
      if (start.stream ? this.#phase !== CodingPhase.Prepare : this.#phase !== CodingPhase.Start) {
        throw new CdfsError("INTERNAL", "prepared() out of turn");
      }
      while (true) {
        const reply = await this.#readReply();
        if ("prepared" in reply) break;
        if (!("progress" in reply)) {
          throw new CdfsError("BAD_REQUEST", `unexpected CODING reply ${JSON.stringify(reply)}`);
        }
        // A stream program's progress replies are keepalives (its data counts the bytes).
        if (!start.stream) onProgress?.(reply.progress);
      }
      this.#phase = CodingPhase.Commit;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  async commit(): Promise<CommittedBlock[]> {
    try {
      if (this.#phase !== CodingPhase.Commit) {
        throw new CdfsError("INTERNAL", "commit() before the program was prepared");
      }
      await this.#conn.writeJsonFrame(FRAME_TYPE.REQUEST, {
        op: "COMMIT",
        run: this.#request.run,
      });
      const reply = await readCommitReply(this.#conn);
      if (!("committed" in reply)) {
        throw new CdfsError("BAD_REQUEST", `unexpected CODING reply ${JSON.stringify(reply)}`);
      }
      this.#phase = CodingPhase.Done;
      this.#host.done();
      return (reply as CodingCommittedResponse).committed;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  abort(reason?: unknown): void {
    if (this.#phase === CodingPhase.Done || this.#phase === CodingPhase.Failed) return;
    this.#phase = CodingPhase.Failed;
    const conn = this.#conn;
    this.#host.detach();
    if (conn.closed) return;
    // Best effort, and without waiting: the close is what makes the node abort (and what
    // ends a read pending on the connection), so it comes soon whatever the write does.
    const message = reason instanceof Error ? reason.message : String(reason ?? "aborted");
    const timer = setTimeout(() => conn.close(), ABORT_LINGER_MS);
    conn.writeError("UNAVAILABLE", `the client aborted the run: ${message}`)
      .catch(() => {})
      .finally(() => {
        clearTimeout(timer);
        conn.close();
      });
  }

  async #readStart(): Promise<CodingStartResponse> {
    try {
      let reply = await this.#readReply();
      // Keepalives of a node still opening its inputs (connecting to the other nodes).
      while ("progress" in reply) reply = await this.#readReply();
      if (!("program" in reply)) {
        throw new CdfsError(
          "BAD_REQUEST",
          `expected the CODING start reply, got ${JSON.stringify(reply)}`,
        );
      }
      if (reply.program !== this.#request.program) {
        throw new CdfsError(
          "BAD_REQUEST",
          `CODING of program '${this.#request.program}' was answered for '${reply.program}'`,
        );
      }
      return reply;
    } catch (e) {
      // Refused before it started (a bad request, a missing block): the connection stays usable.
      if (e instanceof PeerError && this.#phase === CodingPhase.Start) {
        this.#phase = CodingPhase.Failed;
        this.#host.done();
        throw this.#host.error(e);
      }
      throw this.#fail(e);
    }
  }

  #readReply(): Promise<CodingResponse> {
    return readCodingReply(this.#conn);
  }

  /** Ends the exchange after an error and returns the error to throw. */
  #fail(error: unknown): unknown {
    if (this.#phase !== CodingPhase.Failed && this.#phase !== CodingPhase.Done) {
      this.#phase = CodingPhase.Failed;
      this.#host.detach();
      this.#conn.close();
    }
    return this.#host.error(error);
  }
}

/**
 * Reads a stream program's frames into two pooled buffers in turn (the next frame arrives
 * while the consumer works on the previous one) and hands each to `consume`.
 */
async function pullAll(
  run: CodingStream,
  chunkSize: number,
  consume: ((bytes: Uint8Array, length: number) => Promise<void>) | undefined,
): Promise<void> {
  const pool = bufferPoolFor(chunkSize);
  const buffers = [await pool.acquire()];
  // A second buffer only when one is free: waiting could starve another stream of the run.
  const spare = pool.tryAcquire();
  if (spare !== undefined) buffers.push(spare);
  let consuming: Promise<void> | null = null;
  try {
    for (let i = 0;; i++) {
      const n = await run.next();
      if (n === null) break;
      const view = buffers[i % buffers.length]!.bytes.subarray(0, n);
      if (buffers.length === 1 && consuming !== null) await consuming;
      await run.read(view);
      if (consume === undefined) continue;
      if (consuming !== null) await consuming;
      consuming = consume(view, n);
      consuming.catch(() => {}); // rethrown by the next await
    }
    if (consuming !== null) await consuming;
  } finally {
    if (consuming !== null) await (consuming as Promise<void>).catch(() => {});
    for (const buffer of buffers) buffer.release();
  }
}
