/**
 * Idempotent writes on the datanode (docs/protocol.md, STORE and DELETE): a STORE declaring
 * its digest is answered `existed` when exactly that content is stored and `EXISTS` when
 * other content is; a DELETE carrying a request id the node has seen gets the first outcome.
 */
import assert from "node:assert/strict";
import { formatChecksum } from "../../src/checksum/checksum.ts";
import { FrameConnection } from "../../src/protocol/connection.ts";
import { startCluster } from "../helpers/in_process_cluster.ts";
import { randomBytes } from "../helpers/bytes.ts";
import { call, chunksOf, connect, rejectsWith, retrieveBytes, storeBlock } from "./_client.ts";

const CHUNK = 4096;
const REQUEST_ID = "0123456789abcdef0123456789abcdef";

function portOf(address: string): number {
  return Number(address.split(":")[1]);
}

/** One in-process node and a raw connection to it. */
async function oneNode() {
  const cluster = await startCluster(1);
  const conn = await connect(portOf(cluster.nodes[0]!));
  return {
    cluster,
    conn,
    async [Symbol.asyncDispose]() {
      conn.close();
      await cluster[Symbol.asyncDispose]();
    },
  };
}

async function store(conn: FrameConnection, block: string, data: Uint8Array, digest?: string) {
  return await storeBlock(conn, block, chunksOf(data, CHUNK), {
    chunkSize: CHUNK,
    length: data.length,
    ...(digest === undefined ? {} : { digest }),
  });
}

Deno.test("STORE declaring the stored content's digest: existed, nothing written", async () => {
  await using node = await oneNode();
  const data = randomBytes(2 * CHUNK + 7);
  const first = await store(node.conn, "b.0", data);
  const created = (await call(node.conn, "STAT", { block: "b.0" })).created;
  const again = await store(node.conn, "b.0", data, first.response.digest);
  assert.deepEqual(again.response, { ...first.response, existed: true });
  // The connection stays usable (the stream was read), and the block was not rewritten.
  assert.equal((await call(node.conn, "STAT", { block: "b.0" })).created, created);
  assert.deepEqual(await retrieveBytes(node.conn, "b.0"), data);
});

Deno.test("STORE declaring another digest than the stored block's: EXISTS", async () => {
  await using node = await oneNode();
  const data = randomBytes(2 * CHUNK);
  await store(node.conn, "b.0", data);
  const other = randomBytes(2 * CHUNK);
  const conn = await connect(portOf(node.cluster.nodes[0]!));
  try {
    await rejectsWith(store(conn, "b.0", other, "0123456789abcdef"), "EXISTS");
  } finally {
    conn.close();
  }
  assert.deepEqual(await retrieveBytes(node.conn, "b.0"), data);
});

Deno.test("STORE whose stream does not have its declared digest: CORRUPT, nothing stored", async () => {
  await using node = await oneNode();
  const data = randomBytes(CHUNK + 1);
  // Absent block: the stream is stored only if it has the declared digest.
  await rejectsWith(store(node.conn, "b.1", data, "0123456789abcdef"), "CORRUPT", /declared/);
  const conn = await connect(portOf(node.cluster.nodes[0]!));
  try {
    await rejectsWith(call(conn, "STAT", { block: "b.1" }), "NOT_FOUND");
    // Present block, declared digest matching it, but other bytes sent: CORRUPT too.
    const stored = await store(conn, "b.2", data);
    const forged = data.slice();
    forged[0] = forged[0]! ^ 1;
    const conn2 = await connect(portOf(node.cluster.nodes[0]!));
    try {
      await rejectsWith(store(conn2, "b.2", forged, stored.response.digest), "CORRUPT");
    } finally {
      conn2.close();
    }
    assert.deepEqual(await retrieveBytes(conn, "b.2"), data);
  } finally {
    conn.close();
  }
});

Deno.test("STORE digest needs length, and is 16 hex digits", async () => {
  await using node = await oneNode();
  await rejectsWith(
    storeBlock(node.conn, "b.0", chunksOf(randomBytes(10), CHUNK), {
      chunkSize: CHUNK,
      digest: formatChecksum(1n),
    }),
    "BAD_REQUEST",
    /needs "length"/,
  );
});

Deno.test("DELETE sent again with its request id gets the first outcome", async () => {
  await using node = await oneNode();
  await store(node.conn, "d.0", randomBytes(10));
  assert.deepEqual(await call(node.conn, "DELETE", { block: "d.0", request: REQUEST_ID }), {
    block: "d.0",
    deleted: true,
  });
  // The same id again (a client whose reply was lost): the first outcome, not NOT_FOUND.
  assert.deepEqual(await call(node.conn, "DELETE", { block: "d.0", request: REQUEST_ID }), {
    block: "d.0",
    deleted: true,
  });
  // Another id, or none: the block is not there.
  await rejectsWith(
    call(node.conn, "DELETE", { block: "d.0", request: "f".repeat(32) }),
    "NOT_FOUND",
  );
  await rejectsWith(call(node.conn, "DELETE", { block: "d.0" }), "NOT_FOUND");
  // The same id for another block is refused.
  await rejectsWith(
    call(node.conn, "DELETE", { block: "d.1", request: REQUEST_ID }),
    "BAD_REQUEST",
    /was used for 'd\.0'/,
  );
  await rejectsWith(
    call(node.conn, "DELETE", { block: "d.0", request: "XYZ" }),
    "BAD_REQUEST",
    /"request"/,
  );
});
