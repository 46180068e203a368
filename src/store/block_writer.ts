/**
 * Writing one block atomically. Bytes go to a temp file in `DIR/tmp/`; `commit` appends the
 * footer, writes the header, fsyncs the file, moves it into `DIR/blocks/` in one atomic step
 * and fsyncs that directory. Until then nothing is visible under the block's id, and any
 * failure (or `abort`) removes the temp file; a crash leaves only a temp file, which
 * `BlockStore.open` removes.
 *
 * @module
 */
import { blockDigest, type Checksummer, formatChecksum } from "../checksum/checksum.ts";
import { CdfsError } from "../core/errors.ts";
import { encodeFooter, encodeHeader } from "./block_file.ts";
import { pathExists, syncDirectory, writeFully } from "./file_io.ts";
import type { BlockInfo } from "./types.ts";

/**
 * Where and how a {@linkcode BlockWriter} writes; `BlockStore.create` fills it in.
 *
 * @example
 * ```ts
 * import type { BlockWriterTarget } from "./block_writer.ts";
 * function describe(target: BlockWriterTarget): string {
 *   return `${target.tempPath} -> ${target.blockPath}`;
 * }
 * ```
 */
export interface BlockWriterTarget {
  /** The block id. */
  block: string;
  /** The temp file, just created, open for writing and positioned at `HEADER_SIZE`. */
  file: Deno.FsFile;
  /** The temp file's path. */
  tempPath: string;
  /** Where the block file goes on commit. */
  blockPath: string;
  /** The directory of `blockPath`, fsynced after the move. */
  blocksDir: string;
  /** The chunk size of the block. */
  chunkSize: number;
  /** Whether commit may replace an existing block. */
  overwrite: boolean;
  /** When set, the exact number of bytes the block must have. */
  expectedLength?: number;
  /** This writer's own hasher (its incremental state lives across awaits). */
  hasher: Checksummer;
  /** Called once with `hasher` when the writer is done with it. */
  releaseHasher: (hasher: Checksummer) => void;
  /** Called once the block is visible under its id (the store tells its change listeners). */
  published?: (info: BlockInfo) => void;
}

/**
 * What `commit` checks before making the block visible, e.g. the END frame of a STORE.
 *
 * @example
 * ```ts
 * import type { CommitExpectation } from "./block_writer.ts";
 * const fromEndFrame: CommitExpectation = { length: 4096, digest: 0x1234n };
 * ```
 */
export interface CommitExpectation {
  /** The total length the sender says it sent. */
  length?: number;
  /** The block digest the sender computed. */
  digest?: bigint;
}

type WriterState = "open" | "committed" | "aborted";

/**
 * Writes one block. Create it with `BlockStore.create`; call `write` any number of times (one
 * call at a time), then `commit`, or `abort` to give up. If a call throws, the writer has
 * already aborted itself (the temp file is gone). Supports `await using`: leaving the scope
 * without a commit aborts.
 *
 * @example
 * ```ts
 * import { BlockStore } from "./block_store.ts";
 * const store = await BlockStore.open(await Deno.makeTempDir());
 * await using writer = await store.create("b1");
 * await writer.write(new TextEncoder().encode("hello "));
 * await writer.write(new TextEncoder().encode("world"));
 * const info = await writer.commit();
 * console.log(info.length); // 11
 * ```
 */
export class BlockWriter {
  #target: BlockWriterTarget;
  #state: WriterState = "open";
  #busy = false;
  #written = 0;
  /** Bytes of the current (unfinished) chunk already hashed. */
  #chunkFill = 0;
  #chunkChecksums: bigint[] = [];

  /**
   * Takes over a freshly created temp file. Use `BlockStore.create` instead.
   *
   * @param target Where and how to write.
   */
  constructor(target: BlockWriterTarget) {
    this.#target = target;
  }

  /**
   * The block id.
   *
   * @returns The id.
   */
  get block(): string {
    return this.#target.block;
  }

  /**
   * The chunk size of the block.
   *
   * @returns Bytes per chunk.
   */
  get chunkSize(): number {
    return this.#target.chunkSize;
  }

  /**
   * The number of bytes written so far.
   *
   * @returns Bytes.
   */
  get length(): number {
    return this.#written;
  }

  /**
   * Appends `bytes` to the block. Any size is fine; chunk checksums are computed incrementally
   * on the canonical chunk boundaries. When `bytes` is exactly one whole chunk starting on a
   * chunk boundary and `checksum` is given (the xxh64 of `bytes`, already verified, e.g. the
   * checksum of the DATA frame that carried them), it is recorded without hashing again;
   * otherwise `checksum` is ignored. `bytes` is not retained after the promise settles.
   *
   * @param bytes The next bytes of the block.
   * @param checksum The xxh64 of `bytes`, when known to be right.
   * @throws {CdfsError} `BAD_REQUEST` when the block would exceed its declared length.
   */
  async write(bytes: Uint8Array, checksum?: bigint): Promise<void> {
    this.#enter("write");
    try {
      const { expectedLength, chunkSize } = this.#target;
      if (expectedLength !== undefined && this.#written + bytes.length > expectedLength) {
        throw new CdfsError(
          "BAD_REQUEST",
          `block '${this.block}': more data than the declared length of ${expectedLength} bytes`,
        );
      }
      if (checksum !== undefined && this.#chunkFill === 0 && bytes.length === chunkSize) {
        this.#chunkChecksums.push(checksum);
      } else {
        this.#hash(bytes);
      }
      await writeFully(this.#target.file, bytes);
      this.#written += bytes.length;
    } catch (e) {
      throw await this.#fail("write", e);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Makes the block durable and visible: checks `expected`, writes the footer and header,
   * fsyncs the file, moves it under its id and fsyncs the directory. Without `overwrite`,
   * the move is a hard link that fails if the id exists, so of two concurrent writers of one
   * id exactly one commits and the other gets `EXISTS`; with `overwrite` it is a rename,
   * which atomically replaces any existing block (the last commit wins).
   *
   * @param expected Length and digest the block must have (e.g. from a STORE's END frame).
   * @returns The committed block's facts.
   * @throws {CdfsError} `BAD_REQUEST` when the block is shorter than its declared length,
   *   `CORRUPT` when `expected` does not match, `EXISTS` when the id exists and
   *   overwriting was not asked for. The writer is aborted in all these cases.
   */
  async commit(expected: CommitExpectation = {}): Promise<BlockInfo> {
    this.#enter("commit");
    const t = this.#target;
    let published = false;
    try {
      if (this.#chunkFill > 0) {
        this.#chunkChecksums.push(t.hasher.finish());
        this.#chunkFill = 0;
      }
      if (t.expectedLength !== undefined && this.#written !== t.expectedLength) {
        throw new CdfsError(
          "BAD_REQUEST",
          `block '${t.block}': received ${this.#written} bytes, declared ${t.expectedLength}`,
        );
      }
      if (expected.length !== undefined && expected.length !== this.#written) {
        throw new CdfsError(
          "CORRUPT",
          `block '${t.block}': sender says ${expected.length} bytes, received ${this.#written}`,
        );
      }
      const digest = blockDigest(t.hasher, this.#chunkChecksums);
      if (expected.digest !== undefined && expected.digest !== digest) {
        throw new CdfsError(
          "CORRUPT",
          `block '${t.block}': sender's digest ${formatChecksum(expected.digest)} differs from ` +
            `the received data's ${formatChecksum(digest)}`,
        );
      }
      const info: BlockInfo = {
        block: t.block,
        length: this.#written,
        chunkSize: t.chunkSize,
        digest,
        created: new Date(),
      };
      // Both encoded before the first await: once this writer is aborted (which may happen
      // during any await), its hasher may already serve another writer.
      const footer = encodeFooter(this.#chunkChecksums, digest);
      const header = encodeHeader({ ...info, chunks: this.#chunkChecksums.length }, t.hasher);
      // The file position is right after the data: every write appended there.
      await writeFully(t.file, footer);
      await t.file.seek(0, Deno.SeekMode.Start);
      await writeFully(t.file, header);
      await t.file.sync();
      t.file.close();
      await this.#publish();
      published = true;
      this.#finish("committed");
      try {
        // After the move: without this, a crash could lose the new directory entry.
        await syncDirectory(t.blocksDir);
      } finally {
        // Visible under its id from the move on, as a listing shows it, fsynced or not.
        t.published?.(info);
      }
      return info;
    } catch (e) {
      throw published ? e : await this.#fail("commit", e);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Gives up: closes and removes the temp file. Idempotent, never throws; does nothing after
   * a successful commit.
   */
  async abort(): Promise<void> {
    await this.#discard();
  }

  /** Aborts unless committed, for `await using writer = await store.create(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#discard();
  }

  #enter(what: string): void {
    if (this.#state !== "open") {
      throw new Error(`cannot ${what} block '${this.block}': the writer is ${this.#state}`);
    }
    if (this.#busy) {
      throw new Error(`cannot ${what} block '${this.block}': another call is in progress`);
    }
    this.#busy = true;
  }

  /** Feeds `bytes` to the incremental hash, closing a chunk at each chunk boundary. */
  #hash(bytes: Uint8Array): void {
    const { hasher, chunkSize } = this.#target;
    let pos = 0;
    while (pos < bytes.length) {
      if (this.#chunkFill === 0) hasher.start();
      const take = Math.min(chunkSize - this.#chunkFill, bytes.length - pos);
      hasher.update(take === bytes.length ? bytes : bytes.subarray(pos, pos + take));
      this.#chunkFill += take;
      pos += take;
      if (this.#chunkFill === chunkSize) {
        this.#chunkChecksums.push(hasher.finish());
        this.#chunkFill = 0;
      }
    }
  }

  /** Moves the finished temp file to its block path (see `commit` for the race rules). */
  async #publish(): Promise<void> {
    const t = this.#target;
    if (t.overwrite) {
      await Deno.rename(t.tempPath, t.blockPath);
      return;
    }
    try {
      await Deno.link(t.tempPath, t.blockPath);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) throw this.#exists();
      if (!(e instanceof Deno.errors.NotSupported || e instanceof Deno.errors.PermissionDenied)) {
        throw e;
      }
      // A file system without hard links: check, then rename. Two writers racing here could
      // both pass the check, and the later rename would win; acceptable where links are
      // impossible, and never the case on the Linux file systems cdfs runs on.
      if (await pathExists(t.blockPath)) throw this.#exists();
      await Deno.rename(t.tempPath, t.blockPath);
      return;
    }
    await removeIfPresent(t.tempPath);
  }

  #exists(): CdfsError {
    return new CdfsError("EXISTS", `block '${this.block}' already exists`);
  }

  #finish(state: "committed" | "aborted"): void {
    if (this.#state !== "open") return;
    this.#state = state;
    this.#target.releaseHasher(this.#target.hasher);
  }

  /**
   * Aborts after a failed call and returns the error to throw: the original one, or, when
   * `abort` was called while the call was under way (and closed the file under it), an error
   * that says so.
   */
  async #fail(what: string, error: unknown): Promise<unknown> {
    if (this.#state === "aborted" && !(error instanceof CdfsError)) {
      return new Error(`cannot ${what} block '${this.block}': the writer was aborted`, {
        cause: error,
      });
    }
    await this.#discard();
    return error;
  }

  async #discard(): Promise<void> {
    if (this.#state !== "open") return;
    this.#finish("aborted");
    try {
      this.#target.file.close();
    } catch {
      // Already closed (commit closes it before moving it).
    }
    await removeIfPresent(this.#target.tempPath).catch(() => {
      // Nothing more to do: BlockStore.open removes leftover temp files.
    });
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
