/**
 * Malformed and hostile input against a real datanode process: each case is answered with the
 * right error code (or a close, where the protocol says the receiver just closes), the
 * connection is kept or closed as docs/protocol.md §4 says, nothing is left on disk, and the
 * node goes on serving.
 */
import assert from "node:assert/strict";
import { createChecksummer } from "../../src/checksum/checksum.ts";
import {
  encodeEndPayload,
  encodeFrameHeader,
  encodePreamble,
  FRAME_TYPE,
  type FrameType,
} from "../../src/protocol/frame.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { tempDir } from "../helpers/temp_dir.ts";
import { waitFor } from "../helpers/wait.ts";
import {
  call,
  chunksOf,
  connect,
  lastErrorCode,
  parseServerBytes,
  patternBytes,
  pingFresh,
  readUntilClosed,
  rejectsWith,
  retrieveBlock,
  type ServerFrame,
  storeBlock,
  writeRaw,
} from "./_client.ts";
import { concatBytes } from "../helpers/bytes.ts";

const hasher = await createChecksummer();
const encoder = new TextEncoder();

function preamble(): Uint8Array {
  const bytes = new Uint8Array(8);
  encodePreamble(bytes);
  return bytes;
}

/** A frame with a correct header (unless `checksum` overrides it). */
function frame(type: FrameType, payload: Uint8Array, checksum?: bigint): Uint8Array {
  const bytes = new Uint8Array(16 + payload.length);
  encodeFrameHeader(bytes, { type, length: payload.length, checksum: checksum ?? 0n });
  if (checksum === undefined) {
    new DataView(bytes.buffer).setBigUint64(8, hasher.checksum(payload), false);
  }
  bytes.set(payload, 16);
  return bytes;
}

function requestFrame(value: unknown): Uint8Array {
  return frame(FRAME_TYPE.REQUEST, encoder.encode(JSON.stringify(value)));
}

/** A raw header, for values encodeFrameHeader refuses to write. */
function rawHeader(type: number, length: number, flags = 0): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, type);
  view.setUint8(1, flags);
  view.setUint32(4, length, false);
  return bytes;
}

function endFrame(length: number, digest: bigint): Uint8Array {
  const payload = new Uint8Array(16);
  encodeEndPayload(payload, { length, digest });
  return frame(FRAME_TYPE.END, payload);
}

/** The frames of one exchange, written as one byte stream. */
const concat = (...parts: Uint8Array[]) => concatBytes(parts);

/**
 * Sends `bytes` on a fresh raw connection (then half-closes it unless `keepWriting`), reads
 * until the node closes, and returns the frames it sent. Fails if the node keeps the
 * connection open longer than `timeoutMs`.
 */
async function exchange(
  port: number,
  bytes: Uint8Array,
  options: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<ServerFrame[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeRaw(conn, bytes);
    if (options.halfClose ?? true) await conn.closeWrite();
    const { bytes: received, closed } = await readUntilClosed(conn, options.timeoutMs ?? 20_000);
    assert.ok(closed, "the node did not close the connection");
    return parseServerBytes(received);
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by readUntilClosed's timeout.
    }
  }
}

function errorOf(frames: ServerFrame[]): { code: string; message: string } {
  const last = frames.at(-1);
  assert.equal(last?.type, "ERROR", `expected an ERROR frame last, got ${JSON.stringify(frames)}`);
  return last!.json as { code: string; message: string };
}

async function assertNothingStored(dataDir: string): Promise<void> {
  for (const sub of ["tmp", "blocks"]) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(`${dataDir}/${sub}`)) names.push(entry.name);
    assert.deepEqual(names, [], `${sub} is not empty`);
  }
}

Deno.test("malformed preambles and frames are answered and the connection closed", async () => {
  await using node = await DataNodeProcess.start({ args: ["--frame-timeout", "1500"] });
  const port = node.port;

  const badMagic = errorOf(await exchange(port, encoder.encode("HTTP/1.1")));
  assert.deepEqual(badMagic, { code: "BAD_REQUEST", message: "bad magic" });
  const v2 = preamble();
  v2[5] = 2;
  assert.match(errorOf(await exchange(port, v2)).message, /unsupported version 2/);

  // The node answers its own preamble before the error of a broken frame.
  const overBound = await exchange(port, concat(preamble(), rawHeader(1, 65_537)));
  assert.equal(overBound.length, 1);
  const overBoundError = errorOf(overBound);
  assert.equal(overBoundError.code, "BAD_REQUEST");
  assert.match(overBoundError.message, /65537 bytes exceeds the bound of 65536/);

  const truncated = errorOf(
    await exchange(port, concat(preamble(), rawHeader(1, 13).subarray(0, 10))),
  );
  assert.equal(truncated.code, "BAD_REQUEST");
  assert.match(truncated.message, /connection closed in the middle of a frame header/);

  // A header that stops arriving: the frame timeout closes the connection, after telling
  // the client TIMEOUT (docs/protocol.md §5).
  const stalled = await exchange(port, concat(preamble(), rawHeader(1, 13).subarray(0, 10)), {
    halfClose: false,
  });
  assert.equal(lastErrorCode(stalled), "TIMEOUT");
  assert.match(errorOf(stalled).message, /frame timeout: nothing for 1500 ms/);

  const cutPayload = errorOf(
    await exchange(port, concat(preamble(), requestFrame({ op: "PING" }).subarray(0, 20))),
  );
  assert.match(cutPayload.message, /connection closed in the middle of a REQUEST payload/);

  for (
    const [header, pattern] of [
      [rawHeader(9, 0), /unknown frame type 9/],
      [rawHeader(1, 2, 0x80), /flags 128/],
      [rawHeader(3, 4096), /expected a REQUEST frame, got DATA/],
      [rawHeader(3, 16 * 1024 * 1024 + 1), /exceeds the bound/],
      [rawHeader(4, 15), /END payload is 15 bytes/],
    ] as const
  ) {
    const error = errorOf(await exchange(port, concat(preamble(), header)));
    assert.equal(error.code, "BAD_REQUEST");
    assert.match(error.message, pattern);
  }

  const badChecksum = errorOf(
    await exchange(port, concat(preamble(), frame(FRAME_TYPE.REQUEST, encoder.encode("{}"), 1n))),
  );
  assert.equal(badChecksum.code, "CORRUPT");
  assert.match(badChecksum.message, /frame checksum mismatch/);

  // An ERROR frame from the client instead of a request is not answered with another.
  const clientError = frame(
    FRAME_TYPE.ERROR,
    encoder.encode(JSON.stringify({ code: "TIMEOUT", message: "giving up" })),
  );
  assert.deepEqual(await exchange(port, concat(preamble(), clientError)), []);

  assert.equal((await pingFresh(port)).blocks, 0);
  await assertNothingStored(node.dataDir);
});

Deno.test("bad requests are answered and the connection stays usable", async () => {
  await using node = await DataNodeProcess.start();
  const conn = await connect(node.port);
  try {
    await rejectsWith(call(conn, "PING", { op: "FORMAT" }), "BAD_REQUEST", /unknown op "FORMAT"/);
    const badIds = ["../x", "/etc/passwd", "", "a/b", "..", "x".repeat(10_000)];
    for (const id of badIds) {
      for (const op of ["STAT", "RETRIEVE", "DELETE"] as const) {
        await rejectsWith(call(conn, op as "STAT", { block: id }), "BAD_REQUEST", /block id/);
      }
    }
    await rejectsWith(call(conn, "STAT", { block: "b", extra: 1 }), "BAD_REQUEST", /unknown field/);
    await rejectsWith(call(conn, "LIST", { limit: 0 }), "BAD_REQUEST", /limit/);
    await rejectsWith(call(conn, "STAT", { block: "missing" }), "NOT_FOUND");
    await rejectsWith(retrieveBlock(conn, "missing"), "NOT_FOUND");

    // Payloads that are framed correctly but are not a JSON object.
    for (
      const [payload, pattern] of [
        [new Uint8Array([0xff, 0xfe]), /not valid UTF-8/],
        [encoder.encode("{op:"), /not valid JSON/],
        [encoder.encode("[1,2]"), /must be a JSON object/],
        [encoder.encode("{}"), /no "op"/],
        [encoder.encode('{"op":7}'), /"op" must be a string/],
      ] as const
    ) {
      await conn.writeFrame(FRAME_TYPE.REQUEST, payload);
      await rejectsWith(conn.readJsonFrame(FRAME_TYPE.RESPONSE), "BAD_REQUEST", pattern);
    }
    // Still the same connection.
    assert.equal((await call(conn, "PING")).blocks, 0);
  } finally {
    conn.close();
  }
  await assertNothingStored(node.dataDir);
});

Deno.test("bad STOREs are refused, closed, and leave nothing behind", async () => {
  // The data directory's parent is this test's own: a path-like id that escaped would land
  // there, where nothing else can have put a file of that name (as /tmp/x may be).
  await using parentDir = await tempDir("cdfs-bad-store-");
  await using node = await DataNodeProcess.start({
    dataDir: `${parentDir.path}/data`,
    args: ["--chunk-size", "64K"],
  });
  const port = node.port;
  const chunk = patternBytes(4096, 3);
  const data = frame(FRAME_TYPE.DATA, chunk);
  const store = (fields: Record<string, unknown>) =>
    requestFrame({ op: "STORE", block: "b", chunkSize: 4096, ...fields });

  // Path-like and oversized ids: refused before any file is made, and closed (data follows).
  for (const id of ["../x", "/etc/passwd", "", "x".repeat(10_000)]) {
    const frames = await exchange(port, concat(preamble(), store({ block: id }), data));
    const error = errorOf(frames);
    assert.equal(error.code, "BAD_REQUEST");
    assert.match(error.message, /block id/);
  }
  await assertNothingStored(node.dataDir);
  await assert.rejects(Deno.stat(`${parentDir.path}/x`), Deno.errors.NotFound);

  const cases: [string, Uint8Array, string, RegExp][] = [
    [
      "a DATA frame with a wrong checksum",
      concat(store({}), frame(FRAME_TYPE.DATA, chunk, 42n)),
      "CORRUPT",
      /frame checksum mismatch/,
    ],
    [
      "a stream shorter than declared",
      concat(
        store({ length: 10_000 }),
        data,
        data,
        endFrame(8192, digestOf([chunk, chunk])),
      ),
      "BAD_REQUEST",
      /8192 bytes, shorter than the declared 10000/,
    ],
    [
      "a stream longer than declared",
      concat(store({ length: 5000 }), data, data),
      "BAD_REQUEST",
      /longer than the declared 5000/,
    ],
    [
      "an END with the wrong length",
      concat(store({}), data, endFrame(4097, digestOf([chunk]))),
      "CORRUPT",
      /END says 4097 bytes/,
    ],
    [
      "an END with the wrong digest",
      concat(store({}), data, endFrame(4096, 5n)),
      "CORRUPT",
      /END digest/,
    ],
    [
      "a short frame before the last",
      concat(store({}), frame(FRAME_TYPE.DATA, chunk.subarray(0, 100)), data),
      "BAD_REQUEST",
      /follows a short frame/,
    ],
    [
      "a REQUEST in the middle of the stream",
      concat(store({}), data, requestFrame({ op: "PING" })),
      "BAD_REQUEST",
      /expected a DATA or END frame, got REQUEST/,
    ],
    [
      "a chunk size over the node's limit",
      concat(store({ chunkSize: 1024 * 1024 }), data),
      "BAD_REQUEST",
      /exceeds this node's limit of 65536/,
    ],
    [
      "a chunk size under the protocol's minimum",
      concat(store({ chunkSize: 100 }), data),
      "BAD_REQUEST",
      /chunkSize/,
    ],
    [
      "a stream cut off by the client",
      concat(store({}), data),
      "BAD_REQUEST",
      /connection closed in the middle of a data stream/,
    ],
  ];
  for (const [what, bytes, code, pattern] of cases) {
    const error = errorOf(await exchange(port, concat(preamble(), bytes)));
    assert.equal(error.code, code, `${what}: ${error.message}`);
    assert.match(error.message, pattern, what);
    await assertNothingStored(node.dataDir);
  }

  // The client gives up with an ERROR frame of its own: no answer, a close, nothing stored.
  const giveUp = frame(
    FRAME_TYPE.ERROR,
    encoder.encode(JSON.stringify({ code: "UNAVAILABLE", message: "source went away" })),
  );
  const frames = await exchange(port, concat(preamble(), store({}), data, giveUp));
  assert.deepEqual(frames.map((f) => f.type), []);
  await assertNothingStored(node.dataDir);

  // A client that vanishes mid-STORE (no half-close: a reset) leaves no temp file behind. The
  // node logs the STORE's failure once it has removed the temp file (an empty tmp directory
  // alone could mean the request was not read yet).
  const failedStores = () => node.logRecords().filter((r) => r.op === "STORE" && r.result !== "ok");
  const failedBefore = failedStores().length;
  const socket = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeRaw(socket, concat(preamble(), store({}), data));
  socket.close();
  await waitFor("the cut STORE's failure", () => failedStores().length > failedBefore, 20_000);
  await assertNothingStored(node.dataDir);

  // After all that, STORE works.
  const conn = await connect(port);
  try {
    const { response } = await storeBlock(conn, "fine", chunksOf(chunk, 4096), { chunkSize: 4096 });
    assert.equal(response.length, 4096);
  } finally {
    conn.close();
  }
});

function digestOf(chunks: Uint8Array[]): bigint {
  const encoded = new Uint8Array(8 * chunks.length);
  chunks.forEach((c, i) => new DataView(encoded.buffer).setBigUint64(8 * i, hasher.checksum(c)));
  return hasher.checksum(encoded);
}

Deno.test("a silent client is dropped after the idle timeout", async () => {
  await using node = await DataNodeProcess.start({ args: ["--idle-timeout", "300"] });
  // Nothing at all, then only the preamble: both are told TIMEOUT and closed by the node (the
  // side that times out closes), while the node keeps serving.
  for (const bytes of [new Uint8Array(0), preamble()]) {
    const socket = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
    try {
      await writeRaw(socket, bytes);
      const { bytes: received, closed } = await readUntilClosed(socket, 20_000);
      assert.ok(closed, "the idle connection was not dropped");
      assert.equal(lastErrorCode(parseServerBytes(received)), "TIMEOUT");
    } finally {
      try {
        socket.close();
      } catch {
        // Closed already.
      }
    }
  }
  assert.equal((await pingFresh(node.port)).blocks, 0);
  await node.stop();
  const timeouts = node.logRecords().filter((r) => r.result === "TIMEOUT");
  assert.equal(timeouts.length, 2);
  assert.match(String(timeouts[0]!.message), /idle timeout: nothing for 300 ms/);
});
