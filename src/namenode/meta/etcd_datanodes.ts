/**
 * The datanodes of the etcd backend: one record per datanode, and a liveness key per datanode
 * held by a lease (TTL = `deadAfterMs`), renewed by every heartbeat through whichever namenode
 * receives it. When heartbeats stop, etcd itself drops the key, whatever happened to the
 * namenodes (marking a node dead drops it too); blocks are placed only on nodes that hold it.
 *
 * @module
 */
import { CdfsError } from "../../core/errors.ts";
import type { EtcdKeys } from "./etcd_keys.ts";
import { type EtcdKv, ops } from "./etcd_kv.ts";
import { nodeOf, parseNode } from "./etcd_records.ts";
import { notRegistered } from "./failures.ts";
import type {
  BlockPlacement,
  DatanodeRecord,
  DatanodeRegistration,
  HeartbeatStats,
} from "./model.ts";
import { checkPlacementTarget, heartbeatRecord, isSilent, registerRecord } from "./transitions.ts";
import { validateNodeId } from "./validate_fields.ts";

/**
 * The datanodes' records and liveness keys, in etcd.
 *
 * @example
 * ```ts
 * import { EtcdDatanodes } from "./etcd_datanodes.ts";
 * import { EtcdKeys } from "./etcd_keys.ts";
 * import { EtcdKv } from "./etcd_kv.ts";
 * async function demo(): Promise<void> {
 *   const kv = EtcdKv.connect(["http://127.0.0.1:2379"]);
 *   let ops = 0;
 *   const datanodes = new EtcdDatanodes(kv, new EtcdKeys("/lab/"), {
 *     now: Date.now,
 *     deadAfterMs: 30_000,
 *     token: () => `demo:${++ops}`,
 *   });
 *   console.log((await datanodes.list()).length);
 *   kv.close();
 * }
 * ```
 */
export class EtcdDatanodes {
  readonly #kv: EtcdKv;
  readonly #keys: EtcdKeys;
  readonly #now: () => number;
  readonly #deadAfterMs: number;
  readonly #leaseTtl: number;
  readonly #token: () => string;

  /**
   * Reads and writes datanodes through `kv` under the keys of `keys`.
   *
   * @param kv The etcd client.
   * @param keys The key layout.
   * @param options The clock, the silence after which a node is dead, and the source of the
   * tokens that mark this store's writes.
   */
  constructor(
    kv: EtcdKv,
    keys: EtcdKeys,
    options: { now: () => number; deadAfterMs: number; token: () => string },
  ) {
    this.#kv = kv;
    this.#keys = keys;
    this.#now = options.now;
    this.#deadAfterMs = options.deadAfterMs;
    this.#leaseTtl = Math.max(1, Math.ceil(this.#deadAfterMs / 1000));
    this.#token = options.token;
  }

  /**
   * Registers a datanode (again), renewing or granting the lease of its liveness key.
   *
   * @example
   * Not run by `deno test --doc`: it needs etcd.
   * ```ts ignore
   * await datanodes.register({ id: "dn0", address: "127.0.0.1:13100", capacity: 10, free: 10 });
   * ```
   *
   * @param registration Id, address, capacity, free bytes.
   * @returns The record.
   */
  async register(registration: DatanodeRegistration): Promise<DatanodeRecord> {
    const id = validateNodeId(registration.id);
    const key = this.#keys.node(id);
    const token = this.#token();
    return await this.#kv.optimistic(`register datanode ${id}`, async () => {
      const read = await this.#kv.get(key);
      const old = read === undefined ? null : parseNode(read);
      if (old?.op === token) return { done: nodeOf(old) };
      const next = registerRecord(old === null ? null : nodeOf(old), registration, this.#now());
      const lease = await this.#liveLease(old?.lease);
      return {
        compare: [ops.asRead(key, read)],
        success: [
          ops.put(key, JSON.stringify({ ...next, op: token, lease })),
          ops.put(this.#keys.live(id), "", lease),
        ],
        result: next,
      };
    });
  }

  /**
   * Records a heartbeat, renewing the node's liveness key.
   *
   * @example
   * Not run by `deno test --doc`: it needs etcd.
   * ```ts ignore
   * await datanodes.heartbeat("dn0", { free: 10 });
   * ```
   *
   * @param nodeId The datanode's id.
   * @param stats Free bytes (and capacity).
   * @returns The record.
   */
  async heartbeat(nodeId: string, stats: HeartbeatStats): Promise<DatanodeRecord> {
    const id = validateNodeId(nodeId);
    const key = this.#keys.node(id);
    const token = this.#token();
    return await this.#kv.optimistic(`record a heartbeat of datanode ${id}`, async () => {
      const read = await this.#kv.get(key);
      if (read === undefined) throw notRegistered(id);
      const old = parseNode(read);
      if (old.op === token) return { done: nodeOf(old) };
      const next = heartbeatRecord(nodeOf(old), stats, this.#now());
      const lease = await this.#liveLease(old.lease);
      return {
        compare: [ops.unchanged(key, read.modRevision)],
        success: [
          ops.put(key, JSON.stringify({ ...next, op: token, lease })),
          // Back from the dead, or on a new lease: the liveness key must exist, on this lease.
          ops.put(this.#keys.live(id), "", lease),
        ],
        result: next,
      };
    });
  }

  /**
   * A registered datanode.
   *
   * @example
   * Not run by `deno test --doc`: it needs etcd.
   * ```ts ignore
   * const node = await datanodes.get("dn0");
   * ```
   *
   * @param nodeId The datanode's id.
   * @returns The record.
   */
  async get(nodeId: string): Promise<DatanodeRecord> {
    const id = validateNodeId(nodeId);
    const read = await this.#kv.get(this.#keys.node(id));
    if (read === undefined) throw notRegistered(id);
    return nodeOf(parseNode(read));
  }

  /**
   * Every registered datanode.
   *
   * @example
   * Not run by `deno test --doc`: it needs etcd.
   * ```ts ignore
   * const nodes = await datanodes.list();
   * ```
   *
   * @returns The records, by id.
   */
  async list(): Promise<DatanodeRecord[]> {
    const { kvs } = await this.#kv.rangeAll(this.#keys.nodes());
    return kvs.map((kv) => nodeOf(parseNode(kv)));
  }

  /**
   * Marks dead every alive datanode that is silent or whose liveness key expired.
   *
   * @example
   * Not run by `deno test --doc`: it needs etcd.
   * ```ts ignore
   * const marked = await datanodes.markSilentDead();
   * ```
   *
   * @returns The ids marked.
   */
  async markSilentDead(): Promise<string[]> {
    const { kvs, revision } = await this.#kv.rangeAll(this.#keys.nodes());
    const lives = await this.#kv.rangeAll(this.#keys.lives(), revision);
    const live = new Set(lives.kvs.map((kv) => kv.key.slice(this.#keys.lives().length)));
    const marked: string[] = [];
    for (const first of kvs) {
      const id = parseNode(first).id;
      const key = this.#keys.node(id);
      const liveKey = this.#keys.live(id);
      const token = this.#token();
      const dead = await this.#kv.optimistic(`mark datanode ${id} dead`, async ({ attempt }) => {
        const read = attempt === 0 ? first : await this.#kv.get(key);
        const hasLive = attempt === 0 ? live.has(id) : (await this.#kv.get(liveKey)) !== undefined;
        if (read === undefined) return { done: false };
        const node = parseNode(read);
        if (node.op === token) return { done: true };
        const silent = isSilent(nodeOf(node), this.#now(), this.#deadAfterMs);
        if (node.state !== "alive" || (!silent && hasLive)) return { done: false };
        return {
          // A heartbeat in between changes the record (and re-creates the liveness key).
          compare: [
            ops.unchanged(key, read.modRevision),
            ...(hasLive ? [] : [ops.absent(liveKey)]),
          ],
          // Without its liveness key, a dead node fails the placement check of `beginFile`.
          success: [
            ops.put(key, JSON.stringify({ ...node, state: "dead", op: token })),
            ops.del(liveKey),
          ],
          result: true,
        };
      });
      if (dead) marked.push(id);
    }
    return marked;
  }

  /**
   * Marks a datanode dead now (it leaves on purpose).
   *
   * @example
   * Not run by `deno test --doc`: it needs etcd.
   * ```ts ignore
   * await datanodes.markDead("dn0");
   * ```
   *
   * @param nodeId The datanode's id.
   * @returns Whether it was alive.
   */
  async markDead(nodeId: string): Promise<boolean> {
    const id = validateNodeId(nodeId);
    const key = this.#keys.node(id);
    const token = this.#token();
    return await this.#kv.optimistic(`mark datanode ${id} dead`, async () => {
      const read = await this.#kv.get(key);
      if (read === undefined) throw notRegistered(id);
      const node = parseNode(read);
      // Our own write whose answer was lost: it did mark the node.
      if (node.op === token) return { done: true };
      if (node.state === "dead") return { done: false };
      return {
        // A heartbeat or registration in between changes the record: read it again.
        compare: [ops.unchanged(key, read.modRevision)],
        // As markDeadDatanodes: without its liveness key the node takes no new blocks.
        success: [
          ops.put(key, JSON.stringify({ ...node, state: "dead", op: token })),
          ops.del(this.#keys.live(id)),
        ],
        result: true,
      };
    });
  }

  /**
   * Checks that blocks may be placed on the datanodes of `placements`: registered, alive, and
   * holding their liveness key.
   *
   * @example
   * Not run by `deno test --doc`: it needs etcd.
   * ```ts ignore
   * await datanodes.checkPlacement([{ node: "dn0", role: { kind: "part", index: 0 } }]);
   * ```
   *
   * @param placements The placements.
   * @throws {CdfsError} `NOT_FOUND` or `CONFLICT` naming the datanode.
   */
  async checkPlacement(placements: readonly BlockPlacement[]): Promise<void> {
    const ids = [...new Set(placements.map((p) => validateNodeId(p.node)))];
    const reads = await this.#kv.getMany([
      ...ids.map((id) => this.#keys.node(id)),
      ...ids.map((id) => this.#keys.live(id)),
    ]);
    ids.forEach((id, i) => {
      const read = reads[i];
      checkPlacementTarget(id, read === undefined ? undefined : nodeOf(parseNode(read)));
      if (reads[ids.length + i] === undefined) {
        throw new CdfsError(
          "CONFLICT",
          `datanode ${id} has missed its heartbeats (its liveness lease expired): no block may be placed on it`,
        );
      }
    });
  }

  /** Renews the node's lease, or grants a new one when it expired (or there was none). */
  async #liveLease(existing: string | undefined): Promise<string> {
    if (existing !== undefined && await this.#kv.keepAlive(existing)) return existing;
    return await this.#kv.grantLease(this.#leaseTtl);
  }
}
