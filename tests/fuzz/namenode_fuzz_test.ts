/**
 * Fuzzing of the namenode's message parsers: `parseNameNodeRequest` (every op, mutated field by
 * field from valid requests) and `parseNameNodeResponse` (the replies, from valid ones), with
 * `fuzzRuns()` inputs each. Properties: a parser returns or throws `CdfsError` `BAD_REQUEST`
 * with a bounded one-line message, never anything else and never a hang; what it accepts is
 * within the namenode's bounds (report sizes, page limits, block counts); every valid request
 * survives `requestToJson`, JSON and parsing unchanged.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseNameNodeRequest } from "../../src/namenode/parse_request.ts";
import { parseNameNodeResponse } from "../../src/namenode/parse_response.ts";
import {
  MAX_REPORT_CHUNK,
  MAX_REPORT_LINE,
  type NameNodeOp,
  type NameNodeRequest,
  PAGE_LIMITS,
  requestToJson,
} from "../../src/namenode/requests.ts";
import {
  MAX_BLOCKS_PER_FILE,
  MAX_FULL_REPORT,
  MAX_INCREMENTAL_REPORT,
} from "../../src/namenode/meta/model.ts";
import { MIN_CHUNK_SIZE } from "../../src/protocol/frame.ts";
import {
  assertProperty,
  blockId,
  byteCount,
  hex,
  isoTime,
  nodeAddress,
  overTheWire,
  parserInputs,
  parsesOrRefuses,
} from "./generators.ts";

const nodeId = blockId;
const fileId = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const fileName = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9/._ -]{0,20}$/),
  fc.constantFrom("dir/ä b.txt", "😀", "x".repeat(1024)),
);
const codeName = fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/);
const digest = hex(64);
const role = fc.record({
  kind: fc.constantFrom("part" as const, "coded" as const),
  index: fc.nat({ max: 65535 }),
});
const committedState = fc.constantFrom(
  "replicated" as const,
  "encoded" as const,
  "archived" as const,
);
const layout = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    roles: fc.uniqueArray(
      fc.record({
        role,
        nodes: fc.uniqueArray(fc.nat({ max: n - 1 }), { minLength: 1, maxLength: n }),
      }),
      { minLength: 1, maxLength: 5, selector: (r) => `${r.role.kind}${r.role.index}` },
    ),
  })
);
const blockRef = fc.record({ blockId, node: nodeId });
const limit = (op: keyof typeof PAGE_LIMITS) => fc.integer({ min: 1, max: PAGE_LIMITS[op].max });
const prefix = fc.oneof(fc.constant(""), fileName);

/** Every valid namenode request, with and without its optional fields. */
const validRequest: fc.Arbitrary<NameNodeRequest> = fc.oneof(
  fc.constant({ op: "PING" as const }),
  fc.record({
    op: fc.constant("REGISTER" as const),
    node: nodeId,
    address: nodeAddress,
    capacity: byteCount,
    free: byteCount,
  }),
  fc.record({
    op: fc.constant("HEARTBEAT" as const),
    node: nodeId,
    free: byteCount,
    capacity: byteCount,
  }, {
    requiredKeys: ["op", "node", "free"],
  }),
  fc.record({ op: fc.constant("LEAVE" as const), node: nodeId }),
  fc.record({
    op: fc.constant("BLOCK_REPORT" as const),
    node: nodeId,
    kind: fc.constant("incremental" as const),
    added: fc.array(fc.record({ blockId, length: byteCount }), { maxLength: 5 }),
    removed: fc.array(blockId, { maxLength: 5 }),
  }),
  fc.nat({ max: MAX_FULL_REPORT }).chain((count) =>
    fc.record({
      op: fc.constant("BLOCK_REPORT" as const),
      node: nodeId,
      kind: fc.constant("full" as const),
      count: fc.constant(count),
      length: fc.nat({ max: count * MAX_REPORT_LINE }),
      chunkSize: fc.integer({ min: MIN_CHUNK_SIZE, max: MAX_REPORT_CHUNK }),
    })
  ),
  fc.record({
    op: fc.constant("CREATE_FILE" as const),
    name: fileName,
    code: codeName,
    length: byteCount,
    digest,
    layout,
    blockLength: byteCount,
  }, {
    requiredKeys: ["op", "name", "code", "length", "layout"],
  }),
  fc.record({
    op: fc.constant("COMMIT_FILE" as const),
    fileId,
    length: byteCount,
    digest,
    state: committedState,
  }, {
    requiredKeys: ["op", "fileId"],
  }),
  fc.record({ op: fc.constant("ABORT_FILE" as const), fileId }),
  fc.record({ op: fc.constant("GET_FILE" as const), name: fileName }),
  fc.record({ op: fc.constant("GET_FILE" as const), fileId }),
  fc.record({
    op: fc.constant("LIST_FILES" as const),
    prefix,
    after: fileName,
    limit: limit("LIST_FILES"),
  }, {
    requiredKeys: ["op"],
  }),
  fc.record({ op: fc.constant("DELETE_FILE" as const), name: fileName }),
  fc.record({ op: fc.constant("MOVE_BLOCK" as const), fileId, blockId, from: nodeId, to: nodeId }),
  fc.record({ op: fc.constant("ADD_BLOCKS" as const), fileId, layout, blockLength: byteCount }, {
    requiredKeys: ["op", "fileId", "layout"],
  }),
  fc.record({
    op: fc.constant("ADD_BLOCKS" as const),
    fileId,
    placements: fc.array(fc.record({ role, node: nodeId }), { minLength: 1, maxLength: 5 }),
  }),
  fc.record({
    op: fc.constant("DROP_BLOCKS" as const),
    fileId,
    blocks: fc.array(blockRef, { minLength: 1, maxLength: 5 }),
    state: committedState,
  }, {
    requiredKeys: ["op", "fileId", "blocks"],
  }),
  fc.record({
    op: fc.constant("LIST_DATANODES" as const),
    after: nodeId,
    limit: limit("LIST_DATANODES"),
  }, {
    requiredKeys: ["op"],
  }),
  fc.record({ op: fc.constant("FSCK" as const), name: fileName }),
  fc.record({ op: fc.constant("FSCK" as const), prefix, after: fileName, limit: limit("FSCK") }, {
    requiredKeys: ["op"],
  }),
  fc.record({
    op: fc.constant("ORPHANS" as const),
    graceMs: byteCount,
    after: blockRef,
    limit: limit("ORPHANS"),
  }, {
    requiredKeys: ["op"],
  }),
  fc.record({ op: fc.constant("STATUS" as const) }),
);

/** The wire form of a request: `requestToJson`, then JSON. */
const wireRequest = validRequest.map((request) => overTheWire(requestToJson(request)));

Deno.test("fuzz: parseNameNodeRequest refuses every malformed request with BAD_REQUEST", () => {
  assertProperty(
    "parseNameNodeRequest",
    fc.property(parserInputs(wireRequest), (input) => {
      const parsed = parsesOrRefuses(() => parseNameNodeRequest(input));
      if (parsed === undefined) return;
      const request = parsed.value;
      // What is accepted stays within the bounds the namenode sizes its work by.
      if (request.op === "BLOCK_REPORT") {
        if (request.kind === "full") {
          assert.ok(request.count <= MAX_FULL_REPORT);
          assert.ok(request.length <= request.count * MAX_REPORT_LINE);
          assert.ok(request.chunkSize <= MAX_REPORT_CHUNK);
        } else {
          assert.ok(request.added.length + request.removed.length <= MAX_INCREMENTAL_REPORT);
        }
      }
      if ("layout" in request && request.layout !== undefined) {
        const copies = request.layout.roles.reduce((sum, r) => sum + r.nodes.length, 0);
        assert.ok(copies <= MAX_BLOCKS_PER_FILE);
      }
      if ("limit" in request && request.limit !== undefined) {
        assert.ok(request.limit <= PAGE_LIMITS[request.op as keyof typeof PAGE_LIMITS].max);
      }
      // Accepting is stable: the request encodes back to what parses to it again (compared as
      // JSON: a -0 the peer sent stays -0 in the request, harmlessly, and is 0 after JSON).
      const again = parseNameNodeRequest(overTheWire(requestToJson(request)));
      assert.deepEqual(overTheWire(again), overTheWire(request));
    }),
  );
});

Deno.test("fuzz: every valid namenode request survives requestToJson, JSON and parsing", () => {
  assertProperty(
    "parseNameNodeRequest round trip",
    fc.property(validRequest, (request) => {
      const plain = overTheWire(request);
      assert.deepEqual(parseNameNodeRequest(overTheWire(requestToJson(request))), plain);
    }),
  );
});

const blockView = fc.record({
  block: blockId,
  kind: fc.constantFrom("part", "coded"),
  index: fc.nat({ max: 65535 }),
  node: nodeId,
  address: fc.oneof(fc.constant(null), nodeAddress),
  alive: fc.boolean(),
  state: fc.constantFrom("pending", "stored"),
});
const facts = {
  name: fileName,
  code: codeName,
  length: fc.oneof(fc.constant(null), byteCount),
  digest: fc.oneof(fc.constant(null), digest),
  state: fc.constantFrom("pending", "replicated", "encoded", "archived"),
  created: isoTime,
  committed: fc.oneof(fc.constant(null), isoTime),
};
const fileView = fc.record({
  fileId,
  ...facts,
  version: fileId,
  blocks: fc.array(blockView, { maxLength: 4 }),
})
  .map((f) => ({ ...f, objectId: `f${f.fileId}` }));
const nodeRefs = fc.array(
  fc.oneof(fc.constant(null), fc.record({ node: nodeId, address: nodeAddress })),
  {
    maxLength: 4,
  },
);
const next = fc.oneof(fc.constant(null), fileName);

/** Valid replies of the namenode, for the ops whose replies have structure. */
const validResponse: Partial<{ [P in NameNodeOp]: fc.Arbitrary<unknown> }> = {
  PING: fc.record({
    service: fc.constant("namenode"),
    version: fc.constant("0.1.0"),
    id: fc.constant("nn-1"),
  }),
  REGISTER: fc.record({
    node: nodeId,
    address: nodeAddress,
    state: fc.constant("alive"),
    deadAfterMs: fileId,
    heartbeatIntervalMs: fileId,
    blockReportIntervalMs: fileId,
  }),
  BLOCK_REPORT: fc.record({
    node: nodeId,
    kind: fc.constantFrom("full", "incremental"),
    blocks: byteCount,
    missing: byteCount,
    unknown: byteCount,
  }),
  CREATE_FILE: fc.record({ file: fileView, nodes: nodeRefs }),
  GET_FILE: fc.record({ file: fileView }),
  ABORT_FILE: fc.record({ fileId, file: fc.oneof(fc.constant(null), fileView) }),
  LIST_FILES: fc.record({
    files: fc.array(fc.record({ fileId, ...facts, blocks: fc.nat({ max: 100 }) }), {
      maxLength: 3,
    }),
    next,
  }),
  LIST_DATANODES: fc.record({
    datanodes: fc.array(
      fc.record({
        node: nodeId,
        address: nodeAddress,
        capacity: byteCount,
        free: byteCount,
        registered: isoTime,
        lastHeartbeat: isoTime,
        state: fc.constantFrom("alive", "dead"),
      }),
      { maxLength: 3 },
    ),
    next: fc.oneof(fc.constant(null), nodeId),
  }),
  FSCK: fc.record({
    files: fc.array(
      fc.record({
        fileId,
        name: fileName,
        code: codeName,
        state: facts.state,
        status: fc.constantFrom("healthy", "degraded", "lost", "unknown"),
        decodable: fc.oneof(fc.constant(null), fc.boolean()),
        blocks: fc.nat({ max: 100 }),
        unavailable: fc.array(
          fc.record({ block: blockId, node: nodeId, why: fc.constantFrom("dead", "missing") }),
          { maxLength: 2 },
        ),
        note: fc.oneof(fc.constant(null), fc.string({ maxLength: 30 })),
        shared: fc.array(fc.record({ node: nodeId, blocks: fc.array(blockId, { maxLength: 2 }) }), {
          maxLength: 2,
        }),
      }),
      { maxLength: 2 },
    ),
    next,
  }),
  ORPHANS: fc.record({
    orphans: fc.array(
      fc.record({
        node: nodeId,
        address: fc.oneof(fc.constant(null), nodeAddress),
        block: blockId,
        length: byteCount,
        firstSeen: isoTime,
      }),
      { maxLength: 3 },
    ),
    next: fc.oneof(fc.constant(null), fc.record({ block: blockId, node: nodeId })),
  }),
  STATUS: fc.record({
    namenode: nodeId,
    version: fc.constant("0.1.0"),
    time: isoTime,
    deadAfterMs: fc.integer({ min: 1, max: 1e9 }),
    nodes: fc.array(
      fc.record({
        node: nodeId,
        address: nodeAddress,
        state: fc.constantFrom("alive", "dead"),
        capacity: byteCount,
        free: byteCount,
        blocks: fc.nat({ max: 1000 }),
        lastHeartbeat: isoTime,
        heartbeatAgeMs: byteCount,
        traffic: fc.oneof(
          fc.constant(null),
          fc.record({
            requests: byteCount,
            errors: byteCount,
            bytesIn: byteCount,
            bytesOut: byteCount,
          }),
        ),
        trafficError: fc.oneof(fc.constant(null), fc.constant("Connection refused")),
        scrub: fc.oneof(
          fc.constant(null),
          fc.record({
            checkedBytes: byteCount,
            totalBytes: byteCount,
            corrupt: fc.nat({ max: 9 }),
            passes: fc.nat({ max: 9 }),
            lastPassEnded: fc.oneof(fc.constant(null), isoTime),
          }),
        ),
      }),
      { maxLength: 2 },
    ),
    files: fc.record({
      total: byteCount,
      healthy: byteCount,
      degraded: byteCount,
      lost: byteCount,
      unknown: byteCount,
    }),
    endangered: fc.array(
      fc.record({
        name: fileName,
        code: codeName,
        status: fc.constantFrom("degraded", "lost", "unknown"),
        blocks: fc.nat({ max: 100 }),
        unavailable: fc.nat({ max: 100 }),
      }),
      { maxLength: 2 },
    ),
    repair: fc.record({
      queued: fc.nat({ max: 100 }),
      items: fc.array(
        fc.record({
          name: fileName,
          reason: fc.constant("datanode dn3 dead"),
          state: fc.constantFrom("queued", "running"),
          progress: fc.oneof(fc.constant(null), fc.double({ min: 0, max: 1, noNaN: true })),
        }),
        { maxLength: 2 },
      ),
    }),
    events: fc.array(
      fc.record({
        time: isoTime,
        namenode: nodeId,
        event: fc.constantFrom("listening", "datanode-dead"),
        node: nodeId,
      }),
      { maxLength: 2 },
    ),
    truncated: fc.boolean(),
  }),
};

const ops = Object.keys(validResponse) as NameNodeOp[];
const opAndResponse = fc.constantFrom(...ops).chain((op) =>
  fc.tuple(fc.constant(op), parserInputs(validResponse[op]!))
);

Deno.test("fuzz: parseNameNodeResponse refuses every malformed reply with BAD_REQUEST", () => {
  assertProperty(
    "parseNameNodeResponse",
    fc.property(opAndResponse, ([op, input]) => {
      const parsed = parsesOrRefuses(() => parseNameNodeResponse(op, input));
      if (parsed !== undefined) {
        const wire = overTheWire(parsed.value);
        assert.deepEqual(overTheWire(parseNameNodeResponse(op, wire)), wire);
      }
    }),
  );
});

Deno.test("fuzz: every valid namenode reply parses to itself", () => {
  const valid = fc.constantFrom(...ops).chain((op) =>
    fc.tuple(fc.constant(op), validResponse[op]!)
  );
  assertProperty(
    "parseNameNodeResponse round trip",
    fc.property(valid, ([op, response]) => {
      const wire = overTheWire(response);
      assert.deepEqual(overTheWire(parseNameNodeResponse(op, wire)), wire);
    }),
  );
});
