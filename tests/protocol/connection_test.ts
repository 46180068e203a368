import assert from "node:assert/strict";
import { createChecksummer, sharedChecksummer } from "../../src/checksum/checksum.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import { WasmArena } from "../../src/buffer/arena.ts";
import { CdfsError, type ErrorCode } from "../../src/core/errors.ts";
import { PeerError } from "../../src/protocol/peer_error.ts";
import { encodePreamble, FRAME_TYPE, type FrameType } from "../../src/protocol/frame.ts";
import { framePair, headerBytes, writeRaw } from "./_loopback.ts";

const checksummer = await createChecksummer();
const encoder = new TextEncoder();

function cdfsError(code: ErrorCode, pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof CdfsError, `expected a CdfsError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

/** A whole frame with a correct (or deliberately given) checksum. */
function frameBytes(type: FrameType, payload: Uint8Array, checksum?: bigint): Uint8Array {
  const bytes = new Uint8Array(16 + payload.length);
  bytes.set(
    headerBytes({
      type,
      length: payload.length,
      checksum: checksum ?? checksummer.checksum(payload),
    }),
  );
  bytes.set(payload, 16);
  return bytes;
}

Deno.test("handshake succeeds both ways and JSON frames round trip", async () => {
  const pair = await framePair();
  try {
    const [, accepted] = await Promise.all([
      pair.client.clientHandshake(),
      pair.server.serverHandshake(),
    ]);
    assert.equal(accepted, true);
    const request = { op: "STAT", block: "b1", nested: { é: "ü", n: [1, 2.5, null] } };
    await pair.client.writeJsonFrame(FRAME_TYPE.REQUEST, request);
    assert.deepEqual(await pair.server.readJsonFrame(FRAME_TYPE.REQUEST), request);
    await pair.server.writeJsonFrame(FRAME_TYPE.RESPONSE, { ok: true });
    assert.deepEqual(await pair.client.readJsonFrame(FRAME_TYPE.RESPONSE), { ok: true });
    // A clean close between frames is not an error.
    pair.client.close();
    assert.equal(await pair.server.readJsonFrame(FRAME_TYPE.REQUEST), null);
  } finally {
    pair.close();
  }
});

Deno.test("connections share the process's checksummer: no hasher (WebAssembly instance) of their own", async () => {
  const first = await framePair();
  const second = await framePair();
  try {
    const shared = await sharedChecksummer();
    for (const conn of [first.client, first.server, second.client, second.server]) {
      assert.equal(conn.checksummer, shared);
    }
  } finally {
    first.close();
    second.close();
  }
});

Deno.test("server handshake: bad magic gets an ERROR frame and the connection closes", async () => {
  const pair = await framePair();
  try {
    await writeRaw(pair.client.conn, encoder.encode("GET / HTTP/1.1\r\n\r\n"));
    await assert.rejects(pair.server.serverHandshake(), cdfsError("BAD_REQUEST", /^bad magic$/));
    assert.equal(pair.server.closed, true);
    assert.deepEqual(await pair.client.readJsonFrame(FRAME_TYPE.ERROR), {
      code: "BAD_REQUEST",
      message: "bad magic",
    });
    assert.equal(await pair.client.readFrameHeader(), null);
  } finally {
    pair.close();
  }
});

Deno.test("server handshake: unsupported version; client sees the server's refusal", async () => {
  const pair = await framePair();
  try {
    const v2 = new Uint8Array(8);
    encodePreamble(v2, 2);
    await writeRaw(pair.client.conn, v2);
    const server = pair.server.serverHandshake();
    await assert.rejects(server, cdfsError("BAD_REQUEST", /unsupported version 2/));
    // The client side of a handshake turns such an ERROR frame into a PeerError.
    await assert.rejects(pair.client.clientHandshake(), (e: unknown) => {
      assert.ok(e instanceof PeerError);
      assert.equal(e.code, "BAD_REQUEST");
      assert.match(e.message, /unsupported version 2/);
      return true;
    });
  } finally {
    pair.close();
  }
});

Deno.test("client handshake: a server answering garbage is rejected", async () => {
  const pair = await framePair();
  try {
    await writeRaw(pair.server.conn, encoder.encode("SSH-2.0-OpenSSH\r\n"));
    await assert.rejects(
      pair.client.clientHandshake(),
      cdfsError("BAD_REQUEST", /server preamble: bad magic/),
    );
  } finally {
    pair.close();
  }
});

Deno.test("server handshake: a client leaving without a byte is a clean end", async () => {
  const pair = await framePair();
  try {
    pair.client.close();
    assert.equal(await pair.server.serverHandshake(), false);
  } finally {
    pair.close();
  }
});

Deno.test("JSON frames over their bound are rejected before the payload is read", async () => {
  const pair = await framePair();
  try {
    await writeRaw(
      pair.client.conn,
      headerBytes({ type: FRAME_TYPE.REQUEST, length: 65536, checksum: 0n }),
    );
    // 64 KiB is within the type's bound, but over the caller's.
    await assert.rejects(
      pair.server.readJsonFrame(FRAME_TYPE.REQUEST, 1024),
      cdfsError("BAD_REQUEST", /REQUEST payload of 65536 bytes exceeds the bound of 1024/),
    );
  } finally {
    pair.close();
  }
  const pair2 = await framePair();
  try {
    const header = headerBytes({ type: FRAME_TYPE.REQUEST, length: 0, checksum: 0n });
    new DataView(header.buffer).setUint32(4, 65537, false);
    await writeRaw(pair2.client.conn, header);
    await assert.rejects(
      pair2.server.readJsonFrame(FRAME_TYPE.REQUEST),
      cdfsError("BAD_REQUEST", /exceeds the bound of 65536/),
    );
  } finally {
    pair2.close();
  }
});

Deno.test("invalid headers on the wire: unknown type, flags", async () => {
  for (const [bytes, pattern] of [[[9], /unknown frame type 9/], [[1, 4], /flags 4/]] as const) {
    const pair = await framePair();
    try {
      const header = new Uint8Array(16);
      header.set(bytes);
      await writeRaw(pair.client.conn, header);
      await assert.rejects(pair.server.readFrameHeader(), cdfsError("BAD_REQUEST", pattern));
    } finally {
      pair.close();
    }
  }
});

Deno.test("truncated header and truncated payload", async () => {
  const pair = await framePair();
  try {
    await writeRaw(
      pair.client.conn,
      headerBytes({ type: 1, length: 3, checksum: 0n }).subarray(0, 10),
    );
    pair.client.close();
    await assert.rejects(
      pair.server.readFrameHeader(),
      cdfsError("BAD_REQUEST", /connection closed in the middle of a frame header \(10 of 16/),
    );
  } finally {
    pair.close();
  }
  const pair2 = await framePair();
  try {
    const frame = frameBytes(
      FRAME_TYPE.REQUEST,
      encoder.encode(JSON.stringify({ op: "x".repeat(90) })),
    );
    await writeRaw(pair2.client.conn, frame.subarray(0, 16 + 50));
    pair2.client.close();
    await assert.rejects(
      pair2.server.readJsonFrame(FRAME_TYPE.REQUEST),
      cdfsError("BAD_REQUEST", /connection closed in the middle of a REQUEST payload \(50 of/),
    );
  } finally {
    pair2.close();
  }
});

Deno.test("payloads that are not UTF-8, not JSON or not an object", async () => {
  const cases: [Uint8Array, RegExp][] = [
    [encoder.encode("{not json"), /not valid JSON/],
    [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /not valid UTF-8/],
    [encoder.encode("[1,2]"), /must be a JSON object/],
    [encoder.encode("null"), /must be a JSON object/],
    [encoder.encode(""), /not valid JSON/],
  ];
  const pair = await framePair();
  try {
    for (const [payload, pattern] of cases) {
      await writeRaw(pair.client.conn, frameBytes(FRAME_TYPE.REQUEST, payload));
      await assert.rejects(
        pair.server.readJsonFrame(FRAME_TYPE.REQUEST),
        cdfsError("BAD_REQUEST", pattern),
      );
    }
    // The frames were read whole, so the connection is still in step.
    await pair.client.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "PING" });
    assert.deepEqual(await pair.server.readJsonFrame(FRAME_TYPE.REQUEST), { op: "PING" });
  } finally {
    pair.close();
  }
});

Deno.test("a wrong checksum is CORRUPT", async () => {
  const pair = await framePair();
  try {
    const payload = encoder.encode(`{"op":"PING"}`);
    await writeRaw(
      pair.client.conn,
      frameBytes(FRAME_TYPE.REQUEST, payload, checksummer.checksum(payload) ^ 1n),
    );
    await assert.rejects(
      pair.server.readJsonFrame(FRAME_TYPE.REQUEST),
      cdfsError("CORRUPT", /frame checksum mismatch/),
    );
    const data = new Uint8Array(1000).fill(7);
    const frame = frameBytes(FRAME_TYPE.DATA, data);
    frame[16 + 500] = frame[16 + 500]! ^ 0x10; // one bit flipped in flight
    await writeRaw(pair.client.conn, frame);
    const header = await pair.server.readFrameHeader();
    assert.equal(header?.type, FRAME_TYPE.DATA);
    await assert.rejects(
      pair.server.readPayloadInto(new Uint8Array(1000)),
      cdfsError("CORRUPT", /frame checksum mismatch in a DATA frame/),
    );
  } finally {
    pair.close();
  }
});

Deno.test("an unexpected frame type, and an ERROR in place of a RESPONSE", async () => {
  const pair = await framePair();
  try {
    await pair.server.writeDataFrame(new Uint8Array(3));
    await assert.rejects(
      pair.client.readJsonFrame(FRAME_TYPE.RESPONSE),
      cdfsError("BAD_REQUEST", /expected a RESPONSE frame, got DATA/),
    );
  } finally {
    pair.close();
  }
  const pair2 = await framePair();
  try {
    await pair2.server.writeError("NOT_FOUND", `block "b1" does not exist\nreally`);
    await assert.rejects(pair2.client.readJsonFrame(FRAME_TYPE.RESPONSE), (e: unknown) => {
      assert.ok(e instanceof PeerError);
      assert.equal(e.code, "NOT_FOUND");
      assert.equal(e.message, `block "b1" does not exist really`);
      return true;
    });
    // Still in step after a header-level error.
    await pair2.server.writeJsonFrame(FRAME_TYPE.RESPONSE, { n: 1 });
    assert.deepEqual(await pair2.client.readJsonFrame(FRAME_TYPE.RESPONSE), { n: 1 });
  } finally {
    pair2.close();
  }
});

Deno.test("idle timeout fires when no frame starts, and closes the connection", async () => {
  const pair = await framePair({}, { idleTimeoutMs: 200 });
  try {
    await assert.rejects(
      pair.server.readFrameHeader(),
      cdfsError("TIMEOUT", /idle timeout.*200 ms/),
    );
    assert.equal(pair.server.closed, true);
    // The peer sees the close.
    assert.equal(await pair.client.readFrameHeader(), null);
  } finally {
    pair.close();
  }
});

Deno.test("cutShort ends a wait at once: the peer is told the error, even one sending meanwhile", async () => {
  const pair = await framePair({}, { sendTimeoutError: true });
  try {
    assert.equal(pair.server.cutShort(new CdfsError("BUSY", "no wait yet")), false);
    const waiting = pair.server.serverHandshake();
    assert.equal(pair.server.silent, true);
    assert.equal(pair.server.cutShort(new CdfsError("BUSY", "the node is full")), true);
    // The client's preamble arrives after the cut: it is drained, not left to reset the close.
    await assert.rejects(pair.client.clientHandshake(), (e: unknown) => {
      assert.ok(e instanceof PeerError, `expected the server's ERROR, got ${e}`);
      assert.equal(e.code, "BUSY");
      assert.match(e.message, /the node is full/);
      return true;
    });
    await assert.rejects(waiting, cdfsError("BUSY", /the node is full/));
    assert.equal(pair.server.closed, true);
    assert.equal(pair.server.cutShort(new CdfsError("BUSY", "again")), false);
  } finally {
    pair.close();
  }
});

Deno.test("a connection is silent until its peer's first byte", async () => {
  const pair = await framePair();
  try {
    assert.equal(pair.server.silent, true);
    const [, accepted] = await Promise.all([
      pair.client.clientHandshake(),
      pair.server.serverHandshake(),
    ]);
    assert.equal(accepted, true);
    assert.equal(pair.server.silent, false);
    assert.equal(pair.client.silent, false);
  } finally {
    pair.close();
  }
});

Deno.test("frame timeout fires when a started frame stalls", async () => {
  const pair = await framePair({}, { idleTimeoutMs: 10_000, frameTimeoutMs: 200 });
  try {
    const frame = frameBytes(FRAME_TYPE.REQUEST, encoder.encode(`{"op":"PING"}`));
    await writeRaw(pair.client.conn, frame.subarray(0, 20)); // header + 4 payload bytes
    await assert.rejects(
      pair.server.readJsonFrame(FRAME_TYPE.REQUEST),
      cdfsError("TIMEOUT", /frame timeout.*200 ms/),
    );
    assert.equal(pair.server.closed, true);
  } finally {
    pair.close();
  }
});

Deno.test("frame timeout fires when the peer stops reading", async () => {
  const pair = await framePair({}, { frameTimeoutMs: 200 });
  try {
    const chunk = new Uint8Array(16 << 20);
    await assert.rejects(async () => {
      // Socket buffers take a few MiB; a stuck reader stops us within a few frames.
      for (let i = 0; i < 64; i++) await pair.server.writeDataFrame(chunk, 0n);
    }, cdfsError("TIMEOUT", /frame timeout/));
    assert.equal(pair.server.closed, true);
  } finally {
    pair.close();
  }
});

Deno.test("a write waits while the peer, not reading, keeps sending; it times out once the peer is silent too", async () => {
  const pair = await framePair({}, { frameTimeoutMs: 300 });
  try {
    // The peer reads nothing but talks, as a pipeline node blocked by its own downstream does
    // (keepalives); this side reads them while its own write is stuck.
    const reading = (async () => {
      while (await pair.server.readJsonFrame(FRAME_TYPE.RESPONSE) !== null);
    })();
    reading.catch(() => {}); // the timeout below closes the connection
    let talking = true;
    const keepalives = (async () => {
      while (talking) {
        await pair.client.writeJsonFrame(FRAME_TYPE.RESPONSE, { progress: 0 });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    let settled = false;
    const chunk = new Uint8Array(16 << 20);
    const writing = (async () => {
      // Socket buffers take a few MiB: the writes are stuck within a few frames.
      for (let i = 0; i < 64; i++) await pair.server.writeDataFrame(chunk, 0n);
    })().finally(() => settled = true);
    writing.catch(() => {}); // asserted below
    // Five frame timeouts while the peer talks: still waiting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(settled, false, "the write timed out although the peer kept talking");
    assert.equal(pair.server.closed, false);
    talking = false;
    await keepalives;
    const silentAt = performance.now();
    await assert.rejects(
      writing,
      cdfsError("TIMEOUT", /frame timeout: nothing for 300 ms .*neither took it nor sent anything/),
    );
    assert.ok(performance.now() - silentAt < 3000);
    assert.equal(pair.server.closed, true);
  } finally {
    pair.close();
  }
});

Deno.test("limitTimeouts lowers both timeouts until restored, never raises them", async () => {
  const pair = await framePair({}, { idleTimeoutMs: 5000, frameTimeoutMs: 4000 });
  try {
    const keep = pair.server.limitTimeouts(undefined);
    assert.deepEqual([pair.server.idleTimeoutMs, pair.server.frameTimeoutMs], [5000, 4000]);
    keep();
    const higher = pair.server.limitTimeouts(4500);
    assert.deepEqual([pair.server.idleTimeoutMs, pair.server.frameTimeoutMs], [4500, 4000]);
    higher();
    const restore = pair.server.limitTimeouts(200);
    assert.deepEqual([pair.server.idleTimeoutMs, pair.server.frameTimeoutMs], [200, 200]);
    await assert.rejects(
      pair.server.readFrameHeader(),
      cdfsError("TIMEOUT", /idle timeout: nothing for 200 ms/),
    );
    restore();
    assert.deepEqual([pair.server.idleTimeoutMs, pair.server.frameTimeoutMs], [5000, 4000]);
  } finally {
    pair.close();
  }
});

Deno.test("payloads are read straight into WebAssembly memory and verified", async () => {
  const pool = new BufferPool({
    arena: new WasmArena({ maxBytes: 4 << 20 }),
    maxBuffers: 2,
    bufferSize: 1 << 20,
  });
  const pair = await framePair();
  const buffer = await pool.acquire();
  try {
    const payload = new Uint8Array(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
    const sent = pair.client.writeDataFrame(payload);
    const header = await pair.server.readFrameHeader();
    assert.deepEqual(header, {
      type: FRAME_TYPE.DATA,
      length: payload.length,
      checksum: await sent,
    });
    const view = buffer.bytes.subarray(64, 64 + payload.length);
    await pair.server.readPayloadInto(view);
    assert.deepEqual(new Uint8Array(view), payload);
  } finally {
    buffer.release();
    pair.close();
  }
});

Deno.test("headroom writes put the same bytes on the wire as plain writes", async () => {
  const pair = await framePair();
  try {
    const size = 100_000; // over the size that is coalesced by copying
    const withRoom = new Uint8Array(16 + size);
    const payload = withRoom.subarray(16);
    payload.fill(0x5a);
    await pair.client.writeDataFrame(payload, undefined, { headroom: true });
    await pair.client.writeDataFrame(payload.slice());
    for (let i = 0; i < 2; i++) {
      const header = await pair.server.readFrameHeader();
      assert.equal(header?.length, size);
      assert.equal(header?.checksum, checksummer.checksum(payload));
      const into = new Uint8Array(size);
      await pair.server.readPayloadInto(into);
      assert.deepEqual(into, payload);
    }
    await assert.rejects(
      pair.client.writeDataFrame(new Uint8Array(10), undefined, { headroom: true }),
      RangeError,
    );
  } finally {
    pair.close();
  }
});

Deno.test("error messages are one line and fit the ERROR bound", async () => {
  const pair = await framePair();
  try {
    await pair.server.writeError("INTERNAL", "x\n".repeat(3000));
    const body = await pair.client.readJsonFrame(FRAME_TYPE.ERROR);
    assert.equal(body?.code, "INTERNAL");
    assert.ok(typeof body?.message === "string" && !body.message.includes("\n"));
    assert.ok((body.message as string).length <= 1000);
  } finally {
    pair.close();
  }
});
