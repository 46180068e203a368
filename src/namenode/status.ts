/**
 * The cluster's state at a glance, as the status page (`status_page.ts`) shows it and the
 * STATUS op returns it: the datanodes (alive or dead, space, blocks, heartbeat age, traffic),
 * the files (healthy, degraded, lost counts; the most endangered first), the repair queue and
 * the scrub progress of each datanode (from optional providers: empty until the namenode has a
 * repair queue or datanodes report scrubs), and the recent events (`recent_events.ts`).
 *
 * The report is read-only and bounded: it fits one RESPONSE frame (the lists are cut, never
 * the counts, and `truncated` says so).
 *
 * @module
 */
import { VERSION } from "../core/version.ts";
import { healthOfFile } from "./admin_ops.ts";
import type { NameNodeLogRecord } from "./log.ts";
import { type DatanodeRecord, LIST_LIMITS } from "./meta/model.ts";
import type { FileHealth } from "./responses.ts";
import type { NameNodeState } from "./state.ts";
import { isoTime, PAGE_BUDGET } from "./views.ts";

/** How many endangered files a report lists at most. */
export const MAX_ENDANGERED = 50;

/**
 * A datanode's traffic counters since it started (its STATS totals).
 *
 * @example
 * ```ts
 * import type { NodeTrafficTotals } from "./status.ts";
 * const t: NodeTrafficTotals = { requests: 3, errors: 0, bytesIn: 10, bytesOut: 20 };
 * ```
 */
export interface NodeTrafficTotals {
  /** Requests served. */
  readonly requests: number;
  /** Of those, the ones that ended in an error. */
  readonly errors: number;
  /** Frame bytes received. */
  readonly bytesIn: number;
  /** Frame bytes sent. */
  readonly bytesOut: number;
}

/**
 * What a datanode answered for the status's traffic: its totals, or why there are none.
 *
 * @example
 * ```ts
 * import type { TrafficAnswer } from "./status.ts";
 * const answers: TrafficAnswer[] = [{ error: "Connection refused" }];
 * ```
 */
export type TrafficAnswer = NodeTrafficTotals | { readonly error: string };

/**
 * One datanode's scrub progress, as a scrub provider knows it.
 *
 * @example
 * ```ts
 * import type { ScrubProgress } from "./status.ts";
 * const p: ScrubProgress = { checkedBytes: 5, totalBytes: 10, corrupt: 0, passes: 1, lastPassEnded: null };
 * ```
 */
export interface ScrubProgress {
  /** Bytes verified in the current pass. */
  readonly checkedBytes: number;
  /** Bytes the current pass will verify, or null when the datanode does not say. */
  readonly totalBytes: number | null;
  /** Corrupt blocks found so far (all passes). */
  readonly corrupt: number;
  /** Passes completed. */
  readonly passes: number;
  /** When the last pass ended, ISO-8601, or null. */
  readonly lastPassEnded: string | null;
}

/**
 * Where scrub progress comes from (the datanodes' scrub reports, once they send them).
 *
 * @example
 * ```ts
 * import type { ScrubView } from "./status.ts";
 * const none: ScrubView = { progressOf: () => null };
 * ```
 */
export interface ScrubView {
  /**
   * A datanode's progress.
   *
   * @param node The datanode id.
   * @returns Its progress, or null when unknown.
   */
  progressOf(node: string): ScrubProgress | null;
}

/**
 * One entry of the repair queue.
 *
 * @example
 * ```ts
 * import type { RepairItem } from "./status.ts";
 * const item: RepairItem = { name: "a.bin", reason: "datanode dn3 dead", state: "running", progress: 0.5 };
 * ```
 */
export interface RepairItem {
  /** The file. */
  readonly name: string;
  /** Why it is queued. */
  readonly reason: string;
  /** Waiting, or being repaired. */
  readonly state: "queued" | "running";
  /** The fraction done, 0..1, or null when not started or not known. */
  readonly progress: number | null;
}

/**
 * The repair queue as the status shows it.
 *
 * @example
 * ```ts
 * import type { RepairQueueStatus } from "./status.ts";
 * const q: RepairQueueStatus = { queued: 0, items: [] };
 * ```
 */
export interface RepairQueueStatus {
  /** How many files are queued (running ones included). */
  readonly queued: number;
  /** The first ones, in repair order. */
  readonly items: readonly RepairItem[];
}

/**
 * Where the repair queue comes from (the namenode's automatic repair, once it has one).
 *
 * @example
 * ```ts
 * import type { RepairQueueView } from "./status.ts";
 * const empty: RepairQueueView = { snapshot: () => ({ queued: 0, items: [] }) };
 * ```
 */
export interface RepairQueueView {
  /**
   * The queue now.
   *
   * @returns The count and the first entries.
   */
  snapshot(): RepairQueueStatus;
}

/**
 * Where datanode traffic comes from (`status_traffic.ts` asks the datanodes for STATS).
 *
 * @example
 * ```ts
 * import type { TrafficSource } from "./status.ts";
 * const none: TrafficSource = { traffic: () => Promise.resolve(new Map()) };
 * ```
 */
export interface TrafficSource {
  /**
   * The counters of the datanodes that answered.
   *
   * @param nodes The live datanodes.
   * @returns Counters or the reason there are none, by datanode id.
   */
  traffic(
    nodes: readonly DatanodeRecord[],
  ): Promise<Map<string, TrafficAnswer>>;
}

/**
 * The optional sources of a status report.
 *
 * @example
 * ```ts
 * import type { StatusSources } from "./status.ts";
 * const sources: StatusSources = { events: () => [] };
 * ```
 */
export interface StatusSources {
  /** The recent events, newest first. */
  readonly events: () => readonly NameNodeLogRecord[];
  /** The datanodes' traffic (default: none). */
  readonly traffic?: TrafficSource;
  /** The repair queue (default: empty). */
  readonly repairQueue?: RepairQueueView;
  /** Scrub progress (default: none). */
  readonly scrub?: ScrubView;
}

/**
 * One datanode in a status report.
 *
 * @example
 * ```ts
 * import type { NodeStatus } from "./status.ts";
 * const n: NodeStatus = {
 *   node: "dn0", address: "127.0.0.1:13100", state: "alive", capacity: 10, free: 5, blocks: 2,
 *   lastHeartbeat: "2026-01-01T00:00:00.000Z", heartbeatAgeMs: 900, traffic: null,
 *   trafficError: null, scrub: null,
 * };
 * ```
 */
export interface NodeStatus {
  /** The datanode id. */
  readonly node: string;
  /** `HOST:PORT`. */
  readonly address: string;
  /** As the namenode judges it now. */
  readonly state: "alive" | "dead";
  /** Bytes of capacity. */
  readonly capacity: number;
  /** Bytes free. */
  readonly free: number;
  /** Committed block copies the namenode places on it. */
  readonly blocks: number;
  /** Its last heartbeat, ISO-8601. */
  readonly lastHeartbeat: string;
  /** How long ago, ms. */
  readonly heartbeatAgeMs: number;
  /** Its traffic since it started, or null (dead, or it did not answer). */
  readonly traffic: NodeTrafficTotals | null;
  /** Why there is no traffic of a live node, else null. */
  readonly trafficError: string | null;
  /** Its scrub progress, or null when unknown. */
  readonly scrub: ScrubProgress | null;
}

/**
 * A file that is not healthy, in a status report.
 *
 * @example
 * ```ts
 * import type { EndangeredFile } from "./status.ts";
 * const f: EndangeredFile = { name: "a.bin", code: "rs-6-3", status: "degraded", blocks: 9, unavailable: 2 };
 * ```
 */
export interface EndangeredFile {
  /** The name. */
  readonly name: string;
  /** The coding module. */
  readonly code: string;
  /** Its health. */
  readonly status: "degraded" | "lost" | "unknown";
  /** Its committed copies. */
  readonly blocks: number;
  /** How many of them cannot be read. */
  readonly unavailable: number;
}

/**
 * The status report.
 *
 * @example
 * ```ts
 * import type { StatusReport } from "./status.ts";
 * const r: StatusReport = {
 *   namenode: "nn1", version: "0.1.0", time: "2026-01-01T00:00:00.000Z", deadAfterMs: 30000,
 *   nodes: [], files: { total: 0, healthy: 0, degraded: 0, lost: 0, unknown: 0 },
 *   endangered: [], repair: { queued: 0, items: [] }, events: [], truncated: false,
 * };
 * ```
 */
export interface StatusReport {
  /** The namenode's id. */
  readonly namenode: string;
  /** Its version. */
  readonly version: string;
  /** When the report was made, ISO-8601. */
  readonly time: string;
  /** The silence after which a datanode is dead, ms. */
  readonly deadAfterMs: number;
  /** Every datanode, by id. */
  readonly nodes: readonly NodeStatus[];
  /** How many committed files are in each health. */
  readonly files: {
    readonly total: number;
    readonly healthy: number;
    readonly degraded: number;
    readonly lost: number;
    readonly unknown: number;
  };
  /** The files not healthy, most endangered first (lost, unknown, then degraded). */
  readonly endangered: readonly EndangeredFile[];
  /** The repair queue. */
  readonly repair: RepairQueueStatus;
  /** The recent events, newest first. */
  readonly events: readonly NameNodeLogRecord[];
  /** Whether a list was cut to fit (the counts never are). */
  readonly truncated: boolean;
}

const DANGER: Record<EndangeredFile["status"], number> = { lost: 0, unknown: 1, degraded: 2 };

/**
 * Orders endangered files: lost first, then unknown, then degraded; within one, the most
 * unavailable copies first, then by name.
 *
 * @example
 * ```ts
 * import { compareEndangered } from "./status.ts";
 * const a = { name: "a", code: "c", status: "degraded" as const, blocks: 3, unavailable: 1 };
 * const b = { ...a, name: "b", status: "lost" as const };
 * console.log([a, b].sort(compareEndangered).map((f) => f.name)); // [ "b", "a" ]
 * ```
 *
 * @param a One file.
 * @param b Another.
 * @returns Negative when `a` is in more danger.
 */
export function compareEndangered(a: EndangeredFile, b: EndangeredFile): number {
  return DANGER[a.status] - DANGER[b.status] || b.unavailable - a.unavailable ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Makes the status report: reads every datanode and every committed file (in pages), asks the
 * sources, and cuts the lists to fit one RESPONSE frame.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const report = await buildStatus(state, { events: () => [] });
 * ```
 *
 * @param state The namenode.
 * @param sources Events, traffic, repair queue, scrub.
 * @returns The report.
 */
export async function buildStatus(
  state: NameNodeState,
  sources: StatusSources,
): Promise<StatusReport> {
  const dir = await state.directory();
  const now = state.now();
  const blocksOn = new Map<string, number>();
  const files = { total: 0, healthy: 0, degraded: 0, lost: 0, unknown: 0 };
  const endangered: EndangeredFile[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await state.store.listFiles("", {
      limit: LIST_LIMITS.max,
      ...(after === undefined ? {} : { after }),
    });
    for (const file of page) {
      for (const copy of file.blocks) {
        if (copy.state === "stored") blocksOn.set(copy.node, (blocksOn.get(copy.node) ?? 0) + 1);
      }
      const health: FileHealth = await healthOfFile(state, dir, file);
      files.total++;
      files[health.status]++;
      if (health.status !== "healthy") {
        endangered.push({
          name: health.name,
          code: health.code,
          status: health.status,
          blocks: health.blocks,
          unavailable: health.unavailable.length,
        });
      }
    }
    if (page.length < LIST_LIMITS.max) break;
    after = page[page.length - 1]!.name;
  }
  endangered.sort(compareEndangered);
  const alive = dir.nodes.filter((n) => dir.isAlive(n));
  const traffic = sources.traffic === undefined
    ? new Map()
    : await sources.traffic.traffic(alive).catch(() => new Map());
  const nodes = dir.nodes.map((n): NodeStatus => {
    const up = dir.isAlive(n);
    const counters = up ? traffic.get(n.id) : undefined;
    return {
      node: n.id,
      address: n.address,
      state: up ? "alive" : "dead",
      capacity: n.capacity,
      free: n.free,
      blocks: blocksOn.get(n.id) ?? 0,
      lastHeartbeat: isoTime(n.lastHeartbeat),
      heartbeatAgeMs: Math.max(0, now - n.lastHeartbeat),
      traffic: counters === undefined || "error" in counters ? null : counters,
      trafficError: !up
        ? null
        : counters === undefined
        ? "no answer"
        : "error" in counters
        ? counters.error
        : null,
      scrub: sources.scrub?.progressOf(n.id) ?? null,
    };
  });
  return fitStatus({
    namenode: state.id,
    version: VERSION,
    time: isoTime(now),
    deadAfterMs: state.timing.deadAfterMs,
    nodes,
    files,
    endangered: endangered.slice(0, MAX_ENDANGERED),
    repair: sources.repairQueue?.snapshot() ?? { queued: 0, items: [] },
    events: sources.events(),
    truncated: endangered.length > MAX_ENDANGERED,
  });
}

/**
 * Cuts a report's lists (events, then endangered files and repair items, then datanodes)
 * until its JSON fits `budget` bytes; the counts stay whole.
 *
 * @example
 * ```ts
 * import { fitStatus } from "./status.ts";
 * const record = { time: "t", namenode: "nn1", event: "x".repeat(100) };
 * const report = fitStatus({
 *   namenode: "nn1", version: "0", time: "t", deadAfterMs: 1, nodes: [],
 *   files: { total: 0, healthy: 0, degraded: 0, lost: 0, unknown: 0 }, endangered: [],
 *   repair: { queued: 0, items: [] }, events: [record, record], truncated: false,
 * }, 500);
 * console.log(report.events.length, report.truncated); // 1 true
 * ```
 *
 * @param report The whole report.
 * @param budget The bytes its JSON may take (default: what one RESPONSE holds).
 * @returns The report, cut where needed.
 */
export function fitStatus(report: StatusReport, budget: number = PAGE_BUDGET): StatusReport {
  const encoder = new TextEncoder();
  const size = (r: StatusReport) => encoder.encode(JSON.stringify(r)).length;
  let fitted = report;
  const halve = <T>(list: readonly T[]) => list.slice(0, Math.floor(list.length / 2));
  while (size(fitted) > budget) {
    const { events, endangered, repair, nodes } = fitted;
    if (events.length > 0) fitted = { ...fitted, events: halve(events) };
    else if (endangered.length > 0 || repair.items.length > 0) {
      fitted = {
        ...fitted,
        endangered: halve(endangered),
        repair: { queued: repair.queued, items: halve(repair.items) },
      };
    } else if (nodes.length > 0) fitted = { ...fitted, nodes: halve(nodes) };
    else break;
    fitted = { ...fitted, truncated: true };
  }
  return fitted;
}
