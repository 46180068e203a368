/**
 * Writes whose reply is lost (docs/protocol.md, STORE and DELETE): a relay in front of an
 * in-process datanode closes the connection right after the node answered, so the request
 * took effect and the client never heard. The client asks once more in a way that cannot
 * write twice, and reports the real outcome.
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { randomBytes } from "../helpers/bytes.ts";
import { retrieveBlock, startCluster, statBlock } from "../helpers/in_process_cluster.ts";
import { ReplyDropper } from "../helpers/reply_dropper.ts";
import { runCdfs } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp_dir.ts";

const CHUNK = 4096;

/** The node's count of STORE requests served (STATS). */
async function storeRequests(address: string): Promise<number> {
  using client = await DataNodeClient.connect(address);
  return (await client.stats()).ops.STORE?.requests ?? 0;
}

Deno.test("a STORE whose reply was lost after the rename is reported stored, once", async () => {
  await using cluster = await startCluster(1);
  await using relay = ReplyDropper.start(cluster.nodes[0]!);
  using client = await DataNodeClient.connect(relay.address);
  const data = randomBytes(3 * CHUNK + 100);
  relay.drop(1);
  const result = await client.store("lost.0", [data], { chunkSize: CHUNK });
  assert.equal(relay.dropped, 1);
  assert.equal(result.length, data.length);
  assert.equal(result.existed, true); // the retry found exactly this content: nothing written
  assert.deepEqual(await retrieveBlock(cluster.nodes[0]!, "lost.0"), data);
  const stat = await statBlock(cluster.nodes[0]!, "lost.0");
  assert.equal(stat?.digest, result.digest);
  // Two STOREs reached the node (the first, and the retry declaring the digest); one wrote.
  assert.equal(await storeRequests(cluster.nodes[0]!), 2);
});

Deno.test("a STORE from a file whose reply was lost is retried from the file's start", async () => {
  await using cluster = await startCluster(1);
  await using relay = ReplyDropper.start(cluster.nodes[0]!);
  using client = await DataNodeClient.connect(relay.address);
  const data = randomBytes(5 * CHUNK);
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, data);
    using file = await Deno.open(path);
    relay.drop(1);
    const result = await client.store("file.0", file, { chunkSize: CHUNK, length: data.length });
    assert.equal(result.existed, true);
    assert.deepEqual(await retrieveBlock(cluster.nodes[0]!, "file.0"), data);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a lost STORE reply while another writer replaced the block: EXISTS, not overwritten", async () => {
  await using cluster = await startCluster(1);
  await using relay = ReplyDropper.start(cluster.nodes[0]!);
  using client = await DataNodeClient.connect(relay.address);
  const mine = randomBytes(2 * CHUNK);
  const theirs = randomBytes(2 * CHUNK);
  relay.drop(1, async () => {
    // Between the lost reply and the retry, someone else puts other content there.
    using other = await DataNodeClient.connect(cluster.nodes[0]!);
    await other.store("raced.0", [theirs], { chunkSize: CHUNK, overwrite: true });
  });
  await assert.rejects(
    client.store("raced.0", [mine], { chunkSize: CHUNK }),
    (e) => isCdfsError(e, "EXISTS") && e.message.includes(relay.address),
  );
  assert.deepEqual(await retrieveBlock(cluster.nodes[0]!, "raced.0"), theirs);
});

Deno.test("a STORE from a one-shot source whose reply was lost is not resent: STAT tells", async () => {
  await using cluster = await startCluster(1);
  await using relay = ReplyDropper.start(cluster.nodes[0]!);
  using client = await DataNodeClient.connect(relay.address);
  const data = randomBytes(3 * CHUNK);
  async function* once(): AsyncGenerator<Uint8Array> {
    yield data.subarray(0, CHUNK);
    yield data.subarray(CHUNK);
  }
  relay.drop(1);
  const result = await client.store("pipe.0", once(), { chunkSize: CHUNK });
  assert.equal(result.length, data.length);
  assert.equal(result.existed, undefined);
  assert.deepEqual(await retrieveBlock(cluster.nodes[0]!, "pipe.0"), data);
  assert.equal(await storeRequests(cluster.nodes[0]!), 1); // asked by STAT, never resent
});

Deno.test("a DELETE whose reply was lost is reported done, and deletes nothing else", async () => {
  await using cluster = await startCluster(1);
  await using relay = ReplyDropper.start(cluster.nodes[0]!);
  using client = await DataNodeClient.connect(relay.address);
  await client.store("gone.0", [randomBytes(100)], { chunkSize: CHUNK });
  relay.drop(1);
  await client.delete("gone.0"); // the retry carries the same request id: the first outcome
  assert.equal(relay.dropped, 1);
  assert.equal(await statBlock(cluster.nodes[0]!, "gone.0"), undefined);
  // A new DELETE of the absent block is still NOT_FOUND (a new request id).
  await assert.rejects(client.delete("gone.0"), (e) => isCdfsError(e, "NOT_FOUND"));
});

Deno.test("a DELETE of an absent block whose reply was lost is still NOT_FOUND", async () => {
  await using cluster = await startCluster(1);
  await using relay = ReplyDropper.start(cluster.nodes[0]!);
  using client = await DataNodeClient.connect(relay.address);
  relay.drop(1);
  await assert.rejects(client.delete("never.0"), (e) => isCdfsError(e, "NOT_FOUND"));
  assert.equal(relay.dropped, 1);
});

Deno.test("an encode whose committed reply from one node was lost succeeds: asked again, not redone", async () => {
  await using cluster = await startCluster(16);
  await using dir = await tempDir("cdfs-lost-commit-");
  // Node 15 writes RS coded block 15; the client talks to it through the relay.
  await using relay = ReplyDropper.start(cluster.nodes[15]!);
  const nodes = cluster.nodes.map((n, i) => i === 15 ? relay.address : n);
  const input = `${dir.path}/input`;
  await Deno.writeFile(input, randomBytes(11 * 3 * CHUNK));
  const common = ["--nodes", nodes.join(","), "--chunk-size", `${CHUNK}`];
  const put = await runCdfs(["object", "put-parts", "--code", "rs", ...common, input, "o"]);
  assert.equal(put.code, 0, put.err);
  relay.drop(1, undefined, (payload) => payload.includes('"committed"'));
  const encode = await runCdfs(["object", "encode", ...common, "--json", "o"]);
  assert.equal(encode.code, 0, encode.err);
  assert.equal(relay.dropped, 1);
  const result = JSON.parse(encode.out);
  const stat = (await statBlock(cluster.nodes[15]!, "o.coded15"))!;
  const reported = result.committed.find((b: { block: string }) => b.block === "o.coded15");
  assert.equal(reported?.digest, stat.digest);
  // The object decodes from its coded blocks.
  const out = `${dir.path}/out`;
  const decode = await runCdfs(["object", "decode", ...common, "--output", out, "o"]);
  assert.equal(decode.code, 0, decode.err);
  assert.deepEqual(await Deno.readFile(out), await Deno.readFile(input));
});
