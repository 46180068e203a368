/**
 * Traffic accounting of a datanode: frame bytes in and out and time, per operation served and
 * per CODING run, as STATS and `/metrics` report them.
 *
 * What is counted is whole frames (16-byte header plus payload) as
 * {@linkcode FrameConnection} reads and writes them; preambles, and bytes drained from a
 * connection being dropped, are not. So both ends of a connection count the same bytes: what
 * node i sends to node i+1 for a run is exactly what node i+1 counts as received from node i.
 *
 * A run is counted from two sides:
 *
 * - `served`: the CODING requests of the run that this node answered (`bytesIn` their requests
 *   and commits, `bytesOut` their responses and data);
 * - `upstream`: the connections this node opened to other nodes for the run (to pull their
 *   programs' streams or blocks), by the other node's address.
 *
 * Runs live in a bounded most-recently-used table: the oldest run is forgotten when a new one
 * exceeds it.
 *
 * @module
 */
import type { ByteMeter } from "../protocol/byte_meter.ts";
import type { CodingRunTraffic } from "../coding/runtime/run_traffic.ts";
import type { OpTraffic, PeerTraffic, RunTraffic, StatsResponse } from "../protocol/responses.ts";

export type { ByteMeter } from "../protocol/byte_meter.ts";
export type { OpTraffic, PeerTraffic, RunTraffic } from "../protocol/responses.ts";

/**
 * How many runs a {@linkcode TrafficCounters} remembers by default.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_RUNS } from "./traffic.ts";
 * console.log(DEFAULT_MAX_RUNS); // 256
 * ```
 */
export const DEFAULT_MAX_RUNS = 256;

/**
 * Everything counted, as STATS returns it (without the node id).
 *
 * @example
 * ```ts
 * import type { TrafficSnapshot } from "./traffic.ts";
 * const s: TrafficSnapshot = {
 *   since: "2026-01-01T00:00:00.000Z",
 *   total: { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, ms: 0 },
 *   ops: {},
 *   runs: {},
 * };
 * ```
 */
export type TrafficSnapshot = Omit<StatsResponse, "node">;

/**
 * The traffic counters of one node (also what the coding runtime counts a run's traffic on).
 *
 * @example
 * ```ts
 * import { TrafficCounters } from "./traffic.ts";
 * const traffic = new TrafficCounters();
 * traffic.recordRequest("PING", { bytesIn: 31, bytesOut: 100, ms: 0.2, failed: false });
 * console.log(traffic.snapshot().ops.PING?.requests); // 1
 * ```
 */
export class TrafficCounters implements CodingRunTraffic {
  /** How many runs are remembered. */
  readonly maxRuns: number;
  readonly #since = new Date().toISOString();
  readonly #total = emptyOp();
  readonly #ops = new Map<string, OpTraffic>();
  /** Insertion order is recency order: a touched run is moved to the end. */
  readonly #runs = new Map<string, RunTraffic>();

  /**
   * Makes empty counters.
   *
   * @param options How many runs to remember (default {@linkcode DEFAULT_MAX_RUNS}).
   */
  constructor(options: { maxRuns?: number } = {}) {
    const maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
    if (!Number.isInteger(maxRuns) || maxRuns < 1) {
      throw new RangeError(`maxRuns must be a positive integer, got ${maxRuns}`);
    }
    this.maxRuns = maxRuns;
  }

  /**
   * Counts one finished request under its op (and the total).
   *
   * @example
   * ```ts
   * import { TrafficCounters } from "./traffic.ts";
   * const traffic = new TrafficCounters();
   * traffic.recordRequest("STORE", { bytesIn: 1_048_700, bytesOut: 90, ms: 12, failed: true });
   * console.log(traffic.snapshot().ops.STORE?.errors); // 1
   * ```
   *
   * @param op The op (a caller bounds the set of names: they become metric labels).
   * @param request Its frame bytes, duration and outcome.
   */
  recordRequest(op: string, request: RequestTraffic): void {
    let counters = this.#ops.get(op);
    if (counters === undefined) this.#ops.set(op, counters = emptyOp());
    addRequest(counters, request);
    addRequest(this.#total, request);
  }

  /**
   * The live meter of a CODING request of `run` being served: the connection adds its frame
   * bytes to it as they pass. Finish with {@linkcode TrafficCounters.finishServed}. The run's
   * first request sets its `times.startedAt`.
   *
   * @example
   * ```ts
   * import { TrafficCounters } from "./traffic.ts";
   * const traffic = new TrafficCounters();
   * const run = "0123456789abcdef0123456789abcdef";
   * traffic.servedMeter(run).bytesOut += 100;
   * traffic.finishServed(run, 3, false);
   * console.log(traffic.run(run)?.served.bytesOut); // 100
   * ```
   *
   * @param run The run id.
   * @returns A meter whose counts go to the run's `served` counters.
   */
  servedMeter(run: string): ByteMeter {
    const found = this.#touch(run);
    found.times ??= { startedAt: Date.now() };
    return found.served;
  }

  /**
   * Notes that a program of `run` computed a step (the run's `times.firstStepAt` and
   * `lastStepAt`, for timelines).
   *
   * @example
   * ```ts
   * import { TrafficCounters } from "./traffic.ts";
   * const traffic = new TrafficCounters();
   * const run = "0123456789abcdef0123456789abcdef";
   * traffic.servedMeter(run);
   * traffic.markStep(run);
   * console.log(traffic.run(run)?.times?.lastStepAt !== undefined); // true
   * ```
   *
   * @param run The run id.
   */
  markStep(run: string): void {
    const found = this.#runs.get(run);
    if (found === undefined) return; // forgotten already: a timeline of a long-gone run
    const now = Date.now();
    found.times ??= { startedAt: now };
    found.times.firstStepAt ??= now;
    found.times.lastStepAt = now;
  }

  /**
   * Counts a served CODING request of `run` as finished.
   *
   * @example
   * ```ts
   * import { TrafficCounters } from "./traffic.ts";
   * const traffic = new TrafficCounters();
   * traffic.finishServed("0123456789abcdef0123456789abcdef", 3, true);
   * ```
   *
   * @param run The run id.
   * @param ms How long it took.
   * @param failed Whether it ended in an error.
   */
  finishServed(run: string, ms: number, failed: boolean): void {
    const served = this.#touch(run).served;
    served.requests++;
    if (failed) served.errors++;
    served.ms += ms;
    const found = this.#runs.get(run)!;
    const now = Date.now();
    found.times ??= { startedAt: now };
    found.times.endedAt = now;
  }

  /**
   * The live meter of a connection this node opens to `address` for `run` (counted as one
   * more connection).
   *
   * @example
   * ```ts
   * import { TrafficCounters } from "./traffic.ts";
   * const traffic = new TrafficCounters();
   * const run = "0123456789abcdef0123456789abcdef";
   * traffic.upstreamMeter(run, "127.0.0.1:13100").bytesIn += 42;
   * console.log(traffic.run(run)?.upstream["127.0.0.1:13100"]?.bytesIn); // 42
   * ```
   *
   * @param run The run id.
   * @param address The other node's `HOST:PORT`.
   * @returns A meter whose counts go to the run's counters of that node.
   */
  upstreamMeter(run: string, address: string): ByteMeter {
    const upstream = this.#touch(run).upstream;
    let peer = upstream[address];
    if (peer === undefined) {
      peer = { connections: 0, bytesIn: 0, bytesOut: 0 };
      define(upstream, address, peer);
    }
    peer.connections++;
    return peer;
  }

  /**
   * One run's counters, if remembered (a copy).
   *
   * @example
   * ```ts
   * import { TrafficCounters } from "./traffic.ts";
   * console.log(new TrafficCounters().run("0123456789abcdef0123456789abcdef")); // undefined
   * ```
   *
   * @param run The run id.
   * @returns The counters, or undefined.
   */
  run(run: string): RunTraffic | undefined {
    const found = this.#runs.get(run);
    return found === undefined ? undefined : copyRun(found);
  }

  /**
   * A copy of everything counted: every op, and the most recent runs (or one run).
   *
   * @example
   * ```ts
   * import { TrafficCounters } from "./traffic.ts";
   * console.log(new TrafficCounters().snapshot().total.requests); // 0
   * ```
   *
   * @param options `run`: only that run (none if it is not remembered); `recentRuns`: at
   * most this many of the most recent runs (default all remembered).
   * @returns The snapshot.
   */
  snapshot(options: { run?: string; recentRuns?: number } = {}): TrafficSnapshot {
    const ops: Record<string, OpTraffic> = {};
    for (const [op, counters] of this.#ops) define(ops, op, copyOp(counters));
    const runs: Record<string, RunTraffic> = {};
    if (options.run !== undefined) {
      const found = this.#runs.get(options.run);
      if (found !== undefined) define(runs, options.run, copyRun(found));
    } else {
      const skip = Math.max(0, this.#runs.size - (options.recentRuns ?? Infinity));
      let index = 0;
      for (const [id, run] of this.#runs) {
        if (index++ >= skip) define(runs, id, copyRun(run));
      }
    }
    return { since: this.#since, total: copyOp(this.#total), ops, runs };
  }

  /** The run's counters, made most recent (created, evicting the oldest, if new). */
  #touch(run: string): RunTraffic {
    let found = this.#runs.get(run);
    if (found !== undefined) {
      this.#runs.delete(run);
    } else {
      found = { served: emptyOp(), upstream: {} };
      while (this.#runs.size >= this.maxRuns) {
        const oldest = this.#runs.keys().next().value;
        if (oldest === undefined) break;
        this.#runs.delete(oldest);
      }
    }
    this.#runs.set(run, found);
    return found;
  }
}

/**
 * One finished request, as {@linkcode TrafficCounters.recordRequest} takes it.
 *
 * @example
 * ```ts
 * import type { RequestTraffic } from "./traffic.ts";
 * const r: RequestTraffic = { bytesIn: 31, bytesOut: 100, ms: 0.2, failed: false };
 * ```
 */
export interface RequestTraffic {
  /** Frame bytes received for it. */
  bytesIn: number;
  /** Frame bytes sent for it. */
  bytesOut: number;
  /** How long it took, in milliseconds. */
  ms: number;
  /** Whether it ended in an error. */
  failed: boolean;
}

function emptyOp(): OpTraffic {
  return { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, ms: 0 };
}

function addRequest(counters: OpTraffic, request: RequestTraffic): void {
  counters.requests++;
  if (request.failed) counters.errors++;
  counters.bytesIn += request.bytesIn;
  counters.bytesOut += request.bytesOut;
  counters.ms += request.ms;
}

function copyRun(run: RunTraffic): RunTraffic {
  const upstream: Record<string, PeerTraffic> = {};
  for (const [address, peer] of Object.entries(run.upstream)) {
    define(upstream, address, { ...peer });
  }
  const copy: RunTraffic = { served: copyOp(run.served), upstream };
  if (run.times !== undefined) copy.times = { ...run.times };
  return copy;
}

/** A copy, its time to the microsecond (sums of float milliseconds carry noise digits). */
function copyOp(counters: OpTraffic): OpTraffic {
  return { ...counters, ms: Math.round(counters.ms * 1000) / 1000 };
}

/** Sets a key that came from the network without going through a `__proto__` setter. */
function define<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true });
}
