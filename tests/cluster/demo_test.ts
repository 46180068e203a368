import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { readClusterFile } from "../../src/cluster/cluster_file_io.ts";
import {
  chooseNodesToStop,
  DEMO_STEPS,
  formatClusterDemoReport,
  runClusterDemo,
} from "../../src/cluster/demo.ts";
import { clusterStatus } from "../../src/cluster/node_status.ts";
import { LocalCluster } from "../../src/cluster/local.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { decodesWithout } from "../helpers/decodable.ts";

const launcher = selfLauncher((name) => Deno.env.get(name));

function decodableWithout(nodes: readonly number[]): boolean {
  return decodesWithout(
    rapidraid,
    rapidraid.coded.flatMap((c, i) => nodes.includes(c.node) ? [i] : []),
  );
}

/** The first 5-node set (in lexicographic order) whose loss RapidRAID cannot decode. */
function undecodableFive(): number[] {
  const pick = (from: number, left: number, chosen: number[]): number[] | undefined => {
    if (left === 0) return decodableWithout(chosen) ? undefined : chosen;
    for (let i = from; i <= 16 - left; i++) {
      const found = pick(i + 1, left - 1, [...chosen, i]);
      if (found) return found;
    }
    return undefined;
  };
  return pick(0, 5, [])!;
}

Deno.test("demo: nodes to stop are chosen per seed and always leave a decodable rest", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const chosen = chooseNodesToStop(rapidraid, 5, seed);
    assert.equal(new Set(chosen).size, 5);
    assert.ok(chosen.every((n) => n >= 0 && n < 16));
    assert.ok(decodableWithout(chosen), `seed ${seed}: ${chosen}`);
    assert.deepEqual(chooseNodesToStop(rapidraid, 5, seed), chosen);
  }
  assert.notDeepEqual(chooseNodesToStop(rapidraid, 5, 1), chooseNodesToStop(rapidraid, 5, 2));
});

Deno.test("demo: put, archive, stop 5 of 16 datanodes, fsck, get, repair, fsck, get", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-demo-test-" });
  try {
    // Not a multiple of 11: the last part is padded, and the decode must cut the padding off.
    const sample = new Uint8Array(300_007);
    crypto.getRandomValues(sample.subarray(0, 65536));
    for (let o = 65536; o < sample.length; o += 65536) sample.copyWithin(o, 0, 65536);
    sample[sample.length - 1] = 7;
    const sampleFile = join(dir, "sample.bin");
    await Deno.writeFile(sampleFile, sample);
    const expectedSha = createHash("sha256").update(sample).digest("hex");

    await using cluster = await LocalCluster.start({
      nodes: 16,
      name: "demo",
      stateRoot: join(dir, "state"),
      tempDir: dir,
      launcher,
      namenode: {},
    });
    const nodes = cluster.file.nodes.map((n) => n.address);

    // A set of nodes whose loss cannot be decoded is refused before anything is stored.
    await assert.rejects(
      runClusterDemo({
        clusterFile: cluster.path,
        sampleFile,
        module: rapidraid,
        stopNodes: undecodableFive(),
      }),
      (e) => isCdfsError(e, "SINGULAR"),
    );
    assert.ok((await clusterStatus(cluster.file)).every((s) => s.up && s.blocks === 0));

    const steps: string[] = [];
    const report = await runClusterDemo({
      clusterFile: cluster.path,
      sampleFile,
      module: rapidraid,
      chunkSize: 64 * 1024,
      onStep: (step, progress) => {
        if (progress === undefined) steps.push(step);
      },
    });
    assert.deepEqual(steps, [...DEMO_STEPS]);
    assert.deepEqual(report.steps.map((s) => s.name), steps);
    assert.equal(report.name, "sample.bin");
    assert.equal(report.sha256, expectedSha);
    assert.equal(report.objectBytes, sample.length);
    assert.equal(report.blockBytes, Math.ceil(sample.length / 11));
    assert.equal(report.partCopies, 22); // 11 parts on 2 datanodes each
    assert.equal(report.replicasDropped, 22);
    assert.equal(report.datanodes, 16);

    // The loss: 5 datanodes, those of the logical nodes chosen as before (seed 1).
    assert.deepEqual(report.stoppedLogical, chooseNodesToStop(rapidraid, 5, 1));
    assert.equal(report.stoppedNodes.length, 5);
    assert.deepEqual(report.lostBlocks, report.stoppedLogical); // coded block i: logical node i
    assert.deepEqual(report.degraded, {
      status: "degraded",
      unavailable: 5,
      blocks: 16,
      shared: 0,
    });
    for (const read of [report.degradedRead, report.repairedRead]) {
      assert.equal(read.sha256, expectedSha);
      assert.equal(read.identical, true);
      assert.equal(read.usedBlocks.length, 11);
      assert.ok(read.decodedOn >= 0 && !report.stoppedNodes.includes(read.decodedOn));
    }
    assert.ok(report.degradedRead.usedBlocks.every((b) => !report.lostBlocks.includes(b)));
    // No spare datanode: the 5 lost coded blocks go to 5 of the 11 left, one each.
    assert.deepEqual(
      report.rebuilt.map((r) => r.block).sort(),
      report.lostBlocks.map((i) => `${report.objectId}.coded${i}`).sort(),
    );
    assert.equal(new Set(report.rebuilt.map((r) => r.to)).size, 5);
    assert.ok(report.rebuilt.every((r) => !report.stoppedNodes.includes(r.to)));
    assert.ok(report.rebuilt.every((r) => r.shares.length === 1));
    assert.deepEqual(report.repaired, { status: "healthy", unavailable: 0, blocks: 16, shared: 5 });
    assert.equal(report.verified, true);

    // The stopped datanodes are down, recorded as stopped; the others hold only coded blocks:
    // one, or two where the repair put a lost one. Every part replica is gone.
    const file = await readClusterFile(cluster.path);
    const statuses = await clusterStatus(file, 1000);
    const doubled = new Set(report.rebuilt.map((r) => r.to));
    for (const s of statuses) {
      const stopped = report.stoppedNodes.includes(s.index);
      assert.equal(s.up, !stopped, `node ${s.index}`);
      assert.equal(file.nodes[s.index]!.pid === null, stopped);
      if (!stopped) {
        assert.equal(s.blocks, doubled.has(s.index) ? 2 : 1, `node ${s.index} blocks`);
        using client = await DataNodeClient.connect(nodes[s.index]!);
        const listed = (await client.list()).blocks;
        assert.ok(
          listed.every((b) => /^f\d+\.coded\d+$/.test(b.block) && b.length === report.blockBytes),
        );
      }
    }

    // Bytes from the datanodes' logs. The put stored each part twice (no manifest: the
    // namenode's record is the manifest); the archive's encode produced one coded block per
    // datanode; fsck moves no byte (metadata only); the stopped datanodes moved nothing after.
    const bytes = (name: string) => report.steps.find((s) => s.name === name)!.bytesByNode;
    const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
    assert.equal(sum(bytes("put")), 22 * report.blockBytes);
    for (const moved of bytes("archive")) {
      assert.ok(moved >= report.blockBytes && moved < report.blockBytes + 8 * 1024, `${moved}`);
    }
    assert.equal(sum(bytes("stop-nodes")), 0);
    assert.equal(sum(bytes("fsck-degraded")), 0);
    assert.equal(sum(bytes("fsck-repaired")), 0);
    for (const step of ["get-degraded", "repair", "get-repaired"]) {
      for (const n of report.stoppedNodes) assert.equal(bytes(step)[n], 0, `${step} node ${n}`);
      assert.ok(sum(bytes(step)) >= report.blockBytes, step);
    }
    // Stored over the whole demo: the put's parts only (coded blocks are written by CODING).
    assert.equal(sum(report.nodes.map((n) => n.stored)), 22 * report.blockBytes);

    const text = formatClusterDemoReport(report);
    assert.match(
      text,
      /^rapidraid: file 'sample\.bin' \(f1\) of 293\.0 KiB, blocks of 26\.6 KiB, on 16 datanodes and a namenode\n/,
    );
    assert.match(
      text,
      /^ {2}put .* ms {2}cdfs put: 22 part copies on 16 datanodes the namenode chose$/m,
    );
    assert.match(text, /^ {2}fsck-degraded .*cdfs fsck: degraded, 5 of 16 blocks unavailable$/m);
    assert.match(
      text,
      /^ {2}fsck-repaired .*cdfs fsck: healthy, 0 of 16 blocks unavailable, 5 datanodes holding 2 or more$/m,
    );
    assert.match(text, new RegExp(`cdfs cluster stop-node ${report.stoppedNodes.join(" ")}:`));
    assert.match(text, new RegExp(`verified: .*\\(SHA-256 ${expectedSha}\\)`));
    assert.equal(text.match(/\(stopped\)$/gm)?.length, 5);
    assert.equal(
      formatClusterDemoReport({ ...report, verified: false }).includes("MISMATCH"),
      true,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
