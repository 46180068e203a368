/**
 * The RETRIEVE handler on an in-process server, against its buffer pool: it reads ahead into a
 * second buffer only when one is free (a pool of one buffer, or two concurrent reads on a pool
 * of two, still work and do not wait for each other), and every buffer goes back to the pool
 * however the stream ends (complete, a corrupt chunk, a client that hangs up).
 */
import { waitFor } from "../helpers/wait.ts";
import assert from "node:assert/strict";
import { WasmArena } from "../../src/buffer/arena.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import { DataNodeServer } from "../../src/datanode/server.ts";
import { FRAME_TYPE } from "../../src/protocol/frame.ts";
import { HEADER_SIZE } from "../../src/store/block_file.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import {
  connect,
  PatternBlock,
  pingFresh,
  rejectsWith,
  retrieveBlock,
  storeBlock,
} from "./_client.ts";

const CHUNK = 4096;

/** Runs `body` against an in-process node whose pool holds `maxBuffers` buffers. */
async function withNode(
  maxBuffers: number,
  body: (port: number, pool: BufferPool, dataDir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-retrieve-test-" });
  const pool = new BufferPool({
    arena: new WasmArena({ maxBytes: 4 << 20 }),
    bufferSize: CHUNK + 64,
    maxBuffers,
  });
  const server = DataNodeServer.listen({
    store: await BlockStore.open(dir),
    pool,
    nodeId: "retrieve-test",
    port: 0,
    log: () => {},
  });
  try {
    await body(server.addr.port, pool, dir);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

async function put(port: number, block: string, pattern: PatternBlock): Promise<void> {
  const conn = await connect(port);
  try {
    await storeBlock(conn, block, pattern.chunks(), { chunkSize: pattern.chunkSize });
  } finally {
    conn.close();
  }
}

/** Retrieves `block` whole, checking every chunk against `pattern`; returns the chunk count. */
async function getAndCheck(port: number, block: string, pattern: PatternBlock): Promise<number> {
  const conn = await connect(port);
  try {
    let chunks = 0;
    const { summary } = await retrieveBlock(conn, block, {}, async (chunk) => {
      assert.deepEqual(chunk.bytes, pattern.chunk(chunk.index), `${block} chunk ${chunk.index}`);
      chunks++;
      // A slow consumer: the node's socket fills and its read-ahead runs while it waits.
      if (chunk.index % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    });
    assert.equal(summary.length, pattern.length);
    return chunks;
  } finally {
    conn.close();
  }
}

/** Waits until the pool has every buffer back (the handler releases them as it finishes). */
async function allReturned(pool: BufferPool): Promise<void> {
  const until = Date.now() + 10_000;
  while (pool.inUse !== 0) {
    if (Date.now() > until) throw new Error(`${pool.inUse} buffers were never returned`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("a pool of one buffer still serves multi-chunk RETRIEVEs (no read-ahead)", async () => {
  await withNode(1, async (port, pool) => {
    const pattern = new PatternBlock(40 * CHUNK + 17, CHUNK, 31);
    await put(port, "one", pattern);
    assert.equal(await getAndCheck(port, "one", pattern), 41);
    await allReturned(pool);
  });
});

Deno.test("two concurrent RETRIEVEs on a pool of two buffers both finish", async () => {
  await withNode(2, async (port, pool) => {
    const a = new PatternBlock(200 * CHUNK, CHUNK, 32);
    const b = new PatternBlock(150 * CHUNK + 1, CHUNK, 33);
    await put(port, "a", a);
    await put(port, "b", b);
    const counts = await Promise.all([getAndCheck(port, "a", a), getAndCheck(port, "b", b)]);
    assert.deepEqual(counts, [200, 151]);
    await allReturned(pool);
  });
});

Deno.test("with read-ahead, a corrupt chunk ends the stream after the good ones", async () => {
  await withNode(4, async (port, pool, dir) => {
    const pattern = new PatternBlock(20 * CHUNK, CHUNK, 34);
    await put(port, "bad", pattern);
    const path = `${dir}/blocks/bad`;
    const bytes = await Deno.readFile(path);
    bytes[HEADER_SIZE + 9 * CHUNK + 100]! ^= 0x01; // chunk 9
    await Deno.writeFile(path, bytes);

    const conn = await connect(port);
    const received: number[] = [];
    try {
      await rejectsWith(
        retrieveBlock(conn, "bad", {}, async (chunk) => {
          assert.deepEqual(chunk.bytes, pattern.chunk(chunk.index));
          received.push(chunk.index);
          await new Promise((resolve) => setTimeout(resolve, 1));
        }),
        "CORRUPT",
        /bad.*chunk 9/,
      );
      assert.deepEqual(received, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      conn.close();
    }
    await allReturned(pool);
    // The damaged block is quarantined: out of the namespace.
    await waitFor("the quarantine", async () => (await pingFresh(port)).blocks === 0, 20_000);
  });
});

Deno.test("a client hanging up mid-stream gives every buffer back", async () => {
  await withNode(2, async (port, pool) => {
    const pattern = new PatternBlock(400 * CHUNK, CHUNK, 35);
    await put(port, "big", pattern);
    const conn = await connect(port);
    await conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "RETRIEVE", block: "big" });
    // Read the first bytes of the stream, then hang up while the node is still sending.
    const some = new Uint8Array(3 * CHUNK);
    await conn.conn.read(some);
    conn.close();
    await allReturned(pool);
    const counts = await getAndCheck(port, "big", pattern);
    assert.equal(counts, 400);
  });
});
