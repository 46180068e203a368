/**
 * The block reports of the etcd backend: each datanode's reported set lives under a
 * generation of keys (`reports/<node>/<gen>/<blockId>`), and `reportgen/<node>` names the
 * current one.
 *
 * - A full block report is written as a new generation of keys and made current by one
 *   transaction, so readers see the old set or the new one, never a mix.
 * - An incremental report is one transaction conditioned on the generation and every key it
 *   touches.
 *
 * @module
 */
import { CdfsError } from "../../core/errors.ts";
import type { EtcdKeys } from "./etcd_keys.ts";
import { type EtcdKv, ops } from "./etcd_kv.ts";
import { parseNode } from "./etcd_records.ts";
import type { BlockReport, ReportedBlock } from "./model.ts";
import { planReport, reportIds } from "./reports.ts";
import { copyKey } from "./transitions.ts";

/** A staged report generation older than this is garbage from a namenode that died. */
const STALE_GENERATION_MS = 10 * 60_000;
/** Operations per staging transaction (etcd's default limit is 128). */
const STAGE_BATCH = 100;

/**
 * The reported blocks of every datanode, in etcd.
 *
 * @example
 * ```ts
 * import { EtcdKeys } from "./etcd_keys.ts";
 * import { EtcdKv } from "./etcd_kv.ts";
 * import { EtcdReports } from "./etcd_reports.ts";
 * async function demo(): Promise<void> {
 *   const kv = EtcdKv.connect(["http://127.0.0.1:2379"]);
 *   const reports = new EtcdReports(kv, new EtcdKeys("/lab/"), Date.now);
 *   console.log((await reports.listReported("dn0")).length);
 *   kv.close();
 * }
 * ```
 */
export class EtcdReports {
  readonly #kv: EtcdKv;
  readonly #keys: EtcdKeys;
  readonly #now: () => number;

  /**
   * Reads and writes reports through `kv` under the keys of `keys`.
   *
   * @param kv The etcd client.
   * @param keys The key layout.
   * @param now The clock.
   */
  constructor(kv: EtcdKv, keys: EtcdKeys, now: () => number) {
    this.#kv = kv;
    this.#keys = keys;
    this.#now = now;
  }

  /**
   * Records a validated report of a registered node.
   *
   * @example
   * Not run by `deno test --doc`: it needs etcd.
   * ```ts ignore
   * await reports.record("dn0", { kind: "incremental", added: [], removed: ["f7.part0"] });
   * ```
   *
   * @param node The datanode's id.
   * @param report The report.
   */
  async record(node: string, report: BlockReport): Promise<void> {
    if (report.kind === "full") await this.#fullReport(node, report);
    else await this.#incrementalReport(node, report);
  }

  /**
   * A node's current reported set.
   *
   * @example
   * Not run by `deno test --doc`: it needs etcd.
   * ```ts ignore
   * const reported = await reports.listReported("dn0");
   * ```
   *
   * @param node The datanode's id.
   * @returns Its reported blocks, by block id.
   */
  async listReported(node: string): Promise<ReportedBlock[]> {
    const gen = await this.#kv.get(this.#keys.reportGen(node));
    if (gen === undefined) return [];
    return [...(await this.#reportedSet(node, gen.value)).values()];
  }

  /**
   * The reported copies, first seen at or before `cutoff`, that no file places where they are.
   *
   * @example
   * Not run by `deno test --doc`: it needs etcd.
   * ```ts ignore
   * const orphans = await reports.listOrphans(Date.now() - 60_000);
   * ```
   *
   * @param cutoff The latest first-seen time of an orphan.
   * @returns The orphans.
   */
  async listOrphans(cutoff: number): Promise<ReportedBlock[]> {
    // One revision for every read: a file created between two reads must not make its blocks
    // look like orphans.
    const nodes = await this.#kv.rangeAll(this.#keys.nodes());
    const at = nodes.revision;
    const placements = await this.#kv.rangeAll(this.#keys.placementsOf(), at);
    const placed = new Set(placements.kvs.map((kv) => {
      const [node, blockId] = kv.key.slice(this.#keys.placementsOf().length).split("/");
      return copyKey(blockId!, node!);
    }));
    const orphans: ReportedBlock[] = [];
    for (const kv of nodes.kvs) {
      const node = parseNode(kv).id;
      const gen = await this.#kv.get(this.#keys.reportGen(node), at);
      if (gen === undefined) continue;
      for (const r of (await this.#reportedSet(node, gen.value, at)).values()) {
        if (r.firstSeen <= cutoff && !placed.has(copyKey(r.blockId, node))) orphans.push(r);
      }
    }
    return orphans;
  }

  /** A node's reported blocks of one generation. */
  async #reportedSet(
    node: string,
    gen: string,
    revision?: string,
  ): Promise<Map<string, ReportedBlock>> {
    const prefix = this.#keys.report(node, gen, "");
    const { kvs } = await this.#kv.rangeAll(prefix, revision);
    return new Map(kvs.map((kv) => {
      const blockId = kv.key.slice(prefix.length);
      return [blockId, reportedOf(node, blockId, kv.value)];
    }));
  }

  /**
   * A full report: the node's new set is staged under a fresh generation, then one
   * transaction makes it current and drops the old one. If another report made a generation
   * current meanwhile, the staged one is dropped and the report planned again.
   */
  async #fullReport(node: string, report: BlockReport & { kind: "full" }): Promise<void> {
    const genKey = this.#keys.reportGen(node);
    for (let round = 0;; round++) {
      const genRead = await this.#kv.get(genKey);
      const all = await this.#kv.rangeAll(this.#keys.report(node));
      const before = new Map<string, ReportedBlock>();
      const stale = new Set<string>();
      const now = this.#now();
      for (const kv of all.kvs) {
        const [gen, blockId] = kv.key.slice(this.#keys.report(node).length).split("/");
        if (gen === genRead?.value) before.set(blockId!, reportedOf(node, blockId!, kv.value));
        else if (now - generationTime(gen!) > STALE_GENERATION_MS) stale.add(gen!);
      }
      const changes = planReport(node, before, report, now);
      const cleanup = [...stale].map((g) => ops.delPrefix(this.#keys.report(node, g, "")));
      if (changes.upserts.length === 0 && changes.removed.length === 0) {
        if (cleanup.length > 0) await this.#kv.writeIdempotent(cleanup);
        return;
      }
      const next = new Map(before);
      for (const id of changes.removed) next.delete(id);
      for (const r of changes.upserts) next.set(r.blockId, r);
      const gen = `${now.toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
      const staged = [...next.values()].map((r) =>
        ops.put(this.#keys.report(node, gen, r.blockId), JSON.stringify([r.length, r.firstSeen]))
      );
      for (let i = 0; i < staged.length; i += STAGE_BATCH) {
        await this.#kv.writeIdempotent(staged.slice(i, i + STAGE_BATCH));
      }
      const flipped = await this.#kv.optimistic(`record a block report of ${node}`, async (
        { attempt },
      ) => {
        if (attempt > 0) return { done: (await this.#kv.get(genKey))?.value === gen };
        return {
          compare: [ops.asRead(genKey, genRead)],
          success: [
            ops.put(genKey, gen),
            ...(genRead === undefined
              ? []
              : [ops.delPrefix(this.#keys.report(node, genRead.value, ""))]),
            ...cleanup,
          ],
          result: true,
        };
      });
      if (flipped) return;
      await this.#kv.writeIdempotent([ops.delPrefix(this.#keys.report(node, gen, ""))]);
      if (round >= 8) {
        throw new CdfsError(
          "CONFLICT",
          `gave up recording a full block report of datanode ${node}: other reports kept winning`,
        );
      }
    }
  }

  /** An incremental report: one transaction conditioned on the generation and every key. */
  async #incrementalReport(
    node: string,
    report: BlockReport & { kind: "incremental" },
  ): Promise<void> {
    const genKey = this.#keys.reportGen(node);
    await this.#kv.optimistic(`record a block report of ${node}`, async () => {
      const genRead = await this.#kv.get(genKey);
      const gen = genRead?.value ??
        `${this.#now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
      const ids = reportIds(report);
      const keys = ids.map((id) => this.#keys.report(node, gen, id));
      const reads = await this.#kv.getMany(keys);
      const before = new Map<string, ReportedBlock>();
      ids.forEach((id, i) => {
        const read = reads[i];
        if (read !== undefined) before.set(id, reportedOf(node, id, read.value));
      });
      const changes = planReport(node, before, report, this.#now());
      if (changes.upserts.length === 0 && changes.removed.length === 0) return { done: undefined };
      const byId = new Map(ids.map((id, i) => [id, i]));
      const touched = [...changes.upserts.map((r) => r.blockId), ...changes.removed];
      return {
        compare: [
          ops.asRead(genKey, genRead),
          ...touched.map((id) => ops.asRead(keys[byId.get(id)!]!, reads[byId.get(id)!])),
        ],
        success: [
          ...(genRead === undefined ? [ops.put(genKey, gen)] : []),
          ...changes.upserts.map((r) =>
            ops.put(
              this.#keys.report(node, gen, r.blockId),
              JSON.stringify([r.length, r.firstSeen]),
            )
          ),
          ...changes.removed.map((id) => ops.del(this.#keys.report(node, gen, id))),
        ],
        result: undefined,
      };
    });
  }
}

function reportedOf(node: string, blockId: string, value: string): ReportedBlock {
  const [length, firstSeen] = JSON.parse(value) as [number, number];
  return { node, blockId, length, firstSeen };
}

/** The time a generation token was made (its first part, base 36). */
function generationTime(gen: string): number {
  const time = parseInt(gen.split("-")[0] ?? "", 36);
  return Number.isFinite(time) ? time : 0;
}
