/**
 * Fuzzing a real datanode process with random and mutated frames (seeded, so a failure can be
 * replayed). Two kinds of connections:
 *
 * - request batches: a valid preamble, then many REQUEST frames (framed correctly, so they
 *   reach the request parser) whose JSON is random or a mutation of a valid request; the
 *   connection survives most of them, so one connection carries many frames;
 * - broken streams: a valid conversation (requests, STOREs with their DATA and END frames)
 *   mutated at the byte level: bit flips, truncations, random lengths, random types, bad
 *   flags, bad checksums, inserted garbage, or pure garbage.
 *
 * Every connection must end (with an ERROR frame or a close) within the node's timeouts,
 * everything the node sends must be well-formed frames with valid checksums, no request may
 * end in INTERNAL (that would be a bug), and at the end the node is alive, answers PING and has
 * no STORE left half-done.
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
import {
  chunksOf,
  connect,
  parseServerBytes,
  patternBytes,
  pingFresh,
  readUntilClosed,
  storeBlock,
} from "./_client.ts";

const SEED = Number(Deno.env.get("CDFS_FUZZ_SEED") ?? 20251125);
const BATCH_CONNECTIONS = 160;
const REQUESTS_PER_BATCH = 80;
const BROKEN_CONNECTIONS = 2600;
const WORKERS = 12;
/** The node's idle and frame timeouts: connections left open must end within about this. */
const NODE_TIMEOUT_MS = 1000;
const FIXTURES = ["f0", "f1", "f2", "f3", "f.long-name_4"];

const hasher = await createChecksummer();
const encoder = new TextEncoder();

/** mulberry32: a small, fast, seeded generator. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const bytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = int(256);
    return out;
  };
  return { next, int, pick, bytes };
}
type Rng = ReturnType<typeof generator>;

function frame(type: FrameType, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(16 + payload.length);
  encodeFrameHeader(bytes, { type, length: payload.length, checksum: hasher.checksum(payload) });
  bytes.set(payload, 16);
  return bytes;
}

function jsonFrame(value: unknown): Uint8Array {
  return frame(FRAME_TYPE.REQUEST, encoder.encode(JSON.stringify(value)));
}

function preamble(): Uint8Array {
  const bytes = new Uint8Array(8);
  encodePreamble(bytes);
  return bytes;
}

const INTERESTING_NUMBERS = [
  0,
  1,
  -1,
  4095,
  4096,
  4097,
  65536,
  1 << 20,
  16 * 1024 * 1024,
  16 * 1024 * 1024 + 1,
  2 ** 32,
  2 ** 53,
  1.5,
  Number.MAX_SAFE_INTEGER,
];

function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 5 : 7)) {
    case 0:
      return rng.pick(INTERESTING_NUMBERS);
    case 1:
      return rng.pick([
        "",
        "..",
        "../x",
        "/etc/passwd",
        "a/b",
        "f0",
        "x".repeat(300),
        "é",
        "\u0000",
      ]);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return rng.int(1e6);
    case 4:
      return rng.pick(FIXTURES);
    case 5:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) {
        object[rng.pick(["op", "block", "x", "length", "__proto__"])] = randomValue(rng, depth + 1);
      }
      return object;
    }
  }
}

/** A valid request without a data stream. */
function validRequest(rng: Rng): Record<string, unknown> {
  const block = rng.int(4) === 0 ? `r${rng.int(50)}` : rng.pick(FIXTURES);
  switch (rng.int(5)) {
    case 0:
      return { op: "PING" };
    case 1:
      return { op: "STAT", block };
    case 2:
      return { op: "LIST", prefix: rng.pick(["", "f", "r"]), limit: 1 + rng.int(5) };
    case 3:
      return rng.int(2) === 0
        ? { op: "RETRIEVE", block }
        : { op: "RETRIEVE", block, offset: rng.int(12_000), length: rng.int(3000) };
    default:
      return { op: "DELETE", block: `r${rng.int(50)}` };
  }
}

/** A mutation of a valid request at the JSON level (still framed correctly). */
function mutatedRequest(rng: Rng): Uint8Array {
  const request = validRequest(rng);
  switch (rng.int(6)) {
    case 0: // a field with a random value
      request[rng.pick(["op", "block", "offset", "length", "limit", "prefix", "after"])] =
        randomValue(rng);
      return jsonFrame(request);
    case 1: // a random op
      request.op = rng.pick(["FORMAT", "ping", "", "STORE ", "CODING", "LIST\u0000"]);
      return jsonFrame(request);
    case 2: // a random JSON value
      return jsonFrame(randomValue(rng));
    case 3: { // the text cut short or with a byte changed
      const text = encoder.encode(JSON.stringify(request));
      const cut = text.slice(0, rng.int(text.length + 1));
      if (cut.length > 0 && rng.int(2) === 0) cut[rng.int(cut.length)] = rng.int(256);
      return frame(FRAME_TYPE.REQUEST, cut);
    }
    case 4: // random bytes as the payload
      return frame(FRAME_TYPE.REQUEST, rng.bytes(rng.int(100)));
    default:
      return jsonFrame(request);
  }
}

interface Sequence {
  bytes: Uint8Array;
  /** Offsets of the frame headers in `bytes`. */
  frames: number[];
}

/** A valid conversation: some requests and one or two small STOREs with their streams. */
function validConversation(rng: Rng): Sequence {
  const parts: Uint8Array[] = [preamble()];
  const frames: number[] = [];
  let at = 8;
  const add = (bytes: Uint8Array) => {
    frames.push(at);
    parts.push(bytes);
    at += bytes.length;
  };
  for (let i = 1 + rng.int(3); i > 0; i--) {
    if (rng.int(2) === 0) {
      add(jsonFrame(validRequest(rng)));
      continue;
    }
    const chunkSize = 4096;
    const length = rng.int(3 * chunkSize);
    const data = patternBytes(length, rng.int(1000));
    const request: Record<string, unknown> = {
      op: "STORE",
      block: `r${rng.int(50)}`,
      chunkSize,
      overwrite: rng.int(2) === 0,
    };
    if (rng.int(2) === 0) request.length = length;
    add(jsonFrame(request));
    const checksums: bigint[] = [];
    for (let offset = 0; offset < length; offset += chunkSize) {
      const chunk = data.subarray(offset, Math.min(length, offset + chunkSize));
      checksums.push(hasher.checksum(chunk));
      add(frame(FRAME_TYPE.DATA, chunk));
    }
    const encoded = new Uint8Array(8 * checksums.length);
    checksums.forEach((c, j) => new DataView(encoded.buffer).setBigUint64(8 * j, c));
    const end = new Uint8Array(16);
    encodeEndPayload(end, { length, digest: hasher.checksum(encoded) });
    add(frame(FRAME_TYPE.END, end));
  }
  const bytes = new Uint8Array(at);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return { bytes, frames };
}

/**
 * A byte-level mutation of a valid conversation, and how many frames it was made of (for pure
 * garbage: one).
 */
function brokenStream(rng: Rng): { bytes: Uint8Array; frameCount: number } {
  const conversation = validConversation(rng);
  return { bytes: mutate(rng, conversation), frameCount: conversation.frames.length };
}

function mutate(rng: Rng, { bytes, frames }: Sequence): Uint8Array {
  const header = frames.length > 0 ? rng.pick(frames) : 8;
  const view = new DataView(bytes.buffer);
  switch (rng.int(10)) {
    case 0: { // bit flips anywhere
      for (let i = 1 + rng.int(4); i > 0; i--) bytes[rng.int(bytes.length)]! ^= 1 << rng.int(8);
      return bytes;
    }
    case 1: // truncation
      return bytes.slice(0, rng.int(bytes.length));
    case 2: // a random length
      view.setUint32(
        header + 4,
        rng.pick([0, 1, 15, 16, 17, 4095, 4097, 65_536, 65_537, 2 ** 24, 2 ** 24 + 1, 2 ** 32 - 1]),
      );
      return bytes;
    case 3: // a random type
      bytes[header] = rng.int(2) === 0 ? rng.int(256) : 1 + rng.int(5);
      return bytes;
    case 4: // flags or reserved bits
      bytes[header + 1 + rng.int(3)] = 1 + rng.int(255);
      return bytes;
    case 5: // a wrong checksum
      bytes[header + 8 + rng.int(8)]! ^= 1 + rng.int(255);
      return bytes;
    case 6: { // garbage inserted
      const at = rng.int(bytes.length + 1);
      const garbage = rng.bytes(1 + rng.int(200));
      const out = new Uint8Array(bytes.length + garbage.length);
      out.set(bytes.subarray(0, at));
      out.set(garbage, at);
      out.set(bytes.subarray(at), at + garbage.length);
      return out;
    }
    case 7: // a mutated preamble
      bytes[rng.int(8)]! ^= 1 << rng.int(8);
      return bytes;
    case 8: { // pure garbage, after a valid preamble or not
      const garbage = rng.bytes(rng.int(600));
      if (rng.int(2) === 0) return garbage;
      const out = new Uint8Array(8 + garbage.length);
      out.set(preamble());
      out.set(garbage, 8);
      return out;
    }
    default: { // frames duplicated or dropped
      const cut = rng.pick(frames);
      return rng.int(2) === 0
        ? bytes.slice(0, cut)
        : new Uint8Array([...bytes.subarray(0, cut), ...bytes.subarray(header)]);
    }
  }
}

interface Outcome {
  framesSent: number;
  closed: boolean;
  lastFrame: string | undefined;
}

/** Sends `bytes`, optionally half-closes, reads everything the node sends until it closes. */
async function runConnection(
  port: number,
  bytes: Uint8Array,
  framesSent: number,
  halfClose: boolean,
): Promise<Outcome> {
  const socket = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const reading = readUntilClosed(socket, 30_000);
    try {
      let written = 0;
      while (written < bytes.length) written += await socket.write(bytes.subarray(written));
      if (halfClose) await socket.closeWrite();
    } catch {
      // The node closed first (a broken frame, a STORE error): what it said is still read.
    }
    const { bytes: received, closed } = await reading;
    // Every byte the node sent is a well-formed frame (the tail may be cut only when the node
    // reset the connection after a lingering close).
    const frames = parseServerBytes(received, true);
    return { framesSent, closed, lastFrame: frames.at(-1)?.type };
  } finally {
    try {
      socket.close();
    } catch {
      // Closed by readUntilClosed's timeout.
    }
  }
}

Deno.test("fuzz: 20,000+ random and mutated frames never crash or hang the node", async () => {
  await using node = await DataNodeProcess.start({
    args: [
      "--idle-timeout",
      String(NODE_TIMEOUT_MS),
      "--frame-timeout",
      String(NODE_TIMEOUT_MS),
      "--shutdown-grace",
      "2000",
    ],
  });
  const setup = await connect(node.port);
  for (const id of FIXTURES) {
    await storeBlock(setup, id, chunksOf(patternBytes(10_000, id.length), 4096), {
      chunkSize: 4096,
    });
  }
  setup.close();

  const rng = generator(SEED);
  const jobs: (() => Promise<Outcome>)[] = [];
  for (let i = 0; i < BATCH_CONNECTIONS; i++) {
    const frames = Array.from(
      { length: REQUESTS_PER_BATCH },
      () => rng.int(3) === 0 ? jsonFrame(validRequest(rng)) : mutatedRequest(rng),
    );
    const bytes = new Uint8Array([...preamble(), ...frames.flatMap((f) => [...f])]);
    jobs.push(() => runConnection(node.port, bytes, frames.length, true));
  }
  for (let i = 0; i < BROKEN_CONNECTIONS; i++) {
    const { bytes, frameCount } = brokenStream(rng);
    // Most half-close (the node sees the end of the stream); a few just stop sending and must
    // be dropped by the node's own timeouts.
    const halfClose = rng.int(25) !== 0;
    jobs.push(() => runConnection(node.port, bytes, frameCount, halfClose));
  }
  // Interleave the kinds of connections.
  for (let i = jobs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
  }

  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: WORKERS }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      outcomes.push(await job());
    }
  }));

  const framesSent = outcomes.reduce((n, o) => n + o.framesSent, 0);
  assert.ok(framesSent >= 20_000, `only ${framesSent} frames were sent`);
  const hung = outcomes.filter((o) => !o.closed);
  assert.equal(hung.length, 0, `${hung.length} connections were left open`);

  // The node survived, serves, and no STORE is left half-done.
  assert.equal(node.exited, false);
  assert.ok((await pingFresh(node.port)).blocks >= 1);
  const tmp: string[] = [];
  for await (const entry of Deno.readDir(`${node.dataDir}/tmp`)) tmp.push(entry.name);
  assert.deepEqual(tmp, []);
  const status = await node.stop();
  assert.equal(status.code, 0);
  const records = node.logRecords();
  const internal = records.filter((r) => r.result === "INTERNAL" || r.event === "error");
  assert.deepEqual(internal, [], "the fuzz found an internal error");
  assert.ok(records.filter((r) => "op" in r).length >= BATCH_CONNECTIONS * 10);
});
