/**
 * Generators of valid datanode protocol messages (every REQUEST op, every RESPONSE op), the
 * seeds the fuzz tests mutate field by field and the values of the round-trip properties.
 *
 * @module
 */
import fc from "fast-check";
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from "../../src/protocol/frame.ts";
import {
  MAX_CODING_NODES,
  MAX_CODING_TIMEOUT_MS,
  MAX_LIST_LIMIT,
  MIN_CODING_TIMEOUT_MS,
  type Op,
  type Request,
} from "../../src/protocol/requests.ts";
import { blockId, byteCount, hex, isoTime, nodeAddress } from "./generators.ts";

const chunkSize = fc.oneof(
  fc.constantFrom(MIN_CHUNK_SIZE, 65536, 1 << 20, MAX_CHUNK_SIZE),
  fc.integer({ min: MIN_CHUNK_SIZE, max: MAX_CHUNK_SIZE }),
);
const programName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,10}$/);
const moduleName = fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/);
const runId = hex(32);
const digest = hex(16);
const nodeId = fc.stringMatching(/^[A-Za-z0-9._:@-]{1,20}$/);

/** A small valid inline program (its content is the coding validator's to check, not ours). */
const inlineProgram = fc.constant({
  node: 0,
  streams: [{ name: "a", read: { block: "{id}.a" } }, { name: "b", write: "{id}.b" }],
  instructions: [["LOAD", "x", "a"], ["WRITE", "x", "b"]],
});

const coding = fc.record(
  {
    op: fc.constant("CODING" as const),
    module: moduleName,
    program: programName,
    object: blockId,
    run: runId,
    nodes: fc.array(nodeAddress, { minLength: 1, maxLength: 20 }),
    chunkSize,
    overwrite: fc.boolean(),
    inline: fc.dictionary(programName, inlineProgram, { minKeys: 1, maxKeys: 3 }),
    timeoutMs: fc.integer({ min: MIN_CODING_TIMEOUT_MS, max: MAX_CODING_TIMEOUT_MS }),
    pushAt: fc.nat({ max: 3 }),
    chain: fc.uniqueArray(programName, { minLength: 2, maxLength: 4 }),
    pushLength: byteCount,
    withPush: fc.boolean(),
  },
  { requiredKeys: ["op", "module", "program", "object", "run", "nodes", "chunkSize"] },
).map(({ pushAt, chain, pushLength, withPush, ...request }): Request => {
  if (withPush !== true || chain === undefined || pushAt === undefined) return request;
  const names = chain.filter((name) => name !== request.program);
  const at = Math.min(pushAt, names.length);
  names.splice(at, 0, request.program);
  return {
    ...request,
    push: at === 0 ? { chain: names } : { chain: names, length: pushLength ?? 0 },
  };
});

/** Every valid REQUEST of the datanode protocol, with and without its optional fields. */
export const validRequest: fc.Arbitrary<Request> = fc.oneof(
  fc.constant({ op: "PING" as const }),
  fc.record({
    op: fc.constant("STORE" as const),
    block: blockId,
    chunkSize,
    length: byteCount,
    overwrite: fc.boolean(),
  }, {
    requiredKeys: ["op", "block", "chunkSize"],
  }),
  fc.record({
    op: fc.constant("RETRIEVE" as const),
    block: blockId,
    offset: byteCount,
    length: byteCount,
  }, {
    requiredKeys: ["op", "block"],
  }),
  fc.record({ op: fc.constantFrom("DELETE" as const, "STAT" as const), block: blockId }),
  fc.record(
    {
      op: fc.constant("LIST" as const),
      prefix: fc.oneof(fc.constant(""), blockId),
      after: blockId,
      limit: fc.integer({ min: 1, max: MAX_LIST_LIMIT }),
    },
    { requiredKeys: ["op"] },
  ),
  fc.record({ op: fc.constant("STATS" as const), run: runId }, { requiredKeys: ["op"] }),
  fc.record({ op: fc.constant("SCRUB" as const), rate: fc.integer({ min: 1, max: 2 ** 40 }) }, {
    requiredKeys: ["op"],
  }),
  coding,
);

const opTraffic = fc.record({
  requests: byteCount,
  errors: byteCount,
  bytesIn: byteCount,
  bytesOut: byteCount,
  ms: fc.double({ min: 0, max: 1e12, noNaN: true }),
});

const retrieve = fc.tuple(byteCount, byteCount).map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);

const scrubStatus = fc.record({
  rate: fc.integer({ min: 0, max: 2 ** 40 }),
  running: fc.boolean(),
  pass: byteCount,
  passBytes: byteCount,
  passBlocks: byteCount,
  lastPassFinished: fc.option(isoTime, { nil: null }),
  corruptFound: byteCount,
});

/** A valid RESPONSE for each op of the datanode protocol. */
export const validResponse: { [P in Op]: fc.Arbitrary<unknown> } = {
  PING: fc.record({
    node: nodeId,
    version: fc.constantFrom("0.1.0", "1.2.3-rc.1+x"),
    freeBytes: byteCount,
    blocks: byteCount,
  }),
  STORE: fc.record({ block: blockId, length: byteCount, digest }),
  RETRIEVE: fc.record({ block: blockId, lengths: retrieve, chunkSize, digest }).map((
    { lengths, ...rest },
  ) => ({ ...rest, length: lengths[0], blockLength: lengths[1] })),
  DELETE: fc.record({ block: blockId, deleted: fc.constant(true) }),
  STAT: fc.record({ block: blockId, length: byteCount, chunkSize, digest, created: isoTime }),
  LIST: fc.record({
    blocks: fc.array(fc.record({ block: blockId, length: byteCount, created: isoTime }), {
      maxLength: 5,
    }),
    next: fc.oneof(fc.constant(null), blockId),
  }),
  CODING: fc.oneof(
    fc.record({ program: programName, length: byteCount, stream: fc.boolean() }),
    fc.record({ progress: byteCount }),
    fc.constant({ prepared: true }),
    fc.record({
      committed: fc.array(
        fc.record({
          node: fc.integer({ min: 0, max: MAX_CODING_NODES - 1 }),
          block: blockId,
          length: byteCount,
          digest,
        }),
        { maxLength: 4 },
      ),
    }),
  ),
  STATS: fc.record({
    node: nodeId,
    since: isoTime,
    total: opTraffic,
    ops: fc.dictionary(fc.constantFrom("STORE", "RETRIEVE", "CODING"), opTraffic, { maxKeys: 3 }),
    runs: fc.dictionary(
      runId,
      fc.record(
        {
          served: opTraffic,
          upstream: fc.dictionary(
            nodeAddress,
            fc.record({ connections: byteCount, bytesIn: byteCount, bytesOut: byteCount }),
            { maxKeys: 2 },
          ),
          times: fc.record(
            {
              startedAt: fc.integer({ min: 0, max: 2 ** 50 }),
              endedAt: fc.integer({ min: 0, max: 2 ** 50 }),
            },
            { requiredKeys: ["startedAt"] },
          ),
        },
        { requiredKeys: ["served", "upstream"] },
      ),
      { maxKeys: 2 },
    ),
    scrub: scrubStatus,
  }, { requiredKeys: ["node", "since", "total", "ops", "runs"] }),
  SCRUB: fc.oneof(
    fc.record({ progress: byteCount }),
    fc.record({
      scrubbed: fc.record({
        pass: fc.integer({ min: 1, max: 2 ** 40 }),
        blocks: byteCount,
        bytes: byteCount,
        corrupt: byteCount,
        quarantined: fc.array(blockId, { maxLength: 3 }),
        ms: byteCount,
      }),
    }),
  ),
};
