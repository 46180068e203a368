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
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { replicationModule } from "../../coding/replication.ts";
import { randomBytes } from "../helpers/bytes.ts";
import { ReplyDropper } from "../helpers/reply_dropper.ts";
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

Deno.test("runCoding whose committed reply was lost asks again and reports the first commit", async () => {
  await using cluster = await startCluster(2, { modules: [module] });
  const [node0, node1] = cluster.nodes as [string, string];
  const data = randomBytes(3 * CHUNK);
  await storePart(node0, data);
  await using relay = ReplyDropper.start(node1);
  // The node commits; its committed reply never reaches the client.
  relay.drop(1, undefined, (payload) => payload.includes('"committed"'));
  using client = await DataNodeClient.connect(relay.address);
  const result = await runCoding(client, copyRequest(cluster.nodes));
  assert.equal(relay.dropped, 1);
  assert.equal(relay.accepted, 2, "one connection for the run, one to ask again");
  const stat = (await statBlock(node1, "obj.coded1"))!;
  assert.deepEqual(result.committed.map((b) => [b.block, b.length, b.digest]), [
    ["obj.coded1", data.length, stat.digest],
  ]);
  assert.deepEqual(await retrieveBlock(node1, "obj.coded1"), data);
});

/** Node 1 writes what it pulls from program `src` on node 0, which writes it too. */
const chain: CodingModule = {
  name: "chain2",
  description: "node 0 copies its part and streams it to node 1, which copies that (test module)",
  field: 8,
  n: 2,
  k: 1,
  parts: [{ block: "{id}.part0", nodes: [0] }],
  coded: [{ block: "{id}.coded0", node: 0 }, { block: "{id}.coded1", node: 1 }],
  encode: "dst",
  programs: {
    src: {
      node: 0,
      streams: [{ name: "p", read: { block: "{id}.part0" } }, { name: "c", write: "{id}.coded0" }],
      instructions: [["LOAD", "b", "p"], ["WRITE", "b", "c"]],
      output: "b",
    },
    dst: {
      node: 1,
      streams: [{ name: "s", read: { program: "src" } }, { name: "c", write: "{id}.coded1" }],
      instructions: [["LOAD", "b", "s"], ["WRITE", "b", "c"]],
    },
  },
};

/** The run of `chain`'s `dst` on node 1, which pulls `src` from node 0. */
function chainRequest(nodes: readonly string[]): CodingRequest {
  return { ...copyRequest(nodes), module: chain.name, program: "dst", overwrite: false };
}

Deno.test("a node whose own blocks committed but whose upstream's commit failed answers the same run again with that failure", async () => {
  await using cluster = await startCluster(2, { modules: [chain] });
  const [node0, node1] = cluster.nodes as [string, string];
  const data = randomBytes(3 * CHUNK);
  await storePart(node0, data);
  // Node 1 pulls node 0's program through the relay, which loses node 0's committed reply.
  await using relay = ReplyDropper.start(node0);
  relay.drop(1, undefined, (payload) => payload.includes('"committed"'));
  const request = chainRequest([relay.address, node1]);
  using client = await DataNodeClient.connect(node1);
  const first = await runCoding(client, request).then(() => null, (e: unknown) => e);
  assert.ok(isCdfsError(first), `the run failed with a node's error: ${first}`);
  assert.match(first.message, /^node 0 \(/, first.message);
  assert.equal(relay.dropped, 1);
  // Node 1's own block was committed; asked again, it tells the same failure and runs nothing.
  const created = (await statBlock(node1, "obj.coded1"))!.created;
  const again = await runCoding(client, request).then(() => null, (e: unknown) => e);
  assert.ok(isCdfsError(again, first.code), `asked again: ${again}`);
  assert.equal(again.message, first.message);
  assert.equal(relay.accepted, 1, "node 0 was not asked again");
  assert.equal((await statBlock(node1, "obj.coded1"))!.created, created);
  assert.deepEqual(await retrieveBlock(node1, "obj.coded1"), data);
});

Deno.test("the same run asked again while the first request still commits waits for its outcome instead of running twice", async () => {
  await using cluster = await startCluster(2, { modules: [chain] });
  const [node0, node1] = cluster.nodes as [string, string];
  const data = randomBytes(3 * CHUNK);
  await storePart(node0, data);
  // Node 0's committed reply to node 1 is held in the relay (node 1 is committing) while the
  // run is asked for again, then lost.
  await using relay = ReplyDropper.start(node0);
  const { promise: held, resolve: hold } = Promise.withResolvers<void>();
  const { promise: release, resolve: letGo } = Promise.withResolvers<void>();
  relay.drop(1, () => {
    hold();
    return release;
  }, (payload) => payload.includes('"committed"'));
  const request = chainRequest([relay.address, node1]);
  using first = await DataNodeClient.connect(node1);
  const firstOutcome = runCoding(first, request).then(() => null, (e: unknown) => e);
  await held;
  using second = await DataNodeClient.connect(node1);
  const secondOutcome = runCoding(second, request).then(() => null, (e: unknown) => e);
  // Let the second request reach the node before the first one's commit fails.
  await new Promise((resolve) => setTimeout(resolve, 200));
  letGo();
  const [a, b] = await Promise.all([firstOutcome, secondOutcome]);
  assert.ok(isCdfsError(a), `the first run failed with a node's error: ${a}`);
  assert.ok(isCdfsError(b, a.code), `asked again: ${b}`);
  assert.equal(b.message, a.message);
  assert.equal(relay.accepted, 1, "node 0 was not asked again");
  assert.deepEqual(await retrieveBlock(node1, "obj.coded1"), data);
});

Deno.test("a stream program read by two programs of one run serves both at once", async () => {
  const read = { name: "s", read: { program: "src" } } as const;
  const fanout: CodingModule = {
    name: "fanout3",
    description: "node 0 streams its part to nodes 1 and 2, which write it (test module)",
    field: 8,
    n: 3,
    k: 1,
    parts: [{ block: "{id}.part0", nodes: [0] }],
    coded: [
      { block: "{id}.part0", node: 0 },
      { block: "{id}.coded1", node: 1 },
      { block: "{id}.coded2", node: 2 },
    ],
    encode: ["dst1", "dst2"],
    programs: {
      src: {
        node: 0,
        streams: [{ name: "p", read: { block: "{id}.part0" } }],
        instructions: [["LOAD", "b", "p"]],
        output: "b",
      },
      dst1: {
        node: 1,
        streams: [read, { name: "c", write: "{id}.coded1" }],
        instructions: [["LOAD", "b", "s"], ["WRITE", "b", "c"]],
      },
      dst2: {
        node: 2,
        streams: [read, { name: "c", write: "{id}.coded2" }],
        instructions: [["LOAD", "b", "s"], ["WRITE", "b", "c"]],
      },
    },
  };
  await using cluster = await startCluster(3, { modules: [fanout] });
  const data = randomBytes(3 * CHUNK);
  await storePart(cluster.nodes[0]!, data);
  // Both commit only once both are prepared, as an encode commits its programs together.
  let prepared = 0;
  const { promise: bothPrepared, resolve: allPrepared } = Promise.withResolvers<void>();
  const onPrepared = () => {
    if (++prepared === 2) allPrepared();
    return bothPrepared;
  };
  const run = async (program: string, node: number) => {
    using client = await DataNodeClient.connect(cluster.nodes[node]!);
    const request = {
      ...copyRequest(cluster.nodes),
      module: fanout.name,
      program,
      timeoutMs: 20_000,
    };
    return await runCoding(client, request, { onPrepared });
  };
  await Promise.all([run("dst1", 1), run("dst2", 2)]);
  assert.deepEqual(await retrieveBlock(cluster.nodes[1]!, "obj.coded1"), data);
  assert.deepEqual(await retrieveBlock(cluster.nodes[2]!, "obj.coded2"), data);
});
