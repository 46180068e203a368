/**
 * {@linkcode NameNodeClient}: a connection to one of several namenodes, with a typed method for
 * every op of docs/namenode.md. It asks where blocks go or are; the bytes then go to the
 * datanodes directly (`src/client/`), never through the namenode. How it fails over from one
 * namenode to the next is told in `failover_connection.ts`.
 *
 * One request at a time per connection (the protocol has no multiplexing); concurrent calls on
 * one client are queued. For parallelism, open more clients.
 *
 * @module
 */
import { parseNodeAddress } from "../core/address.ts";
import { CdfsError } from "../core/errors.ts";
import { MIN_CHUNK_SIZE } from "../protocol/frame.ts";
import { DatanodeOpsClient } from "./client_datanode_ops.ts";
import { FailoverConnection, type FailoverOptions } from "./failover_connection.ts";
import type { CodeLayout } from "./layout.ts";
import type { BlockPlacement, BlockRef, FileState } from "./meta/model.ts";
import { type CreateFileRequest, MAX_REPORT_CHUNK } from "./requests.ts";
import type { DatanodeView, FileHealth, FileView, NameNodeResponseOf } from "./responses.ts";

/**
 * Options of {@linkcode NameNodeClient.connect}: the connection's timeouts and the size of a
 * full block report's frames.
 *
 * @example
 * ```ts
 * import type { NameNodeClientOptions } from "./client.ts";
 * const options: NameNodeClientOptions = { connectTimeoutMs: 2000 };
 * ```
 */
export interface NameNodeClientOptions extends FailoverOptions {
  /** The DATA frame size of full block reports (default 64 KiB). */
  readonly reportChunkSize?: number;
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

const DEFAULT_REPORT_CHUNK = 64 * 1024;

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
export class NameNodeClient extends DatanodeOpsClient {
  private constructor(link: FailoverConnection, reportChunkSize: number) {
    super(link, reportChunkSize);
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
    const link = new FailoverConnection(
      list.map((a) => parseNodeAddress(a, { what: "namenode address" })),
      options,
    );
    await link.open();
    return new NameNodeClient(link, chunk);
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
    return this.call({
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
    return (await this.call({ op: "COMMIT_FILE", fileId, ...commit })).file;
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
    return (await this.call({ op: "ABORT_FILE", fileId })).file;
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
    return (await this.call({ op: "GET_FILE", name })).file;
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
    return (await this.call({ op: "GET_FILE", fileId })).file;
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
    return this.call({ op: "LIST_FILES", ...options });
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
    return (await this.call({ op: "DELETE_FILE", name })).file;
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
    return (await this.call({ op: "MOVE_BLOCK", fileId, blockId, from, to })).file;
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
    return this.call(
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
    return (await this.call({
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
    return this.call({ op: "LIST_DATANODES", ...options });
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
    return this.call({ op: "FSCK", ...what });
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
    return this.call({ op: "ORPHANS", ...options });
  }

  /**
   * The cluster at a glance: datanodes, file health counts, the most endangered files, the
   * repair queue, recent events (what the status page shows).
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { files, nodes } = await client.status();
   * ```
   *
   * @returns The report.
   */
  status(): Promise<NameNodeResponseOf["STATUS"]> {
    return this.call({ op: "STATUS" });
  }
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
