/**
 * What the namenode's op handlers share: the metadata store, the clock, liveness, the
 * decision log, and two pieces of memory that are not metadata. Both are rebuilt from the
 * datanodes after a restart, so losing them loses nothing:
 *
 * - **reservations**: bytes placed on each datanode since its last heartbeat. Free space is
 *   only as fresh as the last heartbeat; without this, every file created between two
 *   heartbeats would see the same free space and the placement policy could overfill a node.
 * - **missing copies**: per datanode, the committed copies its block reports said it lacks
 *   (what `MetadataStore.reportBlocks` returns). FSCK shows them as `missing`. Kept in memory,
 *   like HDFS's block map: a full report replaces a node's set, an incremental one adds to it
 *   and clears what it reports stored, and every datanode sends a full report when it starts
 *   and periodically.
 *
 * And a cache: the **datanode directory** (every datanode record), which placement and every
 * file view read (CREATE_FILE and COMMIT_FILE each needed a full read of the datanode records,
 * on etcd a range read of every record). This namenode is the one writer of liveness in its
 * process: the records its datanode ops write (REGISTER, HEARTBEAT) replace their entries, a
 * node marked dead (LEAVE, the background check) drops the cache. What other namenodes on the
 * same store write (their datanodes' heartbeats, a node they marked dead) is read again once
 * the cache is older than its TTL (default 1 s, at most a quarter of `deadAfterMs`). A stale
 * entry can only make placement choose a node that just died: the store's own check (on etcd
 * the transaction's condition on the node's liveness key; on SQLite the node's record, read in
 * the transaction) refuses it with `CONFLICT`, and the op drops the cache and places again. A
 * datanode that registered (or came back) through another namenode is missing from the cache
 * until its TTL: a placement that finds too few live datanodes reads the records once more
 * before it refuses (`file_ops.ts`).
 *
 * @module
 */
import type { CodeCatalog } from "./code_analysis.ts";
import type { DecisionLog } from "./log.ts";
import type { DatanodeRecord } from "./meta/model.ts";
import type { MetadataStore } from "./meta/store.ts";
import type { NodeSpace } from "./placement.ts";
import type { NodeDirectory } from "./views.ts";

/**
 * The timing the namenode asks of datanodes and applies to them.
 *
 * @example
 * ```ts
 * import type { NameNodeTiming } from "./state.ts";
 * const timing: NameNodeTiming = {
 *   deadAfterMs: 30_000,
 *   heartbeatIntervalMs: 3_000,
 *   blockReportIntervalMs: 3_600_000,
 *   orphanGraceMs: 3_600_000,
 * };
 * ```
 */
export interface NameNodeTiming {
  /** A datanode silent for longer than this is dead. */
  readonly deadAfterMs: number;
  /** How often a datanode should heartbeat (told at REGISTER). */
  readonly heartbeatIntervalMs: number;
  /** How often a datanode should send a full block report (told at REGISTER). */
  readonly blockReportIntervalMs: number;
  /** The default age before a reported copy no file places is an orphan (ORPHANS). */
  readonly orphanGraceMs: number;
  /**
   * How long the datanode directory may be served from memory before the store is read again
   * (default {@linkcode DEFAULT_DIRECTORY_TTL_MS}, at most a quarter of `deadAfterMs`; 0: read
   * every time).
   */
  readonly directoryTtlMs?: number;
}

/**
 * The default of {@linkcode NameNodeTiming.directoryTtlMs}, 1 s: how stale another namenode's
 * changes to the datanode records may be seen.
 */
export const DEFAULT_DIRECTORY_TTL_MS = 1000;

/**
 * The datanode records and their index, as {@linkcode NameNodeState.directory} gives them.
 *
 * @internal Not exported: callers use its fields (for `deno doc --lint`, which wants a type a
 * public signature names to be public unless it is marked so).
 */
type Directory = NodeDirectory & { readonly nodes: readonly DatanodeRecord[] };

/**
 * The state the op handlers share.
 *
 * @example
 * ```ts
 * import { NameNodeState } from "./state.ts";
 * import { CodeCatalog } from "./code_analysis.ts";
 * import { DecisionLog } from "./log.ts";
 * import { openMetadataStore } from "./meta/open.ts";
 * const state = new NameNodeState({
 *   id: "nn1",
 *   store: await openMetadataStore("sqlite::memory:"),
 *   timing: { deadAfterMs: 30_000, heartbeatIntervalMs: 3000, blockReportIntervalMs: 3_600_000, orphanGraceMs: 3_600_000 },
 *   log: new DecisionLog("nn1"),
 *   catalog: new CodeCatalog(),
 * });
 * console.log((await state.directory()).byId.size); // 0
 * await state.store.close();
 * ```
 */
export class NameNodeState {
  /** The namenode's id (logs, PING). */
  readonly id: string;
  /** The metadata. */
  readonly store: MetadataStore;
  /** Timing. */
  readonly timing: NameNodeTiming;
  /** The decision log. */
  readonly log: DecisionLog;
  /** Decodability of codes. */
  readonly catalog: CodeCatalog;
  /** The clock, ms since the epoch (the store's clock too). */
  readonly now: () => number;
  /** Uniform random numbers for placement. */
  readonly random: () => number;
  readonly #reserved = new Map<string, number>();
  readonly #missing = new Map<string, Set<string>>();
  readonly #directoryTtlMs: number;
  /** The cached records, by id, and when they were read (`performance.now()`). */
  #cached: { readonly byId: Map<string, DatanodeRecord>; readonly at: number } | null = null;
  /** The view of {@linkcode NameNodeState.directory} over the cache, until it changes. */
  #view: Directory | null = null;
  /** A read of every record under way (concurrent callers share it). */
  #loading: Promise<Directory> | null = null;
  /** Bumped by every change to the cache: a read that started before one is not kept. */
  #generation = 0;
  /** How many times the records were read from the store (tests, benchmarks). */
  directoryReads = 0;

  /**
   * The state of a namenode from its parts.
   *
   * @param options The parts.
   */
  constructor(options: {
    readonly id: string;
    readonly store: MetadataStore;
    readonly timing: NameNodeTiming;
    readonly log: DecisionLog;
    readonly catalog: CodeCatalog;
    readonly now?: () => number;
    readonly random?: () => number;
  }) {
    this.id = options.id;
    this.store = options.store;
    this.timing = options.timing;
    this.log = options.log;
    this.catalog = options.catalog;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.#directoryTtlMs = Math.max(
      0,
      Math.min(
        options.timing.directoryTtlMs ?? DEFAULT_DIRECTORY_TTL_MS,
        options.timing.deadAfterMs / 4,
      ),
    );
  }

  /**
   * Whether a datanode is alive now: not marked dead, and heard from within `deadAfterMs`
   * (a node that fell silent is dead at once, not only when the background check marks it).
   *
   * @param node Its record.
   * @returns Whether blocks on it can be read and placed.
   */
  isAlive(node: DatanodeRecord): boolean {
    return node.state === "alive" && this.now() - node.lastHeartbeat <= this.timing.deadAfterMs;
  }

  /**
   * Every datanode record and the liveness test, for placement and views: from the cache
   * while it is younger than the TTL, else read from the store (and cached).
   *
   * @returns The directory, by id (`nodes` in id order).
   */
  directory(): Promise<Directory> {
    const cached = this.#cached;
    if (cached !== null && performance.now() - cached.at <= this.#directoryTtlMs) {
      this.#view ??= this.#viewOf(cached.byId);
      return Promise.resolve(this.#view);
    }
    this.#loading ??= this.#load().finally(() => this.#loading = null);
    return this.#loading;
  }

  /**
   * Puts a record this namenode just wrote (a registration, a heartbeat) into the cache.
   *
   * @param node The record the store returned.
   */
  noteDatanode(node: DatanodeRecord): void {
    this.#generation++;
    if (this.#cached === null) return;
    this.#cached.byId.set(node.id, node);
    this.#view = null;
  }

  /**
   * Drops the cache: a node was marked dead, or the store refused a placement made from it
   * (another namenode changed a record). The next {@linkcode NameNodeState.directory} reads
   * the store.
   */
  forgetDirectory(): void {
    this.#generation++;
    this.#cached = null;
    this.#view = null;
  }

  async #load(): Promise<Directory> {
    const generation = this.#generation;
    const at = performance.now();
    this.directoryReads++;
    const nodes = await this.store.listDatanodes();
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const view = this.#viewOf(byId);
    // A record noted (or a drop) while the read was under way is newer than what it read.
    if (generation === this.#generation && this.#directoryTtlMs > 0) {
      this.#cached = { byId, at };
      this.#view = view;
    }
    return view;
  }

  #viewOf(byId: Map<string, DatanodeRecord>): Directory {
    const nodes = [...byId.values()].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    return {
      nodes,
      byId: new Map(byId),
      isAlive: (node) => this.isAlive(node),
    };
  }

  /**
   * The live datanodes and the bytes each can still take (free less reservations).
   *
   * @param nodes Every datanode record.
   * @returns The candidates of placement.
   */
  space(nodes: readonly DatanodeRecord[]): NodeSpace[] {
    return nodes.filter((n) => this.isAlive(n)).map((n) => ({
      id: n.id,
      free: Math.max(0, n.free - (this.#reserved.get(n.id) ?? 0)),
    }));
  }

  /**
   * Records bytes just placed on datanodes.
   *
   * @param ids The datanode of each logical node.
   * @param needs The bytes placed on each.
   */
  reserve(ids: readonly (string | null)[], needs: readonly number[]): void {
    ids.forEach((id, i) => {
      const bytes = needs[i] ?? 0;
      if (id !== null && bytes > 0) this.#reserved.set(id, (this.#reserved.get(id) ?? 0) + bytes);
    });
  }

  /**
   * Forgets a datanode's reservations: its heartbeat brought fresh free space.
   *
   * @param node The datanode id.
   */
  heard(node: string): void {
    this.#reserved.delete(node);
  }

  /**
   * Records what a block report said is missing on a node.
   *
   * @param node The datanode.
   * @param full Whether the report was full (its missing set replaces the node's).
   * @param missing Block ids reported missing.
   * @param present Block ids reported present (an incremental report's added ones).
   */
  noteReport(
    node: string,
    full: boolean,
    missing: readonly string[],
    present: readonly string[],
  ): void {
    let set = this.#missing.get(node);
    if (full || set === undefined) this.#missing.set(node, set = new Set());
    for (const id of present) set.delete(id);
    for (const id of missing) set.add(id);
    if (set.size === 0) this.#missing.delete(node);
  }

  /**
   * Forgets that a copy is missing (it was moved, dropped or deleted).
   *
   * @param node The datanode.
   * @param blockId The block.
   */
  forgetMissing(node: string, blockId: string): void {
    const set = this.#missing.get(node);
    if (set === undefined) return;
    set.delete(blockId);
    if (set.size === 0) this.#missing.delete(node);
  }

  /**
   * Whether a node's reports said it lacks a block.
   *
   * @param node The datanode.
   * @param blockId The block.
   * @returns True when reported missing.
   */
  isMissing(node: string, blockId: string): boolean {
    return this.#missing.get(node)?.has(blockId) ?? false;
  }
}
