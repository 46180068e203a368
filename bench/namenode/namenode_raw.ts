/**
 * The metadata writes of one put, three ways, for `cdfs bench namenode` (and
 * `bench/namenode/namenode_meta.ts`): the operation is what a client's put costs the namenode's
 * metadata, begin a file (reserve the name, allocate the file id and 22 block ids: RapidRAID's
 * 11 parts on 2 datanodes each, over 16 datanodes) and commit it.
 *
 * - **raw SQLite**: the namenode's schema and pragmas (WAL, synchronous FULL, temporary
 *   journals in memory) driven by hand: one write transaction inserting the file row and its
 *   22 block rows, then one updating them, with prepared statements and nothing else (no
 *   validation, no reads, no placement).
 * - **raw etcd**: the same two transactions through the same `etcd3` client the store uses:
 *   create the name key if absent with the record, the id key and the 22 index keys; then
 *   replace the record if unchanged; the ids from a local counter.
 * - **store**: a {@linkcode MetadataStore} (either backend) doing `beginFile` + `commitFile`
 *   in this process: the raw writes plus the store's own reads, checks and id batches.
 *
 * These are the references the namenode server is measured against: what the backend costs
 * for the same writes when nothing else is in the way.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { DatabaseSync } from "node:sqlite";
import { CompareResult, CompareTarget, Etcd3, type IRequestOp } from "etcd3";
import type { BlockPlacement, DatanodeRegistration } from "../../src/namenode/meta/model.ts";
import { migrate } from "../../src/namenode/meta/sqlite_schema.ts";
import type { MetadataStore } from "../../src/namenode/meta/store.ts";

/**
 * How many datanodes the metadata benchmark registers (records only: nothing listens there).
 */
export const BENCH_DATANODES = 16;

/**
 * A digest for the commits, 64 hex digits (the namenode never checks it against bytes).
 */
export const BENCH_DIGEST: string = "ab".repeat(32);

/**
 * RapidRAID's put: part j on datanodes `dn<j>` and `dn<j+5>`, 22 copies over 16 datanodes.
 *
 * @example
 * ```ts
 * import { PUT_PLACEMENTS } from "./namenode_raw.ts";
 * console.log(PUT_PLACEMENTS.length, PUT_PLACEMENTS[11]); // 22 { role: { kind: "part", index: 0 }, node: "dn5" }
 * ```
 */
export const PUT_PLACEMENTS: readonly BlockPlacement[] = Array.from({ length: 22 }, (_, i) => ({
  role: { kind: "part", index: i % 11 },
  node: `dn${(i % 11) + (i < 11 ? 0 : 5)}`,
}));

/**
 * The registration of benchmark datanode i: `dn<i>` at a loopback address, with room for
 * every file a benchmark writes (the metadata never sees a byte).
 *
 * @example
 * ```ts
 * import { benchDatanode } from "./namenode_raw.ts";
 * console.log(benchDatanode(3).id, benchDatanode(3).address); // "dn3" "127.0.0.1:13103"
 * ```
 *
 * @param index The datanode's index, 0..{@linkcode BENCH_DATANODES} − 1.
 * @returns Its registration.
 */
export function benchDatanode(index: number): DatanodeRegistration {
  return { id: `dn${index}`, address: `127.0.0.1:${13100 + index}`, capacity: 2e15, free: 1e15 };
}

/**
 * One way of doing "begin + commit" of a file: `op(seq, caller)` writes file number `seq` on
 * behalf of concurrent caller `caller` (each caller may have a connection of its own);
 * `close` releases what it holds.
 *
 * @example
 * ```ts
 * import type { MetaWriter } from "./namenode_raw.ts";
 * const nothing: MetaWriter = { op: () => Promise.resolve(), close: () => Promise.resolve() };
 * ```
 */
export interface MetaWriter {
  /** Writes one file: begin, then commit. */
  op(seq: number, caller: number): Promise<void>;
  /** Releases connections and files. */
  close(): Promise<void>;
}

/**
 * The raw SQLite writes of a put on a database file of its own: the namenode's schema and
 * pragmas, each transaction with prepared statements and nothing else. `create` inserts a
 * file row and its 22 block rows in one transaction and returns the file id; `commit` updates
 * them in another.
 *
 * @example
 * Not run by `deno test --doc`: it writes a database file.
 * ```ts ignore
 * import { rawSqlitePuts } from "./namenode_raw.ts";
 * const raw = rawSqlitePuts("/tmp/raw.db");
 * raw.commit(raw.create("a"));
 * raw.close();
 * ```
 *
 * @param path The database file (created if missing).
 * @returns The two transactions, and close.
 */
export function rawSqlitePuts(
  path: string,
): { create(name: string): number; commit(id: number): void; close(): void } {
  const db = new DatabaseSync(path, { timeout: 10_000 });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA temp_store = MEMORY");
  migrate(db, path);
  const insertNode = db.prepare(
    `INSERT OR IGNORE INTO datanodes VALUES (?, ?, 1000000000000, 1000000000000, 0, 0, 'alive')`,
  );
  for (let i = 0; i < BENCH_DATANODES; i++) {
    insertNode.run(benchDatanode(i).id, benchDatanode(i).address);
  }
  const insertFile = db.prepare(
    `INSERT INTO files (name, code, state, created, version) VALUES (?, 'rapidraid', 'pending', ?, 1)
     RETURNING file_id`,
  );
  const insertBlock = db.prepare(
    "INSERT INTO blocks (node, block_id, file_id, kind, idx, state) VALUES (?, ?, ?, 'part', ?, 'pending')",
  );
  const commitFile = db.prepare(
    "UPDATE files SET length = ?, digest = ?, state = 'replicated', committed = ?, version = 2 WHERE file_id = ?",
  );
  const commitBlocks = db.prepare("UPDATE blocks SET state = 'stored' WHERE file_id = ?");
  return {
    create(name) {
      db.exec("BEGIN IMMEDIATE");
      const { file_id: id } = insertFile.get(name, Date.now()) as { file_id: number };
      for (const p of PUT_PLACEMENTS) {
        insertBlock.run(p.node, `f${id}.part${p.role.index}`, id, p.role.index);
      }
      db.exec("COMMIT");
      return id;
    },
    commit(id) {
      db.exec("BEGIN IMMEDIATE");
      commitFile.run(1 << 20, BENCH_DIGEST, Date.now(), id);
      commitBlocks.run(id);
      db.exec("COMMIT");
    },
    close: () => db.close(),
  };
}

/**
 * The raw SQLite reference: {@linkcode rawSqlitePuts}, the two transactions of a put, in this
 * process.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark: minutes of work, and it writes `bench/out/`.
 * ```ts ignore
 * import { rawSqliteWriter } from "./namenode_raw.ts";
 * const raw = rawSqliteWriter("/tmp/raw.db");
 * await raw.op(0, 0);
 * await raw.close();
 * ```
 *
 * @param path The database file (created if missing).
 * @returns The writer.
 */
export function rawSqliteWriter(path: string): MetaWriter {
  const puts = rawSqlitePuts(path);
  // Names must be unique across runs on the same file: the random part keeps them so.
  const run = crypto.randomUUID();
  return {
    op(seq) {
      puts.commit(puts.create(`raw/${run}/${seq}`));
      return Promise.resolve();
    },
    close() {
      puts.close();
      return Promise.resolve();
    },
  };
}

/**
 * The raw etcd reference: the two transactions of a put through the `etcd3` client, under a
 * key prefix of its own.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark: minutes of work, and it writes `bench/out/`.
 * ```ts ignore
 * import { rawEtcdWriter } from "./namenode_raw.ts";
 * const raw = rawEtcdWriter(["http://127.0.0.1:2379"], "/raw/");
 * await raw.op(0, 0);
 * await raw.close();
 * ```
 *
 * @param hosts The etcd client URLs.
 * @param prefix The key prefix.
 * @returns The writer.
 */
export function rawEtcdWriter(hosts: readonly string[], prefix: string): MetaWriter {
  const client = new Etcd3({ hosts: [...hosts] });
  let nextId = 1;
  const key = (s: string) => Buffer.from(`${prefix}${s}`);
  return {
    async op() {
      const id = nextId++;
      const name = key(`names/raw/${id}`);
      const record = (state: string) =>
        Buffer.from(JSON.stringify({
          fileId: id,
          name: `raw/${id}`,
          code: "rapidraid",
          state,
          digest: BENCH_DIGEST,
          blocks: PUT_PLACEMENTS.map((p) => ({
            ...p,
            blockId: `f${id}.part${p.role.index}`,
            state,
          })),
        }));
      const puts: IRequestOp[] = [
        { request_put: { key: name, value: record("pending") } },
        { request_put: { key: key(`files/${id}`), value: Buffer.from(`raw/${id}`) } },
        ...PUT_PLACEMENTS.map((p) => ({
          request_put: {
            key: key(`placements/${p.node}/f${id}.part${p.role.index}`),
            value: Buffer.from(`${id}`),
          },
        })),
      ];
      const begun = await client.kv.txn({
        compare: [{
          key: name,
          target: CompareTarget.Create,
          result: CompareResult.Equal,
          create_revision: 0,
        }],
        success: puts,
      });
      if (!begun.succeeded) throw new Error("raw begin lost a race it cannot lose");
      const committed = await client.kv.txn({
        compare: [{
          key: name,
          target: CompareTarget.Mod,
          result: CompareResult.Equal,
          mod_revision: begun.header.revision,
        }],
        success: [{ request_put: { key: name, value: record("replicated") } }],
      });
      if (!committed.succeeded) throw new Error("raw commit lost a race it cannot lose");
    },
    close() {
      client.close();
      return Promise.resolve();
    },
  };
}

/**
 * The store reference: `beginFile` + `commitFile` of a {@linkcode MetadataStore} in this
 * process, after registering the benchmark's datanodes in it.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark: minutes of work, and it writes `bench/out/`.
 * ```ts ignore
 * import { storeWriter } from "./namenode_raw.ts";
 * import { SqliteMetadataStore } from "../../src/namenode/meta/sqlite_store.ts";
 * const writer = await storeWriter(SqliteMetadataStore.open("/tmp/store.db"));
 * await writer.op(0, 0);
 * await writer.close(); // closes the store
 * ```
 *
 * @param store The store (closed by the writer's `close`).
 * @returns The writer.
 */
export async function storeWriter(store: MetadataStore): Promise<MetaWriter> {
  for (let i = 0; i < BENCH_DATANODES; i++) await store.registerDatanode(benchDatanode(i));
  const run = crypto.randomUUID();
  return {
    async op(seq) {
      const file = await store.beginFile({
        name: `store/${run}/${seq}`,
        code: "rapidraid",
        blocks: PUT_PLACEMENTS,
      });
      await store.commitFile(file.fileId, { length: 1 << 20, digest: BENCH_DIGEST });
    },
    close: () => store.close(),
  };
}
