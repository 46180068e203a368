/**
 * The datanode's scrub: pass after pass over every block, verifying each chunk against its
 * stored checksum (through the store's own verified reads, `BlockReader.readChunk`), paced by a
 * token bucket at `--scrub-rate` bytes per second so that foreground traffic keeps the disk.
 *
 * A block found damaged — by the scrub, or by any read of the store (RETRIEVE, a CODING input:
 * the store's `onCorrupt`) — is quarantined (`src/store/quarantine.ts`): out of the block
 * namespace, so it is never served or read as a decoder's or repair's input again, and reported
 * removed through the store's change feed, so the namenode sees the block missing and has it
 * rebuilt. Each is one `block-corrupt` log record.
 *
 * One pass at a time: a requested pass (SCRUB) stops a background pass under way and runs in
 * its place; a second request while one runs is told `BUSY`.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import {
  MAX_SCRUB_LISTED,
  type ScrubStatus,
  type ScrubSummary,
} from "../protocol/scrub_messages.ts";
import type { BlockReader } from "../store/block_reader.ts";
import { type BlockStore, LIST_LIMIT_MAX, type ListedBlock } from "../store/block_store.ts";
import { quarantineBlock } from "../store/quarantine.ts";
import type { CorruptionReport } from "../store/types.ts";
import { discardLog, type LogSink } from "./log.ts";
import { type Clock, SYSTEM_CLOCK, TokenBucket } from "./token_bucket.ts";

/**
 * The background scrub rate of `datanode serve` by default: 8 MiB/s, a few percent of a disk.
 */
export const DEFAULT_SCRUB_RATE = 8 * 1024 * 1024;

/**
 * The pause between two background passes by default (so a small store is not re-read in a
 * tight loop).
 */
export const DEFAULT_SCRUB_PAUSE_MS = 10_000;

/** What opening a block costs against the rate (its header and footer reads). */
const OPEN_COST = 4096;

/**
 * Options of a {@linkcode Scrubber}.
 *
 * @example
 * ```ts
 * import type { ScrubberOptions } from "./scrub.ts";
 * import { BlockStore } from "../store/block_store.ts";
 * const options: ScrubberOptions = {
 *   store: await BlockStore.open(await Deno.makeTempDir()),
 *   nodeId: "dn1",
 *   rate: 8 << 20,
 * };
 * ```
 */
export interface ScrubberOptions {
  /** The store to scrub; its `onCorrupt` is taken over. */
  store: BlockStore;
  /** The node id, for log records. */
  nodeId: string;
  /** Background bytes per second; 0 (the default): background passes off, SCRUB only. */
  rate?: number;
  /** The pause between background passes (default {@linkcode DEFAULT_SCRUB_PAUSE_MS}). */
  pauseMs?: number;
  /** Where `block-corrupt` records go. */
  log?: LogSink;
  /** The clock of the pacing (tests pass a fake one). */
  clock?: Clock;
}

/**
 * Options of {@linkcode Scrubber.scrubNow}.
 *
 * @example
 * ```ts
 * import type { ScrubNowOptions } from "./scrub.ts";
 * const options: ScrubNowOptions = { rate: 64 << 20, onProgress: (bytes) => console.log(bytes) };
 * ```
 */
export interface ScrubNowOptions {
  /** Bytes per second (default: the background rate, or unlimited when that is 0). */
  rate?: number;
  /** Told the data bytes verified so far, after each chunk. */
  onProgress?: (bytes: number) => void;
  /** Stops the pass (it rejects with the reason). */
  signal?: AbortSignal;
}

/**
 * A datanode's scrubber. {@linkcode Scrubber.start} starts the background passes (when the
 * rate is above 0); {@linkcode Scrubber.stop} ends them.
 *
 * @example
 * ```ts
 * import { BlockStore } from "../store/block_store.ts";
 * import { Scrubber } from "./scrub.ts";
 * const store = await BlockStore.open(await Deno.makeTempDir());
 * const writer = await store.create("b1");
 * await writer.write(new Uint8Array(100));
 * await writer.commit();
 * const scrubber = new Scrubber({ store, nodeId: "dn1" });
 * const summary = await scrubber.scrubNow();
 * console.log(summary.blocks, summary.bytes, summary.corrupt); // 1 100 0
 * await scrubber.stop();
 * ```
 */
export class Scrubber {
  /** The background rate in bytes per second (0: off). */
  readonly rate: number;
  readonly #store: BlockStore;
  readonly #nodeId: string;
  readonly #log: LogSink;
  readonly #clock: Clock;
  readonly #pauseMs: number;
  readonly #stopping = new AbortController();
  /** Quarantines under way, by block. */
  readonly #quarantines = new Map<string, Promise<boolean>>();
  #loop: Promise<void> | null = null;
  /** The pass under way (background or requested), settled when it ends. */
  #current: Promise<unknown> | null = null;
  #background: AbortController | null = null;
  #requested: Promise<unknown> | null = null;
  #pass = 0;
  #passBytes = 0;
  #passBlocks = 0;
  #lastPassFinished: string | null = null;
  #corruptFound = 0;

  /**
   * Makes the scrubber of `options.store` and takes over the store's `onCorrupt`, so that a
   * damaged block any read finds is quarantined.
   *
   * @param options The store, rate, log and clock.
   * @throws {RangeError} For a negative or non-integer rate.
   */
  constructor(options: ScrubberOptions) {
    const rate = options.rate ?? 0;
    if (!Number.isSafeInteger(rate) || rate < 0) throw new RangeError(`bad scrub rate ${rate}`);
    this.rate = rate;
    this.#store = options.store;
    this.#nodeId = options.nodeId;
    this.#log = options.log ?? discardLog;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#pauseMs = options.pauseMs ?? DEFAULT_SCRUB_PAUSE_MS;
    this.#store.onCorrupt = (report) => void this.quarantine(report);
  }

  /** The progress of the scrub, for STATS. */
  get status(): ScrubStatus {
    return {
      rate: this.rate,
      running: this.#current !== null,
      pass: this.#pass,
      passBytes: this.#passBytes,
      passBlocks: this.#passBlocks,
      lastPassFinished: this.#lastPassFinished,
      corruptFound: this.#corruptFound,
    };
  }

  /** Starts the background passes, when the rate is above 0. Idempotent. */
  start(): void {
    if (this.rate === 0 || this.#loop !== null || this.#stopping.signal.aborted) return;
    this.#loop = this.#backgroundLoop();
  }

  /**
   * Stops the background passes and a requested pass under way, and waits for them and for
   * the quarantines under way.
   */
  async stop(): Promise<void> {
    this.#stopping.abort(new CdfsError("UNAVAILABLE", "the node is stopping"));
    await this.#loop;
    await this.#current?.catch(() => {});
    await Promise.all(this.#quarantines.values());
  }

  /**
   * Runs one pass now, in place of a background pass under way.
   *
   * @param options Rate, progress callback, abort signal.
   * @returns What the pass found.
   * @throws {CdfsError} `BUSY` while another requested pass runs; `UNAVAILABLE` once stopped.
   */
  async scrubNow(options: ScrubNowOptions = {}): Promise<ScrubSummary> {
    if (this.#requested !== null) {
      throw new CdfsError("BUSY", "a scrub requested earlier is still running on this node");
    }
    this.#stopping.signal.throwIfAborted();
    const signal = options.signal === undefined
      ? this.#stopping.signal
      : AbortSignal.any([options.signal, this.#stopping.signal]);
    const turn = (async () => {
      this.#background?.abort(new Error("a requested pass takes over"));
      await this.#current?.catch(() => {});
      const rate = options.rate ?? this.rate;
      return await this.#run(rate > 0 ? new TokenBucket(rate, this.#bucketOptions(rate)) : null, {
        signal,
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      });
    })();
    this.#requested = turn;
    try {
      return await turn;
    } finally {
      this.#requested = null;
    }
  }

  /**
   * Quarantines a block a read found damaged (at most once at a time per block) and logs it.
   *
   * @param report The block and where it was damaged.
   * @returns Whether this call moved the block (false: it was gone already, or the move failed,
   *   which is logged as an `error` event).
   */
  quarantine(report: CorruptionReport): Promise<boolean> {
    const under = this.#quarantines.get(report.block);
    if (under !== undefined) return under;
    const moved = (async () => {
      try {
        const kept = await quarantineBlock(this.#store, report.block);
        if (kept === null) return false;
        this.#corruptFound++;
        this.#emit({
          event: "block-corrupt",
          block: report.block,
          ...(report.chunk === undefined ? {} : { chunk: report.chunk }),
          ...(report.offset === undefined ? {} : { offset: report.offset }),
          message: `${report.error.message}; quarantined as ${kept}`,
        });
        return true;
      } catch (e) {
        this.#emit({
          event: "error",
          block: report.block,
          message: `quarantine of block '${report.block}' failed: ${
            e instanceof Error ? e.message : String(e)
          }`,
        });
        return false;
      } finally {
        this.#quarantines.delete(report.block);
      }
    })();
    this.#quarantines.set(report.block, moved);
    return moved;
  }

  #bucketOptions(rate: number): { burst: number; clock: Clock } {
    return { burst: Math.max(rate / 10, OPEN_COST), clock: this.#clock };
  }

  async #backgroundLoop(): Promise<void> {
    const stopping = this.#stopping.signal;
    const bucket = new TokenBucket(this.rate, this.#bucketOptions(this.rate));
    while (!stopping.aborted) {
      if (this.#requested !== null) {
        await this.#requested.catch(() => {});
        continue;
      }
      const controller = new AbortController();
      this.#background = controller;
      try {
        await this.#run(bucket, { signal: AbortSignal.any([controller.signal, stopping]) });
      } catch (e) {
        if (!controller.signal.aborted && !stopping.aborted) {
          this.#emit({ event: "error", message: `scrub pass failed: ${String(e)}` });
        }
      } finally {
        this.#background = null;
      }
      await this.#clock.sleep(this.#pauseMs, stopping).catch(() => {});
    }
  }

  /** One pass over every block. */
  #run(
    bucket: TokenBucket | null,
    options: { signal: AbortSignal; onProgress?: (bytes: number) => void },
  ): Promise<ScrubSummary> {
    const pass = this.#runPass(bucket, options);
    this.#current = pass;
    return pass.finally(() => {
      if (this.#current === pass) this.#current = null;
    });
  }

  async #runPass(
    bucket: TokenBucket | null,
    options: { signal: AbortSignal; onProgress?: (bytes: number) => void },
  ): Promise<ScrubSummary> {
    const { signal } = options;
    const started = this.#clock.now();
    const pass = ++this.#pass;
    this.#passBytes = 0;
    this.#passBlocks = 0;
    const corrupt: string[] = [];
    const scratch = { buffer: new Uint8Array(0) };
    let after: string | undefined;
    do {
      signal.throwIfAborted();
      const page = await this.#store.list({
        limit: LIST_LIMIT_MAX,
        ...(after === undefined ? {} : { after }),
      });
      for (const entry of page.blocks) {
        signal.throwIfAborted();
        await bucket?.take(OPEN_COST, signal);
        if (await this.#verify(entry, bucket, scratch, options)) corrupt.push(entry.block);
        this.#passBlocks++;
      }
      after = page.next ?? undefined;
    } while (after !== undefined);
    this.#lastPassFinished = new Date().toISOString();
    return {
      pass,
      blocks: this.#passBlocks,
      bytes: this.#passBytes,
      corrupt: corrupt.length,
      quarantined: corrupt.slice(0, MAX_SCRUB_LISTED),
      ms: Math.round(this.#clock.now() - started),
    };
  }

  /** Verifies one block; true when it was damaged (and is now quarantined). */
  async #verify(
    entry: ListedBlock,
    bucket: TokenBucket | null,
    scratch: { buffer: Uint8Array },
    options: { signal: AbortSignal; onProgress?: (bytes: number) => void },
  ): Promise<boolean> {
    const { block } = entry;
    let reader: BlockReader | undefined;
    try {
      if (entry.corrupt !== undefined) {
        // The listing read its header already: no read of the store will tell the hook.
        throw new CdfsError("CORRUPT", entry.corrupt);
      }
      reader = await this.#store.openReader(block);
      const { chunkCount } = reader.info;
      for (let index = 0; index < chunkCount; index++) {
        const size = reader.chunkLength(index);
        if (scratch.buffer.length < size) scratch.buffer = new Uint8Array(size);
        await bucket?.take(size, options.signal);
        await reader.readChunk(index, scratch.buffer);
        this.#passBytes += size;
        options.onProgress?.(this.#passBytes);
      }
      return false;
    } catch (e) {
      if (!(e instanceof CdfsError)) throw e;
      if (e.code === "NOT_FOUND") return false; // deleted since the listing
      if (e.code !== "CORRUPT") throw e;
      // A failed read told the store's hook, which started the quarantine; a damaged header
      // seen by the listing starts it here. Either way, wait for it.
      await this.quarantine({ block, error: e });
      return true;
    } finally {
      reader?.close();
    }
  }

  #emit(
    fields: { event: string; message: string; block?: string; chunk?: number; offset?: number },
  ) {
    try {
      this.#log({ time: new Date().toISOString(), node: this.#nodeId, ...fields });
    } catch {
      // A broken sink must not stop the scrub.
    }
  }
}
