import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { readClusterFile } from "../../src/cluster/cluster_file.ts";
import {
  chooseNodesToStop,
  formatClusterDemoReport,
  runClusterDemo,
} from "../../src/cluster/demo.ts";
import { clusterStatus, LocalCluster } from "../../src/cluster/local.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import { deriveDecodePlan } from "../../src/coding/decoder.ts";
import { isCdfsError } from "../../src/errors.ts";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";

const launcher = selfLauncher((name) => Deno.env.get(name));

function decodableWithout(nodes: readonly number[]): boolean {
  const survivors = rapidraid.coded.flatMap((c, i) => nodes.includes(c.node) ? [] : [i]);
  try {
    deriveDecodePlan(rapidraid, survivors);
    return true;
  } catch (error) {
    if (isCdfsError(error, "SINGULAR")) return false;
    throw error;
  }
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

Deno.test("demo: put, encode, drop replicas, stop 5 of 16 nodes, decode, verify", async () => {
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
      objectId: "sample",
      chunkSize: 64 * 1024,
      onStep: (step, progress) => {
        if (progress === undefined) steps.push(step);
      },
    });
    assert.deepEqual(steps, ["put-parts", "encode", "delete-replicas", "stop-nodes", "decode"]);
    assert.deepEqual(report.steps.map((s) => s.name), steps);
    assert.equal(report.sha256, expectedSha);
    assert.equal(report.decodedSha256, expectedSha);
    assert.equal(report.verified, true);
    assert.equal(report.objectBytes, sample.length);
    assert.equal(report.blockBytes, Math.ceil(sample.length / 11));
    assert.equal(report.deletedReplicas, 22); // 11 parts on 2 nodes each
    assert.equal(report.stoppedNodes.length, 5);
    assert.deepEqual(report.lostBlocks, report.stoppedNodes); // coded block i lives on node i
    assert.equal(report.usedBlocks.length, 11);
    assert.ok(report.usedBlocks.every((b) => !report.lostBlocks.includes(b)));

    // The stopped nodes are down, recorded as stopped; the others hold only their coded
    // block and the manifest: every part replica is gone.
    const file = await readClusterFile(cluster.path);
    const statuses = await clusterStatus(file, 1000);
    for (const s of statuses) {
      const stopped = report.stoppedNodes.includes(s.index);
      assert.equal(s.up, !stopped, `node ${s.index}`);
      assert.equal(file.nodes[s.index]!.pid === null, stopped);
      if (!stopped) {
        assert.equal(s.blocks, 2, `node ${s.index} blocks`);
        using client = await DataNodeClient.connect(nodes[s.index]!);
        assert.equal((await client.stat(`sample.coded${s.index}`)).length, report.blockBytes);
      }
    }

    // Bytes from the nodes' logs: the put stored each part twice plus 16 manifests; the
    // encode produced one coded block per node; the stopped nodes moved nothing afterwards.
    const put = report.steps[0]!.bytesByNode.reduce((a, b) => a + b, 0);
    assert.ok(put > 22 * report.blockBytes && put < 22 * report.blockBytes + 16 * 1024, `${put}`);
    // (plus the manifest, which the encode reads from every node and rewrites there with
    // where each coded block lives: a few KiB, never a second block).
    for (const bytes of report.steps[1]!.bytesByNode) {
      assert.ok(bytes >= report.blockBytes && bytes < report.blockBytes + 8 * 1024, `${bytes}`);
    }
    const decode = report.steps[4]!;
    for (const n of report.stoppedNodes) assert.equal(decode.bytesByNode[n], 0);
    const stored = report.nodes.reduce((a, n) => a + n.stored, 0);
    // Stored beyond the put: only the manifest updates of the encode and of the archive
    // (where the coded blocks live; replicas dropped), one of each per node, each < 4 KiB.
    assert.ok(stored > put && stored - put < 16 * 2 * 4096, `${stored} - ${put}`);

    const text = formatClusterDemoReport(report);
    assert.match(
      text,
      /^rapidraid: object 'sample' of 293\.0 KiB, blocks of 26\.6 KiB, on 16 nodes\n/,
    );
    assert.match(text, new RegExp(`verified: .*\\(${expectedSha}\\)`));
    assert.equal(text.match(/\(stopped\)$/gm)?.length, 5);
    assert.match(text, new RegExp(`nodes ${report.stoppedNodes.join(", ")} stopped`));
    assert.equal(
      formatClusterDemoReport({ ...report, verified: false }).includes("MISMATCH"),
      true,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
