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
import { formatChecksum } from "../checksum.ts";
import { CdfsError, isCdfsError } from "../errors.ts";
import {
  DEFAULT_CHUNK_SIZE,
  FRAME_HEADER_SIZE,
  FRAME_TYPE,
  FrameConnection,
  type FrameConnectionOptions,
  type ListEntry,
  type ListRequest,
  type ListResponse,
  MAX_CHUNK_SIZE,
  MAX_LIST_LIMIT,
  MIN_CHUNK_SIZE,
  type Op,
  type OutgoingChunk,
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
  type StoreRequest,
  validateBlockId,
  validateBlockIdFragment,
} from "../protocol/mod.ts";
import { formatNodeAddress, type NodeAddress, parseNodeAddress } from "../address.ts";
import {
  type ByteReader,
  type ByteWriter,
  isByteReader,
  iterableReader,
  writeFully,
} from "./byte_io.ts";

/**
 * The default time to wait for a TCP connection to a node, 10 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONNECT_TIMEOUT_MS } from "./datanode_client.ts";
 * console.log(DEFAULT_CONNECT_TIMEOUT_MS); // 10000
 * ```
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
 * A connection to one datanode. Not for concurrent use: one request at a time (open more
 * clients for parallel transfers).
 *
 * @example
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
   * Deletes a block.
   *
   * @example
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

  /** A request answered by one RESPONSE (or ERROR) and nothing else. */
  async #simpleRequest<K extends Exclude<Op, "STORE" | "RETRIEVE">>(
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
  async #connection(): Promise<FrameConnection> {
    if (this.#closed) {
      throw new CdfsError("UNAVAILABLE", `node ${this.address}: the client was closed`);
    }
    const current = this.#conn;
    if (current !== null && !current.closed && !current.peerSentData) {
      return current;
    }
    this.#drop();
    const fresh = await openConnection(this.#target, this.#options);
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

async function openConnection(
  target: NodeAddress,
  options: DataNodeClientOptions,
): Promise<FrameConnection> {
  const address = formatNodeAddress(target);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  let socket: Deno.TcpConn;
  try {
    socket = await Deno.connect({
      hostname: target.hostname,
      port: target.port,
      transport: "tcp",
      signal,
    });
  } catch (e) {
    if (signal.aborted) {
      throw new CdfsError("TIMEOUT", `cannot reach node ${address}: no answer in ${timeoutMs} ms`);
    }
    throw new CdfsError("UNAVAILABLE", `cannot reach node ${address}: ${describeSocketError(e)}`, {
      cause: e,
    });
  }
  // Requests and replies are small frames that must not wait for Nagle's algorithm.
  socket.setNoDelay(true);
  const frameOptions: FrameConnectionOptions = {};
  if (options.idleTimeoutMs !== undefined) frameOptions.idleTimeoutMs = options.idleTimeoutMs;
  if (options.frameTimeoutMs !== undefined) frameOptions.frameTimeoutMs = options.frameTimeoutMs;
  const conn = await FrameConnection.create(socket, frameOptions);
  // The handshake is part of connecting: a node that accepts but never answers is as
  // unreachable as one that does not accept.
  let handshakeTimedOut = false;
  const timer = setTimeout(() => {
    handshakeTimedOut = true;
    conn.close();
  }, Math.max(0, timeoutMs - (performance.now() - started)));
  try {
    await conn.clientHandshake();
  } catch (e) {
    conn.close();
    if (handshakeTimedOut) {
      throw new CdfsError("TIMEOUT", `node ${address}: no preamble within ${timeoutMs} ms`);
    }
    const message = e instanceof Error ? e.message : String(e);
    throw new CdfsError(isCdfsError(e) ? e.code : "UNAVAILABLE", `node ${address}: ${message}`, {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }
  return conn;
}

function describeSocketError(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (error instanceof Error) return error.message.replace(/\s*\(os error \d+\)$/, "");
  return String(error);
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
