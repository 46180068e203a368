/**
 * Bounded resources under attack (issue 13, item 4): slow clients cannot pin the buffer pool,
 * a connection storm beyond the descriptor limit is told BUSY instead of hanging in the
 * backlog, a trickling client is cut off with TIMEOUT, a STORE the disk cannot hold is
 * refused before its data, a request that cannot get a buffer in time is told BUSY, and PING
 * shows the pressure.
 */
import assert from "node:assert/strict";
import { BufferPool } from "../../src/buffer/pool.ts";
import { WasmArena } from "../../src/buffer/arena.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { DataNodeServer } from "../../src/datanode/server.ts";
import {
  encodeFrameHeader,
  encodePreamble,
  FRAME_HEADER_SIZE,
  FRAME_TYPE,
  PREAMBLE_SIZE,
} from "../../src/protocol/frame.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { tempDir } from "../helpers/temp_dir.ts";
import { waitFor } from "../helpers/wait.ts";
import {
  call,
  checksummer,
  connect,
  lastErrorCode,
  parseServerBytes,
  patternBytes,
  pingFresh,
  readUntilClosed,
  writeRaw,
} from "./_client.ts";
import type { FrameConnection } from "../../src/protocol/connection.ts";
import type { CodingRequest } from "../../src/protocol/requests.ts";
import { runCoding } from "../../src/coding/runtime/coding_stream.ts";
import { replicationModule } from "../../coding/replication.ts";
import { cdfsError } from "../helpers/assert_error.ts";
import { startCluster } from "../helpers/in_process_cluster.ts";

/** Resolves with `promise`, or rejects naming `what` when it takes over `ms` (a freeze). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The bytes of temp files (STOREs under way) in a node's data directory, per file. */
async function tempFileSizes(dataDir: string): Promise<number[]> {
  const sizes: number[] = [];
  for await (const entry of Deno.readDir(`${dataDir}/tmp`)) {
    if (!entry.name.endsWith(".tmp") || entry.name.startsWith("probe.")) continue;
    try {
      sizes.push((await Deno.stat(`${dataDir}/tmp/${entry.name}`)).size);
    } catch {
      // Gone meanwhile.
    }
  }
  return sizes;
}

/** A datanode in this process, named dn1, serving at most `maxConnections` connections. */
async function cappedNode(dataDir: string, maxConnections: number): Promise<DataNodeServer> {
  return DataNodeServer.listen({
    store: await BlockStore.open(dataDir),
    pool: new BufferPool({ arena: new WasmArena({ maxBytes: 1 << 20 }), bufferSize: 4160 }),
    nodeId: "dn1",
    port: 0,
    maxConnections,
  });
}

Deno.test("32 slow STOREs (one 4 KiB frame, then silence) do not freeze other clients", async () => {
  // The default pool: 64 buffers. Before, each slow STORE pinned two for as long as it stayed
  // connected, and every other STORE and RETRIEVE waited for a buffer without end.
  await using node = await DataNodeProcess.start();
  const slow: FrameConnection[] = [];
  try {
    for (let i = 0; i < 32; i++) {
      const conn = await connect(node.port);
      slow.push(conn);
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, {
        op: "STORE",
        block: `slow${i}`,
        chunkSize: 4096,
      });
      await conn.writeDataFrame(patternBytes(4096, i));
    }
    // Every slow STORE has had its frame received and written.
    await waitFor(
      "the 32 slow STOREs' first frames",
      async () => (await tempFileSizes(node.dataDir)).filter((n) => n >= 4096).length === 32,
      60_000,
    );
    const client = await DataNodeClient.connect(`127.0.0.1:${node.port}`);
    try {
      const data = patternBytes(3 * 1024 * 1024 + 5, 99);
      const stored = await within(
        30_000,
        "a STORE beside 32 slow ones",
        client.store("fast", [data]),
      );
      assert.equal(stored.length, data.length);
      const parts: Uint8Array[] = [];
      await within(
        30_000,
        "a RETRIEVE beside 32 slow ones",
        client.retrieve("fast", (chunk) => {
          parts.push(chunk.slice());
        }),
      );
      assert.equal(parts.reduce((n, p) => n + p.length, 0), data.length);
      const ping = await client.ping();
      assert.equal(ping.pool?.size, 64);
      assert.ok(ping.connections!.open >= 33, `open ${ping.connections!.open}`);
    } finally {
      client.close();
    }
    // The slow ones are still connected: nothing cut them off to let the others through.
    assert.ok(slow.every((c) => !c.closed));
  } finally {
    for (const conn of slow) conn.close();
  }
});

Deno.test("300 connections against a 256-descriptor limit: the excess are told BUSY, none hang", async () => {
  await using node = await DataNodeProcess.start({
    wrapper: ["prlimit", "--nofile=256:256", "--"],
  });
  const max = (await pingFresh(node.port)).connections?.max ?? 256;
  assert.ok(max < 256, `the cap ${max} is not below the descriptor limit`);
  const preamble = new Uint8Array(PREAMBLE_SIZE);
  encodePreamble(preamble);
  const sockets: Deno.Conn[] = [];
  const answers = await within(
    60_000,
    "300 connections' first answers",
    Promise.all(Array.from({ length: 300 }, async () => {
      const socket = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
      sockets.push(socket);
      await writeRaw(socket, preamble);
      const first = new Uint8Array(1);
      const n = await socket.read(first);
      if (n === null) return "closed";
      if (first[0] === 0x43) return "served";
      // An ERROR frame in place of the preamble: read it to the end.
      const { bytes } = await readUntilClosed(socket, 30_000);
      const all = new Uint8Array(1 + bytes.length);
      all.set(first);
      all.set(bytes, 1);
      return lastErrorCode(parseServerBytes(all)) ?? "no error";
    })),
  );
  for (const socket of sockets) socket.close();
  const count = (what: string) => answers.filter((a) => a === what).length;
  assert.ok(count("served") <= max, `served ${count("served")} over the cap ${max}`);
  assert.equal(count("served") + count("BUSY"), 300, JSON.stringify(answers));
  // The node still serves a normal client afterwards.
  const client = await DataNodeClient.connect(`127.0.0.1:${node.port}`);
  try {
    const data = patternBytes(100_000, 7);
    await client.store("after-storm", [data]);
    assert.equal((await client.stat("after-storm")).length, data.length);
  } finally {
    client.close();
  }
  await node.stop();
  const log = node.logRecords();
  const acceptFailures = log.filter((r) => String(r.message ?? "").startsWith("accept failed"));
  assert.ok(acceptFailures.length <= 2, `${acceptFailures.length} 'accept failed' lines`);
  assert.ok(log.filter((r) => r.event === "busy").length <= 2, "refusals flood the log");
});

Deno.test("a client that trickles a request header at 1 byte/s is cut off with TIMEOUT", async () => {
  await using node = await DataNodeProcess.start();
  const socket = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
  try {
    const preamble = new Uint8Array(PREAMBLE_SIZE);
    encodePreamble(preamble);
    await writeRaw(socket, preamble);
    const payload = new TextEncoder().encode(JSON.stringify({ op: "PING" }));
    const frame = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
    encodeFrameHeader(frame, {
      type: FRAME_TYPE.REQUEST,
      length: payload.length,
      checksum: checksummer.checksum(payload),
    });
    frame.set(payload, FRAME_HEADER_SIZE);
    let cut = false;
    const trickle = (async () => {
      for (let i = 0; i < frame.length && !cut; i++) {
        await writeRaw(socket, frame.subarray(i, i + 1));
        await new Promise((resolve) => setTimeout(resolve, 1000)); // the attack's own pace
      }
    })().catch(() => {});
    // The frame timeout (30 s) would let the whole frame through in 29 s; the minimum rate
    // (16 KiB/s after 5 s) does not.
    const { bytes, closed } = await readUntilClosed(socket, 20_000);
    cut = true;
    await trickle;
    assert.ok(closed, "the trickling client was not cut off within 20 s");
    const frames = parseServerBytes(bytes);
    assert.equal(lastErrorCode(frames), "TIMEOUT");
    assert.match(String(frames.at(-1)!.json!.message), /too slow/);
  } finally {
    try {
      socket.close();
    } catch {
      // Closed already.
    }
  }
  assert.ok((await pingFresh(node.port)).blocks === 0);
});

Deno.test("a STORE declaring more than the free space is refused with NO_SPACE before its data", async () => {
  await using node = await DataNodeProcess.start();
  const conn = await connect(node.port);
  try {
    await conn.writeJsonFrame(FRAME_TYPE.REQUEST, {
      op: "STORE",
      block: "huge",
      chunkSize: 1 << 20,
      length: 2 ** 52,
    });
    // No data is sent: the answer must not wait for any.
    const answer = await within(
      20_000,
      "the NO_SPACE answer",
      conn.readJsonFrame(FRAME_TYPE.ERROR),
    );
    assert.equal(answer?.code, "NO_SPACE");
    assert.match(String(answer?.message), /declares 4503599627370496 bytes, but only \d+ are free/);
  } finally {
    conn.close();
  }
  const check = await connect(node.port);
  try {
    await check.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "STAT", block: "huge" });
    assert.equal((await check.readJsonFrame(FRAME_TYPE.ERROR))?.code, "NOT_FOUND");
  } finally {
    check.close();
  }
});

Deno.test("a request that gets no buffer in time is told BUSY; PING shows the pool full", async () => {
  await using dir = await tempDir("cdfs-pressure-");
  const pool = new BufferPool({
    arena: new WasmArena({ maxBytes: 1 << 20 }),
    bufferSize: 4096 + 64,
    maxBuffers: 2,
  });
  const server = DataNodeServer.listen({
    store: await BlockStore.open(dir.path),
    pool,
    nodeId: "dn1",
    port: 0,
    bufferWaitMs: 200,
    maxConnections: 10,
  });
  const port = server.addr.port;
  const stalled: FrameConnection[] = [];
  try {
    // Two STOREs that send a DATA frame's header and then nothing: each holds a buffer.
    for (let i = 0; i < 2; i++) {
      const conn = await connect(port);
      stalled.push(conn);
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, {
        op: "STORE",
        block: `s${i}`,
        chunkSize: 4096,
      });
      const header = new Uint8Array(FRAME_HEADER_SIZE);
      encodeFrameHeader(header, { type: FRAME_TYPE.DATA, length: 4096, checksum: 0n });
      await writeRaw(conn.conn, header);
    }
    await waitFor("both buffers taken", () => pool.inUse === 2, 30_000);
    const probe = await connect(port);
    try {
      const ping = await call(probe, "PING");
      assert.deepEqual(ping.pool, { inUse: 2, size: 2, waiting: 0 });
      assert.deepEqual(ping.connections, { open: 3, max: 10 });
      await probe.writeJsonFrame(FRAME_TYPE.REQUEST, {
        op: "STORE",
        block: "third",
        chunkSize: 4096,
      });
      await probe.writeDataFrame(patternBytes(4096, 3));
      const answer = await probe.readJsonFrame(FRAME_TYPE.ERROR);
      assert.equal(answer?.code, "BUSY");
      assert.match(String(answer?.message), /no buffer came free within 200 ms/);
    } finally {
      probe.close();
    }
  } finally {
    for (const conn of stalled) conn.close();
    await server.shutdown(0);
  }
  assert.equal(pool.inUse, 0);
});

Deno.test("a client told BUSY at the connection cap retries with backoff and gets in", async () => {
  await using dir = await tempDir("cdfs-pressure-");
  const server = await cappedNode(dir.path, 1);
  const port = server.addr.port;
  try {
    const occupant = await connect(port);
    const refusedBefore = server.refused;
    const connecting = DataNodeClient.connect(`127.0.0.1:${port}`);
    // Refused at least once, then the occupant leaves: a later attempt gets in.
    await waitFor("a refusal", () => server.refused > refusedBefore, 30_000);
    occupant.close();
    const client = await connecting;
    try {
      assert.equal((await client.ping()).node, "dn1");
    } finally {
      client.close();
    }
  } finally {
    await server.shutdown(0);
  }
});

Deno.test("silent connections give up their slots at the cap: a client gets in, the longest-silent is told BUSY", async () => {
  await using dir = await tempDir("cdfs-pressure-");
  const server = await cappedNode(dir.path, 3);
  const port = server.addr.port;
  const silent: Deno.Conn[] = [];
  try {
    // Three connections that never say a word fill the cap, one after the other.
    for (let i = 0; i < 3; i++) {
      silent.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      await waitFor(`silent connection ${i} served`, () => server.connections === i + 1, 10_000);
    }
    const refusedBefore = server.refused;
    const client = await within(
      10_000,
      "a client at the cap",
      DataNodeClient.connect(`127.0.0.1:${port}`),
    );
    try {
      assert.equal((await client.ping()).node, "dn1");
      // The oldest silent connection gave up its slot (told BUSY), the others kept theirs.
      const { bytes, closed } = await readUntilClosed(silent[0]!, 10_000);
      assert.equal(closed, true);
      assert.equal(lastErrorCode(parseServerBytes(bytes)), "BUSY");
      assert.equal(server.refused, refusedBefore + 1);
      await waitFor("the evicted connection's end", () => server.connections === 3, 10_000);
      // A client that has spoken keeps its slot: the next newcomer takes the next silent one.
      const second = await DataNodeClient.connect(`127.0.0.1:${port}`);
      try {
        assert.equal((await second.ping()).node, "dn1");
        assert.equal(
          lastErrorCode(parseServerBytes((await readUntilClosed(silent[1]!, 10_000)).bytes)),
          "BUSY",
        );
        assert.equal((await client.ping()).node, "dn1");
      } finally {
        second.close();
      }
    } finally {
      client.close();
    }
  } finally {
    for (const socket of silent) {
      try {
        socket.close();
      } catch {
        // Closed by the node.
      }
    }
    await server.shutdown(0);
  }
});

Deno.test("a CODING run that gets no step buffer in time fails with BUSY naming the node, not at its stall timeout", async () => {
  const module = replicationModule(2, "replication2");
  await using cluster = await startCluster(2, { modules: [module], bufferWaitMs: 300 });
  const [node0, node1] = cluster.nodes as [string, string];
  {
    using client = await DataNodeClient.connect(node0);
    await client.store("obj.part0", [patternBytes(3 * 4096, 5)], { chunkSize: 4096 });
  }
  // Every buffer of node 1 is lent out (to requests that never finish).
  const pool = cluster.pools[1]!;
  const held = Array.from({ length: pool.capacity }, () => pool.tryAcquire()!);
  try {
    using client = await DataNodeClient.connect(node1);
    const request: CodingRequest = {
      op: "CODING",
      module: module.name,
      program: "copy1",
      object: "obj",
      run: "00112233445566778899aabbccddeeff",
      nodes: [node0, node1],
      chunkSize: 4096,
      timeoutMs: 60_000,
    };
    await within(
      30_000,
      "the run's BUSY",
      assert.rejects(
        runCoding(client, request),
        cdfsError("BUSY", /^node 1 \(127\.0\.0\.1:\d+\): .*no buffer came free within 300 ms/),
      ),
    );
  } finally {
    for (const buffer of held) buffer.release();
  }
  // With its buffers back, the node runs it.
  using client = await DataNodeClient.connect(node1);
  await runCoding(client, {
    op: "CODING",
    module: module.name,
    program: "copy1",
    object: "obj",
    run: "ffeeddccbbaa99887766554433221100",
    nodes: [node0, node1],
    chunkSize: 4096,
  });
  assert.equal((await client.stat("obj.coded1")).length, 3 * 4096);
});
