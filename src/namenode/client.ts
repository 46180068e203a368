/**
 * {@linkcode NameNodeClient}: a connection to one of several namenodes, with a typed method for
 * every op of docs/namenode.md. It asks where blocks go or are; the bytes then go to the
 * datanodes directly (`src/client/`), never through the namenode.
 *
 * **Failover.** The client is given every namenode's address (several namenodes may share one
 * etcd store). It connects to the first that answers, in order, and stays there. When that
 * connection is lost, the next request connects again, trying the same namenode first and then
 * the others in turn. A request that was sent when the connection broke is retried on another
 * namenode only if it only reads (PING, GET_FILE, LIST_*, FSCK, ORPHANS): a lost reply to a
 * CREATE_FILE or COMMIT_FILE may or may not have been applied, so those fail with
 * `UNAVAILABLE` and the caller decides (GET_FILE by id tells).
 *
 * One request at a time per connection (the protocol has no multiplexing); concurrent calls on
 * one client are queued. For parallelism, open more clients.
 *
 * @module
 */
import { formatNodeAddress, type NodeAddress, parseNodeAddress } from "../core/address.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { type FrameConnection, PeerError } from "../protocol/connection.ts";
import { dialFrameConnection } from "../protocol/dial.ts";
import { FRAME_TYPE, MIN_CHUNK_SIZE } from "../protocol/frame.ts";
import { sendChunks } from "../protocol/stream.ts";
import { type CodeLayout, resolveLayout } from "./layout.ts";
import type {
  BlockPlacement,
  BlockRef,
  DatanodeRegistration,
  FileState,
  HeartbeatStats,
  ReportedBlockEntry,
} from "./meta/model.ts";
import { encodeReport, reportChunks } from "./report_stream.ts";
import {
  type CreateFileRequest,
  MAX_REPORT_CHUNK,
  type NameNodeOp,
  type NameNodeRequest,
  requestToJson,
} from "./requests.ts";
import {
  type DatanodeView,
  type FileHealth,
  type FileView,
  type NameNodeResponseOf,
  type NodeRef,
  parseNameNodeResponse,
} from "./responses.ts";

/**
 * Options of {@linkcode NameNodeClient.connect}.
 *
 * @example
 * ```ts
 * import type { NameNodeClientOptions } from "./client.ts";
 * const options: NameNodeClientOptions = { connectTimeoutMs: 2000 };
 * ```
 */
export interface NameNodeClientOptions {
  /** How long to wait for a TCP connection and the preamble exchange, per namenode (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** How long to wait for a reply to start (default 60 s). */
  readonly idleTimeoutMs?: number;
  /** How long a started frame may take (default 30 s). */
  readonly frameTimeoutMs?: number;
  /** The DATA frame size of full block reports (default 64 KiB). */
  readonly reportChunkSize?: number;
  /**
   * Abandons connecting once aborted: a connection being made fails at once with
   * `UNAVAILABLE`, and none is made after (a datanode that stops must not wait out
   * `connectTimeoutMs` on a namenode that does not answer). Requests on an open connection
   * are cut by {@linkcode NameNodeClient.close}.
   */
  readonly signal?: AbortSignal;
}

/**
 * What {@linkcode NameNodeClient.createFile} takes: a CREATE_FILE request without its op.
 *
 * @example
 * ```ts
 * import type { NewFileSpec } from "./client.ts";
 * const spec: NewFileSpec = {
 *   name: "a.bin",
 *   code: "replication",
 *   length: 1000,
 *   layout: { n: 1, roles: [{ role: { kind: "part", index: 0 }, nodes: [0] }] },
 * };
 * ```
 */
export type NewFileSpec = Omit<CreateFileRequest, "op">;

/**
 * What {@linkcode NameNodeClient.commitFile} sets.
 *
 * @example
 * ```ts
 * import type { CommitSpec } from "./client.ts";
 * const commit: CommitSpec = { digest: "ab".repeat(32) };
 * ```
 */
export interface CommitSpec {
  /** The length (must agree with the creation's). */
  readonly length?: number;
  /** The digest, lowercase hex. */
  readonly digest?: string;
  /** The file's state from now on. */
  readonly state?: Exclude<FileState, "pending">;
}

/**
 * A page request.
 *
 * @example
 * ```ts
 * import type { PageOptions } from "./client.ts";
 * const page: PageOptions = { prefix: "photos/", limit: 100 };
 * ```
 */
export interface PageOptions {
  /** Only names starting with this. */
  readonly prefix?: string;
  /** Only names after this one (the previous page's `next`). */
  readonly after?: string;
  /** At most this many. */
  readonly limit?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_REPORT_CHUNK = 64 * 1024;
/** The ops that only read: safe to send again to another namenode after a lost reply. */
const READ_ONLY: ReadonlySet<NameNodeOp> = new Set([
  "PING",
  "GET_FILE",
  "LIST_FILES",
  "LIST_DATANODES",
  "FSCK",
  "ORPHANS",
]);

/**
 * A client of one of several namenodes.
 *
 * @example
 * ```ts
 * import { NameNodeClient } from "./client.ts";
 * import { NameNodeServer } from "./server.ts";
 * await using server = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
 * using client = await NameNodeClient.connect(["127.0.0.1:1", server.address]);
 * console.log((await client.ping()).service, client.address === server.address); // "namenode" true
 * ```
 */
export class NameNodeClient {
  /** Every namenode's address, in the order they are tried. */
  readonly addresses: readonly string[];
  readonly #targets: readonly NodeAddress[];
  readonly #options: NameNodeClientOptions;
  #current = 0;
  #conn: FrameConnection | null = null;
  #opened = 0;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(targets: NodeAddress[], options: NameNodeClientOptions) {
    this.#targets = targets;
    this.addresses = targets.map(formatNodeAddress);
    this.#options = options;
  }

  /**
   * Connects to the first of `addresses` that answers.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const client = await NameNodeClient.connect(["10.0.0.1:13000", "10.0.0.2:13000"]);
   * ```
   *
   * @param addresses One `HOST:PORT`, or several.
   * @param options Timeouts.
   * @returns The connected client.
   * @throws {CdfsError} `USAGE` for a malformed address; `UNAVAILABLE` (or `TIMEOUT`) naming
   * why each namenode could not be reached.
   */
  static async connect(
    addresses: string | readonly string[],
    options: NameNodeClientOptions = {},
  ): Promise<NameNodeClient> {
    const list = typeof addresses === "string" ? [addresses] : [...addresses];
    if (list.length === 0) throw new CdfsError("USAGE", "no namenode address given");
    const chunk = options.reportChunkSize ?? DEFAULT_REPORT_CHUNK;
    if (!Number.isInteger(chunk) || chunk < MIN_CHUNK_SIZE || chunk > MAX_REPORT_CHUNK) {
      throw new CdfsError(
        "USAGE",
        `report chunk size must be ${MIN_CHUNK_SIZE}..${MAX_REPORT_CHUNK}, got ${chunk}`,
      );
    }
    const client = new NameNodeClient(
      list.map((a) => parseNodeAddress(a, { what: "namenode address" })),
      options,
    );
    await client.#connection();
    return client;
  }

  /** The namenode the client talks to now (or will try first). */
  get address(): string {
    return this.addresses[this.#current]!;
  }

  /**
   * How many connections the client has opened so far. It grows when a lost connection is
   * replaced, which a datanode takes as a sign that the namenode may have restarted (and
   * then registers and reports again).
   */
  get connections(): number {
    return this.#opened;
  }

  /**
   * Closes the connection; idempotent. Later calls fail. An open client keeps a read pending
   * on its idle connection (to notice the namenode closing it), so close every client.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * client.close();
   * ```
   */
  close(): void {
    this.#closed = true;
    this.#drop();
  }

  /** Closes the client (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Asks who answers.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { id, version } = await client.ping();
   * ```
   *
   * @returns The namenode's id and version.
   */
  ping(): Promise<NameNodeResponseOf["PING"]> {
    return this.#call({ op: "PING" });
  }

  /**
   * Registers a datanode (at its start, and again when a heartbeat says `NOT_FOUND`).
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { heartbeatIntervalMs } = await client.register({ id: "dn0", address: "10.0.0.5:13100", capacity, free });
   * ```
   *
   * @param registration Id, address, capacity, free bytes.
   * @returns The registration and the timing to keep.
   * @throws {CdfsError} `CONFLICT` when the id is registered at another address.
   */
  register(registration: DatanodeRegistration): Promise<NameNodeResponseOf["REGISTER"]> {
    return this.#call({
      op: "REGISTER",
      node: registration.id,
      address: registration.address,
      capacity: registration.capacity,
      free: registration.free,
    });
  }

  /**
   * Sends a datanode's heartbeat.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.heartbeat("dn0", { free: 80 << 30 });
   * ```
   *
   * @param node The datanode's id.
   * @param stats Free bytes (and capacity when it changed).
   * @returns The acknowledgement.
   * @throws {CdfsError} `NOT_FOUND` when the datanode is not registered.
   */
  heartbeat(node: string, stats: HeartbeatStats): Promise<NameNodeResponseOf["HEARTBEAT"]> {
    return this.#call({
      op: "HEARTBEAT",
      node,
      free: stats.free,
      ...(stats.capacity === undefined ? {} : { capacity: stats.capacity }),
    });
  }

  /**
   * Tells the namenode a datanode is stopping on purpose: it is marked dead now instead of
   * after `deadAfterMs` of silence. Sent last, after the final block report.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.leave("dn0"); // { node: "dn0", state: "dead" }
   * ```
   *
   * @param node The datanode's id.
   * @returns The acknowledgement.
   * @throws {CdfsError} `NOT_FOUND` when the datanode is not registered.
   */
  leave(node: string): Promise<NameNodeResponseOf["LEAVE"]> {
    return this.#call({ op: "LEAVE", node });
  }

  /**
   * Sends an incremental block report: blocks stored and deleted since the last report (at
   * most 100 entries in all).
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.reportChanges("dn0", [{ blockId: "f7.part0", length: 4096 }], []);
   * ```
   *
   * @param node The datanode's id.
   * @param added Blocks stored.
   * @param removed Block ids deleted.
   * @returns How many copies the namenode expected there and found missing, and how many
   * reported blocks it does not place there.
   */
  reportChanges(
    node: string,
    added: readonly ReportedBlockEntry[],
    removed: readonly string[],
  ): Promise<NameNodeResponseOf["BLOCK_REPORT"]> {
    return this.#call({ op: "BLOCK_REPORT", node, kind: "incremental", added, removed });
  }

  /**
   * Sends a full block report: every block the datanode holds (sent as a data stream after the
   * request, so it may hold up to 100 000 blocks).
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.reportAll("dn0", blocks);
   * ```
   *
   * @param node The datanode's id.
   * @param blocks Every block it holds.
   * @returns As {@linkcode NameNodeClient.reportChanges}.
   */
  reportAll(
    node: string,
    blocks: readonly ReportedBlockEntry[],
  ): Promise<NameNodeResponseOf["BLOCK_REPORT"]> {
    const encoded = encodeReport(blocks);
    const chunkSize = this.#options.reportChunkSize ?? DEFAULT_REPORT_CHUNK;
    return this.#call(
      {
        op: "BLOCK_REPORT",
        node,
        kind: "full",
        count: encoded.count,
        length: encoded.length,
        chunkSize,
      },
      async (conn) => {
        await sendChunks(conn, reportChunks(encoded.lines, chunkSize), {
          chunkSize,
          length: encoded.length,
          watchPeer: true,
        });
      },
    );
  }

  /**
   * Creates a file: the namenode reserves the name, allocates the file and block ids and
   * chooses a datanode for each logical node of the layout. The file stays invisible to
   * readers until {@linkcode NameNodeClient.commitFile}.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { file, nodes } = await client.createFile({ name, code: "rapidraid", length, layout });
   * // store file.blocks[i].block on file.blocks[i].address, then commit
   * ```
   *
   * @param spec Name, code, length, layout.
   * @returns The pending file and the datanode of each logical node (null: none yet).
   * @throws {CdfsError} `EXISTS` for a taken name, `UNAVAILABLE` when too few datanodes have
   * room (naming how many were needed and available).
   */
  createFile(spec: NewFileSpec): Promise<NameNodeResponseOf["CREATE_FILE"]> {
    return this.#call({
      op: "CREATE_FILE",
      name: spec.name,
      code: spec.code,
      length: spec.length,
      layout: spec.layout,
      ...(spec.digest === undefined ? {} : { digest: spec.digest }),
      ...(spec.blockLength === undefined ? {} : { blockLength: spec.blockLength }),
    });
  }

  /**
   * Commits a file's pending changes (a new file; the blocks an encode added).
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.commitFile(file.fileId, { digest });
   * ```
   *
   * @param fileId The file id.
   * @param commit Length, digest, state.
   * @returns The committed file.
   */
  async commitFile(fileId: number, commit: CommitSpec = {}): Promise<FileView> {
    return (await this.#call({ op: "COMMIT_FILE", fileId, ...commit })).file;
  }

  /**
   * Aborts a file's pending changes; a pending file disappears.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.abortFile(file.fileId);
   * ```
   *
   * @param fileId The file id.
   * @returns What is left of the file, or null.
   */
  async abortFile(fileId: number): Promise<FileView | null> {
    return (await this.#call({ op: "ABORT_FILE", fileId })).file;
  }

  /**
   * A committed file by name, with where each block copy is and whether its datanode is alive.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const file = await client.getFile("photos/cat.jpg");
   * ```
   *
   * @param name The name.
   * @returns The file.
   * @throws {CdfsError} `NOT_FOUND` for an unknown or uncommitted name.
   */
  async getFile(name: string): Promise<FileView> {
    return (await this.#call({ op: "GET_FILE", name })).file;
  }

  /**
   * Any file by id, pending ones too.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const file = await client.getFileById(7);
   * ```
   *
   * @param fileId The id.
   * @returns The file.
   */
  async getFileById(fileId: number): Promise<FileView> {
    return (await this.#call({ op: "GET_FILE", fileId })).file;
  }

  /**
   * One page of committed files.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { files, next } = await client.listFiles({ prefix: "photos/" });
   * ```
   *
   * @param options Prefix, cursor, limit.
   * @returns The page and the cursor of the next one.
   */
  listFiles(options: PageOptions = {}): Promise<NameNodeResponseOf["LIST_FILES"]> {
    return this.#call({ op: "LIST_FILES", ...options });
  }

  /**
   * Every committed file under a prefix, page after page.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * for await (const f of client.files("photos/")) console.log(f.name);
   * ```
   *
   * @param prefix Only names starting with this.
   * @returns The files, by name.
   */
  files(prefix = ""): AsyncGenerator<NameNodeResponseOf["LIST_FILES"]["files"][number]> {
    return pages((after) => this.listFiles({ prefix, ...after }), (page) => page.files);
  }

  /**
   * Deletes a committed file's record and returns it (its blocks are then to be deleted from
   * the datanodes it names).
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const file = await client.deleteFile("a.bin");
   * ```
   *
   * @param name The name.
   * @returns The file's last record.
   */
  async deleteFile(name: string): Promise<FileView> {
    return (await this.#call({ op: "DELETE_FILE", name })).file;
  }

  /**
   * Records that a copy now lives on another datanode.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.moveBlock(7, "f7.coded3", "dn3", "dn9");
   * ```
   *
   * @param fileId The file id.
   * @param blockId The block id.
   * @param from The datanode it was on.
   * @param to The datanode it is on now.
   * @returns The file.
   */
  async moveBlock(fileId: number, blockId: string, from: string, to: string): Promise<FileView> {
    return (await this.#call({ op: "MOVE_BLOCK", fileId, blockId, from, to })).file;
  }

  /**
   * Adds pending blocks to a file: every role of `layout` the file lacks, placed by the
   * namenode, or explicit placements.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { nodes } = await client.addBlocks(file.fileId, { layout: layoutOfModule(rapidraid) });
   * ```
   *
   * @param fileId The file id.
   * @param what A layout (and block length) or placements.
   * @returns The file and, with a layout, the datanode of each logical node.
   */
  addBlocks(
    fileId: number,
    what: { readonly layout: CodeLayout; readonly blockLength?: number } | {
      readonly placements: readonly BlockPlacement[];
    },
  ): Promise<NameNodeResponseOf["ADD_BLOCKS"]> {
    return this.#call(
      "layout" in what
        ? {
          op: "ADD_BLOCKS",
          fileId,
          layout: what.layout,
          ...(what.blockLength === undefined ? {} : { blockLength: what.blockLength }),
        }
        : { op: "ADD_BLOCKS", fileId, placements: what.placements },
    );
  }

  /**
   * Removes copies from a committed file.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.dropBlocks(7, replicas, "archived");
   * ```
   *
   * @param fileId The file id.
   * @param blocks The copies.
   * @param state The file's state from now on.
   * @returns The file.
   */
  async dropBlocks(
    fileId: number,
    blocks: readonly BlockRef[],
    state?: Exclude<FileState, "pending">,
  ): Promise<FileView> {
    return (await this.#call({
      op: "DROP_BLOCKS",
      fileId,
      blocks,
      ...(state === undefined ? {} : { state }),
    })).file;
  }

  /**
   * One page of datanodes.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { datanodes } = await client.listDatanodes();
   * ```
   *
   * @param options Cursor (a datanode id) and limit.
   * @returns The page.
   */
  listDatanodes(
    options: { readonly after?: string; readonly limit?: number } = {},
  ): Promise<NameNodeResponseOf["LIST_DATANODES"]> {
    return this.#call({ op: "LIST_DATANODES", ...options });
  }

  /**
   * Every datanode the namenode knows, page after page.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const alive = (await Array.fromAsync(client.datanodes())).filter((d) => d.state === "alive");
   * ```
   *
   * @returns The datanodes, by id.
   */
  datanodes(): AsyncGenerator<DatanodeView> {
    return pages((after) => this.listDatanodes(after), (page) => page.datanodes);
  }

  /**
   * The health of every file, page after page.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * for await (const f of client.health()) if (f.status !== "healthy") console.log(f.name);
   * ```
   *
   * @returns The healths, by name.
   */
  health(): AsyncGenerator<FileHealth> {
    return pages((after) => this.fsck(after), (page) => page.files);
  }

  /**
   * The health of a file (`{ name }`) or of a page of files.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const [health] = (await client.fsck({ name: "a.bin" })).files;
   * ```
   *
   * @param what A name, or a page.
   * @returns The healths.
   */
  fsck(what: { readonly name: string } | PageOptions = {}): Promise<NameNodeResponseOf["FSCK"]> {
    return this.#call({ op: "FSCK", ...what });
  }

  /**
   * One page of orphan block copies (what garbage collection may delete).
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { orphans } = await client.orphans({ graceMs: 0 });
   * ```
   *
   * @param options Grace period, cursor, limit.
   * @returns The page.
   */
  orphans(
    options: { readonly graceMs?: number; readonly after?: BlockRef; readonly limit?: number } = {},
  ): Promise<NameNodeResponseOf["ORPHANS"]> {
    return this.#call({ op: "ORPHANS", ...options });
  }

  /** Sends a request (then its data stream, if any) and reads the validated reply, in turn. */
  #call<K extends NameNodeOp>(
    request: NameNodeRequest & { op: K },
    stream?: (conn: FrameConnection) => Promise<void>,
  ): Promise<NameNodeResponseOf[K]> {
    const run = this.#queue.then(() => this.#exchange<K>(request, stream));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #exchange<K extends NameNodeOp>(
    request: NameNodeRequest & { op: K },
    stream: ((conn: FrameConnection) => Promise<void>) | undefined,
  ): Promise<NameNodeResponseOf[K]> {
    const payload = requestToJson(request);
    for (let attempt = 1;; attempt++) {
      const conn = await this.#connection();
      try {
        await conn.writeJsonFrame(FRAME_TYPE.REQUEST, payload);
        if (stream !== undefined) await stream(conn);
        const raw = await conn.readJsonFrame(FRAME_TYPE.RESPONSE);
        if (raw === null) {
          throw new CdfsError("UNAVAILABLE", "the namenode closed the connection");
        }
        const response = parseNameNodeResponse(request.op, raw);
        conn.prefetchHeader();
        return response;
      } catch (error) {
        if (error instanceof PeerError) {
          // A refusal of a request without data leaves the connection usable.
          if (stream === undefined) conn.prefetchHeader();
          else this.#drop();
          throw error;
        }
        this.#drop();
        const lost = !isCdfsError(error) || error.code === "UNAVAILABLE" ||
          error.code === "TIMEOUT";
        if (lost && READ_ONLY.has(request.op) && attempt === 1) {
          this.#current = (this.#current + 1) % this.#targets.length;
          continue;
        }
        if (lost) {
          throw new CdfsError(
            isCdfsError(error) ? error.code : "UNAVAILABLE",
            `namenode ${this.address}: ${messageOf(error)}${
              READ_ONLY.has(request.op) ? "" : ` (${request.op} may or may not have been applied)`
            }`,
            { cause: error },
          );
        }
        throw error;
      }
    }
  }

  /** The live connection, or a new one to the first namenode that answers from the current. */
  async #connection(): Promise<FrameConnection> {
    if (this.#closed) throw new CdfsError("UNAVAILABLE", "the namenode client was closed");
    const current = this.#conn;
    if (current !== null && !current.closed && !current.peerSentData) return current;
    this.#drop();
    const failures: string[] = [];
    for (let tried = 0; tried < this.#targets.length; tried++) {
      if (this.#options.signal?.aborted) {
        throw new CdfsError("UNAVAILABLE", "connecting to the namenode was abandoned");
      }
      const index = (this.#current + tried) % this.#targets.length;
      try {
        const conn = await openConnection(this.#targets[index]!, this.#options);
        if (this.#closed) {
          conn.close();
          throw new CdfsError("UNAVAILABLE", "the namenode client was closed");
        }
        this.#current = index;
        this.#conn = conn;
        this.#opened++;
        return conn;
      } catch (error) {
        if (this.#closed) throw error;
        failures.push(`${this.addresses[index]}: ${messageOf(error)}`);
      }
    }
    throw new CdfsError(
      "UNAVAILABLE",
      `no namenode answers (${failures.join("; ")})`,
    );
  }

  #drop(): void {
    this.#conn?.close();
    this.#conn = null;
  }
}

/**
 * The datanode of each logical node of `layout` for a file, from its blocks (see
 * `resolveLayout`): what a client passes as the `nodes` of a CODING run. A datanode that is
 * several logical nodes (a repair doubled blocks up on it) is at each of their indexes.
 *
 * @example
 * Not run by `deno test --doc`: it needs a running namenode.
 * ```ts ignore
 * const nodes = nodesOfFile(await client.getFile("a.bin"), layoutOfModule(rapidraid));
 * ```
 *
 * @param file The file.
 * @param layout The layout of its code.
 * @returns Id and address of each logical node's datanode, or null.
 * @throws {CdfsError} `CONFLICT` when the blocks do not follow the layout.
 */
export function nodesOfFile(file: FileView, layout: CodeLayout): (NodeRef | null)[] {
  const ids = resolveLayout(
    layout,
    file.blocks.map((b) => ({ role: { kind: b.kind, index: b.index }, node: b.node })),
    file.name,
  );
  const addresses = new Map(file.blocks.map((b) => [b.node, b.address]));
  return ids.map((id) => {
    if (id === null) return null;
    const address = addresses.get(id);
    if (address === null || address === undefined) {
      throw new CdfsError("NOT_FOUND", `datanode ${id} of file ${file.name} has no address`);
    }
    return { node: id, address };
  });
}

function openConnection(
  target: NodeAddress,
  options: NameNodeClientOptions,
): Promise<FrameConnection> {
  return dialFrameConnection(target, {
    timeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    unreachable: "",
    peer: "",
    signal: options.signal,
    abandoned: "connecting to the namenode was abandoned",
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    ...(options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs }),
  });
}

/**
 * The items of every page of a listing whose pages end with the cursor of the next one.
 *
 * @param fetch Gets the page after a cursor (`{}` for the first).
 * @param items A page's items.
 */
async function* pages<P extends { readonly next: string | null }, T>(
  fetch: (after: { after?: string }) => Promise<P>,
  items: (page: P) => readonly T[],
): AsyncGenerator<T> {
  let after: string | undefined;
  do {
    const page = await fetch(after === undefined ? {} : { after });
    yield* items(page);
    after = page.next ?? undefined;
  } while (after !== undefined);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
