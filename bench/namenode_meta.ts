// deno-lint-ignore-file no-console
/**
 * The NameNode metadata benchmark: `deno run -A bench/namenode_meta.ts [--ops N] [--rounds N]`.
 *
 * One operation is what a client's put costs the namenode's metadata: begin a file (reserve the
 * name, allocate the file id and 22 block ids: RapidRAID's 11 parts on 2 nodes each, over 16
 * datanodes) and commit it. It runs with 1, 16 and 64 concurrent callers on both backends, each
 * next to the raw backend doing the same writes in the same run:
 *
 * - SQLite: `SqliteMetadataStore` against the same schema and pragmas (WAL, synchronous FULL)
 *   driven by hand: a write transaction inserting the file row and its 22 block rows, then one
 *   updating them, with prepared statements and nothing else (no validation, no reads).
 * - etcd: `EtcdMetadataStore` against the same `etcd3` client sending the same two
 *   transactions directly (create the name key if absent with the record, the id key and the 22
 *   index keys; then replace the record if unchanged), with the ids from a local counter.
 *
 * Rounds alternate raw and store; the table shows medians over rounds of ops/s and of the
 * rounds' p50/p99 latencies, and the ratio store/raw. etcd runs as a single member started by
 * the test harness (tests/namenode/_etcd.ts) in a temp directory.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { CompareResult, CompareTarget, Etcd3, type IRequestOp } from "etcd3";
import { EtcdMetadataStore } from "../src/namenode/meta/etcd_store.ts";
import { SqliteMetadataStore } from "../src/namenode/meta/sqlite_store.ts";
import { migrate } from "../src/namenode/meta/sqlite_schema.ts";
import type { MetadataStore } from "../src/namenode/meta/store.ts";
import type { BlockPlacement } from "../src/namenode/meta/model.ts";
import { EtcdCluster, findEtcd } from "../tests/namenode/_etcd.ts";

const CONCURRENCY = [1, 16, 64];
const NODES = 16;
const DIGEST = "ab".repeat(32);
/** RapidRAID's put-parts: part j on nodes j and j + 5. */
const PLACEMENTS: BlockPlacement[] = Array.from({ length: 22 }, (_, i) => ({
  role: { kind: "part", index: i % 11 },
  node: `dn${(i % 11) + (i < 11 ? 0 : 5)}`,
}));

/** One way of doing "begin + commit" `ops` times with `callers` concurrent callers. */
type Op = (seq: number) => Promise<void>;

interface Sample {
  opsPerSecond: number;
  p50: number;
  p99: number;
}

async function measure(op: Op, ops: number, callers: number): Promise<Sample> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: callers }, async () => {
    while (next < ops) {
      const seq = next++;
      const t0 = performance.now();
      await op(seq);
      latencies.push(performance.now() - t0);
    }
  }));
  const wall = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    opsPerSecond: ops / wall,
    p50: latencies[Math.floor(latencies.length * 0.5)]!,
    p99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!,
  };
}

function storeOp(store: MetadataStore, run: string): Op {
  return async (seq) => {
    const file = await store.beginFile({
      name: `bench/${run}/${seq}`,
      code: "rapidraid",
      blocks: PLACEMENTS,
    });
    await store.commitFile(file.fileId, { length: 1 << 20, digest: DIGEST });
  };
}

async function registerNodes(store: MetadataStore): Promise<void> {
  for (let i = 0; i < NODES; i++) {
    await store.registerDatanode({
      id: `dn${i}`,
      address: `127.0.0.1:${13100 + i}`,
      capacity: 1e12,
      free: 1e12,
    });
  }
}

/** The raw SQLite reference: same schema, same two transactions, prepared statements. */
function rawSqliteOp(path: string): { op: Op; close(): void } {
  const db = new DatabaseSync(path, { timeout: 10_000 });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  migrate(db, path);
  const insertNode = db.prepare(
    `INSERT OR IGNORE INTO datanodes VALUES (?, ?, 1000000000000, 1000000000000, 0, 0, 'alive')`,
  );
  for (let i = 0; i < NODES; i++) insertNode.run(`dn${i}`, `127.0.0.1:${13100 + i}`);
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
  const op: Op = (seq) => {
    db.exec("BEGIN IMMEDIATE");
    const { file_id: id } = insertFile.get(`raw/${seq}/${Math.random()}`, Date.now()) as {
      file_id: number;
    };
    for (const p of PLACEMENTS) {
      insertBlock.run(p.node, `f${id}.part${p.role.index}`, id, p.role.index);
    }
    db.exec("COMMIT");
    db.exec("BEGIN IMMEDIATE");
    commitFile.run(1 << 20, DIGEST, Date.now(), id);
    commitBlocks.run(id);
    db.exec("COMMIT");
    return Promise.resolve();
  };
  return { op, close: () => db.close() };
}

/** The raw etcd reference: the same two transactions through the same client library. */
function rawEtcdOp(hosts: string[], prefix: string): { op: Op; close(): void } {
  const client = new Etcd3({ hosts });
  let nextId = 1;
  const key = (s: string) => Buffer.from(`${prefix}${s}`);
  const op: Op = async () => {
    const id = nextId++;
    const name = key(`names/raw/${id}`);
    const record = (state: string) =>
      Buffer.from(JSON.stringify({
        fileId: id,
        name: `raw/${id}`,
        code: "rapidraid",
        state,
        digest: DIGEST,
        blocks: PLACEMENTS.map((p) => ({ ...p, blockId: `f${id}.part${p.role.index}`, state })),
      }));
    const puts: IRequestOp[] = [
      { request_put: { key: name, value: record("pending") } },
      { request_put: { key: key(`files/${id}`), value: Buffer.from(`raw/${id}`) } },
      ...PLACEMENTS.map((p) => ({
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
  };
  return { op, close: () => client.close() };
}

interface Row {
  backend: string;
  callers: number;
  raw: Sample;
  store: Sample;
}

function medianSample(samples: Sample[]): Sample {
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    opsPerSecond: med(samples.map((s) => s.opsPerSecond)),
    p50: med(samples.map((s) => s.p50)),
    p99: med(samples.map((s) => s.p99)),
  };
}

async function compare(
  backend: string,
  ops: number,
  rounds: number,
  raw: Op,
  store: (run: string) => Op,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const callers of CONCURRENCY) {
    const rawSamples: Sample[] = [];
    const storeSamples: Sample[] = [];
    for (let r = 0; r < rounds; r++) {
      rawSamples.push(await measure(raw, ops, callers));
      storeSamples.push(await measure(store(`${callers}-${r}`), ops, callers));
    }
    const row = {
      backend,
      callers,
      raw: medianSample(rawSamples),
      store: medianSample(storeSamples),
    };
    console.error(
      `${backend} x${callers}: store ${row.store.opsPerSecond.toFixed(0)} ops/s, raw ${
        row.raw.opsPerSecond.toFixed(0)
      } ops/s`,
    );
    rows.push(row);
  }
  return rows;
}

function table(rows: Row[]): string {
  const lines = [
    "| backend | callers | store ops/s | raw ops/s | ratio | store p50 ms | raw p50 ms | store p99 ms | raw p99 ms |",
    "| ------- | ------: | ----------: | --------: | ----: | -----------: | ---------: | -----------: | ---------: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.backend} | ${r.callers} | ${r.store.opsPerSecond.toFixed(0)} | ${
        r.raw.opsPerSecond.toFixed(0)
      } | ${(r.store.opsPerSecond / r.raw.opsPerSecond).toFixed(2)}× | ${
        r.store.p50.toFixed(2)
      } | ${r.raw.p50.toFixed(2)} | ${r.store.p99.toFixed(2)} | ${r.raw.p99.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

/**
 * Runs the benchmark and prints a Markdown table.
 *
 * @example
 * ```ts
 * import { runNamenodeMetaBench } from "./namenode_meta.ts";
 * // await runNamenodeMetaBench(["--ops", "100"]);
 * void runNamenodeMetaBench;
 * ```
 *
 * @param args `--ops N` per measurement (default 400), `--rounds N` (default 3).
 */
export async function runNamenodeMetaBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ops: { type: "string", default: "400" }, rounds: { type: "string", default: "3" } },
  });
  const ops = Number(values.ops);
  const rounds = Number(values.rounds);
  const rows: Row[] = [];
  const dir = await Deno.makeTempDir({ prefix: "cdfs-meta-bench-" });
  try {
    const store = SqliteMetadataStore.open(`${dir}/store.db`);
    const raw = rawSqliteOp(`${dir}/raw.db`);
    try {
      await registerNodes(store);
      rows.push(...await compare("sqlite", ops, rounds, raw.op, (run) => storeOp(store, run)));
    } finally {
      raw.close();
      await store.close();
    }
    const etcd = await findEtcd();
    if (!etcd.found) {
      console.error(`etcd skipped: ${etcd.reason}`);
    } else {
      await using cluster = await EtcdCluster.start();
      const store = await EtcdMetadataStore.open(cluster.clientUrls, { prefix: "/bench/" });
      const raw = rawEtcdOp(cluster.clientUrls, "/raw/");
      try {
        await registerNodes(store);
        rows.push(...await compare("etcd", ops, rounds, raw.op, (run) => storeOp(store, run)));
      } finally {
        raw.close();
        await store.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.log(`begin + commit of a 22-block file; ${ops} ops per measurement, median of ${rounds}`);
  console.log(table(rows));
}

if (import.meta.main) await runNamenodeMetaBench(Deno.args);
