/**
 * The status page's datanode traffic: the namenode asks each live datanode for its STATS
 * totals (the counters every datanode keeps anyway), all at once, each with a short timeout,
 * and keeps the answers a moment so a page refreshed by several browsers costs the datanodes
 * one STATS each per moment.
 *
 * @module
 */
import { DataNodeClient } from "../client/datanode_client.ts";
import { type NodeSecrets, RequestSigner } from "../protocol/auth.ts";
import type { DatanodeRecord } from "./meta/model.ts";
import type { ScrubProgress, ScrubView, TrafficAnswer, TrafficSource } from "./status.ts";

/** How long one datanode may take to answer STATS, ms. */
export const STATS_TIMEOUT_MS = 1_000;

/** How long answers are reused, ms. */
export const STATS_CACHE_MS = 1_000;

/**
 * Asks datanodes for STATS (signed with the cluster secret when there is one).
 *
 * @example
 * ```ts
 * import { StatsProbe } from "./status_traffic.ts";
 * const probe = new StatsProbe();
 * console.log((await probe.traffic([])).size); // 0
 * ```
 */
export class StatsProbe implements TrafficSource, ScrubView {
  readonly #signer: RequestSigner | null;
  readonly #timeoutMs: number;
  #cached: { readonly at: number; readonly answers: Map<string, TrafficAnswer> } | null = null;
  /** The scrub progress of the last STATS of each datanode that reported one. */
  readonly #scrub = new Map<string, ScrubProgress>();

  /**
   * A probe.
   *
   * @param secrets The cluster secrets (requests are signed with the full one).
   * @param timeoutMs How long one datanode may take.
   */
  constructor(secrets?: NodeSecrets, timeoutMs: number = STATS_TIMEOUT_MS) {
    this.#signer = secrets === undefined ? null : new RequestSigner(secrets.full, "full");
    this.#timeoutMs = timeoutMs;
  }

  /**
   * The totals of each datanode, or why it has none.
   *
   * @param nodes The datanodes to ask.
   * @returns By datanode id.
   */
  async traffic(nodes: readonly DatanodeRecord[]): Promise<Map<string, TrafficAnswer>> {
    const cached = this.#cached;
    if (cached !== null && performance.now() - cached.at <= STATS_CACHE_MS) {
      if (nodes.every((n) => cached.answers.has(n.id))) return cached.answers;
    }
    const at = performance.now();
    const answers = new Map<string, TrafficAnswer>(
      await Promise.all(nodes.map(async (n) => [n.id, await this.#ask(n.id, n.address)] as const)),
    );
    this.#cached = { at, answers };
    return answers;
  }

  /**
   * A datanode's scrub progress as its last STATS (asked by {@linkcode StatsProbe.traffic})
   * told it, or null when it reported none.
   *
   * @param node The datanode id.
   * @returns Its progress.
   */
  progressOf(node: string): ScrubProgress | null {
    return this.#scrub.get(node) ?? null;
  }

  async #ask(node: string, address: string): Promise<TrafficAnswer> {
    try {
      using client = await DataNodeClient.connect(address, {
        connectTimeoutMs: this.#timeoutMs,
        idleTimeoutMs: this.#timeoutMs,
        frameTimeoutMs: this.#timeoutMs,
        signer: this.#signer,
      });
      const { total, scrub } = await client.stats();
      if (scrub === undefined) {
        this.#scrub.delete(node);
      } else {
        this.#scrub.set(node, {
          checkedBytes: scrub.passBytes,
          totalBytes: null,
          corrupt: scrub.corruptFound,
          passes: scrub.running ? scrub.pass - 1 : scrub.pass,
          lastPassEnded: scrub.lastPassFinished,
        });
      }
      return {
        requests: total.requests,
        errors: total.errors,
        bytesIn: total.bytesIn,
        bytesOut: total.bytesOut,
      };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }
}
