/**
 * The op table, error classification and log sink, and an in-process server with extra ops:
 * a handler that throws something unexpected is answered INTERNAL with a short message (its
 * stack goes to the log only) and the connection stays usable; a new op is one handler.
 */
import assert from "node:assert/strict";
import { WasmArena } from "../../src/buffer/arena.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import { OpTable, STANDARD_OPS } from "../../src/datanode/dispatch.ts";
import { formatLogLine, jsonLineSink, type LogRecord } from "../../src/datanode/log.ts";
import { type OpHandler } from "../../src/datanode/op.ts";
import { DataNodeServer } from "../../src/datanode/server.ts";
import { CdfsError } from "../../src/core/errors.ts";
import { PeerError } from "../../src/protocol/peer_error.ts";
import { FRAME_TYPE } from "../../src/protocol/frame.ts";
import { describeFailure } from "../../src/protocol/failure.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { call, connect, rejectsWith } from "./_client.ts";

Deno.test("OpTable routes by op and words unknown ops like the protocol", () => {
  const table = new OpTable(STANDARD_OPS);
  assert.deepEqual(table.ops, [
    "PING",
    "STORE",
    "RETRIEVE",
    "DELETE",
    "STAT",
    "LIST",
    "CODING",
    "STATS",
    "SCRUB",
  ]);
  assert.equal(table.find({ op: "STAT", block: "x" }).op, "STAT");
  assert.throws(() => table.find({ op: "FORMAT" }), /unknown op "FORMAT"/);
  assert.throws(() => table.find({}), /request has no "op"/);
  assert.throws(() => table.find({ op: 3 }), /"op" must be a string/);
  // A v1 op the table does not serve is unknown here too.
  assert.throws(() => new OpTable([]).find({ op: "PING" }), /unknown op "PING"/);
  assert.throws(() => new OpTable([...STANDARD_OPS, STANDARD_OPS[0]!]), /two handlers/);
});

Deno.test("describeFailure keeps codes, maps a full disk, hides bugs behind INTERNAL", () => {
  assert.deepEqual(describeFailure(new CdfsError("EXISTS", "block 'b' already exists")), {
    code: "EXISTS",
    message: "block 'b' already exists",
    fromPeer: false,
  });
  assert.equal(describeFailure(new PeerError("CORRUPT", "x")).fromPeer, true);
  const full = Object.assign(new Error("No space left on device (os error 28)"), {
    code: "ENOSPC",
  });
  assert.equal(describeFailure(full).code, "NO_SPACE");
  const bug = describeFailure(new TypeError("cannot read x\n  at somewhere"));
  assert.equal(bug.code, "INTERNAL");
  assert.equal(bug.message, "internal error: TypeError: cannot read x");
  assert.match(bug.stack ?? "", /TypeError/);
  assert.equal(describeFailure("a string").message, "internal error: string: a string");
});

Deno.test("jsonLineSink writes one JSON line per record and swallows write errors", () => {
  const lines: string[] = [];
  const record: LogRecord = { time: "t", node: "n", event: "stopped" };
  jsonLineSink((text) => lines.push(text))(record);
  assert.deepEqual(lines, [formatLogLine(record)]);
  assert.deepEqual(JSON.parse(lines[0]!), record);
  assert.ok(lines[0]!.endsWith("}\n"));
  jsonLineSink(() => {
    throw new Error("disk full");
  })(record);
});

Deno.test("an unexpected exception is INTERNAL to the client, its stack only in the log", async () => {
  const records: LogRecord[] = [];
  const boom: OpHandler = {
    op: "BOOM",
    clientStreams: false,
    run() {
      return Promise.reject(new TypeError("undefined is not a function"));
    },
  };
  const echo: OpHandler = {
    op: "ECHO",
    clientStreams: false,
    async run(ctx, raw) {
      await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { echo: raw.text ?? null });
    },
  };
  const dir = await Deno.makeTempDir();
  const server = DataNodeServer.listen({
    store: await BlockStore.open(dir),
    pool: new BufferPool({
      arena: new WasmArena({ maxBytes: 4 << 20 }),
      bufferSize: 4096 + 64,
      maxBuffers: 4,
    }),
    nodeId: "in-process",
    port: 0,
    ops: [...STANDARD_OPS, boom, echo],
    log: (record) => records.push(record),
  });
  try {
    const conn = await connect(server.addr.port);
    try {
      const error = await rejectsWith(call(conn, "PING", { op: "BOOM" }), "INTERNAL");
      assert.equal(error.message, "internal error: TypeError: undefined is not a function");
      // Same connection, still usable; the extra op is served.
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "ECHO", text: "hi" });
      assert.deepEqual(await conn.readJsonFrame(FRAME_TYPE.RESPONSE), { echo: "hi" });
      assert.equal((await call(conn, "PING")).node, "in-process");
      // A STORE whose chunk size does not fit this node's 4 KiB buffers.
      await conn.writeJsonFrame(FRAME_TYPE.REQUEST, {
        op: "STORE",
        block: "b",
        chunkSize: 8192,
      });
      await rejectsWith(
        conn.readJsonFrame(FRAME_TYPE.RESPONSE),
        "BAD_REQUEST",
        /limit of 4144 bytes/,
      );
    } finally {
      conn.close();
    }
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
  const logged = records.find((r) => "op" in r && r.op === "BOOM");
  assert.ok(logged && "op" in logged);
  assert.equal(logged.result, "INTERNAL");
  assert.match(logged.stack ?? "", /TypeError: undefined is not a function\n\s+at /);
  assert.deepEqual(
    records.filter((r) => "event" in r).map((r) => "event" in r && r.event),
    ["listening", "shutdown", "stopped"],
  );
});
