import assert from "node:assert/strict";
import { cdfsError } from "../helpers/assert_error.ts";
import { parseResponse } from "../../src/protocol/response_validation.ts";

function badRequest(pattern: RegExp): (e: unknown) => boolean {
  return cdfsError("BAD_REQUEST", pattern);
}

const CREATED = "2025-06-01T12:34:56.789Z";

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
