/**
 * `runCoding()` and `openCoding()` (src/coding/runtime/coding_stream.ts) and `DataNodeClient.openRetrieve()` against two in-process
 * datanodes serving a small test module: what the handlers see, what gets committed, that a
 * handler's failure aborts the run everywhere, and how errors are named.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../../src/client/datanode_client.ts";
import { runLocal } from "../../../src/coding/runtime/local_cluster.ts";
import type { CodingModule } from "../../../src/coding/lang/program.ts";
import { validateModule } from "../../../src/coding/lang/validate.ts";
import { CdfsError } from "../../../src/core/errors.ts";
import type { CodingRequest } from "../../../src/protocol/requests.ts";
import { randomBytes } from "../../client/_blocks.ts";
import { type InProcessCluster, startCluster } from "../../helpers/in_process_cluster.ts";
import { openCoding, runCoding } from "../../../src/coding/runtime/coding_stream.ts";

const CHUNK = 4096;

/** Two nodes: node 0 streams 2·part0 (and keeps 3·part0), node 1 stores what it pulls. */
const mini: CodingModule = validateModule({
  name: "mini",
  description: "test module",
  field: 8,
  n: 2,
  k: 1,
  parts: [{ block: "{id}.part0", nodes: [0] }],
  coded: [{ block: "{id}.coded0", node: 0 }, { block: "{id}.coded1", node: 1 }],
  encode: "store1",
  programs: {
    double: {
      node: 0,
      streams: [{ name: "p", read: { block: "{id}.part0" } }, { name: "c0", write: "{id}.coded0" }],
      output: "out",
      instructions: [
        ["LOAD", "a", "p"],
        ["MULT", "out", 2, "a"],
        ["MULT", "a", 3, "a"],
        ["WRITE", "a", "c0"],
      ],
    },
    store1: {
      node: 1,
      streams: [{ name: "up", read: { program: "double" } }, { name: "c1", write: "{id}.coded1" }],
      instructions: [["LOAD", "b", "up"], ["WRITE", "b", "c1"]],
    },
  },
}, "test");

/** Two in-process nodes serving `mini`, with step buffers of up to 16 chunks. */
function cluster(): Promise<InProcessCluster> {
  return startCluster(2, { modules: [mini], maxChunkSize: 16 * CHUNK });
}

function request(nodes: readonly string[], program: string, object: string): CodingRequest {
  return {
    op: "CODING",
    module: "mini",
    program,
    object,
    run: crypto.randomUUID().replaceAll("-", ""),
    nodes: [...nodes],
    chunkSize: CHUNK,
  };
}

async function placePart(
  nodes: readonly string[],
  object: string,
  length: number,
  chunkSize = CHUNK,
): Promise<Uint8Array> {
  const part = randomBytes(length);
  using client = await DataNodeClient.connect(nodes[0]!);
  await client.store(`${object}.part0`, [part], { chunkSize });
  return part;
}

async function exists(address: string, block: string): Promise<boolean> {
  using client = await DataNodeClient.connect(address);
  try {
    await client.stat(block);
    return true;
  } catch (e) {
    if (e instanceof CdfsError && e.code === "NOT_FOUND") return false;
    throw e;
  }
}

Deno.test("coding() streams a stream program's output and commits its block", async () => {
  await using c = await cluster();
  const part = await placePart(c.nodes, "o1", 3 * CHUNK + 5);
  const expected = await runLocal(mini, "double", {
    objectId: "o1",
    blocks: new Map([["0/o1.part0", part]]),
    chunkSize: CHUNK,
  });
  using client = await DataNodeClient.connect(c.nodes[0]!);
  const chunks: Uint8Array[] = [];
  const lengths: number[] = [];
  let started: unknown;
  let preparedSeen = false;
  const result = await runCoding(client, request(c.nodes, "double", "o1"), {
    onResponse: (r) => started = r,
    onData: (bytes, length) => {
      assert.equal(bytes.length, length);
      assert.ok(!preparedSeen);
      chunks.push(bytes.slice());
      lengths.push(length);
    },
    onPrepared: () => {
      preparedSeen = true;
    },
  });
  assert.deepEqual(started, { program: "double", length: 3 * CHUNK + 5, stream: true });
  assert.deepEqual(lengths, [CHUNK, CHUNK, CHUNK, 5]);
  assert.ok(Buffer.concat(chunks).equals(Buffer.from(expected.streams.get("double")!)));
  assert.ok(preparedSeen);
  assert.equal(result.committed.length, 1);
  const [block] = result.committed;
  assert.equal(block!.node, 0);
  assert.equal(block!.block, "o1.coded0");
  assert.equal((await client.stat("o1.coded0")).digest, block!.digest);
  // The connection is reusable after a completed run.
  assert.equal((await client.ping()).node, "dn0");
});

Deno.test("coding() of a local program reports the blocks committed along the pull", async () => {
  await using c = await cluster();
  const part = await placePart(c.nodes, "o2", 2 * CHUNK);
  const expected = await runLocal(mini, "store1", {
    objectId: "o2",
    blocks: new Map([["0/o2.part0", part]]),
    chunkSize: CHUNK,
  });
  using client = await DataNodeClient.connect(c.nodes[1]!);
  const result = await runCoding(client, request(c.nodes, "store1", "o2"), {
    onData: () => assert.fail("a local program sends no data"),
  });
  assert.equal(result.stream, false);
  assert.equal(result.length, 2 * CHUNK);
  assert.deepEqual(result.committed.map((b) => [b.node, b.block]).sort(), [
    [0, "o2.coded0"],
    [1, "o2.coded1"],
  ]);
  for (const [key, bytes] of expected.blocks) {
    const [node, id] = key.split("/") as [string, string];
    using reader = await DataNodeClient.connect(c.nodes[Number(node)]!);
    const got: Uint8Array[] = [];
    await reader.retrieve(id, (chunk) => void got.push(chunk.slice()));
    assert.ok(Buffer.concat(got).equals(Buffer.from(bytes)), key);
  }
});

Deno.test("a handler that throws aborts the run: nothing is committed anywhere", async (t) => {
  await using c = await cluster();
  await placePart(c.nodes, "o3", 5 * CHUNK);
  await t.step("onPrepared", async () => {
    using client = await DataNodeClient.connect(c.nodes[1]!);
    const boom = new Error("not now");
    await assert.rejects(
      runCoding(client, request(c.nodes, "store1", "o3"), {
        onPrepared: () => {
          throw boom;
        },
      }),
      (e) => e === boom,
    );
    // The client still works (it reconnects).
    assert.equal((await client.ping()).node, "dn1");
  });
  await t.step("onData", async () => {
    using client = await DataNodeClient.connect(c.nodes[0]!);
    const boom = new Error("disk full here");
    await assert.rejects(
      runCoding(client, request(c.nodes, "double", "o3"), {
        onData: () => {
          throw boom;
        },
      }),
      (e) => e === boom,
    );
  });
  // The nodes abort when the connection goes: give them a moment, then nothing is there.
  for (let i = 0; i < 50 && (c.servers[0]!.connections > 0 || c.servers[1]!.connections > 0); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(await exists(c.nodes[0]!, "o3.coded0"), false);
  assert.equal(await exists(c.nodes[1]!, "o3.coded1"), false);
});

Deno.test("coding() errors: checked before sending, refused by the node, named by the node that failed", async () => {
  await using c = await cluster();
  using client = await DataNodeClient.connect(c.nodes[1]!);
  // Invalid here already: nothing is sent.
  await assert.rejects(
    runCoding(client, { ...request(c.nodes, "store1", "x"), run: "not-hex" }),
    (e) => e instanceof CdfsError && e.code === "BAD_REQUEST" && /"run"/.test(e.message),
  );
  // Refused by the node before it starts: the connection stays usable.
  await assert.rejects(
    runCoding(client, request(c.nodes, "nosuch", "x")),
    (e) =>
      e instanceof CdfsError && e.code === "BAD_REQUEST" &&
      e.message.startsWith(`node ${c.nodes[1]}: `) && /no program 'nosuch'/.test(e.message),
  );
  assert.equal((await client.ping()).node, "dn1");
  // The part is missing on node 0: node 0 names itself, node 1 and the client pass it on.
  await assert.rejects(
    runCoding(client, request(c.nodes, "store1", "missing")),
    (e) =>
      e instanceof CdfsError && e.code === "NOT_FOUND" &&
      e.message.startsWith(`node 0 (${c.nodes[0]}): `) && /missing\.part0/.test(e.message),
  );
  assert.equal(await exists(c.nodes[1]!, "missing.coded1"), false);
});

Deno.test("openRetrieve() and openCoding() read frames into the caller's memory", async () => {
  await using c = await cluster();
  const part = await placePart(c.nodes, "o4", 2 * CHUNK + 100);
  using client = await DataNodeClient.connect(c.nodes[0]!);
  const retrieve = await client.openRetrieve("o4.part0");
  const response = await retrieve.response();
  assert.equal(response.length, part.length);
  const into = new Uint8Array(part.length);
  let at = 0;
  for (let n = await retrieve.next(); n !== null; n = await retrieve.next()) {
    await retrieve.read(into.subarray(at, at + n));
    at += n;
  }
  assert.ok(Buffer.from(into).equals(Buffer.from(part)));

  const run = await openCoding(client, request(c.nodes, "double", "o4"));
  assert.equal((await run.response()).stream, true);
  let received = 0;
  const scratch = new Uint8Array(CHUNK);
  for (let n = await run.next(); n !== null; n = await run.next()) {
    await run.read(scratch.subarray(0, n));
    received += n;
  }
  assert.equal(received, part.length);
  await run.prepared();
  const committed = await run.commit();
  assert.deepEqual(committed.map((b) => b.block), ["o4.coded0"]);
});

Deno.test("an empty stream: no step, empty blocks committed on both nodes", async () => {
  await using c = await cluster();
  await placePart(c.nodes, "empty", 0);
  using client = await DataNodeClient.connect(c.nodes[1]!);
  const result = await runCoding(client, request(c.nodes, "store1", "empty"));
  assert.equal(result.length, 0);
  assert.deepEqual(result.committed.map((b) => [b.block, b.length]).sort(), [
    ["empty.coded0", 0],
    ["empty.coded1", 0],
  ]);
  using node0 = await DataNodeClient.connect(c.nodes[0]!);
  assert.equal((await node0.stat("empty.coded0")).length, 0);
});

Deno.test("steps larger and smaller than the stored chunks give the same bytes", async () => {
  await using c = await cluster();
  const cases: [stored: number, step: number][] = [
    [4 * CHUNK, CHUNK], // a stored chunk feeds several steps (staged)
    [CHUNK, 4 * CHUNK], // several stored chunks fill one step (no copy)
    [3 * CHUNK, 2 * CHUNK], // both
  ];
  for (const [stored, step] of cases) {
    const object = `mix${stored}-${step}`;
    const part = await placePart(c.nodes, object, 7 * CHUNK + 3, stored);
    const expected = await runLocal(mini, "store1", {
      objectId: object,
      blocks: new Map([[`0/${object}.part0`, part]]),
      chunkSize: step,
    });
    using client = await DataNodeClient.connect(c.nodes[1]!);
    await runCoding(client, { ...request(c.nodes, "store1", object), chunkSize: step });
    for (const [key, bytes] of expected.blocks) {
      const [node, id] = key.split("/") as [string, string];
      using reader = await DataNodeClient.connect(c.nodes[Number(node)]!);
      const got: Uint8Array[] = [];
      await reader.retrieve(id, (chunk) => void got.push(chunk.slice()));
      assert.ok(
        Buffer.concat(got).equals(Buffer.from(bytes)),
        `${key}, stored ${stored}, step ${step}`,
      );
    }
  }
});
