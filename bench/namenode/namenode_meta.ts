// deno-lint-ignore-file no-console
/**
 * The NameNode metadata benchmark: `deno run -A bench/namenode/namenode_meta.ts [--ops N] [--rounds N]`.
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
 * The raw references and the timing are those of `cdfs bench namenode`
 * (`bench/namenode/namenode_raw.ts`, `namenode_ops.ts`), which also times the namenode server over
 * TCP; this one compares the store alone. Rounds alternate raw and store; the table shows
 * medians over rounds of ops/s and of the rounds' p50/p99 latencies, and the ratio store/raw.
 * etcd runs as a single member (`startEtcdMember` of `src/cluster/etcd.ts`) in a temp
 * directory; without an etcd (`$CDFS_ETCD`, else Debian's `/usr/bin/etcd`) that half is skipped.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type LatencySample, measureOps, medianSample } from "./namenode_ops.ts";
import { type MetaWriter, rawEtcdWriter, rawSqliteWriter, storeWriter } from "./namenode_raw.ts";
import { EtcdMetadataStore } from "../../src/namenode/meta/etcd_store.ts";
import { SqliteMetadataStore } from "../../src/namenode/meta/sqlite_store.ts";
import { findEtcd, startEtcdMember } from "../../src/cluster/etcd.ts";

const CONCURRENCY = [1, 16, 64];

interface Row {
  backend: string;
  callers: number;
  raw: LatencySample;
  store: LatencySample;
}

async function compare(
  backend: string,
  ops: number,
  rounds: number,
  raw: MetaWriter,
  store: MetaWriter,
): Promise<Row[]> {
  const rows: Row[] = [];
  let seq = 0;
  for (const callers of CONCURRENCY) {
    const rawSamples: LatencySample[] = [];
    const storeSamples: LatencySample[] = [];
    for (let r = 0; r < rounds; r++) {
      rawSamples.push(await measureOps(raw.op, ops, callers, seq));
      storeSamples.push(await measureOps(store.op, ops, callers, seq));
      seq += ops;
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
        r.store.p50Ms.toFixed(2)
      } | ${r.raw.p50Ms.toFixed(2)} | ${r.store.p99Ms.toFixed(2)} | ${r.raw.p99Ms.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

/**
 * Runs the benchmark and prints a Markdown table.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark takes minutes and starts an etcd.
 * ```ts ignore
 * import { runNamenodeMetaBench } from "./namenode_meta.ts";
 * await runNamenodeMetaBench(["--ops", "100"]);
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
    const store = await storeWriter(SqliteMetadataStore.open(`${dir}/store.db`));
    const raw = rawSqliteWriter(`${dir}/raw.db`);
    try {
      rows.push(...await compare("sqlite", ops, rounds, raw, store));
    } finally {
      await raw.close();
      await store.close();
    }
    const etcd = await findEtcd((name) => Deno.env.get(name));
    if (!etcd.found) {
      console.error(`etcd skipped: ${etcd.reason}`);
    } else {
      await using member = await startEtcdMember(etcd.binary, `${dir}/etcd`);
      const hosts = [member.clientUrl];
      const store = await storeWriter(await EtcdMetadataStore.open(hosts, { prefix: "/bench/" }));
      const raw = rawEtcdWriter(hosts, "/raw/");
      try {
        rows.push(...await compare("etcd", ops, rounds, raw, store));
      } finally {
        await raw.close();
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
