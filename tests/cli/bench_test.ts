/**
 * `cdfs bench rapidraid` end to end on small loopback clusters (the emulated-network variant
 * needs root and minutes; it is the lead's experiment, not a test), and its usage errors.
 */
import assert from "node:assert/strict";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { join } from "node:path";
import { EXIT_USAGE } from "../../src/cli/app.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import type { ClusterMeasurement } from "../../bench/rapidraid/rapidraid.ts";
import type { RapidraidBenchResults } from "../../bench/rapidraid/rapidraid_report.ts";
import { LocalCluster } from "../../src/cluster/local.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import { findProcesses } from "../../src/core/processes.ts";
import { clusterNodeAddresses } from "../../src/cluster/cluster_file.ts";

function cdfs(args: string[], env: Record<string, string>): Promise<CliRun> {
  return runCdfs(args, { env });
}

async function scratch(): Promise<{ root: string; env: Record<string, string> } & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "cdfs-cli-bench-test-" });
  return {
    root,
    env: { CDFS_STATE_DIR: join(root, "state") },
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

const SMALL = ["--size", "2M", "--chunk-size", "256K", "--runs", "1", "--warm-ups", "0"];

Deno.test("bench rapidraid on loopback: results, charts, every run, and nothing left running", async () => {
  await using dir = await scratch();
  const out = join(dir.root, "out");
  const run = await cdfs(
    ["bench", "rapidraid", ...SMALL, "--concurrent", "2", "--schemes", "pull,rs", "--out", out],
    dir.env,
  );
  assert.equal(run.code, 0, run.err);
  for (const name of ["results.md", "results.json", "encode_time.svg", "timeline.svg"]) {
    assert.ok((await Deno.stat(join(out, name))).size > 0, name);
  }
  const results = JSON.parse(
    await Deno.readTextFile(join(out, "results.json")),
  ) as RapidraidBenchResults;
  assert.equal(results.settings.length, 1);
  const { setting, measurement } = results.settings[0]!;
  assert.equal(setting.label, "loopback");
  assert.equal(measurement.objectBytes, 2 << 20);
  assert.equal(measurement.partBytes, Math.ceil((2 << 20) / 11));
  const cells = measurement.encodes.map((e) => `${e.scheme} ${e.kind} ${e.objects}`).sort();
  assert.deepEqual(cells, ["pull concurrent 2", "pull single 1", "rs concurrent 2", "rs single 1"]);
  for (const e of measurement.encodes) {
    assert.ok(e.seconds > 0 && e.encodeSeconds.every((s) => s > 0 && s <= e.seconds));
    assert.ok(e.cpuBusy >= 0 && e.cpuBusy <= 1);
    assert.equal(new Set(e.runIds).size, e.objects);
  }
  // The pipelined single encode has a row of times per node (empty where a node reports none).
  const pull = measurement.encodes.find((e) => e.scheme === "pull" && e.kind === "single")!;
  assert.deepEqual(pull.nodeTimes?.map((t) => t.node), [...Array(16).keys()]);
  assert.equal(measurement.encodes.find((e) => e.scheme === "rs")!.nodeTimes, undefined);
  // The table on stdout is the summary's, and results.md holds it too.
  assert.equal(results.summary.length, 4);
  assert.equal(run.out.trimEnd().split("\n").length, 2 + 4);
  assert.ok((await Deno.readTextFile(join(out, "results.md"))).includes(run.out));
  assert.match(
    await Deno.readTextFile(join(out, "timeline.svg")),
    /^<svg[^]*RapidRAID pull, loopback/,
  );
  assert.match(run.err, /run 1\/1: RS\(16,11\), 2 at once/);
  // The cluster is gone: no state left, no node of it running.
  assert.deepEqual([...Deno.readDirSync(join(dir.root, "state"))], []);
  const prefix = `bench-${Deno.pid}-0-n`;
  assert.deepEqual(findProcesses((argv) => argv.some((a) => a.startsWith(prefix))), []);
});

Deno.test("bench rapidraid --cluster: measures a running cluster, leaves its blocks as they were", async () => {
  await using dir = await scratch();
  await using cluster = await LocalCluster.start({
    nodes: 16,
    name: "given",
    stateRoot: join(dir.root, "state"),
    launcher: selfLauncher((name) => Deno.env.get(name)),
    tempDir: dir.root,
  });
  const nodes = clusterNodeAddresses(cluster.file);

  // The measuring child's form: raw JSON only.
  const raw = join(dir.root, "raw.json");
  const child = await cdfs(
    [
      "bench",
      "rapidraid",
      "--cluster",
      cluster.path,
      "--json-to",
      raw,
      ...SMALL,
      "--concurrent",
      "0",
      "--schemes",
      "rs",
    ],
    dir.env,
  );
  assert.equal(child.code, 0, child.err);
  assert.equal(child.out, "");
  const measurement = JSON.parse(await Deno.readTextFile(raw)) as ClusterMeasurement;
  assert.deepEqual(measurement.nodes, nodes);
  assert.deepEqual(measurement.encodes.map((e) => [e.scheme, e.kind]), [["rs", "single"]]);

  // With the links described, the table has link-limited ideals.
  const out = join(dir.root, "out");
  const described = await cdfs(
    [
      "bench",
      "rapidraid",
      "--cluster",
      cluster.path,
      "--rate",
      "200mbit",
      "--delay",
      "1ms",
      ...SMALL,
      "--concurrent",
      "0",
      "--schemes",
      "pull",
      "--out",
      out,
    ],
    dir.env,
  );
  assert.equal(described.code, 0, described.err);
  const results = JSON.parse(
    await Deno.readTextFile(join(out, "results.json")),
  ) as RapidraidBenchResults;
  assert.equal(results.settings[0]!.setting.label, "cluster given");
  assert.ok(results.summary[0]!.idealSeconds! > 0);
  assert.ok(results.summary[0]!.ratioToIdeal! > 0);

  // Everything the bench stored is gone again.
  for (const address of nodes) {
    using client = await DataNodeClient.connect(address);
    assert.deepEqual((await client.list()).blocks, [], address);
  }
});

Deno.test("bench rapidraid: usage errors, before anything starts", async () => {
  await using dir = await scratch();
  const cases: [string[], RegExp][] = [
    [["--rate", "1gbit"], /--rate needs --netns/],
    [["--congest", "500mbit:100ms"], /--congest needs --netns/],
    [["--cluster", "/nonexistent/cluster.json", "--netns"], /drop --netns/],
    [["--schemes", "pull,raid6"], /unknown scheme 'raid6'/],
    [["--json-to", "/tmp/x.json"], /--json-to needs --cluster/],
    [["--runs", "0"], /--runs must be an integer of at least 1/],
    [["--netns", "--rate", "fast"], /--rate "fast"/],
  ];
  for (const [args, pattern] of cases) {
    const run = await cdfs(["bench", "rapidraid", ...args], dir.env);
    assert.equal(run.code, EXIT_USAGE, `${args.join(" ")}: ${run.err}`);
    assert.match(run.err, pattern);
    assert.equal(run.out, "");
  }
  assert.deepEqual([...Deno.readDirSync(dir.root)], []);
});
