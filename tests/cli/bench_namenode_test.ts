/**
 * `cdfs bench namenode` end to end at a tiny size (the real run takes minutes and is the
 * lead's): the tables it prints, the results it writes, every read verified and judged, and
 * nothing it started left running. Speeds are not asserted: a test on a shared machine
 * cannot judge them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { NamenodeBenchResults } from "../../bench/namenode/namenode.ts";
import { READ_KINDS } from "../../bench/namenode/namenode_reads.ts";
import { findEtcd } from "../../src/cluster/etcd.ts";
import { findProcesses } from "../../src/core/processes.ts";
import { runCdfs } from "../helpers/cli.ts";

Deno.test("bench namenode: both halves at a tiny size, results written, nothing left running", async () => {
  const root = await Deno.makeTempDir({ prefix: "cdfs-cli-bench-nn-test-" });
  try {
    const out = join(root, "out");
    const run = await runCdfs([
      "bench",
      "namenode",
      "--clients",
      "1,4",
      "--ops",
      "12",
      "--rounds",
      "1",
      "--size",
      "1M",
      "--runs",
      "1",
      "--out",
      out,
    ], { env: { CDFS_STATE_DIR: join(root, "state") } });
    assert.equal(run.code, 0, run.err);
    const results: NamenodeBenchResults = JSON.parse(
      await Deno.readTextFile(join(out, "results.json")),
    );

    // Metadata: a row per backend and concurrency (etcd's only where it runs), each way
    // measured, the ratio the one of the medians, the server's CPU accounted.
    const etcd = await findEtcd((name) => Deno.env.get(name));
    const meta = results.meta!;
    assert.deepEqual(
      meta.rows.map((r) => `${r.backend} ${r.clients}`),
      ["sqlite 1", "sqlite 4", ...(etcd.found ? ["etcd 1", "etcd 4"] : [])],
    );
    if (!etcd.found) assert.match(meta.skipped.etcd!, /etcd/);
    for (const row of meta.rows) {
      for (const way of ["server", "store", "raw"] as const) {
        assert.ok(row.median[way].opsPerSecond > 0, `${row.backend} ${way}`);
        assert.equal(row.rounds[way].length, 1);
      }
      assert.equal(row.serverToRaw, row.median.server.opsPerSecond / row.median.raw.opsPerSecond);
      assert.ok(row.median.server.cpu!.namenodeMsPerOp! > 0, "the namenode worked");
      assert.equal(row.median.server.cpu!.etcdMsPerOp !== undefined, row.backend === "etcd");
    }

    // Reads: every kind timed once (the results were checked against the source's SHA-256
    // inside the bench, which fails otherwise), 5 distinct datanodes stopped.
    const reads = results.reads!;
    assert.equal(reads.bytes, 1 << 20);
    for (const kind of READ_KINDS) assert.equal(reads.seconds[kind].values.length, 1, kind);
    assert.equal(new Set(reads.lost).size, 5);
    assert.equal(
      reads.getToRetrieve,
      reads.seconds["block retrieve"].median / reads.seconds["healthy get"].median,
    );

    // The tables on standard output and in results.md, the machine named.
    assert.match(run.out, /^\| backend \| clients \| server ops\/s \|/m);
    assert.match(run.out, /^\| `get`, degraded \(decode, 5 datanodes stopped\) \|.*≥ 0\.5×: /m);
    const markdown = await Deno.readTextFile(join(out, "results.md"));
    assert.ok(markdown.includes(run.out.trim()), "results.md holds the tables");
    assert.match(markdown, new RegExp(`Deno ${Deno.version.deno}`));
    assert.equal(results.machine.deno, Deno.version.deno);
    assert.match(run.err, /^wrote .*results\.json, .*results\.md$/m);

    // Everything it started (namenodes, etcd, the datanodes) is gone.
    const mine = `cdfs-bench-namenode-${Deno.pid}-`;
    assert.deepEqual(findProcesses((argv) => argv.some((a) => a.includes(mine))), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("bench namenode: usage errors are one line, before anything starts", async () => {
  for (
    const [args, pattern] of [
      [["--measure", "writes"], /--measure: 'writes' is not one of meta, reads/],
      [["--clients", "0"], /--clients: each must be 1\.\.1000, got 0/],
      [["extra"], /unexpected argument 'extra'/],
    ] as const
  ) {
    const run = await runCdfs(["bench", "namenode", ...args]);
    assert.equal(run.code, 2, run.err);
    assert.match(run.err, /^cdfs: error: [^\n]+\n/);
    assert.match(run.err, pattern);
    assert.equal(run.out, "");
  }
});
