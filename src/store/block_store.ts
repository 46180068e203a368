/**
 * The block store of a datanode: one directory, one checksummed file per block.
 *
 * ```
 * DIR/blocks/<id>               committed blocks (format: block_file.ts)
 * DIR/tmp/<id>.<random>.tmp     blocks being written; removed by BlockStore.open
 * ```
 *
 * Writes are atomic (temp file, fsync, one atomic move, directory fsync: block_writer.ts) and
 * every read is verified (block_reader.ts). The store works without a server; it keeps no
 * state in memory beyond a few hashers, so several stores (or processes) may share a
 * directory for reading, but only one should be opened on it at a time because opening
 * removes the temp files of writes in progress.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { statfs } from "node:fs/promises";
import { type Checksummer, createChecksummer } from "../checksum/checksum.ts";
import { CdfsError } from "../core/errors.ts";
import { randomHex } from "../core/random.ts";
import { describeOsError } from "../format/os_error.ts";
import { isValidBlockId, validateBlockId, validateBlockIdFragment } from "../core/block_id.ts";
import { DEFAULT_CHUNK_SIZE, HEADER_SIZE, validateChunkSize } from "./block_file.ts";
import {
  type BlockReader,
  type ByteRange,
  openBlockFile,
  openBlockReader,
  readBlockInfo,
  readChunkedBlockInfo,
} from "./block_reader.ts";
import { BlockWriter } from "./block_writer.ts";
import { pathExists, syncDirectory } from "./file_io.ts";
import type { BlockChange, BlockChangeListener, BlockInfo, CorruptionListener } from "./types.ts";

/**
 * The default number of blocks `list` returns.
 */
export const LIST_LIMIT_DEFAULT = 1000;

/**
 * The most blocks one `list` call returns.
 */
export const LIST_LIMIT_MAX = 10_000;

/**
 * Options of {@linkcode BlockStore.open}.
 *
 * @example
 * ```ts
 * import type { BlockStoreOptions } from "./block_store.ts";
 * const options: BlockStoreOptions = { chunkSize: 256 * 1024 };
 * ```
 */
export interface BlockStoreOptions {
  /** The chunk size of new blocks unless `create` says otherwise; 1 MiB by default. */
  chunkSize?: number;
}

/**
 * Options of {@linkcode BlockStore.create}.
 *
 * @example
 * ```ts
 * import type { CreateBlockOptions } from "./block_store.ts";
 * const options: CreateBlockOptions = { overwrite: true, length: 1 << 20 };
 * ```
 */
export interface CreateBlockOptions {
  /** Replace the block if it exists (otherwise that is an `EXISTS` error). */
  overwrite?: boolean;
  /** The chunk size of this block; the store's by default. */
  chunkSize?: number;
  /** The exact length the block must have (a declared length); checked by write and commit. */
  length?: number;
}

/**
 * Options of {@linkcode BlockStore.list}.
 *
 * @example
 * ```ts
 * import type { ListBlocksOptions } from "./block_store.ts";
 * const nextPage: ListBlocksOptions = { prefix: "stripe-7.", after: "stripe-7.data-3" };
 * ```
 */
export interface ListBlocksOptions {
  /** Only ids that start with this; all by default. */
  prefix?: string;
  /** Only ids after this one (the `next` of the previous page); from the first by default. */
  after?: string;
  /** At most this many blocks, 1 to {@linkcode LIST_LIMIT_MAX}; {@linkcode LIST_LIMIT_DEFAULT} by default. */
  limit?: number;
}

/**
 * One entry of a listing.
 *
 * @example
 * ```ts
 * import type { ListedBlock } from "./block_store.ts";
 * const entry: ListedBlock = { block: "b1", length: 10, created: new Date() };
 * ```
 */
export interface ListedBlock {
  /** The block id. */
  block: string;
  /** Its length in bytes (0 when `corrupt` is set). */
  length: number;
  /** When it was committed (the file's modification time when `corrupt` is set). */
  created: Date;
  /**
   * Set when the block's header is damaged or its file has the wrong size: why. The block is
   * listed anyway so that whoever lists (e.g. a repair process) learns of it; reading it fails
   * with `CORRUPT`.
   */
  corrupt?: string;
}

/**
 * One page of a listing.
 *
 * @example
 * ```ts
 * import type { BlockListing } from "./block_store.ts";
 * const empty: BlockListing = { blocks: [], next: null };
 * ```
 */
export interface BlockListing {
  /** The blocks of this page, sorted by id (by UTF-16 code unit, i.e. ASCII order). */
  blocks: ListedBlock[];
  /** The `after` of the next page, or `null` when this is the last page. */
  next: string | null;
}

/**
 * The size of the file system a store lives on, as {@linkcode BlockStore.space} reports it.
 *
 * @example
 * ```ts
 * import type { StoreSpace } from "./block_store.ts";
 * const space: StoreSpace = { capacity: 100e9, free: 40e9 };
 * ```
 */
export interface StoreSpace {
  /** Bytes of the file system in all (its blocks times the block size). */
  capacity: number;
  /** Bytes available to this process (blocks available to unprivileged users). */
  free: number;
}

const TEMP_SUFFIX = ".tmp";
/** How many block headers `list` reads at once. */
const LIST_PARALLELISM = 16;

/**
 * The block store. Open one with {@linkcode BlockStore.open}.
 *
 * @example
 * ```ts
 * import { BlockStore } from "./block_store.ts";
 * const store = await BlockStore.open(await Deno.makeTempDir(), { chunkSize: 4096 });
 *
 * const writer = await store.create("b1");
 * await writer.write(new TextEncoder().encode("some bytes"));
 * await writer.commit();
 *
 * using reader = await store.openReader("b1");
 * const buffer = new Uint8Array(reader.info.chunkSize);
 * for await (const slice of reader.slices(buffer)) {
 *   console.log(new TextDecoder().decode(slice.bytes)); // "some bytes"
 * }
 * console.log((await store.list()).blocks.map((b) => b.block)); // ["b1"]
 * ```
 */
export class BlockStore {
  /** The data directory. */
  readonly dir: string;
  /** The chunk size of new blocks by default. */
  readonly chunkSize: number;
  /** How many stale temp files (writes cut off by a crash) `open` removed. */
  readonly removedTempFiles: number;
  /** Told of every `CORRUPT` a read through `openReader` finds (a datanode quarantines). */
  onCorrupt: CorruptionListener | undefined;
  #blocksDir: string;
  #tmpDir: string;
  /** For `checksum()` calls only, which never span an await, so one serves everyone. */
  #sharedHasher: Checksummer;
  /** Idle hashers for writers, whose incremental state lives across awaits. */
  #idleWriterHashers: Checksummer[] = [];
  readonly #listeners = new Set<BlockChangeListener>();

  private constructor(
    dir: string,
    chunkSize: number,
    removedTempFiles: number,
    sharedHasher: Checksummer,
  ) {
    this.dir = dir;
    this.chunkSize = chunkSize;
    this.removedTempFiles = removedTempFiles;
    this.#blocksDir = `${dir}/blocks`;
    this.#tmpDir = `${dir}/tmp`;
    this.#sharedHasher = sharedHasher;
  }

  /**
   * Opens the store in `dir`, creating `dir/blocks` and `dir/tmp` as needed, and removes stale
   * temp files (writes cut off by a crash; never visible as blocks).
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir());
   * console.log(store.chunkSize); // 1048576
   * ```
   *
   * @param dir The data directory.
   * @param options The default chunk size.
   * @returns The store.
   * @throws {CdfsError} `BAD_REQUEST` for a bad chunk size; `UNAVAILABLE` naming `dir` when it
   * cannot hold blocks (it is a file, or this process may not create or write files there).
   */
  static async open(dir: string, options: BlockStoreOptions = {}): Promise<BlockStore> {
    const chunkSize = validateChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    let removed = 0;
    try {
      await Deno.mkdir(`${dir}/blocks`, { recursive: true });
      await Deno.mkdir(`${dir}/tmp`, { recursive: true });
      for await (const entry of Deno.readDir(`${dir}/tmp`)) {
        if (!entry.isFile || !entry.name.endsWith(TEMP_SUFFIX)) continue;
        try {
          await Deno.remove(`${dir}/tmp/${entry.name}`);
          removed++;
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
      // An existing directory may be readable and not writable: found now, not by the first
      // STORE. The probe is a temp file, which the next open removes if this one is cut off.
      const probe = `${dir}/tmp/probe.${randomHex(8)}${TEMP_SUFFIX}`;
      (await Deno.open(probe, { write: true, createNew: true })).close();
      await Deno.remove(probe);
    } catch (e) {
      throw new CdfsError("UNAVAILABLE", `data directory ${dir}: ${describeOsError(e)}`, {
        cause: e,
      });
    }
    return new BlockStore(dir, chunkSize, removed, await createChecksummer());
  }

  /**
   * Starts writing block `id`. Nothing is visible under `id` until the writer commits.
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir());
   * const writer = await store.create("b1", { length: 3 });
   * await writer.write(new Uint8Array([1, 2, 3]));
   * console.log((await writer.commit()).length); // 3
   * ```
   *
   * @param id The block id.
   * @param options Overwrite, chunk size, declared length.
   * @returns The writer.
   * @throws {CdfsError} `BAD_REQUEST` for a bad id, chunk size or length; `EXISTS` when the
   *   block exists and `overwrite` is not set (checked again at commit).
   */
  async create(id: string, options: CreateBlockOptions = {}): Promise<BlockWriter> {
    const block = validateBlockId(id);
    const chunkSize = validateChunkSize(options.chunkSize ?? this.chunkSize);
    const expectedLength = options.length;
    if (
      expectedLength !== undefined &&
      (!Number.isSafeInteger(expectedLength) || expectedLength < 0)
    ) {
      throw new CdfsError(
        "BAD_REQUEST",
        `block length must be a non-negative integer, not ${expectedLength}`,
      );
    }
    const overwrite = options.overwrite ?? false;
    const blockPath = this.#blockPath(block);
    if (!overwrite && await pathExists(blockPath)) {
      throw new CdfsError("EXISTS", `block '${block}' already exists`);
    }
    const tempPath = `${this.#tmpDir}/${block}.${randomHex(8)}${TEMP_SUFFIX}`;
    const file = await Deno.open(tempPath, { write: true, createNew: true });
    try {
      await file.seek(HEADER_SIZE, Deno.SeekMode.Start);
    } catch (e) {
      file.close();
      await Deno.remove(tempPath).catch(() => {});
      throw e;
    }
    return new BlockWriter({
      block,
      file,
      tempPath,
      blockPath,
      blocksDir: this.#blocksDir,
      chunkSize,
      overwrite,
      ...(expectedLength === undefined ? {} : { expectedLength }),
      hasher: this.#idleWriterHashers.pop() ?? await createChecksummer(),
      releaseHasher: (hasher) => this.#idleWriterHashers.push(hasher),
      published: (info) => this.#notify({ kind: "added", block, length: info.length }),
    });
  }

  /**
   * Opens block `id` for verified reading of `range` (the whole block by default). Close the
   * reader when done (or open it with `using`).
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir(), { chunkSize: 4096 });
   * const writer = await store.create("b1");
   * await writer.write(new Uint8Array(5000).fill(1));
   * await writer.commit();
   * using reader = await store.openReader("b1", { offset: 4000 });
   * console.log(reader.length, reader.firstChunk, reader.endChunk); // 1000 0 2
   * ```
   *
   * @param id The block id.
   * @param range The bytes to read.
   * @returns The reader.
   * @throws {CdfsError} `BAD_REQUEST` for a bad id or a range outside the block, `NOT_FOUND`,
   *   `CORRUPT` when the block's header or footer is damaged.
   */
  async openReader(id: string, range: ByteRange = {}): Promise<BlockReader> {
    const block = validateBlockId(id);
    const path = this.#blockPath(block);
    return await openBlockReader(
      path,
      block,
      this.#sharedHasher,
      range,
      (r) => this.onCorrupt?.(r),
    );
  }

  /**
   * The facts of block `id`, after checking its header and footer (not its data: that is
   * checked by every read).
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir());
   * const writer = await store.create("b1");
   * await writer.commit();
   * console.log((await store.stat("b1")).length); // 0
   * ```
   *
   * @param id The block id.
   * @returns The block's facts.
   * @throws {CdfsError} `BAD_REQUEST` for a bad id, `NOT_FOUND`, `CORRUPT`.
   */
  async stat(id: string): Promise<BlockInfo> {
    const block = validateBlockId(id);
    using file = await openBlockFile(this.#blockPath(block), block);
    const { length, chunkSize, digest, created } = await readChunkedBlockInfo(
      file,
      block,
      this.#sharedHasher,
    );
    return { block, length, chunkSize, digest, created };
  }

  /**
   * Deletes block `id` (durably: the directory is fsynced). Readers that have it open can
   * still read it to the end.
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir());
   * await (await store.create("b1")).commit();
   * await store.delete("b1");
   * console.log(await store.count()); // 0
   * ```
   *
   * @param id The block id.
   * @throws {CdfsError} `BAD_REQUEST` for a bad id, `NOT_FOUND` when there is no such block.
   */
  async delete(id: string): Promise<void> {
    const block = validateBlockId(id);
    try {
      await Deno.remove(this.#blockPath(block));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new CdfsError("NOT_FOUND", `block '${block}' does not exist`);
      }
      throw e;
    }
    try {
      await syncDirectory(this.#blocksDir);
    } finally {
      // Gone from the listing from the removal on, fsynced or not.
      this.#notify({ kind: "removed", block });
    }
  }

  /**
   * Calls `listener` after every change to the set of committed blocks: a commit (STORE, a
   * CODING output, any writer of this store) or a delete. This is the one place every
   * change passes through, which is what a datanode's reports to its namenode need.
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir());
   * const stop = store.watch((change) => console.log(change.kind, change.block));
   * await (await store.create("b1")).commit(); // added b1
   * await store.delete("b1"); // removed b1
   * stop();
   * ```
   *
   * @param listener Called synchronously with each change; must not throw.
   * @returns A function that stops the calls.
   */
  watch(listener: BlockChangeListener): () => void {
    // A wrapper of its own, so that watching twice with one function is two subscriptions.
    const entry: BlockChangeListener = (change) => listener(change);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /**
   * Lists blocks in id order, one page at a time: pass the returned `next` as `after` for
   * the next page. Reads the directory and the header of each listed block (so a page costs
   * one directory scan plus `limit` small reads); blocks with a damaged header or a wrong file
   * size are listed with `corrupt` set.
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir());
   * for (const id of ["a1", "a2", "b1"]) await (await store.create(id)).commit();
   * const page = await store.list({ prefix: "a", limit: 1 });
   * console.log(page.blocks[0]?.block, page.next); // a1 a1
   * ```
   *
   * @param options Prefix, cursor and page size.
   * @returns One page of blocks and the cursor of the next.
   * @throws {CdfsError} `BAD_REQUEST` for a bad prefix, cursor or limit.
   */
  async list(options: ListBlocksOptions = {}): Promise<BlockListing> {
    const prefix = validateBlockIdFragment(options.prefix ?? "", "list prefix");
    const after = validateBlockIdFragment(options.after ?? "", "list after");
    const limit = options.limit ?? LIST_LIMIT_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) {
      throw new CdfsError(
        "BAD_REQUEST",
        `list limit must be an integer from 1 to ${LIST_LIMIT_MAX}, not ${limit}`,
      );
    }
    const ids: string[] = [];
    for await (const entry of Deno.readDir(this.#blocksDir)) {
      const id = entry.name;
      if (id.startsWith(prefix) && id > after && isValidBlockId(id)) ids.push(id);
    }
    ids.sort(); // code-unit order, which for ids (ASCII) is byte order
    const blocks: ListedBlock[] = [];
    let index = 0;
    while (index < ids.length && blocks.length < limit) {
      const batch = ids.slice(index, index + Math.min(LIST_PARALLELISM, limit - blocks.length));
      index += batch.length;
      const entries = await Promise.all(batch.map((id) => this.#listEntry(id)));
      for (const entry of entries) if (entry !== undefined) blocks.push(entry);
    }
    const next = index < ids.length ? blocks.at(-1)?.block ?? null : null;
    return { blocks, next };
  }

  /**
   * The SHA-256 of block `id`'s bytes as 64 hex digits (for `cdfs stat --sha256`), computed
   * while streaming the block through verified reads, one chunk in memory at a time.
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir());
   * await (await store.create("empty")).commit();
   * console.log(await store.sha256("empty"));
   * // e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
   * ```
   *
   * @param id The block id.
   * @param into A buffer of at least one chunk to read into; one is allocated by default.
   * @returns The hex SHA-256.
   * @throws {CdfsError} `BAD_REQUEST`, `NOT_FOUND`, `CORRUPT` as for reads.
   */
  async sha256(id: string, into?: Uint8Array): Promise<string> {
    using reader = await this.openReader(id);
    const buffer = into ?? new Uint8Array(Math.min(reader.info.chunkSize, reader.info.length));
    const hash = createHash("sha256");
    for (let index = 0; index < reader.info.chunkCount; index++) {
      hash.update(await reader.readChunk(index, buffer));
    }
    return hash.digest("hex");
  }

  /**
   * The bytes available to this process on the store's file system.
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir());
   * console.log(await store.freeBytes() > 0); // true
   * ```
   *
   * @returns Free bytes (blocks available to unprivileged users times block size).
   */
  async freeBytes(): Promise<number> {
    return (await this.space()).free;
  }

  /**
   * The capacity and free bytes of the store's file system (what a datanode registers with
   * its namenode and sends in heartbeats).
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir());
   * const { capacity, free } = await store.space();
   * console.log(capacity >= free); // true
   * ```
   *
   * @returns Capacity and free bytes.
   */
  async space(): Promise<StoreSpace> {
    const fs = await statfs(this.dir);
    const size = Number(fs.bsize);
    return { capacity: Number(fs.blocks) * size, free: Number(fs.bavail) * size };
  }

  /**
   * The number of committed blocks (one directory scan).
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir());
   * console.log(await store.count()); // 0
   * ```
   *
   * @returns The number of blocks.
   */
  async count(): Promise<number> {
    let n = 0;
    for await (const entry of Deno.readDir(this.#blocksDir)) {
      if (isValidBlockId(entry.name)) n++;
    }
    return n;
  }

  #blockPath(block: string): string {
    return `${this.#blocksDir}/${block}`;
  }

  #notify(change: BlockChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the commit or delete stands.
      }
    }
  }

  /** The listing entry of `id`, or `undefined` when it vanished since the directory scan. */
  async #listEntry(id: string): Promise<ListedBlock | undefined> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.#blockPath(id), { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    try {
      const info = await readBlockInfo(file, id, this.#sharedHasher);
      return { block: id, length: info.length, created: info.created };
    } catch (e) {
      if (!(e instanceof CdfsError && e.code === "CORRUPT")) throw e;
      const { mtime } = await file.stat();
      return { block: id, length: 0, created: mtime ?? new Date(0), corrupt: e.message };
    } finally {
      file.close();
    }
  }
}
