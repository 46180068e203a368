/**
 * The options of the repair loop ({@linkcode AutoRepairOptions}) and its defaults, for
 * `auto_repair.ts` and the `namenode serve` options that set them.
 *
 * @module
 */
import type { CodingModule } from "../../coding/lang/program.ts";
import type { NameNodeClient } from "../../namenode/client.ts";
import type { DecisionLog } from "../../namenode/log.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";

/**
 * Options of the repair loop, `AutoRepair` (`auto_repair.ts`).
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode.
 * ```ts ignore
 * import type { AutoRepairOptions } from "./auto_repair_options.ts";
 * const options: AutoRepairOptions = { namenode, log, rate: 32 * 1024 * 1024, gcGraceMs: 3_600_000 };
 * ```
 */
export interface AutoRepairOptions {
  /** The namenode (the loop's own connection to it). */
  readonly namenode: NameNodeClient;
  /** The namenode's decision log. */
  readonly log: Pick<DecisionLog, "emit">;
  /** Repair bytes per second per datanode. */
  readonly rate: number;
  /** Whether files are repaired (default true; false: garbage collection only). */
  readonly repair?: boolean;
  /**
   * How long a file must have been queued before its repair starts (default 0): a datanode
   * that is only restarting comes back meanwhile, and nothing is moved (as Ceph waits before
   * it marks a down OSD out).
   */
  readonly delayMs?: number;
  /**
   * How many files are repaired at once (default {@linkcode DEFAULT_REPAIR_CONCURRENCY}); they
   * start in repair order.
   */
  readonly concurrency?: number;
  /** How often a round runs without being woken (default 5 s). */
  readonly intervalMs?: number;
  /**
   * The longest time between two scans of every file's health when nothing wakes the loop
   * (default {@linkcode DEFAULT_SCAN_INTERVAL_MS}; by the loop's clock).
   */
  readonly scanIntervalMs?: number;
  /** The grace of the periodic garbage collection; null or absent: no garbage collection. */
  readonly gcGraceMs?: number | null;
  /** How often garbage is collected (default the grace, at most 10 min, at least 1 s). */
  readonly gcIntervalMs?: number;
  /** How coding modules are loaded (default: cdfs's loader). */
  readonly loadModule?: (name: string) => Promise<CodingModule>;
  /** The clock (default `Date.now`): backoff and the rate limiter. */
  readonly now?: () => number;
  /** The repairs' chunk size (default 1 MiB). */
  readonly chunkSize?: number;
  /** Connect and frame timeouts of the datanode connections. */
  readonly client?: DataNodeClientOptions;
}

/**
 * How many files the loop repairs at once by default: a repair spends much of its time on
 * fixed costs (the namenode's records, setting up the run on every node it reads, the commit),
 * which a few repairs at once overlap with each other's transfers.
 *
 * @example
 * ```ts
 * import { DEFAULT_REPAIR_CONCURRENCY } from "./auto_repair_options.ts";
 * console.log(DEFAULT_REPAIR_CONCURRENCY); // 4
 * ```
 */
export const DEFAULT_REPAIR_CONCURRENCY = 4;

/**
 * How long the loop goes at most without scanning every file's health when nothing woke it:
 * what changes a file's health wakes the loop on the namenode that saw it, so this only bounds
 * how late the loop learns what another namenode on the same store saw.
 *
 * @example
 * ```ts
 * import { DEFAULT_SCAN_INTERVAL_MS } from "./auto_repair_options.ts";
 * console.log(DEFAULT_SCAN_INTERVAL_MS); // 60000
 * ```
 */
export const DEFAULT_SCAN_INTERVAL_MS = 60_000;

/**
 * How many times its own duration the loop waits after a scan before the next one that no one
 * woke it for, when that is longer than `scanIntervalMs`: such scans then take at most a
 * twentieth of the time (a scan of a million files is a pass over every record).
 *
 * @example
 * ```ts
 * import { SCAN_REST_FACTOR } from "./auto_repair_options.ts";
 * console.log(SCAN_REST_FACTOR); // 19
 * ```
 */
export const SCAN_REST_FACTOR = 19;
