/**
 * The namenode's messages: requests validated strictly (and encoded back by the client), full
 * block reports as a line stream across frames.
 */
import assert from "node:assert/strict";
import { DecisionLog, nameNodeJsonLineSink } from "../../src/namenode/log.ts";
import { encodeReport, reportChunks, ReportParser } from "../../src/namenode/report_stream.ts";
import { type NameNodeRequest, requestToJson } from "../../src/namenode/requests.ts";
import { parseNameNodeRequest } from "../../src/namenode/parse_request.ts";
import { parseNameNodeResponse } from "../../src/namenode/parse_response.ts";
import { cdfsError } from "../helpers/assert_error.ts";

Deno.test("every request survives encoding and validation unchanged", () => {
  const requests: NameNodeRequest[] = [
    { op: "PING" },
    { op: "REGISTER", node: "dn0", address: "127.0.0.1:13100", capacity: 10, free: 5 },
    { op: "HEARTBEAT", node: "dn0", free: 4, capacity: 10 },
    { op: "LEAVE", node: "dn0" },
    {
      op: "BLOCK_REPORT",
      node: "dn0",
      kind: "incremental",
      added: [{ blockId: "f1.part0", length: 3 }],
      removed: ["x"],
    },
    { op: "BLOCK_REPORT", node: "dn0", kind: "full", count: 2, length: 20, chunkSize: 4096 },
    {
      op: "CREATE_FILE",
      name: "dir/ä b.txt",
      code: "rapidraid",
      length: 100,
      digest: "ab".repeat(32),
      layout: { n: 2, roles: [{ role: { kind: "part", index: 0 }, nodes: [0, 1] }] },
      blockLength: 7,
    },
    { op: "COMMIT_FILE", fileId: 3, length: 100, digest: "ab".repeat(32), state: "encoded" },
    { op: "ABORT_FILE", fileId: 3 },
    { op: "GET_FILE", name: "a" },
    { op: "GET_FILE", fileId: 3 },
    { op: "LIST_FILES", prefix: "a", after: "ab", limit: 5 },
    { op: "DELETE_FILE", name: "a" },
    { op: "MOVE_BLOCK", fileId: 3, blockId: "f3.coded1", from: "a", to: "b" },
    { op: "ADD_BLOCKS", fileId: 3, placements: [{ role: { kind: "coded", index: 0 }, node: "a" }] },
    {
      op: "ADD_BLOCKS",
      fileId: 3,
      layout: { n: 1, roles: [{ role: { kind: "coded", index: 0 }, nodes: [0] }] },
    },
    {
      op: "DROP_BLOCKS",
      fileId: 3,
      blocks: [{ blockId: "f3.part0", node: "a" }],
      state: "archived",
    },
    { op: "LIST_DATANODES", after: "dn1", limit: 2 },
    { op: "FSCK", name: "a" },
    { op: "FSCK", prefix: "", limit: 10 },
    { op: "ORPHANS", graceMs: 0, after: { blockId: "b", node: "a" }, limit: 3 },
  ];
  for (const request of requests) {
    const wire = JSON.parse(JSON.stringify(requestToJson(request)));
    assert.deepEqual(parseNameNodeRequest(wire), request, request.op);
  }
});

Deno.test("malformed requests are refused naming the field", () => {
  const cases: [unknown, RegExp][] = [
    [{ op: "FORMAT" }, /unknown op "FORMAT"/],
    [{}, /request has no "op"/],
    [{ op: 7 }, /"op" must be a string, got number/],
    [{ op: "PING", x: 1 }, /PING has an unknown field "x"/],
    [{ op: "GET_FILE", name: 7 }, /GET_FILE "name": file name must be a string, got number/],
    [{ op: "GET_FILE", name: "x".repeat(1025) }, /file name is 1025 bytes long, the limit is 1024/],
    [{ op: "GET_FILE", name: "a\u0000b" }, /control character/],
    [{ op: "GET_FILE" }, /needs exactly one of "name" and "fileId"/],
    [{ op: "GET_FILE", fileId: -1 }, /file id must be a positive integer, got -1/],
    [
      { op: "REGISTER", node: "../x", address: "127.0.0.1:1", capacity: 1, free: 1 },
      /REGISTER "node"/,
    ],
    [
      { op: "REGISTER", node: "a", address: "nowhere", capacity: 1, free: 1 },
      /datanode address "nowhere": no port/,
    ],
    [{ op: "HEARTBEAT", node: "a", free: 1.5 }, /HEARTBEAT "free" must be an integer/],
    [{ op: "LEAVE", node: "a", reason: "x" }, /LEAVE has an unknown field "reason"/],
    [{ op: "LEAVE", node: "../x" }, /LEAVE "node"/],
    [{ op: "BLOCK_REPORT", node: "a", kind: "partial" }, /"kind" must be "full" or "incremental"/],
    [
      { op: "BLOCK_REPORT", node: "a", kind: "full", count: 1, length: 219, chunkSize: 4096 },
      /"length" must be an integer in 0\.\.218/,
    ],
    [{
      op: "BLOCK_REPORT",
      node: "a",
      kind: "incremental",
      added: [],
      removed: new Array(101).fill("b"),
    }, /"removed" has 101 entries, the limit is 100/],
    [
      { op: "CREATE_FILE", name: "a", code: "rs", length: 1 },
      /CREATE_FILE "layout" must be a JSON object, got undefined/,
    ],
    [{ op: "ADD_BLOCKS", fileId: 1 }, /needs exactly one of "layout" and "placements"/],
    [{ op: "DROP_BLOCKS", fileId: 1, blocks: [] }, /"blocks" is empty/],
    [{ op: "FSCK", name: "a", limit: 3 }, /takes "name" or a page/],
    [{ op: "LIST_FILES", limit: 0 }, /"limit" must be an integer in 1\.\.10000, got 0/],
  ];
  for (const [value, pattern] of cases) {
    assert.throws(() => parseNameNodeRequest(value), cdfsError("BAD_REQUEST", pattern));
  }
});

Deno.test("the client refuses a malformed reply", () => {
  assert.throws(
    () => parseNameNodeResponse("HEARTBEAT", { node: "dn0", state: "dead" }),
    cdfsError("BAD_REQUEST", /HEARTBEAT response "state" must be "alive", got "dead"/),
  );
  assert.deepEqual(parseNameNodeResponse("LEAVE", { node: "dn0", state: "dead" }), {
    node: "dn0",
    state: "dead",
  });
  assert.throws(
    () => parseNameNodeResponse("LEAVE", { node: "dn0", state: "alive" }),
    cdfsError("BAD_REQUEST", /LEAVE response "state" must be "dead", got "alive"/),
  );
  assert.throws(
    () => parseNameNodeResponse("LIST_FILES", { files: [], next: null, more: true }),
    cdfsError("BAD_REQUEST", /unknown field "more"/),
  );
});

Deno.test("a full report's lines cross frame boundaries and are parsed back", () => {
  const entries = Array.from(
    { length: 3000 },
    (_, i) => ({ blockId: `f${i}.coded${i % 16}`, length: i * 1000 }),
  );
  const encoded = encodeReport(entries);
  const parser = new ReportParser(entries.length);
  let total = 0;
  let frames = 0;
  for (const chunk of reportChunks(encoded.lines, 4096)) {
    frames++;
    total += chunk.bytes.length;
    parser.push(chunk.bytes.slice());
  }
  assert.equal(total, encoded.length);
  assert.ok(frames > 10);
  assert.deepEqual(parser.finish(), entries);

  const text = (s: string) => new TextEncoder().encode(s);
  assert.throws(
    () => new ReportParser(1).push(text("a b\n")),
    cdfsError("BAD_REQUEST", /line 1 "a b" is not "BLOCK_ID LENGTH"/),
  );
  assert.throws(
    () => new ReportParser(1).push(text("../x 1\n")),
    cdfsError("BAD_REQUEST", /not "BLOCK_ID LENGTH"/),
  );
  assert.throws(
    () => new ReportParser(1).push(text("a 1\nb 2\n")),
    cdfsError("BAD_REQUEST", /more lines than the 1 announced/),
  );
  assert.throws(
    () => new ReportParser(1).push(text("a".repeat(300))),
    cdfsError("BAD_REQUEST", /longer than 217 bytes/),
  );
  const short = new ReportParser(2);
  short.push(text("a 1\n"));
  assert.throws(
    () => short.finish(),
    cdfsError("BAD_REQUEST", /has 1 lines, the request announced 2/),
  );
  const cut = new ReportParser(1);
  cut.push(text("a 1"));
  assert.throws(() => cut.finish(), cdfsError("BAD_REQUEST", /ends in the middle of a line/));
});

Deno.test("a decision is one JSON line; a broken sink never fails the caller", () => {
  const lines: string[] = [];
  const log = new DecisionLog("nn1", nameNodeJsonLineSink((text) => lines.push(text)));
  log.emit("file-committed", { fileId: 7, name: "two\nlines", blocks: ["f7.part0"] });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith("}\n") && lines[0]!.indexOf("\n") === lines[0]!.length - 1);
  const record = JSON.parse(lines[0]!);
  assert.deepEqual(
    [record.namenode, record.event, record.fileId, record.name, record.blocks],
    ["nn1", "file-committed", 7, "two\nlines", ["f7.part0"]],
  );
  assert.ok(!Number.isNaN(Date.parse(record.time)));
  new DecisionLog("nn1", () => {
    throw new Error("disk full");
  }).emit("datanode-dead", { node: "dn1" });
});
