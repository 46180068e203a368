/**
 * {@linkcode DataNodeClient}: one client connection to a datanode, speaking wire format v1
 * (`docs/protocol.md`). Blocks stream through pooled buffers in WebAssembly memory — a 10 GiB
 * block costs the same memory as a 1 MiB one — and every chunk is verified on arrival; a
 * whole-block RETRIEVE is also checked end to end against the stored digest, and a STORE's
 * reply against the digest of what was sent.
 *
 * One connection serves any number of requests, one at a time. When a request breaks the
 * connection (a STORE error — the node closes after those —, a timeout, a lost link) or the node
 * closed it while idle, the next request opens a new one (node_connection.ts). Every error is a
 * {@linkcode CdfsError} with the node's code and a message naming the node address. The
 * requests that stream live beside it: store.ts, retrieve.ts, retrieve_stream.ts; a CODING run
 * goes out through {@linkcode DataNodeClient.openExchange} (src/coding/runtime/coding_stream.ts).
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { randomHex } from "../core/random.ts";
import { type NodeAddress, parseNodeAddress } from "../core/address.ts";
import { validateBlockIdFragment } from "../core/block_id.ts";
import type { ByteMeter } from "../protocol/byte_meter.ts";
import { FRAME_TYPE } from "../protocol/frame.ts";
import { PeerError } from "../protocol/peer_error.ts";
import {
  type DeleteRequest,
  type ListRequest,
  MAX_LIST_LIMIT,
  type Op,
  type Request,
} from "../protocol/requests.ts";
import { parseResponse } from "../protocol/response_validation.ts";
import {
  type DeleteResponse,
  type ListEntry,
  type ListResponse,
  type PingResponse,
  type ResponseOf,
  type StatResponse,
  type StatsResponse,
} from "../protocol/responses.ts";
import {
  type DataNodeClientOptions,
  isLostReply,
  NodeConnection,
  type NodeExchange,
  retryBusy,
} from "./node_connection.ts";
import {
  retrieveBlock,
  type RetrieveOptions,
  type RetrieveResult,
  type RetrieveSink,
} from "./retrieve.ts";
import { openRetrieveStream, type RetrieveStream } from "./retrieve_stream.ts";
import { storeBlock, type StoreOptions, type StoreResult, type StoreSource } from "./store.ts";

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
  readonly #link: NodeConnection;

  private constructor(link: NodeConnection) {
    this.#link = link;
    this.address = link.address;
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
    return new DataNodeClient(await NodeConnection.open(target, options));
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
    this.#link.close();
  }

  /**
   * Whether the next request would go out on the connection already open (open, and the node
   * sent nothing on it while it sat idle): a client kept between coding runs is used again only
   * then.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * if (!client.reusable) client.close();
   * ```
   */
  get reusable(): boolean {
    return this.#link.reusable;
  }

  /**
   * Counts this client's traffic on `meter` from now on (a connection kept for another coding
   * run counts as that run's).
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * client.meterWith(traffic.upstreamMeter(run, client.address));
   * ```
   *
   * @param meter The meter, or undefined for none.
   */
  meterWith(meter: ByteMeter | undefined): void {
    this.#link.meterWith(meter);
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
    const block = this.#link.checkId(id);
    const response = await this.#simpleRequest({ op: "STAT", block });
    this.#link.expectBlock(response.block, block, "STAT");
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
   * Deletes a block. The request carries a random request id; when its reply is lost (the
   * connection closed or broke after the request went out) it is sent once more with the
   * same id, and the node answers with the first one's outcome (docs/protocol.md, DELETE).
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
    const block = this.#link.checkId(id);
    const request: DeleteRequest = { op: "DELETE", block, request: randomHex(16) };
    let response: DeleteResponse;
    try {
      response = await this.#simpleRequest(request);
    } catch (e) {
      if (!(e instanceof LostReply)) throw e;
      try {
        response = await this.#simpleRequest(request);
      } catch (again) {
        throw again instanceof LostReply ? again.error : again;
      }
    }
    this.#link.expectBlock(response.block, block, "DELETE");
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
    return await storeBlock(this.#link, id, source, options);
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
    // BUSY comes before the RESPONSE (or in place of the preamble), before any byte reached
    // the sink: asking again is safe.
    return await retryBusy(() => retrieveBlock(this.#link, id, sink, options));
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
    return await openRetrieveStream(this.#link, id);
  }

  /**
   * Sends a request that opens an exchange going on past its first reply (a CODING run, see
   * src/coding/runtime/coding_stream.ts) and hands over the connection: the client serves
   * nothing else until the exchange is `done` or `detach`ed. While it lasts the connection's
   * idle and frame timeouts are at most `stallTimeoutMs`; its own ones come back after it.
   *
   * @example
   * Not run by `deno test --doc`: it needs running datanodes.
   * ```ts ignore
   * const exchange = await client.openExchange(request, request.timeoutMs);
   * const reply = await exchange.conn.readJsonFrame(FRAME_TYPE.RESPONSE);
   * exchange.done();
   * ```
   *
   * @param request The request, already validated.
   * @param stallTimeoutMs The run's stall timeout, if it has one.
   * @returns The connection and the hooks that end the exchange.
   * @throws {CdfsError} Connection errors, naming the node.
   */
  async openExchange(request: Request, stallTimeoutMs?: number): Promise<NodeExchange> {
    const link = this.#link;
    const conn = await link.acquire(stallTimeoutMs);
    const restore = conn.limitTimeouts(stallTimeoutMs);
    try {
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, request);
    } catch (e) {
      restore();
      link.drop();
      throw link.nodeError(e);
    }
    return {
      conn,
      error: (e) => link.nodeError(e),
      done: () => {
        restore();
        link.release(conn);
      },
      detach: () => {
        restore();
        link.detach(conn);
      },
    };
  }

  /**
   * A request answered by one RESPONSE (or ERROR) and nothing else; BUSY is asked again. A
   * DELETE whose reply was lost after it went out is thrown as a {@linkcode LostReply}.
   */
  async #simpleRequest<K extends Exclude<Op, "STORE" | "RETRIEVE" | "CODING">>(
    request: Request & { op: K },
  ): Promise<ResponseOf[K]> {
    try {
      return await retryBusy(() => this.#simpleRequestOnce<K>(request));
    } catch (e) {
      if (e instanceof LostReply && request.op !== "DELETE") throw e.error;
      throw e;
    }
  }

  async #simpleRequestOnce<K extends Exclude<Op, "STORE" | "RETRIEVE" | "CODING">>(
    request: Request & { op: K },
  ): Promise<ResponseOf[K]> {
    const conn = await this.#link.acquire();
    try {
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, request);
      const response = parseResponse<K>(request.op, await this.#link.readResponse(conn));
      this.#link.release(conn);
      return response;
    } catch (e) {
      // An ERROR reply to a request without data leaves the connection usable.
      if (e instanceof PeerError) this.#link.release(conn);
      else this.#link.drop();
      const named = this.#link.nodeError(e);
      // Closed or broken once the request was on its way: the outcome is unknown.
      if (isLostReply(e)) throw new LostReply(named as CdfsError);
      throw named;
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
      throw this.#link.nodeError(e);
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
}

/** A request without data whose reply was lost after it went out: its outcome is unknown. */
class LostReply extends Error {
  constructor(readonly error: CdfsError) {
    super(error.message);
  }
}
