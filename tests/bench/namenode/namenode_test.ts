/**
 * The pieces of `cdfs bench namenode` that compute rather than measure: percentiles and
 * medians of samples, the choice of the datanodes a degraded read loses, the raw references'
 * writes (they must be the namenode's: a raw SQLite put leaves the rows the store's own put
 * leaves), the tables and their verdicts on the targets, and the command's option errors.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  formatMetaTable,
  formatReadTable,
  NAMENODE_TARGETS,
} from "../../../bench/namenode/namenode.ts";
import {
  type LatencySample,
  measureOps,
  medianSample,
  percentile,
} from "../../../bench/namenode/namenode_ops.ts";
import {
  BENCH_DATANODES,
  PUT_PLACEMENTS,
  rawSqliteWriter,
  storeWriter,
} from "../../../bench/namenode/namenode_raw.ts";
import { lostNodes } from "../../../bench/namenode/namenode_reads.ts";
import { parseNamenodeChoices } from "../../../src/cli/bench.ts";
import { isCdfsError } from "../../../src/core/errors.ts";
import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
import type { BlockView } from "../../../src/namenode/responses.ts";

Deno.test("percentile: nearest rank; medianSample: each field's median, CPU fields when present", () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  assert.equal(percentile(values, 0.5), 50);
  assert.equal(percentile(values, 0.99), 99);
  assert.equal(percentile(values, 1), 100);
  assert.equal(percentile([7], 0.99), 7);
  assert.throws(() => percentile([], 0.5), RangeError);
  assert.equal(values[0], 100, "the input is not sorted in place");

  const samples: LatencySample[] = [
    { opsPerSecond: 100, p50Ms: 5, p99Ms: 30, cpu: { benchMsPerOp: 1, busy: 0.5 } },
    { opsPerSecond: 300, p50Ms: 3, p99Ms: 10, cpu: { benchMsPerOp: 3, busy: 0.9 } },
    {
      opsPerSecond: 200,
      p50Ms: 4,
      p99Ms: 20,
      cpu: { benchMsPerOp: 2, namenodeMsPerOp: 4, busy: 0.7 },
    },
  ];
  assert.deepEqual(medianSample(samples), {
    opsPerSecond: 200,
    p50Ms: 4,
    p99Ms: 20,
    cpu: { benchMsPerOp: 2, namenodeMsPerOp: 4, busy: 0.7 },
  });
  assert.deepEqual(medianSample([{ opsPerSecond: 1, p50Ms: 2, p99Ms: 3 }]), {
    opsPerSecond: 1,
    p50Ms: 2,
    p99Ms: 3,
  });
});

Deno.test("measureOps: every operation once, by its callers at once, numbered from firstSeq", async () => {
  const seen: [number, number][] = [];
  let running = 0;
  let most = 0;
  const sample = await measureOps(
    async (seq, caller) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push([seq, caller]);
      running--;
    },
    40,
    4,
    100,
  );
  assert.deepEqual(seen.map(([seq]) => seq).sort((a, b) => a - b), [
    ...Array.from({ length: 40 }, (_, i) => 100 + i),
  ]);
  assert.deepEqual([...new Set(seen.map(([, caller]) => caller))].sort(), [0, 1, 2, 3]);
  assert.equal(most, 4);
  assert.ok(sample.p50Ms <= sample.p99Ms && sample.opsPerSecond > 0);
});

Deno.test("the raw SQLite put writes the rows the store's put writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-bench-raw-test-" });
  try {
    const raw = rawSqliteWriter(join(dir, "raw.db"));
    await raw.op(0, 0);
    await raw.op(1, 0);
    await raw.close();
    const store = await storeWriter(SqliteMetadataStore.open(join(dir, "store.db")));
    await store.op(0, 0);
    await store.op(1, 0);
    await store.close();
    const rows = (path: string) => {
      const db = new DatabaseSync(path);
      try {
        return {
          files: db.prepare("SELECT file_id, code, state, length, digest, version FROM files")
            .all(),
          blocks: db.prepare(
            "SELECT node, block_id, file_id, kind, idx, state FROM blocks ORDER BY file_id, block_id, node",
          ).all(),
          datanodes: (db.prepare("SELECT count(*) AS n FROM datanodes").get() as { n: number }).n,
        };
      } finally {
        db.close();
      }
    };
    const [r, s] = [rows(join(dir, "raw.db")), rows(join(dir, "store.db"))];
    assert.equal(r.blocks.length, 2 * PUT_PLACEMENTS.length);
    assert.deepEqual(r.blocks, s.blocks);
    assert.deepEqual(r.files, s.files);
    assert.equal(r.datanodes, BENCH_DATANODES);
    assert.equal(s.datanodes, BENCH_DATANODES);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lostNodes: the datanodes of coded blocks 0..4, by cluster index", () => {
  const block = (index: number, address: string | null): BlockView => ({
    block: `f1.coded${index}`,
    kind: "coded",
    index,
    node: `dn${index}`,
    address,
    alive: true,
    state: "stored",
  });
  const addresses = Array.from({ length: 16 }, (_, i) => `127.0.0.1:${13100 + i}`);
  // Coded block i on cluster node 15 - i.
  const blocks = Array.from({ length: 16 }, (_, i) => block(i, addresses[15 - i]!)).reverse();
  assert.deepEqual(lostNodes(blocks, addresses), [15, 14, 13, 12, 11]);
  assert.throws(
    () => lostNodes([block(0, "10.0.0.1:1")], addresses),
    (e) => isCdfsError(e, "INTERNAL") && /coded block 0 is on no datanode/.test(e.message),
  );
});

Deno.test("the tables: ratios, and each target judged yes or **no**", () => {
  const sample = (opsPerSecond: number): LatencySample => ({ opsPerSecond, p50Ms: 2, p99Ms: 8 });
  const row = (backend: "sqlite" | "etcd", server: number, raw: number) => ({
    backend,
    clients: 16,
    median: { server: sample(server), store: sample(raw), raw: sample(raw) },
    rounds: { server: [sample(server)], store: [sample(raw)], raw: [sample(raw)] },
    serverToRaw: server / raw,
  });
  const meta = formatMetaTable({
    ops: 100,
    rounds: 1,
    skipped: {},
    rows: [row("sqlite", 300, 500), row("etcd", 200, 500)],
  }).split("\n");
  assert.match(meta[2]!, /^\| sqlite \| 16 \| 300 \| 500 \| 500 \| 0\.60× \| ≥ 0\.5×: yes \|/);
  assert.match(meta[3]!, /^\| etcd \| 16 \| 200 \| 500 \| 500 \| 0\.40× \| ≥ 0\.5×: \*\*no\*\* \|/);

  const spread = (s: number) => ({ median: s, min: s, max: s, count: 1, values: [s], busy: 0.97 });
  const reads = formatReadTable({
    bytes: 2e9,
    runs: 1,
    seconds: {
      "healthy get": spread(2),
      "block retrieve": spread(1.8),
      "archived get": spread(3),
      "degraded get": spread(5),
    },
    sha256Seconds: 1,
    getToRetrieve: 0.9,
    degradedToHealthy: 0.4,
    archivedToHealthy: 2 / 3,
    lost: [0, 1, 2, 3, 4],
  }).split("\n");
  assert.match(
    reads[2]!,
    /healthy .*\| 2\.000 \| 2\.000–2\.000 \| 1\.00 \| 0\.90× of block retrieve \| ≥ 0\.8×: yes \| 97% \|$/,
  );
  assert.match(reads[4]!, /archived .*\| 0\.67× of healthy get \| — \| 97% \|$/);
  assert.match(reads[5]!, /degraded .*\| 0\.40× of healthy get \| ≥ 0\.5×: \*\*no\*\* \| 97% \|$/);
  assert.equal(NAMENODE_TARGETS.getToRetrieve, 0.8);
});

Deno.test("bench namenode options: defaults, and one USAGE line for each bad value", () => {
  const parse = (values: Record<string, string>) =>
    parseNamenodeChoices({ values, positionals: [] });
  assert.deepEqual(parse({}), {
    measure: ["meta", "reads"],
    backends: ["sqlite", "etcd"],
    clients: [1, 16, 64],
    ops: 500,
    rounds: 3,
    bytes: 1 << 30,
    runs: 3,
  });
  assert.equal(parse({ size: "256M" }).bytes, 256 << 20);
  const cases: [Record<string, string>, RegExp][] = [
    [{ measure: "meta,speed" }, /--measure: 'speed' is not one of meta, reads/],
    [{ backends: "mysql" }, /--backends: 'mysql' is not one of sqlite, etcd/],
    [{ clients: "1,0" }, /--clients: each must be 1\.\.1000, got 0/],
    [{ clients: "many" }, /--clients: expected a non-negative integer/],
    [{ ops: "0" }, /--ops must be 1\.\.1000000, got 0/],
    [{ runs: "0" }, /--runs must be 1\.\.100, got 0/],
    [{ size: "10" }, /--size must be 11\.\./],
  ];
  for (const [values, pattern] of cases) {
    assert.throws(
      () => parse(values),
      (e) => isCdfsError(e, "USAGE") && pattern.test(e.message) && !e.message.includes("\n"),
      JSON.stringify(values),
    );
  }
});
