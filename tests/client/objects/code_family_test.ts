/**
 * A code named by its family spec (`rs:k=6,m=3`, `lrc:k=4,l=2,r=1`) on an in-process cluster:
 * the manifest records the canonical spec, the datanodes (which serve the built-in families)
 * build the same module from the name in the CODING requests, and the object decodes after
 * losses and repairs a lost block by its cheapest plan; a RapidRAID member (`rapidraid:n=8,k=5`)
 * encodes through its pipeline, pulled and pushed.
 */
import assert from "node:assert/strict";
import { decodeObject } from "../../../src/client/objects/decode.ts";
import { encodeObject } from "../../../src/client/objects/encode.ts";
import { putParts } from "../../../src/client/objects/put_parts.ts";
import { repairBlock } from "../../../src/client/objects/repair.ts";
import { readManifest } from "../../../src/client/objects/state.ts";
import { analyze } from "../../../src/coding/analysis/symbolic.ts";
import { loadCodingModule } from "../../../src/coding/lang/loader.ts";
import { DataNodeClient } from "../../../src/client/datanode_client.ts";
import { startCluster } from "../../helpers/in_process_cluster.ts";
import { randomBytes } from "../_blocks.ts";

Deno.test("a family spec survives put-parts, encode, repair and decode on a cluster", async () => {
  await using cluster = await startCluster(7);
  const work = await Deno.makeTempDir({ prefix: "cdfs-family-" });
  try {
    // Not canonical as written: the module is named rs:k=4,m=3 all the same.
    for (
      const [spec, canonical] of [["lrc:r=1,k=4,l=2", "lrc:k=4,l=2,r=1"], [
        "rs:m=3,k=4",
        "rs:k=4,m=3",
      ]]
    ) {
      const module = await loadCodingModule(spec!);
      assert.equal(module.name, canonical);
      const id = `obj-${canonical!.slice(0, 2)}`;
      const bytes = randomBytes(200_001);
      const source = `${work}/${id}`;
      await Deno.writeFile(source, bytes);
      const target = { module, nodes: cluster.nodes, objectId: id };
      await putParts({ ...target, file: source, chunkSize: 65536 });
      const { manifest } = await readManifest(cluster.nodes, id);
      assert.equal(manifest.module, canonical);
      // The module as the manifest names it, as decode and the namenode load it.
      const again = await loadCodingModule(manifest.module);
      await encodeObject({ ...target, module: again, chunkSize: 65536 });
      // Lose data block 0 and repair it: for the LRC, from its group of 2 (blocks 1 and 4).
      {
        using client = await DataNodeClient.connect(cluster.nodes[0]!);
        await client.delete(`${id}.coded0`);
        await client.delete(`${id}.part0`);
      }
      const repaired = await repairBlock({ ...target, block: 0, chunkSize: 65536 });
      assert.deepEqual(
        [...repaired.used].sort(),
        canonical!.startsWith("lrc") ? [1, 4] : [1, 2, 3, 4],
      );
      // Lose as many blocks as the code always survives, then decode.
      const lost = canonical!.startsWith("lrc") ? [0, 2] : [0, 1, 5];
      for (const node of lost) {
        using client = await DataNodeClient.connect(cluster.nodes[node]!);
        await client.delete(`${id}.coded${node}`);
        await client.delete(`${id}.part${node}`).catch(() => {});
      }
      const out = `${work}/${id}.out`;
      await decodeObject({ ...target, output: out, chunkSize: 65536 });
      assert.deepEqual(await Deno.readFile(out), bytes);
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("a RapidRAID family member encodes through its pipeline on a cluster and decodes", async () => {
  await using cluster = await startCluster(8);
  const work = await Deno.makeTempDir({ prefix: "cdfs-family-rr-" });
  try {
    const module = await loadCodingModule("rapidraid:n=8,k=5");
    assert.equal(module.encode, "enc_node7");
    // Lose n - k = 3 blocks whose survivors the analyzer finds decodable: 0, 4 and 7.
    const survivors = [1, 2, 3, 5, 6];
    assert.ok(!analyze(module).undecodableSubsets.some((s) => s.join() === survivors.join()));
    for (const mode of ["pull", "push"] as const) {
      const id = `obj-rr-${mode}`;
      const bytes = randomBytes(150_003);
      await Deno.writeFile(`${work}/${id}`, bytes);
      const target = { module, nodes: cluster.nodes, objectId: id };
      await putParts({ ...target, file: `${work}/${id}`, chunkSize: 16384 });
      await encodeObject({ ...target, chunkSize: 16384, mode, dropReplicas: true });
      const { manifest } = await readManifest(cluster.nodes, id);
      assert.equal(manifest.module, "rapidraid:n=8,k=5");
      for (const node of [0, 4, 7]) {
        using client = await DataNodeClient.connect(cluster.nodes[node]!);
        await client.delete(`${id}.coded${node}`);
      }
      const out = `${work}/${id}.out`;
      await decodeObject({ ...target, output: out, chunkSize: 16384 });
      assert.deepEqual(await Deno.readFile(out), bytes, mode);
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
