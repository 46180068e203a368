/**
 * Automatic repair and periodic garbage collection, the loop `cdfs namenode serve` runs next to
 * its server (docs/namenode.md §12): no second repair, but `cdfs repair` and `cdfs gc` run
 * without anyone typing them.
 *
 * A **scan** reads the health of every file (FSCK, paged) and recomputes the queue from it:
 * a file with unavailable copies (its datanode dead, or reported missing) is queued, a file
 * healthy again or deleted leaves the queue. So the queue needs no storage of its own: a
 * namenode that restarts (SQLite or etcd) finds the same files in its first round. A scan costs
 * the namenode a pass over every record, so a round scans only when something may have changed
 * a file's health (the loop was woken: a datanode dead, blocks missing, a datanode back; or a
 * round started by hand), and otherwise at most every `scanIntervalMs` (60 s), which catches
 * what no one woke it for (a datanode marked dead by another namenode on the same etcd); a scan
 * that took long waits longer ({@linkcode SCAN_REST_FACTOR}), so that on a namespace of many
 * files these scans take a bounded share of the namenode. Repairs
 * start in order, the most endangered first (`orderRepairQueue`: the fewest copies to spare
 * beyond what decoding needs), up to `concurrency` files at once (a repair's fixed costs, the
 * namenode's records and the run's set-up, overlap the others' transfers), each with
 * {@linkcode repairFile}, exactly what
 * `cdfs repair NAME` runs: coded blocks rebuilt by derived repair programs, parts
 * re-replicated, onto live datanodes chosen by the layout rules of `spare.ts`, each rebuilt copy
 * recorded with MOVE_BLOCK. Before each repair the loop waits until the per-datanode rate
 * limiter (`RepairRateLimiter`) has no datanode over its budget, and charges it afterwards with
 * the bytes each datanode sent and wrote. A repair that fails (or leaves copies not rebuilt)
 * is retried after a backoff (5 s doubling to 5 min), not in a hot loop; a lost file stays in
 * the queue as `lost` and is not tried.
 *
 * Rounds (due repairs, retries after their backoff, garbage collection) run every `intervalMs`,
 * and at once on {@linkcode AutoRepair.wake} (the namenode
 * wakes the loop when it marks a datanode dead or a report says blocks are missing). When
 * `gcGraceMs` is set, a round also runs {@linkcode collectGarbage} every `gcIntervalMs`: the
 * copies a datanode that comes back still holds from before its blocks were rebuilt elsewhere
 * are orphans (MOVE_BLOCK moved their record), and go once older than the grace; the grace is
 * what protects copies in flight (a put or another repair under way).
 *
 * Every decision is one record through the namenode's log: `repair-queued`, `repair-started`,
 * `repair-finished` (`bytesRead`, `bytesWritten`, `ms`), `repair-failed` (`reason`),
 * `gc-removed`.
 *
 * @module
 */
import type { CodingModule } from "../../coding/lang/program.ts";
import { loadCodingModule } from "../../coding/lang/loader.ts";
import {
  orderRepairQueue,
  repairBackoffMs,
  repairMargin,
  type RepairQueueEntry,
  type RepairQueueSource,
} from "../../namenode/repair_queue.ts";
import { RepairRateLimiter } from "../../namenode/repair_rate.ts";
import type { FileHealth, FileView } from "../../namenode/responses.ts";
import { errorMessage } from "../objects/error_message.ts";
import { checkFileCode, filePartLength } from "./file_target.ts";
import { collectGarbage } from "./gc.ts";
import { repairFile, type RepairFileResult } from "./repair.ts";
import {
  type AutoRepairOptions,
  DEFAULT_REPAIR_CONCURRENCY,
  DEFAULT_SCAN_INTERVAL_MS,
  SCAN_REST_FACTOR,
} from "./auto_repair_options.ts";

export {
  type AutoRepairOptions,
  DEFAULT_REPAIR_CONCURRENCY,
  DEFAULT_SCAN_INTERVAL_MS,
  SCAN_REST_FACTOR,
};

/** A queued file and what the loop remembers of it. */
interface Entry {
  fileId: number;
  name: string;
  code: string;
  margin: number;
  unavailable: number;
  state: RepairQueueEntry["state"];
  attempts: number;
  failures: number;
  lastError: string | null;
  retryAt: number | null;
  queuedAt: number;
  done: number;
  total: number;
}

/** A round's outcome, for tests and callers that drive the loop by hand. */
export interface RoundResult {
  /** The files repaired in full this round. */
  readonly repaired: readonly string[];
  /** The files whose repair failed (or left copies not rebuilt). */
  readonly failed: readonly string[];
  /** Orphan copies garbage-collected. */
  readonly removed: number;
}

/**
 * The repair loop of a namenode.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { AutoRepair } from "./auto_repair.ts";
 * const loop = new AutoRepair({ namenode, log, rate: 32 * 1024 * 1024 });
 * loop.start();
 * console.log(loop.repairQueueSnapshot());
 * await loop.stop();
 * ```
 */
export class AutoRepair implements RepairQueueSource {
  /** The rate limiter repairs are paced by. */
  readonly limiter: RepairRateLimiter;
  readonly #options: AutoRepairOptions;
  /** How many files are repaired at once (checked once, here). */
  readonly #concurrency: number;
  readonly #now: () => number;
  readonly #queue = new Map<number, Entry>();
  readonly #modules = new Map<string, Promise<CodingModule>>();
  #round: Promise<RoundResult> | null = null;
  #loop: Promise<void> | null = null;
  #stopped = false;
  #woken = false;
  #wakeUp: (() => void) | null = null;
  #lastGc = -Infinity;
  /** Whether the next round scans every file's health (woken, or the first round). */
  #scanWanted = true;
  #lastScan = -Infinity;
  /** How long the last scan took, by the loop's clock. */
  #lastScanMs = 0;

  /**
   * A loop, not started ({@linkcode AutoRepair.start}, or rounds by hand with
   * {@linkcode AutoRepair.runOnce}).
   *
   * @param options Namenode, log, rate, periods.
   */
  constructor(options: AutoRepairOptions) {
    const concurrency = options.concurrency ?? DEFAULT_REPAIR_CONCURRENCY;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`repair concurrency must be a positive integer, got ${concurrency}`);
    }
    this.#concurrency = concurrency;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.limiter = new RepairRateLimiter(options.rate, this.#now);
  }

  /** Starts the loop: a round now, then every `intervalMs` or when woken. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Asks for a round that scans every file's health as soon as the one under way (if any) is
   * over.
   */
  wake(): void {
    this.#scanWanted = true;
    this.#woken = true;
    this.#wakeUp?.();
  }

  /**
   * A datanode joined or came back: every repair waiting out its backoff is due again (one
   * that found too few live datanodes to place a block waits for exactly this), and a round
   * starts as soon as it can. The failure counts stay, so a repair that fails again backs off
   * further.
   */
  retryWaiting(): void {
    for (const entry of this.#queue.values()) {
      if (entry.state === "waiting") entry.retryAt = null;
    }
    this.wake();
  }

  /**
   * Stops the loop: no repair starts after this; waits for the one under way.
   *
   * @returns When the loop is over.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeUp?.();
    await this.#loop;
    await this.#round?.catch(() => {});
  }

  /**
   * The queue now, in repair order, with each file's state and progress (a copy). For the
   * status page and `status` op: `NameNodeServer.repairQueueSnapshot` returns this.
   *
   * @returns The entries.
   */
  repairQueueSnapshot(): RepairQueueEntry[] {
    return orderRepairQueue([...this.#queue.values()]).map((e) => ({
      fileId: e.fileId,
      name: e.name,
      code: e.code,
      margin: e.margin,
      unavailable: e.unavailable,
      state: e.state,
      attempts: e.attempts,
      lastError: e.lastError,
      retryAt: e.retryAt === null ? null : new Date(e.retryAt).toISOString(),
      queuedAt: new Date(e.queuedAt).toISOString(),
      progress: { done: e.done, total: e.total },
    }));
  }

  /**
   * Runs one round now (or joins the one under way): queue from a scan of every file's health
   * (FSCK), repair what is due in order, collect garbage when due.
   *
   * @returns What the round did.
   */
  runOnce(): Promise<RoundResult> {
    this.#scanWanted = true;
    return this.#roundShared();
  }

  #roundShared(): Promise<RoundResult> {
    this.#round ??= this.#roundOnce().finally(() => this.#round = null);
    return this.#round;
  }

  async #run(): Promise<void> {
    const interval = this.#options.intervalMs ?? 5_000;
    while (!this.#stopped) {
      this.#woken = false;
      try {
        await this.#roundShared();
      } catch (error) {
        // A round cut short by stop() (the namenode closing the loop's connection as it stops)
        // is not a failure: the process is stopping, and its log must end with 'stopped'.
        if (this.#stopped) break;
        this.#options.log.emit("error", { message: `repair round failed: ${errorMessage(error)}` });
      }
      if (!this.#woken) await this.#sleep(interval);
    }
  }

  /** Sleeps `ms`, or less when woken or stopped. */
  #sleep(ms: number): Promise<void> {
    if (this.#stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeUp = done;
    });
  }

  async #roundOnce(): Promise<RoundResult> {
    if (this.#options.repair === false) {
      return { repaired: [], failed: [], removed: await this.#gcWhenDue() };
    }
    const scanEvery = Math.max(
      this.#options.scanIntervalMs ?? DEFAULT_SCAN_INTERVAL_MS,
      SCAN_REST_FACTOR * this.#lastScanMs,
    );
    if (this.#scanWanted || this.#now() - this.#lastScan >= scanEvery) {
      try {
        await this.#refresh();
      } catch (error) {
        this.#scanWanted = true; // the next round tries again
        throw error;
      }
    }
    const repaired: string[] = [];
    const failed: string[] = [];
    const running = new Set<Promise<void>>();
    for (const entry of orderRepairQueue([...this.#queue.values()])) {
      if (this.#stopped) break;
      if (entry.state === "lost") continue;
      if (entry.retryAt !== null && entry.retryAt > this.#now()) continue;
      if (this.#now() - entry.queuedAt < (this.#options.delayMs ?? 0)) continue;
      while (running.size >= this.#concurrency) await Promise.race(running);
      // The rate limit: no datanode over its budget when a repair starts.
      for (let wait = this.limiter.delayMs(); wait > 0; wait = this.limiter.delayMs()) {
        if (this.#stopped) break;
        await this.#sleep(wait);
        this.#woken = false;
      }
      if (this.#stopped) break;
      // The next start waits for this repair's reservation (or its end), so that the limiter
      // sees what this one will use.
      let reserved!: () => void;
      const reservation = new Promise<void>((resolve) => reserved = resolve);
      const repair: Promise<void> = this.#repair(entry, reserved).then((done) => {
        (done ? repaired : failed).push(entry.name);
      }).finally(() => {
        reserved();
        running.delete(repair);
      });
      running.add(repair);
      await reservation;
    }
    await Promise.all(running);
    const removed = await this.#gcWhenDue();
    return { repaired, failed, removed };
  }

  /** Reads every file's health and updates the queue: new unhealthy files in, healthy out. */
  async #refresh(): Promise<void> {
    // Cleared before the scan: a wake while it runs may concern a file it has read already.
    this.#scanWanted = false;
    this.#lastScan = this.#now();
    try {
      await this.#scan();
    } finally {
      this.#lastScanMs = this.#now() - this.#lastScan;
    }
  }

  /** The scan itself: the queue from every file's health. */
  async #scan(): Promise<void> {
    const seen = new Set<number>();
    for await (const health of this.#options.namenode.health()) {
      if (health.status !== "degraded" && health.status !== "lost") continue;
      seen.add(health.fileId);
      let entry = this.#queue.get(health.fileId);
      const margin = await this.#margin(health);
      if (entry === undefined) {
        entry = {
          fileId: health.fileId,
          name: health.name,
          code: health.code,
          margin,
          unavailable: health.unavailable.length,
          state: health.status === "lost" ? "lost" : "queued",
          attempts: 0,
          failures: 0,
          lastError: null,
          retryAt: null,
          queuedAt: this.#now(),
          done: 0,
          total: 0,
        };
        this.#queue.set(health.fileId, entry);
        this.#options.log.emit("repair-queued", {
          fileId: entry.fileId,
          name: entry.name,
          code: entry.code,
          status: health.status,
          margin,
          unavailable: health.unavailable.map((u) => `${u.block}@${u.node}`),
        });
      } else {
        entry.margin = margin;
        entry.unavailable = health.unavailable.length;
        if (health.status === "lost") entry.state = "lost";
        else if (entry.state === "lost") entry.state = "queued";
      }
    }
    for (const id of [...this.#queue.keys()]) if (!seen.has(id)) this.#queue.delete(id);
  }

  /** The file's margin from its record (0 when it cannot be read: treated as urgent). */
  async #margin(health: FileHealth): Promise<number> {
    if (health.status === "lost") return -1;
    try {
      const file = await this.#options.namenode.getFile(health.name);
      const module = await this.#module(file.code);
      const down = new Set(health.unavailable.map((u) => `${u.block}@${u.node}`));
      return repairMargin(
        file.blocks.filter((b) => b.state === "stored").map((b) => ({
          kind: b.kind,
          index: b.index,
          available: !down.has(`${b.block}@${b.node}`),
        })),
        module.k,
      );
    } catch {
      return 0;
    }
  }

  #module(code: string): Promise<CodingModule> {
    let module = this.#modules.get(code);
    if (module === undefined) {
      module = (this.#options.loadModule ?? ((name) => loadCodingModule(name)))(code);
      // A module that failed to load is tried again next time.
      module.catch(() => this.#modules.delete(code));
      this.#modules.set(code, module);
    }
    return module;
  }

  /**
   * Repairs one file; says whether every copy was rebuilt. `reserved` is called once its
   * budget is reserved with the rate limiter (or it failed before).
   */
  async #repair(entry: Entry, reserved: () => void): Promise<boolean> {
    const { log } = this.#options;
    const started = this.#now();
    entry.state = "repairing";
    entry.attempts++;
    entry.done = 0;
    entry.total = 0;
    log.emit("repair-started", {
      fileId: entry.fileId,
      name: entry.name,
      margin: entry.margin,
      unavailable: entry.unavailable,
      attempt: entry.attempts,
    });
    let reason: string;
    try {
      const file = await this.#options.namenode.getFile(entry.name);
      const module = await this.#module(file.code);
      checkFileCode(file, module);
      using _reservation = this.#reserve(file, filePartLength(file, module) * entry.unavailable);
      reserved();
      const result = await repairFile({
        namenode: this.#options.namenode,
        file,
        module,
        ...(this.#options.chunkSize === undefined ? {} : { chunkSize: this.#options.chunkSize }),
        ...(this.#options.client === undefined ? {} : { client: this.#options.client }),
        onProgress: (done, total) => {
          entry.done = done;
          entry.total = total;
        },
      });
      const traffic = this.#charge(file, result);
      if (result.failed.length === 0) {
        log.emit("repair-finished", {
          fileId: entry.fileId,
          name: entry.name,
          rebuilt: result.rebuilt.map((r) => `${r.block}@${r.to}`),
          bytesRead: traffic.read,
          bytesWritten: traffic.written,
          ms: Math.round(this.#now() - started),
        });
        this.#queue.delete(entry.fileId);
        return true;
      }
      reason = result.failed.map((f) => `${f.block} on ${f.node}: ${f.reason}`).join("; ");
    } catch (error) {
      reason = errorMessage(error);
    }
    entry.failures++;
    entry.state = "waiting";
    entry.lastError = reason;
    const delay = repairBackoffMs(entry.failures);
    entry.retryAt = this.#now() + delay;
    log.emit("repair-failed", {
      fileId: entry.fileId,
      name: entry.name,
      reason,
      attempt: entry.attempts,
      retryInMs: delay,
    });
    return false;
  }

  /**
   * Reserves with the rate limiter what a repair may move through each datanode before it
   * starts: `bytes` (a copy's length times the copies to rebuild) on every live datanode
   * holding a copy of the file, its possible sources. Repairs started while this one runs then
   * see the budget it will use; disposing of the result gives the reservation back, once the
   * real bytes are charged (or the repair failed).
   */
  #reserve(file: FileView, bytes: number): Disposable {
    const sources = [...new Set(file.blocks.filter((b) => b.alive).map((b) => b.node))];
    for (const node of sources) this.limiter.charge(node, bytes);
    return { [Symbol.dispose]: () => sources.forEach((n) => this.limiter.refund(n, bytes)) };
  }

  /**
   * Charges the rate limiter with what a repair moved: each rebuilt copy's bytes to its
   * target, and to each source (a coded block's datanode, a part's surviving copy).
   */
  #charge(file: FileView, result: RepairFileResult): { read: number; written: number } {
    let read = 0;
    let written = 0;
    for (const r of result.rebuilt) {
      written += r.length;
      this.limiter.charge(r.to, r.length);
      for (const source of r.sources) {
        const node = source.startsWith("coded")
          ? file.blocks.find((b) => b.kind === "coded" && `coded${b.index}` === source)?.node
          : source;
        read += r.length;
        if (node !== undefined) this.limiter.charge(node, r.length);
      }
    }
    return { read, written };
  }

  /** Collects garbage when it is due; the number of copies removed. */
  async #gcWhenDue(): Promise<number> {
    const grace = this.#options.gcGraceMs;
    if (grace === undefined || grace === null || this.#stopped) return 0;
    const every = this.#options.gcIntervalMs ?? Math.max(1_000, Math.min(600_000, grace));
    const now = this.#now();
    if (now - this.#lastGc < every) return 0;
    this.#lastGc = now;
    try {
      const result = await collectGarbage({
        namenode: this.#options.namenode,
        graceMs: grace,
        now: this.#now,
        ...(this.#options.client === undefined ? {} : { client: this.#options.client }),
      });
      for (const copy of result.deleted) {
        this.#options.log.emit("gc-removed", {
          block: copy.block,
          node: copy.node,
          length: copy.length,
          firstSeen: copy.firstSeen,
        });
      }
      for (const file of result.expired) {
        this.#options.log.emit("gc-removed", {
          fileId: file.fileId,
          name: file.name,
          pendingSince: file.created,
          copies: file.copies,
        });
      }
      return result.deleted.length;
    } catch (error) {
      this.#options.log.emit("error", {
        message: `garbage collection failed: ${errorMessage(error)}`,
      });
      return 0;
    }
  }
}
