/**
 * The etcd v3 backend of {@linkcode MetadataStore}, for several namenodes serving one cluster.
 * Every update is one etcd transaction conditioned on the revisions of the keys it read
 * (`etcd_kv.ts`), retried a bounded number of times when another namenode wrote first, so no
 * update is lost and nothing is half-done. The key layout is in `etcd_keys.ts`.
 *
 * - File ids come from a counter key; each store reserves a batch of ids with one conditioned
 *   transaction and hands them out locally, so two namenodes never get the same id (ids lost
 *   with a stopped namenode are skipped, never reused) and creations do not all fight over one
 *   key.
 * - A file's record is one JSON value under its name; an index key per block copy
 *   (`placements/<node>/<blockId>`) is written in the same transaction, for block reports,
 *   orphans and node losses.
 * - Each record carries the token of the operation that wrote it last, so an attempt whose
 *   transaction's answer was lost recognizes its own write instead of applying it twice.
 * - Liveness: each datanode has a lease holding its `live/<id>` key (`etcd_datanodes.ts`).
 *   `beginFile` is conditioned on the key of every node it places blocks on, so a file is
 *   never begun on a silent node, and creating a file costs one transaction; committing it right
 *   after costs one more (the store remembers the record and revision it wrote).
 * - Block reports are kept as generations of keys (`etcd_reports.ts`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { quoteForMessage } from "../../core/quote.ts";
import { CdfsError } from "../../core/errors.ts";
import { EtcdDatanodes } from "./etcd_datanodes.ts";
import { EtcdKeys } from "./etcd_keys.ts";
import { EtcdKv, type EtcdKvOptions, type Kv, ops, type Step } from "./etcd_kv.ts";
import { fileOf, parseFile, type StoredFile } from "./etcd_records.ts";
import { EtcdReports } from "./etcd_reports.ts";
import { nameTaken, noFileNamed, noFileWithId } from "./failures.ts";
import type {
  BlockPlacement,
  BlockRef,
  BlockReport,
  DatanodeRecord,
  DatanodeRegistration,
  FileCommit,
  FileRecord,
  FileState,
  HeartbeatStats,
  ListFilesOptions,
  NewFile,
  PlacedBlock,
  ReportedBlock,
  ReportResult,
} from "./model.ts";
import { validateFileName, validateNamePrefix, validateNodeId } from "./validate_fields.ts";
import { classifyReport, reportIds, validateReport } from "./reports.ts";
import { DEFAULT_DEAD_AFTER_MS, type MetadataStore, type MetadataStoreOptions } from "./store.ts";
import {
  abortRecord,
  addBlocksRecord,
  commitRecord,
  copyKey,
  dropBlocksRecord,
  moveBlockRecord,
  newFileRecord,
  validateNewFile,
} from "./transitions.ts";
import { validateFileId, validateGrace, validateListOptions } from "./validate_args.ts";

/**
 * The schema version of the key layout.
 */
export const ETCD_SCHEMA_VERSION = 1;

/**
 * Options of {@linkcode EtcdMetadataStore.open}.
 *
 * @example
 * ```ts
 * import type { EtcdStoreOptions } from "./etcd_store.ts";
 * const options: EtcdStoreOptions = { prefix: "/lab/", idBatch: 64 };
 * ```
 */
export interface EtcdStoreOptions extends MetadataStoreOptions, EtcdKvOptions {
  /** The key prefix of this cluster (default `/cdfs/`). */
  readonly prefix?: string;
  /** File ids reserved per round trip (default 32). */
  readonly idBatch?: number;
}

/**
 * Cached id-to-name entries (the mapping never changes) and records this store wrote last;
 * the bound keeps memory flat.
 */
const NAME_CACHE_SIZE = 10_000;

/**
 * The etcd metadata store.
 *
 * @example
 * ```ts
 * import { EtcdMetadataStore } from "./etcd_store.ts";
 * async function demo(): Promise<void> {
 *   const store = await EtcdMetadataStore.open(["http://127.0.0.1:2379"], { prefix: "/lab/" });
 *   console.log((await store.listDatanodes()).length);
 *   await store.close();
 * }
 * ```
 */
export class EtcdMetadataStore implements MetadataStore {
  /** `etcd:HOSTS` and the prefix. */
  readonly description: string;
  readonly #kv: EtcdKv;
  readonly #keys: EtcdKeys;
  readonly #reports: EtcdReports;
  readonly #now: () => number;
  readonly #datanodes: EtcdDatanodes;
  readonly #idBatch: number;
  readonly #instance = crypto.randomUUID().slice(0, 8);
  readonly #names = new Map<number, string>();
  readonly #records = new Map<number, { stored: StoredFile; revision: string }>();
  #ops = 0;
  #nextId = 0;
  #endId = 0;
  #refill: Promise<void> | null = null;

  private constructor(kv: EtcdKv, keys: EtcdKeys, options: EtcdStoreOptions) {
    this.#kv = kv;
    this.#keys = keys;
    this.#now = options.now ?? Date.now;
    this.#reports = new EtcdReports(kv, keys, this.#now);
    this.#datanodes = new EtcdDatanodes(kv, keys, {
      now: this.#now,
      deadAfterMs: options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS,
      token: () => this.#token(),
    });
    this.#idBatch = options.idBatch ?? 32;
    this.description = `etcd:${kv.hosts.join(",")} prefix ${keys.prefix}`;
  }

  /**
   * Connects and checks (or writes) the schema version under the prefix.
   *
   * @example
   * ```ts
   * import { EtcdMetadataStore } from "./etcd_store.ts";
   * async function demo(): Promise<void> {
   *   const store = await EtcdMetadataStore.open(["http://127.0.0.1:2379"]);
   *   await store.close();
   * }
   * ```
   *
   * @param hosts `http://HOST:PORT` of one or more members.
   * @param options Prefix, clock, silence, retry bounds.
   * @returns The store.
   * @throws {CdfsError} `UNAVAILABLE` when etcd cannot be reached or the prefix holds a newer
   * schema.
   */
  static async open(
    hosts: readonly string[],
    options: EtcdStoreOptions = {},
  ): Promise<EtcdMetadataStore> {
    const keys = new EtcdKeys(options.prefix);
    const kv = EtcdKv.connect(hosts, options);
    try {
      const key = keys.schema();
      await kv.optimistic("check the metadata schema", async () => {
        const read = await kv.get(key);
        if (read !== undefined) {
          const version = (JSON.parse(read.value) as { version: number }).version;
          if (version > ETCD_SCHEMA_VERSION) {
            throw new CdfsError(
              "UNAVAILABLE",
              `etcd prefix ${keys.prefix} has metadata schema version ${version}, newer than this cdfs (${ETCD_SCHEMA_VERSION})`,
            );
          }
          return { done: undefined };
        }
        const value = JSON.stringify({ version: ETCD_SCHEMA_VERSION });
        return { compare: [ops.absent(key)], success: [ops.put(key, value)], result: undefined };
      });
    } catch (error) {
      kv.close();
      throw error;
    }
    return new EtcdMetadataStore(kv, keys, options);
  }

  // --- datanodes ----------------------------------------------------------------------------

  registerDatanode(registration: DatanodeRegistration): Promise<DatanodeRecord> {
    return this.#datanodes.register(registration);
  }

  heartbeat(nodeId: string, stats: HeartbeatStats): Promise<DatanodeRecord> {
    return this.#datanodes.heartbeat(nodeId, stats);
  }

  getDatanode(nodeId: string): Promise<DatanodeRecord> {
    return this.#datanodes.get(nodeId);
  }

  listDatanodes(): Promise<DatanodeRecord[]> {
    return this.#datanodes.list();
  }

  markDeadDatanodes(): Promise<string[]> {
    return this.#datanodes.markSilentDead();
  }

  markDatanodeDead(nodeId: string): Promise<boolean> {
    return this.#datanodes.markDead(nodeId);
  }

  // --- block reports ------------------------------------------------------------------------

  async reportBlocks(nodeId: string, report: BlockReport): Promise<ReportResult> {
    const node = (await this.getDatanode(nodeId)).id;
    const valid = validateReport(report);
    await this.#reports.record(node, valid);
    if (valid.kind === "full") return classifyReport(await this.#placedOn(node), valid);
    return classifyReport(await this.#placedOn(node, reportIds(valid)), valid);
  }

  async listReportedBlocks(nodeId: string): Promise<ReportedBlock[]> {
    const node = (await this.getDatanode(nodeId)).id;
    return await this.#reports.listReported(node);
  }

  async listOrphans(graceMs: number): Promise<ReportedBlock[]> {
    return await this.#reports.listOrphans(this.#now() - validateGrace(graceMs));
  }

  async blocksOnNode(nodeId: string): Promise<PlacedBlock[]> {
    return await this.#placedOn(validateNodeId(nodeId));
  }

  // --- files --------------------------------------------------------------------------------

  async beginFile(spec: NewFile): Promise<FileRecord> {
    const valid = validateNewFile(spec);
    const key = this.#keys.name(valid.name);
    const nodes = [...new Set(valid.blocks.map((b) => b.node))];
    const file = newFileRecord(await this.#allocateFileId(), valid, this.#now());
    const token = this.#token();
    const stored: StoredFile = { ...file, op: token };
    return await this.#kv.optimistic(`begin file ${quoteForMessage(valid.name)}`, async (
      { attempt },
    ) => {
      if (attempt > 0) {
        // A condition failed (or the answer was lost): find out which, to say so.
        const read = await this.#kv.get(key);
        if (read !== undefined) {
          const found = parseFile(read);
          if (found.op === token) return { done: file };
          throw nameTaken(valid.name, found.state === "pending");
        }
        await this.#datanodes.checkPlacement(valid.blocks);
      }
      return {
        // One round trip: the name must be free and every node must hold its liveness key
        // (markDeadDatanodes deletes it; etcd deletes it when the node's lease expires).
        compare: [ops.absent(key), ...nodes.map((n) => ops.present(this.#keys.live(n)))],
        success: [
          ops.put(key, JSON.stringify(stored)),
          ops.put(this.#keys.file(file.fileId), file.name),
          ...file.blocks.map((b) =>
            ops.put(this.#keys.placement(b.node, b.blockId), `${file.fileId}`)
          ),
        ],
        result: file,
        onSuccess: (revision) => this.#remember(stored, revision),
      };
    });
  }

  async commitFile(fileId: number, commit: FileCommit): Promise<FileRecord> {
    return await this.#mutate(fileId, "commit", (file) => commitRecord(file, commit, this.#now()));
  }

  async abortFile(fileId: number): Promise<FileRecord | null> {
    return await this.#mutate(fileId, "abort", abortRecord);
  }

  async addBlocks(fileId: number, placements: readonly BlockPlacement[]): Promise<FileRecord> {
    return await this.#mutate(
      fileId,
      "add blocks to",
      (file) => addBlocksRecord(file, placements),
      () => this.#datanodes.checkPlacement(placements),
    );
  }

  async dropBlocks(
    fileId: number,
    refs: readonly BlockRef[],
    state?: Exclude<FileState, "pending">,
  ): Promise<FileRecord> {
    return await this.#mutate(
      fileId,
      "drop blocks of",
      (file) => dropBlocksRecord(file, refs, state),
    );
  }

  async moveBlock(fileId: number, blockId: string, from: string, to: string): Promise<FileRecord> {
    return await this.#mutate(
      fileId,
      "move a block of",
      (file) => moveBlockRecord(file, blockId, from, to),
      () => this.#datanodes.checkPlacement([{ node: to, role: { kind: "part", index: 0 } }]),
    );
  }

  async getFile(name: string): Promise<FileRecord> {
    const valid = validateFileName(name);
    const read = await this.#kv.get(this.#keys.name(valid));
    if (read === undefined) throw noFileNamed(valid);
    const file = parseFile(read);
    if (file.state === "pending") throw noFileNamed(valid);
    return fileOf(file);
  }

  async getFileById(fileId: number): Promise<FileRecord> {
    const id = validateFileId(fileId);
    const [file] = await this.#filesByIds([id]);
    if (file === undefined) throw noFileWithId(id);
    return file;
  }

  async listFiles(prefix: string, options: ListFilesOptions = {}): Promise<FileRecord[]> {
    const valid = validateNamePrefix(prefix);
    const { after, limit, pending } = validateListOptions(options);
    const base = this.#keys.namesWith(valid);
    let from = after !== undefined && Buffer.compare(Buffer.from(after), Buffer.from(valid)) >= 0
      ? `${this.#keys.name(after)}\0`
      : base;
    const out: FileRecord[] = [];
    for (;;) {
      const page = await this.#kv.range(base, { from, limit: limit - out.length });
      for (const kv of page.kvs) {
        const file = parseFile(kv);
        // (Read whole: the records are keyed by name alone.)
        if (pending === "include" || (file.state === "pending") === (pending === "only")) {
          out.push(fileOf(file));
        }
      }
      if (out.length >= limit || !page.more || page.kvs.length === 0) return out;
      from = `${page.kvs[page.kvs.length - 1]!.key}\0`;
    }
  }

  async deleteFile(name: string): Promise<FileRecord> {
    const valid = validateFileName(name);
    const key = this.#keys.name(valid);
    let last: FileRecord | undefined;
    return await this.#kv.optimistic(`delete file ${quoteForMessage(valid)}`, async (
      { ambiguous },
    ) => {
      const read = await this.#kv.get(key);
      const stored = read === undefined ? undefined : parseFile(read);
      // Gone after an attempt whose answer was lost: that attempt deleted it.
      if (ambiguous && last !== undefined && stored?.fileId !== last.fileId) return { done: last };
      if (read === undefined || stored === undefined || stored.state === "pending") {
        throw noFileNamed(valid);
      }
      last = fileOf(stored);
      const fileId = last.fileId;
      return {
        compare: [ops.unchanged(key, read.modRevision)],
        success: this.#fileWrites(key, last, null, ""),
        result: last,
        onSuccess: () => this.#forget(fileId),
      };
    });
  }

  close(): Promise<void> {
    this.#kv.close();
    return Promise.resolve();
  }

  // --- helpers ------------------------------------------------------------------------------

  #token(): string {
    return `${this.#instance}:${++this.#ops}`;
  }

  async #allocateFileId(): Promise<number> {
    while (this.#nextId >= this.#endId) {
      this.#refill ??= this.#reserveIds().finally(() => this.#refill = null);
      await this.#refill;
    }
    return this.#nextId++;
  }

  async #reserveIds(): Promise<void> {
    const key = this.#keys.fileSeq();
    const [start, end] = await this.#kv.optimistic("reserve file ids", async () => {
      const read = await this.#kv.get(key);
      const start = read === undefined ? 1 : Number(read.value);
      const end = start + this.#idBatch;
      // After a lost answer the range may have been reserved after all: then it is skipped,
      // which wastes ids but never hands one out twice.
      return {
        compare: [ops.asRead(key, read)],
        success: [ops.put(key, `${end}`)],
        result: [start, end] as const,
      };
    });
    this.#nextId = start;
    this.#endId = end;
  }

  #rememberName(fileId: number, name: string): void {
    if (this.#names.size >= NAME_CACHE_SIZE) this.#names.clear();
    this.#names.set(fileId, name);
  }

  async #nameOf(fileId: number): Promise<string | undefined> {
    const cached = this.#names.get(fileId);
    if (cached !== undefined) return cached;
    const read = await this.#kv.get(this.#keys.file(fileId));
    if (read !== undefined) this.#rememberName(fileId, read.value);
    return read?.value;
  }

  /**
   * Reads a file by id, applies a rule from `transitions.ts` and writes the result in one
   * transaction conditioned on the record read.
   */
  #mutate<T extends FileRecord | null>(
    fileId: number,
    what: string,
    change: (file: FileRecord) => T,
    check?: () => Promise<void>,
  ): Promise<T> {
    const id = validateFileId(fileId);
    const token = this.#token();
    let deleting = false;
    return this.#kv.optimistic(`${what} file ${id}`, async (
      { attempt, ambiguous },
    ): Promise<Step<T>> => {
      // First try with the record this namenode wrote last (a commit right after its begin
      // costs one round trip); the condition on its revision catches any change since.
      let stored: StoredFile | undefined;
      let revision: string | undefined;
      const cached = attempt === 0 ? this.#records.get(id) : undefined;
      if (cached !== undefined) {
        ({ stored, revision } = cached);
      } else {
        const name = await this.#nameOf(id);
        if (name === undefined) throw noFileWithId(id);
        const read = await this.#kv.get(this.#keys.name(name));
        stored = read === undefined ? undefined : parseFile(read);
        revision = read?.modRevision;
      }
      if (stored === undefined || revision === undefined || stored.fileId !== id) {
        if (ambiguous && deleting) return { done: null as T };
        this.#forget(id);
        throw noFileWithId(id);
      }
      if (stored.op === token) return { done: fileOf(stored) as T };
      const current = fileOf(stored);
      const next = change(current);
      await check?.();
      deleting = next === null;
      const key = this.#keys.name(current.name);
      return {
        compare: [ops.unchanged(key, revision)],
        success: this.#fileWrites(key, current, next, token),
        result: next,
        onSuccess: (written) =>
          next === null ? this.#forget(id) : this.#remember({ ...next, op: token }, written),
      };
    });
  }

  /** Keeps the record this store just wrote, with its revision. */
  #remember(stored: StoredFile, revision: string): void {
    if (this.#records.size >= NAME_CACHE_SIZE) this.#records.clear();
    this.#records.set(stored.fileId, { stored, revision });
    this.#rememberName(stored.fileId, stored.name);
  }

  #forget(fileId: number): void {
    this.#records.delete(fileId);
    this.#names.delete(fileId);
  }

  /** The writes that turn one record of a file into the next (null: delete the file). */
  #fileWrites(key: string, old: FileRecord, next: FileRecord | null, token: string) {
    const before = new Set(old.blocks.map((b) => copyKey(b.blockId, b.node)));
    const after = new Set((next?.blocks ?? []).map((b) => copyKey(b.blockId, b.node)));
    const writes = next === null
      ? [ops.del(key), ops.del(this.#keys.file(old.fileId))]
      : [ops.put(key, JSON.stringify({ ...next, op: token }))];
    for (const b of old.blocks) {
      if (!after.has(copyKey(b.blockId, b.node))) {
        writes.push(ops.del(this.#keys.placement(b.node, b.blockId)));
      }
    }
    for (const b of next?.blocks ?? []) {
      if (!before.has(copyKey(b.blockId, b.node))) {
        writes.push(ops.put(this.#keys.placement(b.node, b.blockId), `${old.fileId}`));
      }
    }
    return writes;
  }

  /** Files by id (absent ones left out), in two batched round trips. */
  async #filesByIds(ids: readonly number[]): Promise<FileRecord[]> {
    const missing = ids.filter((id) => !this.#names.has(id));
    const reads = await this.#kv.getMany(missing.map((id) => this.#keys.file(id)));
    missing.forEach((id, i) => {
      const read = reads[i];
      if (read !== undefined) this.#rememberName(id, read.value);
    });
    const known = ids.filter((id) => this.#names.has(id));
    const records = await this.#kv.getMany(
      known.map((id) => this.#keys.name(this.#names.get(id)!)),
    );
    const files: FileRecord[] = [];
    known.forEach((id, i) => {
      const read = records[i];
      const stored = read === undefined ? undefined : parseFile(read);
      if (stored?.fileId === id) files.push(fileOf(stored));
    });
    return files;
  }

  /** The copies files place on a node (all, or those of some block ids), by block id. */
  async #placedOn(node: string, blockIds?: readonly string[]): Promise<PlacedBlock[]> {
    let entries: Kv[];
    if (blockIds === undefined) {
      entries = (await this.#kv.rangeAll(this.#keys.placementsOf(node))).kvs;
    } else {
      const reads = await this.#kv.getMany(blockIds.map((b) => this.#keys.placement(node, b)));
      entries = reads.filter((r): r is Kv => r !== undefined);
    }
    const fileIds = [...new Set(entries.map((kv) => Number(kv.value)))];
    const placed: PlacedBlock[] = [];
    for (const file of await this.#filesByIds(fileIds)) {
      for (const b of file.blocks) {
        if (b.node === node && (blockIds === undefined || blockIds.includes(b.blockId))) {
          placed.push({ ...b, fileId: file.fileId, name: file.name });
        }
      }
    }
    return placed.sort((a, b) => a.blockId < b.blockId ? -1 : a.blockId > b.blockId ? 1 : 0);
  }
}
