import assert from "node:assert/strict";
import { ReadAhead, SMALL_FRAME_READ } from "../../src/protocol/read_ahead.ts";
import { FrameConnection } from "../../src/protocol/connection.ts";
import { FRAME_HEADER_SIZE, FRAME_TYPE } from "../../src/protocol/frame.ts";
import { concatBytes } from "../helpers/bytes.ts";

Deno.test("ReadAhead: bytes come out in order, over several takes, and room needs them all taken", () => {
  const ahead = new ReadAhead();
  const room = ahead.room(10);
  assert.equal(room.length, 10);
  room.set([1, 2, 3, 4, 5, 6, 7]);
  ahead.filled(7);
  assert.equal(ahead.available, 7);
  const a = new Uint8Array(3);
  const b = new Uint8Array(10);
  assert.equal(ahead.take(a), 3);
  assert.throws(() => ahead.room(4), RangeError);
  assert.equal(ahead.take(b), 4);
  assert.deepEqual([...a], [1, 2, 3]);
  assert.deepEqual([...b.subarray(0, 4)], [4, 5, 6, 7]);
  assert.equal(ahead.available, 0);
  assert.equal(ahead.take(b), 0);
  // Once empty, the next read starts at the front again; a larger room grows the buffer.
  ahead.room(20).set([9]);
  ahead.filled(1);
  assert.equal(ahead.take(a), 1);
  assert.equal(a[0], 9);
  assert.throws(() => ahead.room(0), RangeError);
});

Deno.test("ReadAhead: discard forgets what waits", () => {
  const ahead = new ReadAhead();
  ahead.room(4).set([1, 2, 3, 4]);
  ahead.filled(4);
  ahead.discard();
  assert.equal(ahead.available, 0);
  assert.equal(ahead.room(2).length, 2);
});

/**
 * A socket that hands out the bytes given to it and records the size of every read: what
 * the frame layer asked the kernel for.
 */
function recordingConn(bytes: Uint8Array): { conn: Deno.Conn; reads: number[] } {
  let at = 0;
  const reads: number[] = [];
  const conn = {
    read(view: Uint8Array): Promise<number | null> {
      reads.push(view.length);
      if (at === bytes.length) return Promise.resolve(null);
      const n = Math.min(view.length, bytes.length - at);
      view.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
    write: (view: Uint8Array) => Promise.resolve(view.length),
    close() {},
    closeWrite: () => Promise.resolve(),
  };
  return { conn: conn as unknown as Deno.Conn, reads };
}

/** The bytes a FrameConnection puts on the wire for these frames. */
async function wire(
  frames: { type: typeof FRAME_TYPE[keyof typeof FRAME_TYPE]; payload: Uint8Array }[],
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const sink = {
    write(view: Uint8Array) {
      chunks.push(view.slice());
      return Promise.resolve(view.length);
    },
    close() {},
  } as unknown as Deno.Conn;
  const writer = await FrameConnection.create(sink);
  for (const f of frames) await writer.writeFrame(f.type, f.payload);
  return concatBytes(chunks);
}

const json = (value: object) => new TextEncoder().encode(JSON.stringify(value));

Deno.test("small frames arrive whole in one read; frames sent together need no second read", async () => {
  const request = json({ op: "CREATE_FILE", name: "a".repeat(300) });
  const reply = json({ file: { blocks: Array.from({ length: 22 }, (_, i) => ({ i })) } });
  const { conn, reads } = recordingConn(
    await wire([
      { type: FRAME_TYPE.REQUEST, payload: request },
      { type: FRAME_TYPE.RESPONSE, payload: reply },
    ]),
  );
  const frames = await FrameConnection.create(conn);
  assert.deepEqual(
    await frames.readJsonFrame(FRAME_TYPE.REQUEST),
    JSON.parse(
      new TextDecoder().decode(request),
    ),
  );
  assert.deepEqual(
    await frames.readJsonFrame(FRAME_TYPE.RESPONSE),
    JSON.parse(
      new TextDecoder().decode(reply),
    ),
  );
  // One read brought both frames (they are under SMALL_FRAME_READ together).
  assert.deepEqual(reads, [SMALL_FRAME_READ]);
});

Deno.test("inside a data stream, payloads go straight into the caller's buffer", async () => {
  const chunk = (seed: number) => Uint8Array.from({ length: 20_000 }, (_, i) => (i * seed) & 0xff);
  const first = chunk(7);
  const second = chunk(13);
  const { conn, reads } = recordingConn(
    await wire([
      { type: FRAME_TYPE.REQUEST, payload: json({ op: "STORE" }) },
      { type: FRAME_TYPE.DATA, payload: first },
      { type: FRAME_TYPE.DATA, payload: second },
      { type: FRAME_TYPE.END, payload: new Uint8Array(16) },
    ]),
  );
  const frames = await FrameConnection.create(conn);
  await frames.readJsonFrame(FRAME_TYPE.REQUEST);
  const into = new Uint8Array(20_000);
  const one = await frames.readFrameHeader();
  assert.equal(one?.type, FRAME_TYPE.DATA);
  await frames.readPayloadInto(into);
  assert.deepEqual(into, first);
  const two = await frames.readFrameHeader();
  assert.equal(two?.type, FRAME_TYPE.DATA);
  await frames.readPayloadInto(into);
  assert.deepEqual(into, second);
  assert.equal((await frames.readFrameHeader())?.type, FRAME_TYPE.END);
  // The request's read brought the first data frame's start along; its rest was read into
  // the caller's buffer. After a data frame, a header read asks for the header alone, and
  // the payload goes into the caller's buffer in one read.
  const firstRest = reads[1]!;
  assert.ok(firstRest < 20_000, `the first payload's rest: ${firstRest} bytes`);
  assert.deepEqual(reads.slice(2, 4), [FRAME_HEADER_SIZE, 20_000]);
  assert.deepEqual(reads.slice(4, 5), [FRAME_HEADER_SIZE]);
});

Deno.test("a peer closing between frames is a clean end after read-ahead bytes are used up", async () => {
  const { conn } = recordingConn(await wire([{ type: FRAME_TYPE.RESPONSE, payload: json({}) }]));
  const frames = await FrameConnection.create(conn);
  assert.deepEqual(await frames.readJsonFrame(FRAME_TYPE.RESPONSE), {});
  assert.equal(await frames.readFrameHeader(), null);
});
