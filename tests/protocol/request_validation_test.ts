import assert from "node:assert/strict";
import { cdfsError } from "../helpers/assert_error.ts";
import { parseRequest } from "../../src/protocol/request_validation.ts";
import { MAX_CODING_TIMEOUT_MS, MIN_CODING_TIMEOUT_MS } from "../../src/protocol/requests.ts";

function badRequest(pattern: RegExp): (e: unknown) => boolean {
  return cdfsError("BAD_REQUEST", pattern);
}

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
