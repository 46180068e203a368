/**
 * Fuzzing of the frame reader on a real loopback connection: a `FrameServer` whose handler
 * validates each REQUEST with `parseRequest` and reads a STORE's DATA/END stream, fed byte
 * streams of preamble and frames that are valid, mutated (a header byte changed, a payload
 * not matching its checksum, JSON broken field by field) or random, cut at a random point;
 * `fuzzRuns(500)` connections (100,000 with `make fuzz`). Properties: every failure the
 * server records is a `CdfsError` of a wire code (no INTERNAL, no unexpected exception, no
 * `connectionFailed`), and every connection is over (the server closed it or answered and saw
 * the client's end) within the hang bound, without the server waiting for bytes that will
 * never come.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createChecksummer } from "../../src/checksum/checksum.ts";
import { CdfsError, type ErrorCode } from "../../src/core/errors.ts";
import {
  decodeEndPayload,
  encodeEndPayload,
  encodeFrameHeader,
  encodePreamble,
  END_PAYLOAD_SIZE,
  FRAME_HEADER_SIZE,
  FRAME_TYPE,
  type FrameType,
  MAX_CHUNK_SIZE,
  maxPayloadLength,
  PREAMBLE_SIZE,
} from "../../src/protocol/frame.ts";
import type { FrameConnection } from "../../src/protocol/connection.ts";
import { FrameServer } from "../../src/protocol/frame_server.ts";
import type { FrameOutcome, RequestState } from "../../src/protocol/frame_server_handler.ts";
import { listenTcp } from "../../src/protocol/listen.ts";
import { parseRequest } from "../../src/protocol/request_validation.ts";
import { writeRaw } from "../protocol/_loopback.ts";
import { assertAsyncProperty, HANG_MS, hostileString, parserInputs } from "./generators.ts";
import { validRequest } from "./protocol_messages.ts";

const checksummer = await createChecksummer();
const encoder = new TextEncoder();

/** The codes a frame reader may fail with (ERROR frames from the client carry their own). */
const WIRE_CODES: readonly ErrorCode[] = ["BAD_REQUEST", "CORRUPT", "UNAVAILABLE", "TIMEOUT"];

function frame(type: FrameType, payload: Uint8Array, checksum?: bigint): Uint8Array {
  const bytes = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
  encodeFrameHeader(bytes, {
    type,
    length: payload.length,
    checksum: checksum ?? checksummer.checksum(payload),
  });
  bytes.set(payload, FRAME_HEADER_SIZE);
  return bytes;
}

function jsonFrame(type: FrameType, value: unknown): Uint8Array {
  let text: string;
  try {
    text = JSON.stringify(value) ?? "null";
  } catch {
    // Too deep for JSON.stringify: send deep JSON all the same (JSON.parse takes it).
    text = `{"op":"STORE","block":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
  }
  return frame(type, encoder.encode(text).subarray(0, maxPayloadLength(type)));
}

const endFrame = fc.tuple(fc.nat({ max: 1 << 20 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
  .map(([length, digest]) => {
    const payload = new Uint8Array(END_PAYLOAD_SIZE);
    encodeEndPayload(payload, { length, digest });
    return frame(FRAME_TYPE.END, payload);
  });

/** One frame: mostly well formed, some with a wrong checksum or a changed header byte. */
const oneFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  { arbitrary: parserInputs(validRequest).map((r) => jsonFrame(FRAME_TYPE.REQUEST, r)), weight: 4 },
  {
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 5000 }).map((p) =>
      frame(FRAME_TYPE.DATA, p)
    ),
    weight: 2,
  },
  { arbitrary: endFrame, weight: 1 },
  {
    arbitrary: fc.record({
      code: fc.constantFrom("BAD_REQUEST", "NOPE", ""),
      message: hostileString,
    })
      .map((e) => jsonFrame(FRAME_TYPE.ERROR, e)),
    weight: 1,
  },
  {
    arbitrary: fc.tuple(
      fc.uint8Array({ maxLength: 64 }),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    )
      .map(([p, checksum]) => frame(FRAME_TYPE.DATA, p, checksum)),
    weight: 1,
  },
  {
    arbitrary: fc.tuple(parserInputs(validRequest), fc.nat({ max: 15 }), fc.nat({ max: 255 }))
      .map(([r, at, value]) => {
        const bytes = jsonFrame(FRAME_TYPE.REQUEST, r);
        bytes[at] = value;
        return bytes;
      }),
    weight: 2,
  },
  { arbitrary: fc.uint8Array({ maxLength: 40 }), weight: 1 },
);

/** A client's byte stream: a preamble (rarely broken), frames, cut at a random point. */
const clientBytes = fc.record({
  preamble: fc.oneof(
    { arbitrary: fc.constant(null), weight: 9 },
    { arbitrary: fc.uint8Array({ minLength: PREAMBLE_SIZE, maxLength: PREAMBLE_SIZE }), weight: 1 },
  ),
  frames: fc.array(oneFrame, { minLength: 1, maxLength: 4 }),
  cut: fc.option(fc.nat(), { freq: 3 }),
}).map(({ preamble, frames, cut }) => {
  const head = preamble ?? new Uint8Array(PREAMBLE_SIZE);
  if (preamble === null) encodePreamble(head);
  const parts = [head, ...frames];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return cut === null ? bytes : bytes.subarray(0, cut % (total + 1));
});

interface Harness extends RequestState {
  conn: FrameConnection;
}

/** Reads a STORE's stream the way a datanode does: DATA frames within the chunk size, END. */
async function readStream(request: Harness, chunkSize: number, scratch: Uint8Array): Promise<void> {
  request.streaming = true;
  for (;;) {
    const header = await request.conn.readFrameHeader();
    if (header === null) throw new CdfsError("BAD_REQUEST", "the stream ended without END");
    if (header.type === FRAME_TYPE.END) {
      const end = new Uint8Array(END_PAYLOAD_SIZE);
      await request.conn.readPayloadInto(end);
      decodeEndPayload(end);
      break;
    }
    if (header.type === FRAME_TYPE.ERROR) throw await request.conn.readErrorPayload(header);
    if (header.type !== FRAME_TYPE.DATA || header.length > chunkSize) {
      throw new CdfsError("BAD_REQUEST", "expected a DATA frame within the chunk size");
    }
    await request.conn.readPayloadInto(scratch.subarray(0, header.length));
  }
  request.streaming = false;
  await request.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { stored: true });
}

Deno.test("fuzz: the frame reader on a real connection ends every stream cleanly", async () => {
  const scratch = new Uint8Array(MAX_CHUNK_SIZE);
  const problems: string[] = [];
  const outcomes: FrameOutcome<Harness>[] = [];
  const server = new FrameServer<Harness>({
    listener: listenTcp({ port: 0 }, 0),
    shutdownGraceMs: 0,
  }, {
    request: (_connection, conn) => ({ conn, streaming: false, frameOpen: false }),
    serve: async (request, raw) => {
      const parsed = parseRequest(raw);
      if (parsed.op === "STORE") await readStream(request, parsed.chunkSize, scratch);
      else await request.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { op: parsed.op });
    },
    outcome: (outcome) => outcomes.push(outcome),
    acceptFailed: (error) => problems.push(`accept failed: ${error}`),
    connectionFailed: (_connection, error) => problems.push(`connection failed: ${error}`),
  });
  try {
    await assertAsyncProperty(
      "frame reader on a connection",
      fc.asyncProperty(clientBytes, async (bytes) => {
        outcomes.length = 0;
        const client = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          // The server may answer and close before everything is written: that is its right.
          await writeRaw(client, bytes).catch(() => {});
          await client.closeWrite().catch(() => {});
          const drained = (async () => {
            const sink = new Uint8Array(65536);
            while (await client.read(sink).catch(() => null) !== null);
          })();
          const hung = new Promise<"hung">((resolve) =>
            timer = setTimeout(() => resolve("hung"), HANG_MS)
          );
          assert.notEqual(
            await Promise.race([drained, hung]),
            "hung",
            "the server kept the connection",
          );
        } finally {
          clearTimeout(timer);
          client.close();
        }
        assert.deepEqual(problems, []);
        for (const { failure } of outcomes) {
          if (failure === null || failure.fromPeer) continue;
          assert.ok(failure.stack === undefined, `unexpected exception: ${failure.message}`);
          assert.ok(WIRE_CODES.includes(failure.code), `${failure.code}: ${failure.message}`);
          assert.ok(!/[\r\n]/.test(failure.message) && failure.message.length <= 1000);
        }
      }),
      500,
    );
  } finally {
    await server.shutdown(0);
  }
});
