/**
 * A datanode's side of its namenode (docs/namenode.md §4): register, report every block, keep
 * heartbeating, report changes as they happen, say goodbye when stopped.
 *
 * - **Register** (id, address, capacity, free) when it starts, then send a **full block
 *   report** of every committed block of the store (temp files of writes under way are never
 *   blocks). The namenode's reply sets the pace: a **heartbeat** with the free space every
 *   `heartbeatIntervalMs`, a full report again every `blockReportIntervalMs`.
 * - **Incremental reports**: the store tells every commit and delete (`BlockStore.watch`,
 *   whatever caused it: STORE, DELETE, a CODING output). Changes wait `batchDelayMs`, so a
 *   burst of STOREs is one report (at most 100 entries each, the protocol's bound).
 * - **A namenode that forgot the node** (it answers `NOT_FOUND`: a namenode started on an empty
 *   store), and one whose connection had to be made again (it may be a new process, whose
 *   memory of missing copies is empty), get a new registration and a full report at once.
 * - **An unreachable namenode** never stops the datanode from serving: the reporter logs the
 *   outage once, retries with exponential backoff (with jitter, so a cluster's datanodes do
 *   not all knock at the same instant), and on reconnecting registers and sends a full
 *   report again: changes made meanwhile are in it, and a restarted namenode rebuilds its
 *   memory of missing copies from full reports (docs/namenode.md §8).
 * - **Stopping** (the datanode's graceful shutdown) sends the changes still waiting, then
 *   `LEAVE`: the namenode marks the node dead at once, so FSCK and reads see a planned stop
 *   now rather than after the namenode's `deadAfterMs` of silence. Both together get
 *   `stopTimeoutMs` (1 s): a namenode that does not answer never holds the stop up for longer,
 *   and one the reporter is not registered with (down, still connecting) is not waited for at
 *   all. A killed datanode sends nothing: the silence still tells.
 *
 * @module
 */
import { isValidBlockId } from "../core/block_id.ts";
import { type CdfsError, isCdfsError } from "../core/errors.ts";
import { NameNodeClient } from "../namenode/client.ts";
import {
  MAX_FULL_REPORT,
  MAX_INCREMENTAL_REPORT,
  type ReportedBlockEntry,
} from "../namenode/meta/model.ts";
import type { BlockStore } from "../store/block_store.ts";
import { LIST_LIMIT_MAX } from "../store/block_store.ts";
import { PendingChanges } from "./block_changes.ts";
import { discardLog, type LogSink } from "./log.ts";

/**
 * What the reporter needs of a namenode connection: the datanode ops of
 * {@linkcode NameNodeClient}.
 *
 * @example
 * ```ts
 * import type { NameNodeLink } from "./namenode_reporter.ts";
 * import { NameNodeClient } from "../namenode/client.ts";
 * const connect = (addresses: readonly string[]): Promise<NameNodeLink> =>
 *   NameNodeClient.connect(addresses);
 * ```
 */
export type NameNodeLink = Pick<
  NameNodeClient,
  "register" | "heartbeat" | "reportAll" | "reportChanges" | "leave" | "close" | "connections"
>;

/**
 * What the reporter needs of the block store.
 *
 * @example
 * ```ts
 * import type { ReportedStore } from "./namenode_reporter.ts";
 * import { BlockStore } from "../store/block_store.ts";
 * const store: ReportedStore = await BlockStore.open(await Deno.makeTempDir());
 * ```
 */
export type ReportedStore = Pick<BlockStore, "list" | "space" | "watch">;

/**
 * Options of {@linkcode NameNodeReporter.start}.
 *
 * @example
 * Not run by `deno test --doc`: it needs a running namenode.
 * ```ts ignore
 * import type { NameNodeReporterOptions } from "./namenode_reporter.ts";
 * const options: NameNodeReporterOptions = {
 *   namenodes: ["127.0.0.1:13000"],
 *   node: "dn0",
 *   address: "127.0.0.1:13100",
 *   store,
 * };
 * ```
 */
export interface NameNodeReporterOptions {
  /** Every namenode's `HOST:PORT` (the client uses the first that answers). */
  readonly namenodes: readonly string[];
  /** The id the datanode registers under (the block-id alphabet). */
  readonly node: string;
  /** The address clients reach the datanode at, `HOST:PORT`. */
  readonly address: string;
  /** The block store: listed for full reports, watched for incremental ones. */
  readonly store: ReportedStore;
  /** Where the reporter's events go (the datanode's log). */
  readonly log?: LogSink;
  /** The node id of the log records (default `node`). */
  readonly logNode?: string;
  /** How long a change waits for others to join its report (default 100 ms). */
  readonly batchDelayMs?: number;
  /** The first wait after a failure (default 500 ms); it doubles up to `retryMaxMs`. */
  readonly retryMinMs?: number;
  /** The longest wait between attempts (default 30 s). */
  readonly retryMaxMs?: number;
  /** How long connecting to a namenode may take (default 3 s). */
  readonly connectTimeoutMs?: number;
  /**
   * How long {@linkcode NameNodeReporter.stop} may spend on the namenode: the last changes and
   * the LEAVE (default 1 s). Past it the connection is cut and the stop goes on.
   */
  readonly stopTimeoutMs?: number;
  /**
   * How a connection is made (default {@linkcode NameNodeClient.connect}; tests wrap it). The
   * signal is aborted when stopping makes connecting pointless: give up then.
   */
  readonly connect?: (addresses: readonly string[], signal: AbortSignal) => Promise<NameNodeLink>;
  /** Random numbers for the backoff's jitter (default `Math.random`). */
  readonly random?: () => number;
}

/**
 * What a reporter has done so far (for tests and status).
 *
 * @example
 * ```ts
 * import type { ReporterCounts } from "./namenode_reporter.ts";
 * const counts: ReporterCounts = {
 *   registrations: 1, fullReports: 1, incrementalReports: 3, heartbeats: 10, failures: 0, leaves: 1,
 * };
 * ```
 */
export interface ReporterCounts {
  /** Successful REGISTERs. */
  registrations: number;
  /** Full block reports the namenode accepted. */
  fullReports: number;
  /** Incremental reports the namenode accepted. */
  incrementalReports: number;
  /** Heartbeats the namenode accepted. */
  heartbeats: number;
  /** Failed attempts (unreachable namenode, refused request). */
  failures: number;
  /** LEAVEs the namenode accepted (at most one, at the stop). */
  leaves: number;
}

const DEFAULT_BATCH_DELAY_MS = 100;
const DEFAULT_RETRY_MIN_MS = 500;
const DEFAULT_RETRY_MAX_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
/** How long stopping may spend telling the namenode the last changes and that it leaves. */
const DEFAULT_STOP_TIMEOUT_MS = 1_000;

/**
 * Thrown inside a session when the namenode does not know the node, or when the connection
 * was replaced (the namenode may be a new process): register and report again, at once.
 */
class Reregister extends Error {}

/**
 * Keeps a namenode informed of one datanode, in the background, until stopped. Failures are
 * logged and retried, never thrown.
 *
 * @example
 * Not run by `deno test --doc`: it needs a running namenode.
 * ```ts ignore
 * import { NameNodeReporter } from "./namenode_reporter.ts";
 * const reporter = NameNodeReporter.start({
 *   namenodes: ["127.0.0.1:13000"],
 *   node: "dn0",
 *   address: "127.0.0.1:13100",
 *   store,
 *   log,
 * });
 * // ... serve ...
 * await reporter.stop();
 * ```
 */
export class NameNodeReporter {
  /** What it has done so far. */
  readonly counts: ReporterCounts = {
    registrations: 0,
    fullReports: 0,
    incrementalReports: 0,
    heartbeats: 0,
    failures: 0,
    leaves: 0,
  };

  readonly #options: NameNodeReporterOptions;
  readonly #log: LogSink;
  readonly #pending = new PendingChanges();
  readonly #unwatch: () => void;
  readonly #run: Promise<void>;
  /** When (performance.now) the oldest pending change arrived, or null when none waits. */
  #pendingSince: number | null = null;
  #link: NameNodeLink | null = null;
  /** Whether the current session's REGISTER succeeded: then a stop owes the namenode a LEAVE. */
  #registered = false;
  /** Aborted when connecting is pointless: stopping, and nothing (more) to tell. */
  readonly #abandon = new AbortController();
  /** Set when the stop's time ran out and the connection was cut. */
  #cutOff = false;
  #stopping = false;
  #wake: (() => void) | null = null;
  #registeredAt = -Infinity;

  private constructor(options: NameNodeReporterOptions) {
    this.#options = options;
    this.#log = options.log ?? discardLog;
    // Watching starts before the first listing, so no change falls between the two.
    this.#unwatch = options.store.watch((change) => {
      this.#pending.add(change);
      this.#pendingSince ??= performance.now();
      this.#wakeUp();
    });
    this.#run = this.#loop();
  }

  /**
   * Starts reporting in the background: connect, register, full report, then heartbeats and
   * reports. Returns at once; a namenode that is down is retried until it answers.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const reporter = NameNodeReporter.start({ namenodes, node: "dn0", address, store });
   * ```
   *
   * @param options The namenodes, the node, its store, the log and the timings.
   * @returns The running reporter.
   */
  static start(options: NameNodeReporterOptions): NameNodeReporter {
    return new NameNodeReporter(options);
  }

  /**
   * Stops: tells the namenode the changes still waiting and that the node leaves (LEAVE),
   * within `stopTimeoutMs`, closes the connection and stops watching the store.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await reporter.stop();
   * ```
   *
   * @returns When everything it started has ended.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeUp();
    // Not registered (the namenode down, or a connection still being made): nothing to take
    // back, so waiting for a connection would only delay the stop.
    if (!this.#registered) this.#abandon.abort();
    // A namenode that does not answer the last flush and the LEAVE in time is cut off.
    const timer = setTimeout(() => {
      this.#cutOff = true;
      this.#abandon.abort();
      this.#link?.close();
    }, this.#options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    try {
      await this.#run;
    } finally {
      clearTimeout(timer);
      this.#unwatch();
    }
  }

  /** Sessions until stopped; between failed ones, a growing wait. */
  async #loop(): Promise<void> {
    const minMs = this.#options.retryMinMs ?? DEFAULT_RETRY_MIN_MS;
    const maxMs = this.#options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
    const random = this.#options.random ?? Math.random;
    let delayMs = minMs;
    // What the current outage is (unreachable, or the code the namenode refuses with), and
    // what it first said: logged once, not once per retry.
    let outage = null as { kind: string; message: string } | null;
    while (!this.#stopping) {
      let failure: unknown;
      try {
        await this.#session(() => {
          if (outage !== null) {
            this.#event(
              "namenode-reachable",
              `the namenode answers again (was: ${outage.message})`,
            );
          }
          outage = null;
          delayMs = minMs;
        });
      } catch (error) {
        failure = error;
      } finally {
        this.#link?.close();
        this.#link = null;
        this.#registered = false;
      }
      if (this.#stopping) break;
      if (failure instanceof Reregister) {
        this.#event("namenode-reregister", `${failure.message}: registering again`);
        // Right away, unless it forgets us again and again.
        if (performance.now() - this.#registeredAt >= minMs) continue;
      } else {
        this.counts.failures++;
        const unreachable = isUnreachable(failure);
        const kind = unreachable ? "unreachable" : (failure as CdfsError).code;
        // Once per outage, and when its kind changes (down, then up but refusing).
        if (outage?.kind !== kind) {
          outage = { kind, message: messageOf(failure) };
          this.#event(
            unreachable ? "namenode-unreachable" : "namenode-error",
            `${outage.message}; serving on, retrying with backoff up to ${maxMs} ms`,
          );
        }
      }
      // Full jitter around the current step: between half and all of it.
      await this.#sleep(delayMs * (0.5 + 0.5 * random()));
      delayMs = Math.min(maxMs, delayMs * 2);
    }
  }

  /**
   * One connection's life: register, full report, then heartbeats and reports until stopped
   * (resolves) or something fails (throws).
   */
  async #session(onRegistered: () => void): Promise<void> {
    const options = this.#options;
    const connect = options.connect ??
      ((addresses: readonly string[], signal: AbortSignal) =>
        NameNodeClient.connect(addresses, {
          connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          signal,
        }));
    const link = await connect(options.namenodes, this.#abandon.signal);
    this.#link = link;
    if (this.#stopping) return;
    const space = await options.store.space();
    const timing = await this.#call(link, () =>
      link.register({
        id: options.node,
        address: options.address,
        capacity: space.capacity,
        free: space.free,
      }));
    this.counts.registrations++;
    this.#registered = true;
    this.#registeredAt = performance.now();
    onRegistered();
    this.#event(
      "namenode-registered",
      `registered as ${options.node} (${options.address}); heartbeat every ` +
        `${timing.heartbeatIntervalMs} ms, full block report every ${timing.blockReportIntervalMs} ms`,
    );
    if (!this.#stopping) await this.#fullReport(link);
    const batchDelayMs = options.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS;
    let nextHeartbeat = performance.now() + timing.heartbeatIntervalMs;
    let nextFullReport = performance.now() + timing.blockReportIntervalMs;
    while (!this.#stopping) {
      const now = performance.now();
      const changesDue = this.#pendingSince === null
        ? Infinity
        : this.#pending.size >= MAX_INCREMENTAL_REPORT
        ? now
        : this.#pendingSince + batchDelayMs;
      if (now >= nextFullReport) {
        await this.#fullReport(link);
        nextFullReport = performance.now() + timing.blockReportIntervalMs;
      } else if (now >= changesDue) {
        await this.#flush(link);
      } else if (now >= nextHeartbeat) {
        const { free } = await options.store.space();
        await this.#call(link, () => link.heartbeat(options.node, { free }));
        this.counts.heartbeats++;
        nextHeartbeat = performance.now() + timing.heartbeatIntervalMs;
      } else {
        await this.#sleep(Math.min(nextHeartbeat, nextFullReport, changesDue) - now);
      }
    }
    // Stopping: the last changes and the goodbye, if the namenode takes them in time (see
    // stop()). A failed flush still leaves: the LEAVE matters more than the last changes,
    // which the next full report after a restart carries anyway.
    await this.#flush(link).catch(() => {});
    await this.#leave(link);
  }

  /** Tells the namenode the node is leaving; a failure is logged, never thrown. */
  async #leave(link: NameNodeLink): Promise<void> {
    const node = this.#options.node;
    try {
      await link.leave(node);
      this.counts.leaves++;
      this.#event(
        "namenode-left",
        `told the namenode that ${node} is leaving: it counts the node dead until it registers again`,
      );
    } catch (error) {
      const why = this.#cutOff
        ? `no answer within ${this.#options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS} ms`
        : messageOf(error);
      this.#event(
        "namenode-leave-failed",
        `could not tell the namenode that ${node} is leaving (${why}); it will count the node ` +
          "dead once its silence lasts the namenode's dead-after",
      );
    }
  }

  /** Sends every block of the store; the changes waiting until now are part of it. */
  async #fullReport(link: NameNodeLink): Promise<void> {
    this.#pending.clear();
    this.#pendingSince = null;
    const blocks: ReportedBlockEntry[] = [];
    let total = 0;
    let after: string | undefined;
    do {
      const page = await this.#options.store.list({
        limit: LIST_LIMIT_MAX,
        ...(after === undefined ? {} : { after }),
      });
      for (const block of page.blocks) {
        // A block whose header is damaged cannot be read: to the namenode it is missing.
        if (block.corrupt !== undefined) continue;
        total++;
        if (blocks.length < MAX_FULL_REPORT) {
          blocks.push({ blockId: block.block, length: block.length });
        }
      }
      after = page.next ?? undefined;
    } while (after !== undefined);
    if (total > blocks.length) {
      this.#event(
        "namenode-report-truncated",
        `${total} blocks, more than a full report carries: reporting the first ${blocks.length}`,
      );
    }
    const result = await this.#call(link, () => link.reportAll(this.#options.node, blocks));
    this.counts.fullReports++;
    this.#event(
      "namenode-report",
      `full block report: ${blocks.length} blocks; the namenode finds ${result.missing} ` +
        `of its copies missing here and ${result.unknown} blocks it places elsewhere or nowhere`,
    );
  }

  /** Sends the changes waiting, in reports of at most 100 entries. */
  async #flush(link: NameNodeLink): Promise<void> {
    while (this.#pending.size > 0) {
      const batch = this.#pending.take(MAX_INCREMENTAL_REPORT);
      if (this.#pending.size === 0) this.#pendingSince = null;
      await this.#call(
        link,
        () => link.reportChanges(this.#options.node, batch.added, batch.removed),
      );
      this.counts.incrementalReports++;
    }
    this.#pendingSince = null;
  }

  /**
   * A namenode call. Its NOT_FOUND (the node unknown), or a connection the client had to
   * open again for it, ends the session with {@linkcode Reregister}.
   */
  async #call<T>(link: NameNodeLink, request: () => Promise<T>): Promise<T> {
    const connections = link.connections;
    let result: T;
    try {
      result = await request();
    } catch (error) {
      if (isCdfsError(error, "NOT_FOUND")) throw new Reregister(error.message);
      throw error;
    }
    if (link.connections !== connections) {
      throw new Reregister("the connection to the namenode was lost and made again");
    }
    return result;
  }

  /** Waits `ms`, or less when a change arrives or the reporter is stopped. */
  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#wake = done;
    });
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #event(event: string, message: string): void {
    try {
      this.#log({
        time: new Date().toISOString(),
        node: this.#options.logNode ?? this.#options.node,
        event,
        message,
      });
    } catch {
      // A broken log must not stop the reports.
    }
  }
}

/**
 * The id a datanode registers with a namenode: its own id when that fits the namenode's
 * alphabet (block-id characters), else with `:` and `@` (allowed in datanode ids, such as
 * the default `HOSTNAME:PORT`) replaced by `_`.
 *
 * @example
 * ```ts
 * import { namenodeNodeId } from "./namenode_reporter.ts";
 * console.log(namenodeNodeId("local-n3")); // "local-n3"
 * console.log(namenodeNodeId("box:13100")); // "box_13100"
 * ```
 *
 * @param datanodeId The datanode's id (as PING reports it).
 * @returns The id to register, or undefined when none can be made (e.g. an id with `..`).
 */
export function namenodeNodeId(datanodeId: string): string | undefined {
  const id = datanodeId.replace(/[:@]/g, "_");
  return isValidBlockId(id) ? id : undefined;
}

/** Whether a failure means the namenode could not be reached (rather than refused). */
function isUnreachable(error: unknown): boolean {
  return !isCdfsError(error) || error.code === "UNAVAILABLE" || error.code === "TIMEOUT";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
