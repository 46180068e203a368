/**
 * Fuzzing of the datanode protocol's parsers: REQUEST and RESPONSE validation, the CODING
 * commit, ERROR bodies, and the byte layouts (preamble, frame header, END payload). Each gets
 * `fuzzRuns()` inputs (100,000 with `make fuzz`): mutated valid messages, random JSON and
 * hostile values. Properties: a parser returns or throws `CdfsError` `BAD_REQUEST` with a
 * bounded one-line message (never a TypeError, RangeError or a hang); what it accepts is
 * within the protocol's bounds (so nothing it lets through can make a node allocate beyond
 * them); valid messages survive JSON and parsing unchanged.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeEndPayload,
  decodeFrameHeader,
  decodePreamble,
  encodeEndPayload,
  encodeFrameHeader,
  END_PAYLOAD_SIZE,
  FRAME_HEADER_SIZE,
  FRAME_TYPE,
  type FrameType,
  MAX_CHUNK_SIZE,
  maxPayloadLength,
  MIN_CHUNK_SIZE,
  PREAMBLE_SIZE,
} from "../../src/protocol/frame.ts";
import { parseCodingCommit, parseRequest } from "../../src/protocol/request_validation.ts";
import { parseResponse } from "../../src/protocol/response_validation.ts";
import { parseErrorBody } from "../../src/protocol/error_body.ts";
import {
  MAX_CODING_NODES,
  MAX_INLINE_PROGRAMS,
  MAX_LIST_LIMIT,
  type Op,
  OPS,
} from "../../src/protocol/requests.ts";
import { ERROR_CODES } from "../../src/core/errors.ts";
import {
  assertProperty,
  hex,
  hostileString,
  mutated,
  overTheWire,
  parserInputs,
  parsesOrRefuses,
} from "./generators.ts";
import { validRequest, validResponse } from "./protocol_messages.ts";

Deno.test("fuzz: parseRequest refuses every malformed request with BAD_REQUEST", () => {
  assertProperty(
    "parseRequest",
    fc.property(parserInputs(validRequest), (input) => {
      const parsed = parsesOrRefuses(() => parseRequest(input));
      if (parsed === undefined) return;
      const request = parsed.value;
      // Whatever is accepted is within the bounds a node sizes its buffers and work by.
      if ("chunkSize" in request) {
        assert.ok(request.chunkSize >= MIN_CHUNK_SIZE && request.chunkSize <= MAX_CHUNK_SIZE);
      }
      if (request.op === "LIST" && request.limit !== undefined) {
        assert.ok(request.limit <= MAX_LIST_LIMIT);
      }
      if (request.op === "CODING") {
        assert.ok(request.nodes.length <= MAX_CODING_NODES);
        if (request.inline !== undefined) {
          assert.ok(Object.keys(request.inline).length <= MAX_INLINE_PROGRAMS);
        }
      }
      // Accepting is stable: what was accepted is accepted again, unchanged, over the wire
      // (inline programs aside: their content is the coding validator's, fuzzed on its own).
      const comparable = request.op === "CODING" && request.inline !== undefined
        ? {
          ...request,
          inline: Object.fromEntries(Object.keys(request.inline).map((k) => [k, {}])),
        }
        : request;
      assert.deepEqual(parseRequest(overTheWire(comparable)), overTheWire(comparable));
    }),
  );
});

Deno.test("fuzz: every valid request survives JSON and parseRequest unchanged", () => {
  assertProperty(
    "parseRequest round trip",
    fc.property(validRequest, (request) => {
      assert.deepEqual(parseRequest(overTheWire(request)), overTheWire(request));
    }),
  );
});

const opAndResponse = fc.constantFrom(...OPS).chain((op) =>
  fc.tuple(fc.constant(op), parserInputs(validResponse[op]))
);

Deno.test("fuzz: parseResponse refuses every malformed response with BAD_REQUEST", () => {
  assertProperty(
    "parseResponse",
    fc.property(opAndResponse, ([op, input]) => {
      const parsed = parsesOrRefuses(() => parseResponse(op, input));
      if (parsed !== undefined) {
        const wire = overTheWire(parsed.value);
        assert.deepEqual(parseResponse(op, wire), wire);
      }
    }),
  );
});

const validOpResponse = fc.constantFrom(...OPS).chain((op: Op) =>
  fc.tuple(fc.constant(op), validResponse[op])
);

Deno.test("fuzz: every valid response survives JSON and parseResponse unchanged", () => {
  assertProperty(
    "parseResponse round trip",
    fc.property(validOpResponse, ([op, response]) => {
      assert.deepEqual(parseResponse(op, overTheWire(response)), overTheWire(response));
    }),
  );
});

Deno.test("fuzz: CODING commits and ERROR bodies are refused cleanly", () => {
  const run = "0123456789abcdef0123456789abcdef";
  const commit = fc.record({ op: fc.constant("COMMIT"), run: fc.oneof(fc.constant(run), hex(32)) });
  const errorBody = fc.record({
    code: fc.oneof(fc.constantFrom(...ERROR_CODES), fc.stringMatching(/^[A-Z][A-Z0-9_]{0,31}$/)),
    message: hostileString,
  });
  assertProperty(
    "parseCodingCommit and parseErrorBody",
    fc.property(parserInputs(commit), parserInputs(errorBody), (c, e) => {
      parsesOrRefuses(() => parseCodingCommit(c, run));
      const body = parsesOrRefuses(() => parseErrorBody(e));
      if (body !== undefined) {
        assert.ok((ERROR_CODES as readonly string[]).includes(body.value.code));
        assert.ok(!/[\r\n]/.test(body.value.message), "an ERROR body's message is one line");
      }
    }),
  );
});

const frameType = fc.constantFrom<FrameType>(
  FRAME_TYPE.REQUEST,
  FRAME_TYPE.RESPONSE,
  FRAME_TYPE.DATA,
  FRAME_TYPE.END,
  FRAME_TYPE.ERROR,
);

/** A valid header, as bytes. */
const validHeader = fc
  .tuple(frameType, fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
  .map(([type, n, checksum]) => {
    const length = type === FRAME_TYPE.END ? END_PAYLOAD_SIZE : n % (maxPayloadLength(type) + 1);
    const bytes = new Uint8Array(FRAME_HEADER_SIZE);
    encodeFrameHeader(bytes, { type, length, checksum });
    return bytes;
  });

/** Header bytes: valid ones with bytes overwritten, and random ones. */
const headerBytes = fc.oneof(
  fc.tuple(
    validHeader,
    fc.array(fc.tuple(fc.nat({ max: 15 }), fc.nat({ max: 255 })), {
      minLength: 1,
      maxLength: 3,
    }),
  ).map(([bytes, edits]) => {
    const copy = bytes.slice();
    for (const [at, value] of edits) copy[at] = value;
    return copy;
  }),
  fc.uint8Array({ minLength: 0, maxLength: 24 }),
);

Deno.test("fuzz: frame headers, preambles and END payloads decode or refuse, within bounds", () => {
  assertProperty(
    "frame layouts",
    fc.property(headerBytes, (bytes) => {
      const header = parsesOrRefuses(() => decodeFrameHeader(bytes));
      if (header !== undefined) {
        // No declared length beyond its type's bound gets past the header: nothing is
        // allocated for a 4 GiB frame.
        assert.ok(bytes.length >= FRAME_HEADER_SIZE);
        assert.ok(header.value.length <= maxPayloadLength(header.value.type));
        const again = new Uint8Array(FRAME_HEADER_SIZE);
        encodeFrameHeader(again, header.value);
        assert.deepEqual(again, bytes.subarray(0, FRAME_HEADER_SIZE));
      }
      const preamble = parsesOrRefuses(() => decodePreamble(bytes));
      if (preamble !== undefined) assert.ok(bytes.length >= PREAMBLE_SIZE);
      const end = parsesOrRefuses(() => decodeEndPayload(bytes));
      if (end !== undefined) {
        assert.ok(Number.isSafeInteger(end.value.length) && end.value.length >= 0);
        const again = new Uint8Array(END_PAYLOAD_SIZE);
        encodeEndPayload(again, end.value);
        assert.deepEqual(again, bytes.subarray(0, END_PAYLOAD_SIZE));
      }
    }),
  );
});

Deno.test("fuzz: requests broken in up to six places are refused with BAD_REQUEST", () => {
  // The structure-aware mutator on its own: the first check of most validators is the type of
  // the whole value, so this reaches the per-field checks of every request op at once.
  assertProperty(
    "parseRequest deep mutations",
    fc.property(mutated(validRequest, 6), (input) => {
      parsesOrRefuses(() => parseRequest(input));
    }),
  );
});
