import assert from "node:assert/strict";
import { cdfsError } from "../helpers/assert_error.ts";
import { MAX_JSON_PAYLOAD } from "../../src/protocol/frame.ts";
import {
  buildListResponse,
  errorBody,
  type ListEntry,
  MAX_CODING_TIMEOUT_MS,
  MIN_CODING_TIMEOUT_MS,
  parseErrorBody,
  parseRequest,
  parseResponse,
  validateNodeId,
} from "../../src/protocol/messages.ts";

function badRequest(pattern: RegExp): (e: unknown) => boolean {
  return cdfsError("BAD_REQUEST", pattern);
}

const CREATED = "2025-06-01T12:34:56.789Z";

Deno.test("every valid request parses to exactly its fields", () => {
  const valid: Record<string, unknown>[] = [
    { op: "PING" },
    { op: "STORE", block: "b1", chunkSize: 1048576 },
    { op: "STORE", block: "b1", chunkSize: 4096, length: 0, overwrite: true },
    { op: "RETRIEVE", block: "b.2" },
    { op: "RETRIEVE", block: "b.2", offset: 10, length: 0 },
    { op: "DELETE", block: "x" },
    { op: "STAT", block: "x" },
    { op: "LIST" },
    { op: "LIST", prefix: "", after: "a", limit: 10000 },
  ];
  for (const request of valid) {
    assert.deepEqual(parseRequest(request), request);
  }
});

Deno.test("requests: not an object, missing or unknown op", () => {
  assert.throws(() => parseRequest(null), badRequest(/must be a JSON object, got null/));
  assert.throws(() => parseRequest([]), badRequest(/got array/));
  assert.throws(() => parseRequest("PING"), badRequest(/got string/));
  assert.throws(() => parseRequest({}), badRequest(/no "op"/));
  assert.throws(() => parseRequest({ op: 1 }), badRequest(/"op" must be a string/));
  assert.throws(() => parseRequest({ op: "FORMAT" }), badRequest(/unknown op "FORMAT"/));
  assert.throws(() => parseRequest({ op: "ping" }), badRequest(/unknown op "ping"/));
  assert.throws(() => parseRequest({ op: "toString" }), badRequest(/unknown op/));
});

Deno.test("requests: unknown extra fields are rejected, not ignored", () => {
  assert.throws(() => parseRequest({ op: "PING", x: 1 }), badRequest(/unknown field "x"/));
  assert.throws(
    () => parseRequest({ op: "STAT", block: "b", offset: 0 }),
    badRequest(/STAT has an unknown field "offset"/),
  );
  assert.throws(
    () => parseRequest(JSON.parse('{"op":"DELETE","block":"b","__proto__":{"x":1}}')),
    badRequest(/unknown field "__proto__"/),
  );
});

Deno.test("requests: field types and integer ranges", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { op: "STORE", block: "b" },
      /"chunkSize" must be an integer in 4096\.\.16777216, got undefined/,
    ],
    [{ op: "STORE", block: "b", chunkSize: 4095 }, /got 4095/],
    [{ op: "STORE", block: "b", chunkSize: 16777217 }, /got 16777217/],
    [{ op: "STORE", block: "b", chunkSize: 65536.5 }, /got 65536\.5/],
    [{ op: "STORE", block: "b", chunkSize: "65536" }, /got string/],
    [{ op: "STORE", block: "b", chunkSize: 65536, length: -1 }, /"length".*got -1/],
    [{ op: "STORE", block: "b", chunkSize: 65536, length: 2 ** 53 }, /"length"/],
    [
      { op: "STORE", block: "b", chunkSize: 65536, overwrite: 1 },
      /"overwrite" must be true or false/,
    ],
    [{ op: "STORE", block: "../b", chunkSize: 65536 }, /block id/],
    [{ op: "RETRIEVE", block: "b", offset: -5 }, /"offset".*got -5/],
    [{ op: "RETRIEVE", block: "b", length: null }, /"length".*got null/],
    [{ op: "RETRIEVE" }, /block id must be a string, got undefined/],
    [{ op: "DELETE", block: "" }, /block id is empty/],
    [{ op: "STAT", block: "/etc/passwd" }, /contains "\/"/],
    [{ op: "LIST", limit: 0 }, /"limit".*1\.\.10000, got 0/],
    [{ op: "LIST", limit: 10001 }, /got 10001/],
    [{ op: "LIST", prefix: "a/b" }, /prefix.*contains "\/"/],
    [{ op: "LIST", after: "" }, /after" is empty/],
  ];
  for (const [request, pattern] of cases) {
    assert.throws(() => parseRequest(request), badRequest(pattern), JSON.stringify(request));
  }
});

Deno.test("responses are validated against the op they answer", () => {
  const valid = {
    PING: { node: "dn-1", version: "0.1.0", freeBytes: 123, blocks: 0 },
    STORE: { block: "b", length: 5, digest: "0123456789abcdef" },
    RETRIEVE: {
      block: "b",
      length: 5,
      blockLength: 9,
      chunkSize: 4096,
      digest: "ef46db3751d8e999",
    },
    DELETE: { block: "b", deleted: true },
    STAT: {
      block: "b",
      length: 5,
      chunkSize: 1048576,
      digest: "0000000000000000",
      created: CREATED,
    },
    LIST: { blocks: [{ block: "b", length: 5, created: CREATED }], next: null },
  } as const;
  for (const [op, response] of Object.entries(valid)) {
    assert.deepEqual(parseResponse(op as keyof typeof valid, response), response);
  }
  assert.deepEqual(parseResponse("LIST", { blocks: [], next: "zz" }), { blocks: [], next: "zz" });
  const invalid: [keyof typeof valid, unknown, RegExp][] = [
    ["PING", { ...valid.PING, extra: 1 }, /unknown field "extra"/],
    ["PING", { ...valid.PING, node: "a b" }, /node id/],
    ["PING", { ...valid.PING, freeBytes: -1 }, /freeBytes/],
    ["STORE", { ...valid.STORE, digest: "0123456789ABCDEF" }, /digest/],
    ["STORE", { ...valid.STORE, digest: "123" }, /digest/],
    ["RETRIEVE", { ...valid.RETRIEVE, length: 10 }, /exceeds "blockLength"/],
    ["DELETE", { block: "b", deleted: false }, /"deleted" must be true/],
    ["STAT", { ...valid.STAT, created: "yesterday" }, /created/],
    ["STAT", { ...valid.STAT, created: "2025-13-45T99:00:00Z" }, /created/],
    ["LIST", { blocks: {}, next: null }, /must be an array/],
    ["LIST", { blocks: [{ block: "b", length: 1 }], next: null }, /entry 0 "created"/],
    ["LIST", { blocks: [], next: "../x" }, /next/],
    ["LIST", { blocks: [] }, /next/],
  ];
  for (const [op, response, pattern] of invalid) {
    assert.throws(() => parseResponse(op, response), badRequest(pattern), JSON.stringify(response));
  }
});

Deno.test("error bodies: known codes pass, unknown codes become INTERNAL, lines stay single", () => {
  assert.deepEqual(parseErrorBody({ code: "CORRUPT", message: "bad" }), {
    code: "CORRUPT",
    message: "bad",
  });
  assert.deepEqual(parseErrorBody({ code: "QUOTA", message: "full" }), {
    code: "INTERNAL",
    message: "QUOTA: full",
  });
  assert.equal(parseErrorBody({ code: "EXISTS", message: "a\nb\r\n" }).message, "a b ");
  assert.throws(() => parseErrorBody({ code: "lower", message: "" }), badRequest(/code/));
  assert.throws(() => parseErrorBody({ code: "EXISTS" }), badRequest(/message/));
  assert.throws(() => parseErrorBody({ code: "EXISTS", message: "", x: 1 }), badRequest(/"x"/));
  const long = errorBody("INTERNAL", "é".repeat(5000));
  assert.ok(long.message.length <= 1000);
  assert.ok(new TextEncoder().encode(JSON.stringify(long)).length <= 4096);
});

Deno.test("node ids", () => {
  assert.equal(validateNodeId("dn1:7070@rack-2"), "dn1:7070@rack-2");
  assert.throws(() => validateNodeId(""), badRequest(/node id/));
  assert.throws(() => validateNodeId("a/b"), badRequest(/node id/));
});

Deno.test("LIST pages respect the limit and the 64 KiB bound, and set next", () => {
  const entries: ListEntry[] = [];
  for (let i = 0; i < 10001; i++) {
    entries.push({
      block: `${"x".repeat(190)}${String(i).padStart(6, "0")}`,
      length: i,
      created: CREATED,
    });
  }
  const page = buildListResponse(entries, 10000);
  const size = new TextEncoder().encode(JSON.stringify(page)).length;
  assert.ok(size <= MAX_JSON_PAYLOAD, `page is ${size} bytes`);
  assert.ok(page.blocks.length > 100 && page.blocks.length < 10000);
  assert.equal(page.next, page.blocks[page.blocks.length - 1]!.block);
  assert.deepEqual(page.blocks, entries.slice(0, page.blocks.length));
  // The page is valid for the client too.
  assert.deepEqual(parseResponse("LIST", JSON.parse(JSON.stringify(page))), page);

  const small = entries.slice(0, 3);
  assert.deepEqual(buildListResponse(small, 2), {
    blocks: small.slice(0, 2),
    next: small[1]!.block,
  });
  assert.deepEqual(buildListResponse(small, 3), { blocks: small, next: null });
  assert.deepEqual(buildListResponse([], 5), { blocks: [], next: null });
});

Deno.test("CODING push: a chain naming the program, a length from every producer", () => {
  const base = {
    op: "CODING",
    module: "rapidraid",
    object: "o",
    run: "0123456789abcdef0123456789abcdef",
    nodes: ["127.0.0.1:1", "127.0.0.1:2"],
    chunkSize: 65536,
  };
  const chain = ["enc_node0", "enc_node1", "enc_node2"];
  const first = { ...base, program: "enc_node0", push: { chain } };
  const middle = { ...base, program: "enc_node1", push: { chain, length: 5 } };
  assert.deepEqual(parseRequest(first), first);
  assert.deepEqual(parseRequest(middle), middle);
  const invalid: [unknown, RegExp][] = [
    [{ chain, length: 5 }, /"length" must be absent for the chain's first program/],
    [{ chain: ["enc_node1", "enc_node2"] }, /does not name the program 'enc_node0'/],
    [{ chain: ["enc_node0"] }, /"chain" must be an array of 2\.\./],
    [{ chain: ["enc_node0", "a b"] }, /"chain"\[1\] must match/],
    [{ chain, extra: 1 }, /unknown field "extra"/],
    ["enc_node0", /"push"/],
  ];
  for (const [push, pattern] of invalid) {
    assert.throws(() => parseRequest({ ...first, push }), badRequest(pattern), String(push));
  }
  assert.throws(
    () => parseRequest({ ...middle, push: { chain } }),
    badRequest(/"length" is required for 'enc_node1'/),
  );
  assert.throws(
    () => parseRequest({ ...middle, push: { chain, length: -1 } }),
    badRequest(/"length"/),
  );
});

Deno.test("CODING timeoutMs: the run's stall timeout, an integer of 100 ms .. 1 day", () => {
  const base = {
    op: "CODING",
    module: "rapidraid",
    program: "enc_node15",
    object: "o",
    run: "0123456789abcdef0123456789abcdef",
    nodes: ["127.0.0.1:1"],
    chunkSize: 65536,
  };
  for (const timeoutMs of [MIN_CODING_TIMEOUT_MS, 1500, MAX_CODING_TIMEOUT_MS]) {
    assert.deepEqual(parseRequest({ ...base, timeoutMs }), { ...base, timeoutMs });
  }
  for (const timeoutMs of [0, 99, 1500.5, MAX_CODING_TIMEOUT_MS + 1, "1500", null]) {
    assert.throws(
      () => parseRequest({ ...base, timeoutMs }),
      badRequest(/CODING "timeoutMs" must be an integer in 100\.\.86400000/),
      String(timeoutMs),
    );
  }
});

Deno.test("STATS: a run's times are optional epoch milliseconds", () => {
  const run = "0123456789abcdef0123456789abcdef";
  const served = { requests: 1, errors: 0, bytesIn: 1, bytesOut: 2, ms: 3 };
  const stats = (times: unknown) => ({
    node: "dn-1",
    since: CREATED,
    total: served,
    ops: {},
    runs: { [run]: { served, upstream: {}, ...(times === undefined ? {} : { times }) } },
  });
  assert.deepEqual(parseResponse("STATS", stats(undefined)), stats(undefined));
  const times = { startedAt: 1_800_000_000_000, firstStepAt: 1_800_000_000_005 };
  assert.deepEqual(parseResponse("STATS", stats(times)), stats(times));
  assert.throws(() => parseResponse("STATS", stats({})), badRequest(/startedAt/));
  assert.throws(
    () => parseResponse("STATS", stats({ ...times, lastStepAt: "soon" })),
    badRequest(/lastStepAt/),
  );
  assert.throws(() => parseResponse("STATS", stats({ ...times, x: 1 })), badRequest(/"x"/));
});
