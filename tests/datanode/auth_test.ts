/**
 * A datanode that requires the cluster secret (DataNodeServerOptions.secrets), attacked by a
 * raw-protocol client (tests/datanode/_client.ts): unsigned, wrongly signed, replayed and
 * stale requests are refused with UNAUTHENTICATED and change nothing; a read-only credential
 * reads but is FORBIDDEN to write or delete; a secured in-process cluster still encodes.
 */
import assert from "node:assert/strict";
import { codingModule as replication } from "../../coding/replication.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { encodeObject } from "../../src/client/objects/encode.ts";
import { putParts } from "../../src/client/objects/put_parts.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { DataNodeServer } from "../../src/datanode/server.ts";
import { RequestSigner } from "../../src/protocol/auth.ts";
import type { FrameConnection } from "../../src/protocol/connection.ts";
import { FRAME_TYPE } from "../../src/protocol/frame.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { concatBytes, randomBytes } from "../helpers/bytes.ts";
import { startCluster } from "../helpers/in_process_cluster.ts";
import { tempDir } from "../helpers/temp_dir.ts";
import { call, chunksOf, connect, rejectsWith, retrieveBytes, storeBlock } from "./_client.ts";

const FULL = "f0".repeat(32);
const READ = "7e".repeat(32);
const TIMEOUTS = { idleTimeoutMs: 60_000, frameTimeoutMs: 60_000 };

/** A secured datanode on a temp directory, stopped and removed on dispose. */
async function securedNode(): Promise<{ port: number } & AsyncDisposable> {
  const dir = await tempDir("cdfs-auth-dn-");
  const server = DataNodeServer.listen({
    store: await BlockStore.open(dir.path),
    pool: new BufferPool({ bufferSize: 64 * 1024 + 64, maxBuffers: 8 }),
    nodeId: "dn-auth",
    port: 0,
    secrets: { full: FULL, read: READ },
  });
  return {
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      await server.shutdown(0);
      await dir[Symbol.asyncDispose]();
    },
  };
}

const as = (secret: string | null, access: "full" | "read" = "full", clock = Date.now) => ({
  ...TIMEOUTS,
  signer: secret === null ? null : new RequestSigner(secret, access, clock),
});

async function store(conn: FrameConnection, block: string, bytes: Uint8Array): Promise<void> {
  await storeBlock(conn, block, chunksOf(bytes, 4096), { chunkSize: 4096 });
}

/** Whether the node holds `block`, asked with the full secret. */
async function holds(port: number, block: string): Promise<boolean> {
  const conn = await connect(port, as(FULL));
  try {
    await call(conn, "STAT", { block });
    return true;
  } catch (e) {
    if (isCdfsError(e, "NOT_FOUND")) return false;
    throw e;
  } finally {
    conn.close();
  }
}

Deno.test("datanode auth: unsigned STORE, DELETE, LIST are UNAUTHENTICATED and change nothing", async () => {
  await using node = await securedNode();
  const full = await connect(node.port, as(FULL));
  try {
    await store(full, "keep", randomBytes(10_000));
  } finally {
    full.close();
  }
  const attempts: [string, (conn: FrameConnection) => Promise<unknown>][] = [
    ["STORE", (conn) => store(conn, "new", randomBytes(5000))],
    ["DELETE", (conn) => call(conn, "DELETE", { block: "keep" })],
    ["LIST", (conn) => call(conn, "LIST")],
    ["PING", (conn) => call(conn, "PING")],
  ];
  for (const [op, attempt] of attempts) {
    const conn = await connect(node.port, as(null));
    try {
      await rejectsWith(attempt(conn), "UNAUTHENTICATED", /not signed/);
    } finally {
      conn.close();
    }
    assert.ok(await holds(node.port, "keep"), `after the unsigned ${op}`);
  }
  assert.equal(await holds(node.port, "new"), false);
});

Deno.test("datanode auth: a wrong secret and a stale time are UNAUTHENTICATED", async () => {
  await using node = await securedNode();
  for (
    const [options, pattern] of [
      [as("0".repeat(64)), /signature does not match/],
      [as(FULL, "full", () => Date.now() - 10 * 60_000), /from this node's clock/],
      [as(FULL, "full", () => Date.now() + 10 * 60_000), /from this node's clock/],
    ] as const
  ) {
    const conn = await connect(node.port, options);
    try {
      await rejectsWith(store(conn, "x", randomBytes(100)), "UNAUTHENTICATED", pattern);
    } finally {
      conn.close();
    }
  }
  assert.equal(await holds(node.port, "x"), false);
});

Deno.test("datanode auth: a replayed DELETE (same AUTH frame and request) is refused", async () => {
  await using node = await securedNode();
  const payload = new TextEncoder().encode(JSON.stringify({ op: "DELETE", block: "victim" }));
  const auth = new RequestSigner(FULL).sign(payload);
  const send = async (conn: FrameConnection) => {
    // The very bytes a signed client sent: its AUTH frame and its REQUEST frame.
    await conn.writeFrame(FRAME_TYPE.AUTH, auth);
    await conn.writeFrame(FRAME_TYPE.REQUEST, payload);
    return await conn.readJsonFrame(FRAME_TYPE.RESPONSE);
  };
  const conn = await connect(node.port, as(FULL));
  try {
    await store(conn, "victim", randomBytes(100));
    assert.deepEqual(await send(conn), { block: "victim", deleted: true });
    await store(conn, "victim", randomBytes(100));
  } finally {
    conn.close();
  }
  const replay = await connect(node.port, as(null));
  try {
    await rejectsWith(send(replay), "UNAUTHENTICATED", /replayed/);
  } finally {
    replay.close();
  }
  assert.ok(await holds(node.port, "victim"));
});

Deno.test("datanode auth: a read-only credential reads, and is FORBIDDEN to delete or store", async () => {
  await using node = await securedNode();
  const bytes = randomBytes(9000);
  const full = await connect(node.port, as(FULL));
  try {
    await store(full, "doc", bytes);
  } finally {
    full.close();
  }
  const reader = await connect(node.port, as(READ, "read"));
  try {
    assert.deepEqual(await retrieveBytes(reader, "doc"), bytes);
    assert.equal((await call(reader, "STAT", { block: "doc" })).length, bytes.length);
    await rejectsWith(call(reader, "DELETE", { block: "doc" }), "FORBIDDEN", /DELETE needs/);
  } finally {
    reader.close();
  }
  const writer = await connect(node.port, as(READ, "read"));
  try {
    await rejectsWith(store(writer, "new", randomBytes(5000)), "FORBIDDEN", /STORE needs/);
  } finally {
    writer.close();
  }
  assert.ok(await holds(node.port, "doc"));
  assert.equal(await holds(node.port, "new"), false);
});

Deno.test("datanode auth: a secured cluster puts and encodes (nodes sign their pulls)", async () => {
  await using cluster = await startCluster(3, { secrets: { full: FULL, read: READ } });
  await using work = await tempDir("cdfs-auth-encode-");
  const file = `${work.path}/object`;
  const object = randomBytes(50_000);
  await Deno.writeFile(file, object);
  const client = { signer: new RequestSigner(FULL) };
  const target = { module: replication, nodes: cluster.nodes, objectId: "obj", client };
  const nodes = cluster.nodes.slice(0, 3);
  await rejectsWith(
    putParts({ ...target, nodes, file, client: { signer: null } }),
    "UNAUTHENTICATED",
  );
  await putParts({ ...target, nodes, file, chunkSize: 4096 });
  const encoded = await encodeObject({ ...target, nodes, chunkSize: 4096 });
  assert.deepEqual(encoded.committed.map((b) => b.block), [
    "obj.coded0",
    "obj.coded1",
    "obj.coded2",
  ]);
  // Node 2 pulled its copy from node 0 with the cluster secret; a read-only client reads it.
  using reader = await DataNodeClient.connect(nodes[2]!, {
    signer: new RequestSigner(READ, "read"),
  });
  const chunks: Uint8Array[] = [];
  await reader.retrieve("obj.coded2", (chunk) => void chunks.push(chunk.slice()));
  assert.deepEqual(concatBytes(chunks), object);
});
