import assert from "node:assert/strict";
import { WasmArena } from "../../src/buffer/arena.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import { blockDigest, createChecksummer } from "../../src/checksum/checksum.ts";
import { CdfsError, type ErrorCode } from "../../src/core/errors.ts";
import type { FrameConnection } from "../../src/protocol/connection.ts";
import { PeerError } from "../../src/protocol/peer_error.ts";
import {
  type ChunkBufferPool,
  type IncomingChunk,
  type OutgoingChunk,
  readChunks,
  receiveChunks,
  type ReceiveChunksOptions,
  sendChunks,
} from "../../src/protocol/stream.ts";
import { framePair } from "./_loopback.ts";

const checksummer = await createChecksummer();
const CHUNK = 4096;

function cdfsError(code: ErrorCode, pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof CdfsError, `expected a CdfsError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

function testPool(bufferSize = CHUNK + 64, maxBuffers = 4): BufferPool {
  return new BufferPool({ arena: new WasmArena({ maxBytes: 1 << 20 }), bufferSize, maxBuffers });
}

function pattern(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** A byte source that hands out at most 1000 bytes per read, to exercise re-chunking. */
function trickle(bytes: Uint8Array): { read(view: Uint8Array): Promise<number | null> } {
  let at = 0;
  return {
    read(view) {
      if (at === bytes.length) return Promise.resolve(null);
      const n = Math.min(view.length, 1000, bytes.length - at);
      view.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  };
}

interface Received {
  bytes: Uint8Array;
  chunks: IncomingChunk[];
}

/** Receives a stream, copying the bytes out and recording each chunk's metadata. */
async function collect(
  conn: FrameConnection,
  pool: ChunkBufferPool,
  options: ReceiveChunksOptions,
): Promise<Received & { digest: bigint; length: number; count: number }> {
  const parts: Uint8Array[] = [];
  const chunks: IncomingChunk[] = [];
  const summary = await receiveChunks(conn, pool, options, (chunk) => {
    parts.push(chunk.bytes.slice());
    chunks.push({ ...chunk, bytes: new Uint8Array(0) });
  });
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, chunks, digest: summary.digest, length: summary.length, count: summary.chunks };
}

Deno.test("streams of 0, 1, chunkSize-1, chunkSize, chunkSize+1 and more bytes round trip", async () => {
  const sendPool = testPool();
  const receivePool = testPool();
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 123]) {
    for (const headroom of [false, true]) {
      for (const declare of [false, true]) {
        const source = pattern(size, size + 1);
        const pair = await framePair();
        try {
          const rules = declare ? { chunkSize: CHUNK, length: size } : { chunkSize: CHUNK };
          const [sent, received] = await Promise.all([
            sendChunks(
              pair.client,
              readChunks(trickle(source), sendPool, CHUNK, { headroom }),
              rules,
            ),
            collect(pair.server, receivePool, rules),
          ]);
          const label = `size ${size}, headroom ${headroom}, declared ${declare}`;
          assert.deepEqual(received.bytes, source, label);
          assert.equal(received.length, size);
          assert.equal(received.count, Math.ceil(size / CHUNK), label);
          // Canonical chunks, each with the checksum of its bytes.
          received.chunks.forEach((chunk, i) => {
            assert.equal(chunk.index, i);
            assert.equal(chunk.offset, i * CHUNK);
            const expected = source.subarray(i * CHUNK, Math.min(size, (i + 1) * CHUNK));
            assert.equal(chunk.checksum, checksummer.checksum(expected), label);
          });
          const digest = blockDigest(checksummer, received.chunks.map((c) => c.checksum));
          assert.equal(received.digest, digest, label);
          assert.deepEqual(sent, { length: size, chunks: received.count, digest });
        } finally {
          pair.close();
        }
      }
    }
  }
  assert.equal(sendPool.inUse, 0);
  assert.equal(receivePool.inUse, 0);
});

Deno.test("readChunks and receiveChunks have their pool's arena hashed in place", async () => {
  // A pool lending from an arena, whose `arena` counts the checksummers' lookups in it.
  const countedPool = () => {
    const arena = new WasmArena({ maxBytes: 1 << 20 });
    const owner = {
      memory: arena.memory,
      lookups: 0,
      offsetOf(view: Uint8Array): number {
        owner.lookups++;
        return arena.offsetOf(view);
      },
    };
    const pool: ChunkBufferPool = {
      arena: owner,
      acquire: () => Promise.resolve({ bytes: arena.alloc(CHUNK + 64), release() {} }),
    };
    return { owner, pool };
  };
  const sender = countedPool();
  const receiver = countedPool();
  const source = pattern(3 * CHUNK + 5, 77);
  const pair = await framePair();
  try {
    const rules = { chunkSize: CHUNK };
    const [sent, received] = await Promise.all([
      sendChunks(pair.client, readChunks(trickle(source), sender.pool, CHUNK), rules),
      collect(pair.server, receiver.pool, rules),
    ]);
    assert.deepEqual(received.bytes, source);
    assert.equal(sent.digest, received.digest);
    received.chunks.forEach((chunk, i) => {
      const expected = source.subarray(i * CHUNK, Math.min(source.length, (i + 1) * CHUNK));
      assert.equal(chunk.checksum, checksummer.checksum(expected));
    });
  } finally {
    pair.close();
  }
  assert.ok(sender.owner.lookups > 0, "the sender's chunks were not looked up in its arena");
  assert.ok(receiver.owner.lookups > 0, "the receiver's frames were not looked up in its arena");
});

Deno.test("the empty stream's digest is the xxh64 of no bytes", async () => {
  const pool = testPool();
  const pair = await framePair();
  try {
    const [, received] = await Promise.all([
      sendChunks(pair.client, [], { chunkSize: CHUNK }),
      collect(pair.server, pool, { chunkSize: CHUNK, length: 0 }),
    ]);
    assert.equal(received.digest, 0xef46db3751d8e999n); // published xxh64("")
    assert.equal(received.count, 0);
  } finally {
    pair.close();
  }
});

/** Writes frames by hand, bypassing sendChunks' own checks, then END for what was sent. */
async function sendRaw(
  conn: FrameConnection,
  sizes: number[],
  end?: { length?: number; digest?: bigint },
): Promise<void> {
  const checksums: bigint[] = [];
  let total = 0;
  for (const size of sizes) {
    checksums.push(await conn.writeDataFrame(pattern(size, checksums.length)));
    total += size;
  }
  await conn.writeEnd({
    length: end?.length ?? total,
    digest: end?.digest ?? blockDigest(checksummer, checksums),
  });
}

Deno.test("a stream shorter or longer than declared is rejected", async () => {
  const pool = testPool();
  const cases: [number[], number, RegExp][] = [
    [[CHUNK, CHUNK], 3 * CHUNK, /8192 bytes, shorter than the declared 12288/],
    [[CHUNK, CHUNK], CHUNK + 5, /longer than the declared 4101/],
    [[], 1, /0 bytes, shorter than the declared 1/],
    [[1], 0, /longer than the declared 0/],
  ];
  for (const [sizes, declared, message] of cases) {
    const pair = await framePair();
    try {
      const sending = sendRaw(pair.client, sizes).catch(() => {});
      await assert.rejects(
        collect(pair.server, pool, { chunkSize: CHUNK, length: declared }),
        cdfsError("BAD_REQUEST", message),
      );
      pair.close();
      await sending;
    } finally {
      pair.close();
    }
  }
  assert.equal(pool.inUse, 0);
});

Deno.test("sendChunks refuses to send more or fewer bytes than declared", async () => {
  const pair = await framePair();
  try {
    const chunk = (n: number): OutgoingChunk => ({ bytes: new Uint8Array(n) });
    await assert.rejects(
      sendChunks(pair.client, [chunk(CHUNK), chunk(10)], { chunkSize: CHUNK, length: CHUNK }),
      cdfsError("BAD_REQUEST", /longer than the declared 4096/),
    );
    await assert.rejects(
      sendChunks(pair.client, [chunk(10)], { chunkSize: CHUNK, length: 11 }),
      cdfsError("BAD_REQUEST", /shorter than the declared 11/),
    );
    await assert.rejects(
      sendChunks(pair.client, [chunk(10), chunk(10)], { chunkSize: CHUNK }),
      cdfsError("INTERNAL", /follows a short chunk/),
    );
    await assert.rejects(
      sendChunks(pair.client, [chunk(CHUNK + 1)], { chunkSize: CHUNK }),
      cdfsError("INTERNAL", /4097 bytes/),
    );
    await assert.rejects(
      sendChunks(pair.client, [chunk(0)], { chunkSize: CHUNK }),
      cdfsError("INTERNAL", /0 bytes/),
    );
  } finally {
    pair.close();
  }
});

Deno.test("frame size rules: empty, oversized, short before last; ranges relax them", async () => {
  const pool = testPool();
  const cases: [number[], RegExp][] = [
    [[CHUNK, 0], /DATA frame 1 has 0 bytes/],
    [[CHUNK + 1], /DATA frame 0 has 4097 bytes, expected 1\.\.4096/],
    [[CHUNK, 100, CHUNK], /DATA frame 2 follows a short frame/],
  ];
  for (const [sizes, message] of cases) {
    const pair = await framePair();
    try {
      const sending = sendRaw(pair.client, sizes).catch(() => {});
      await assert.rejects(
        collect(pair.server, pool, { chunkSize: CHUNK }),
        cdfsError("BAD_REQUEST", message),
      );
      pair.close();
      await sending;
    } finally {
      pair.close();
    }
  }
  // A range read may start and end mid-chunk.
  const pair = await framePair();
  try {
    const [, received] = await Promise.all([
      sendRaw(pair.client, [100, CHUNK, 7]),
      collect(pair.server, pool, { chunkSize: CHUNK, canonical: false, length: CHUNK + 107 }),
    ]);
    assert.equal(received.length, CHUNK + 107);
  } finally {
    pair.close();
  }
  assert.equal(pool.inUse, 0);
});

Deno.test("END must match what was received: length and digest, else CORRUPT", async () => {
  const pool = testPool();
  const cases: [{ length?: number; digest?: bigint }, RegExp][] = [
    [{ length: 2 * CHUNK + 1 }, /END says 8193 bytes but 8192 were received/],
    [{ digest: 12345n }, /END digest 0000000000003039 does not match/],
  ];
  for (const [end, message] of cases) {
    const pair = await framePair();
    try {
      const sending = sendRaw(pair.client, [CHUNK, CHUNK], end);
      await assert.rejects(
        collect(pair.server, pool, { chunkSize: CHUNK }),
        cdfsError("CORRUPT", message),
      );
      await sending;
    } finally {
      pair.close();
    }
  }
});

Deno.test("a corrupted DATA frame and an ERROR frame mid-stream are reported", async () => {
  const pool = testPool();
  const pair = await framePair();
  try {
    const payload = pattern(CHUNK);
    await pair.client.writeDataFrame(payload);
    await pair.client.writeDataFrame(payload, checksummer.checksum(payload) ^ 0x100n);
    await assert.rejects(
      collect(pair.server, pool, { chunkSize: CHUNK }),
      cdfsError("CORRUPT", /frame checksum mismatch in a DATA frame/),
    );
  } finally {
    pair.close();
  }
  const pair2 = await framePair();
  try {
    // A server that finds a bad chunk on disk sends ERROR CORRUPT instead of the bad bytes.
    await pair2.server.writeDataFrame(pattern(CHUNK));
    await pair2.server.writeError("CORRUPT", `block "b" chunk 1 fails its checksum`);
    await assert.rejects(collect(pair2.client, pool, { chunkSize: CHUNK }), (e: unknown) => {
      assert.ok(e instanceof PeerError);
      assert.equal(e.code, "CORRUPT");
      assert.match(e.message, /chunk 1/);
      return true;
    });
  } finally {
    pair2.close();
  }
  assert.equal(pool.inUse, 0);
});

Deno.test("a stream cut off by the peer is BAD_REQUEST, and other frame types are refused", async () => {
  const pool = testPool();
  const pair = await framePair();
  try {
    await pair.client.writeDataFrame(pattern(CHUNK));
    pair.client.close();
    await assert.rejects(
      collect(pair.server, pool, { chunkSize: CHUNK }),
      cdfsError(
        "BAD_REQUEST",
        /connection closed in the middle of a data stream \(after 4096 bytes\)/,
      ),
    );
  } finally {
    pair.close();
  }
  const pair2 = await framePair();
  try {
    await pair2.client.writeJsonFrame(1, { op: "PING" });
    await assert.rejects(
      collect(pair2.server, pool, { chunkSize: CHUNK }),
      cdfsError("BAD_REQUEST", /expected a DATA or END frame, got REQUEST/),
    );
  } finally {
    pair2.close();
  }
});

Deno.test("chunk sizes beyond the pool's buffers are refused", async () => {
  const pool = testPool(CHUNK, 2);
  const pair = await framePair();
  try {
    await assert.rejects(
      receiveChunks(pair.server, pool, { chunkSize: 2 * CHUNK }, () => {}),
      cdfsError("BAD_REQUEST", /chunk size 8192 exceeds this node's buffer size 4096/),
    );
    assert.equal(pool.inUse, 0);
  } finally {
    pair.close();
  }
});

for (const overlap of [false, true]) {
  Deno.test(`backpressure (overlap ${overlap}): a buffer is not reused while its consumer works`, async () => {
    const pool = testPool();
    const source = pattern(40 * CHUNK + 5, 9);
    const pair = await framePair();
    try {
      let next = 0;
      let busy = false;
      const [, summary] = await Promise.all([
        sendChunks(pair.client, readChunks(trickle(source), testPool(), CHUNK), {
          chunkSize: CHUNK,
        }),
        receiveChunks(pair.server, pool, { chunkSize: CHUNK, overlap }, async (chunk) => {
          assert.equal(busy, false, "the consumer is called one chunk at a time");
          busy = true;
          assert.equal(chunk.index, next++);
          const before = chunk.bytes.slice();
          await new Promise((resolve) => setTimeout(resolve, chunk.index % 3)); // let reads run
          assert.deepEqual(new Uint8Array(chunk.bytes), before, "bytes changed under the consumer");
          assert.deepEqual(
            before,
            source.subarray(chunk.offset, chunk.offset + chunk.bytes.length),
          );
          busy = false;
        }),
      ]);
      assert.equal(summary.length, source.length);
      assert.equal(next, 41);
      assert.equal(pool.inUse, 0);
    } finally {
      pair.close();
    }
  });

  Deno.test(`a failing consumer (overlap ${overlap}) stops the stream and frees the buffers`, async () => {
    const pool = testPool();
    const pair = await framePair();
    try {
      const sending = sendChunks(
        pair.client,
        readChunks(trickle(pattern(20 * CHUNK)), testPool(), CHUNK),
        { chunkSize: CHUNK },
      ).catch(() => {});
      await assert.rejects(
        receiveChunks(pair.server, pool, { chunkSize: CHUNK, overlap }, (chunk) => {
          if (chunk.index === 3) throw new CdfsError("UNAVAILABLE", "disk full");
        }),
        cdfsError("UNAVAILABLE", /disk full/),
      );
      assert.equal(pool.inUse, 0);
      pair.close();
      await sending;
    } finally {
      pair.close();
    }
  });
}

Deno.test("watchPeer: an uploader stops early when the receiver answers ERROR", async () => {
  const pool = testPool(65536 + 64);
  const pair = await framePair();
  const chunkSize = 65536;
  const total = 16384; // 1 GiB if nobody stopped it
  let yielded = 0;
  async function* endless(): AsyncGenerator<OutgoingChunk> {
    const bytes = new Uint8Array(chunkSize);
    while (yielded < total) {
      yielded++;
      yield { bytes, checksum: 0x1234n };
    }
  }
  try {
    const server = (async () => {
      try {
        await receiveChunks(pair.server, pool, { chunkSize, canonical: true }, () => {});
      } catch (e) {
        assert.ok(e instanceof CdfsError);
        await pair.server.writeError(e.code, e.message);
        await pair.server.closeGracefully(100);
      }
    })();
    await assert.rejects(
      sendChunks(pair.client, endless(), { chunkSize, watchPeer: true }),
      (e: unknown) => {
        assert.ok(e instanceof PeerError, `expected the peer's error, got ${e}`);
        assert.equal(e.code, "CORRUPT");
        assert.match(e.message, /frame checksum mismatch/);
        return true;
      },
    );
    assert.ok(yielded < total / 4, `the sender went on for ${yielded} chunks`);
    await server;
  } finally {
    pair.close();
  }
});
