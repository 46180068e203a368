/**
 * A CODING request sent again with the same run id (a client whose commit reply was lost)
 * gets the first outcome: nothing is computed or written a second time, even with
 * `overwrite` and inputs that changed meanwhile (docs/protocol.md, CODING).
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { runCoding } from "../../src/coding/runtime/coding_stream.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import type { CodingRequest } from "../../src/protocol/requests.ts";
import { replicationModule } from "../../coding/replication.ts";
import { randomBytes } from "../helpers/bytes.ts";
import { retrieveBlock, startCluster, statBlock } from "../helpers/in_process_cluster.ts";

const CHUNK = 4096;
const RUN = "00112233445566778899aabbccddeeff";
const module = replicationModule(2, "replication2");

function copyRequest(nodes: readonly string[], extra: Partial<CodingRequest> = {}): CodingRequest {
  return {
    op: "CODING",
    module: module.name,
    program: "copy1",
    object: "obj",
    run: RUN,
    nodes: [...nodes],
    chunkSize: CHUNK,
    overwrite: true,
    ...extra,
  };
}

async function storePart(address: string, data: Uint8Array): Promise<void> {
  using client = await DataNodeClient.connect(address);
  await client.store("obj.part0", [data], { chunkSize: CHUNK, overwrite: true });
}

Deno.test("the same CODING run id twice: the first outcome, no second output", async () => {
  await using cluster = await startCluster(2, { modules: [module] });
  const [node0, node1] = cluster.nodes as [string, string];
  const first = randomBytes(3 * CHUNK);
  await storePart(node0, first);
  using client = await DataNodeClient.connect(node1);
  const result = await runCoding(client, copyRequest(cluster.nodes));
  assert.deepEqual(await retrieveBlock(node1, "obj.coded1"), first);
  const created = (await statBlock(node1, "obj.coded1"))!.created;

  // The input changes; the same run is asked for again (overwrite included).
  await storePart(node0, randomBytes(3 * CHUNK));
  const again = await runCoding(client, copyRequest(cluster.nodes));
  assert.deepEqual(again, result);
  assert.deepEqual(await retrieveBlock(node1, "obj.coded1"), first);
  assert.equal((await statBlock(node1, "obj.coded1"))!.created, created);

  // The run id for another object is refused; a new run id runs anew.
  await assert.rejects(
    runCoding(client, copyRequest(cluster.nodes, { object: "other" })),
    (e) => isCdfsError(e, "BAD_REQUEST") && /a new run needs a new run id/.test(e.message),
  );
  const fresh = await runCoding(
    client,
    copyRequest(cluster.nodes, { run: "ffeeddccbbaa99887766554433221100" }),
  );
  assert.notEqual(fresh.committed[0]!.digest, result.committed[0]!.digest);
});
