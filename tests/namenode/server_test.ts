/**
 * The namenode end to end: a real NameNodeServer on loopback over SQLite, driven by the
 * NameNodeClient (and a raw frame connection for what no client sends). Datanodes here are
 * records only: the namenode never connects to them.
 */
import assert from "node:assert/strict";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { FRAME_TYPE } from "../../src/protocol/frame.ts";
import { cdfsError } from "../helpers/assert_error.ts";
import {
  Clock,
  commitNewFile,
  DIGEST,
  events,
  MIRROR,
  RAPIDRAID_ALL,
  RAPIDRAID_PARTS,
  rawCall,
  rawConnection,
  registerNodes,
  servingNameNode,
  SINGLE,
  startNameNode,
  tempSqlitePath,
  waitFor,
} from "./_namenode.ts";

Deno.test("datanodes register, heartbeat and report; another address under the same id is refused", async () => {
  const { server, records } = await startNameNode();
  await using _server = server;
  using client = await NameNodeClient.connect(server.address);
  const registration = { id: "dn0", address: "127.0.0.1:13100", capacity: 100, free: 90 };
  assert.deepEqual(await client.register(registration), {
    node: "dn0",
    address: "127.0.0.1:13100",
    state: "alive",
    deadAfterMs: 30_000,
    heartbeatIntervalMs: 3_000,
    blockReportIntervalMs: 3_600_000,
  });
  await client.register(registration); // a restart at the same address is welcome
  await assert.rejects(
    client.register({ ...registration, address: "127.0.0.1:9" }),
    cdfsError(
      "CONFLICT",
      /^datanode dn0 is registered at 127\.0\.0\.1:13100, refusing to register it at 127\.0\.0\.1:9$/,
    ),
  );
  assert.deepEqual(
    events(records, "datanode-registered").map((r) => [r.node, r.again]),
    [["dn0", false], ["dn0", true]],
  );
  // The refusal left the connection usable.
  assert.deepEqual(await client.heartbeat("dn0", { free: 80 }), { node: "dn0", state: "alive" });
  await assert.rejects(
    client.heartbeat("dn9", { free: 1 }),
    cdfsError("NOT_FOUND", /^datanode dn9 is not registered$/),
  );
  const [node] = (await client.listDatanodes()).datanodes;
  assert.equal(node?.free, 80);
  assert.equal(node?.state, "alive");

  const { file } = await commitNewFile(client, { name: "one", length: 5 });
  const block = file.blocks[0]!.block;
  assert.deepEqual(
    await client.reportChanges("dn0", [{ blockId: block, length: 5 }, {
      blockId: "stray",
      length: 1,
    }], []),
    { node: "dn0", kind: "incremental", blocks: 2, missing: 0, unknown: 1 },
  );
  // A full report of 5000 blocks (many DATA frames) that lacks the file's block.
  const blocks = Array.from({ length: 5000 }, (_, i) => ({ blockId: `old${i}.part0`, length: i }));
  assert.deepEqual(await client.reportAll("dn0", blocks), {
    node: "dn0",
    kind: "full",
    blocks: 5000,
    missing: 1,
    unknown: 5000,
  });
  // An unregistered node's full report is refused while its stream is under way; the client
  // drops that connection and the next request works on a new one.
  await assert.rejects(
    client.reportAll("dn7", blocks),
    cdfsError("NOT_FOUND", /^datanode dn7 is not registered$/),
  );
  assert.equal((await client.ping()).service, "namenode");
  const [missing] = events(records, "blocks-missing");
  assert.deepEqual([missing?.node, missing?.count, missing?.blocks], ["dn0", 1, [block]]);
  const [health] = (await client.fsck({ name: "one" })).files;
  assert.equal(health?.status, "lost");
  assert.deepEqual(health?.unavailable, [{ block, node: "dn0", why: "missing" }]);

  // The unknown blocks are orphans once old enough, listed page by page.
  assert.deepEqual((await client.orphans()).orphans, [], "younger than the default grace");
  const seen: string[] = [];
  let after: { blockId: string; node: string } | undefined;
  let pages = 0;
  do {
    const page = await client.orphans({ graceMs: 0, limit: 2000, ...(after ? { after } : {}) });
    pages++;
    seen.push(...page.orphans.map((o) => o.block));
    assert.ok(page.orphans.every((o) => o.address === "127.0.0.1:13100"));
    after = page.next === null ? undefined : { blockId: page.next.block, node: page.next.node };
  } while (after !== undefined);
  assert.equal(seen.length, 5000);
  assert.equal(new Set(seen).size, 5000);
  assert.ok(pages >= 3, `5000 orphans in ${pages} pages`);
});

Deno.test("a datanode is marked dead just after its silence passes --dead-after, not a check period later", async () => {
  // A period (3 s) far longer than the silence (400 ms): only the first check waits for it.
  await using nn = await servingNameNode({ deadAfterMs: 400, checkIntervalMs: 3_000 }, 2);
  const { client, records } = nn;
  const beat = setInterval(() => client.heartbeat("dn0", { free: 1 << 30 }).catch(() => {}), 50);
  try {
    // dn1 is silent from the start: the first check, one period in, marks it.
    await waitFor("dn1 marked dead", () => events(records, "datanode-dead").length > 0, 10_000);
    // dn2 joins right after that check and falls silent at once: it is marked about 400 ms
    // later, by a check timed on the silences, not at the next period (3 s after the last).
    await client.register({
      id: "dn2",
      address: "127.0.0.1:20002",
      capacity: 1 << 30,
      free: 1 << 30,
    });
    await waitFor(
      "dn2 marked dead",
      () => events(records, "datanode-dead").some((r) => r.node === "dn2"),
      10_000,
    );
  } finally {
    clearInterval(beat);
  }
  const dn2 = events(records, "datanode-dead").find((r) => r.node === "dn2")!;
  assert.ok((dn2.silentMs as number) > 400, JSON.stringify(dn2));
  assert.ok((dn2.silentMs as number) < 1_600, `marked ${dn2.silentMs} ms after its last word`);
  assert.deepEqual(events(records, "datanode-dead").map((r) => r.node), ["dn1", "dn2"]);
});

Deno.test("a silent datanode is marked dead by the background loop; GET_FILE shows its blocks on a dead node", async () => {
  await using nn = await servingNameNode({ deadAfterMs: 300, checkIntervalMs: 50 }, 2);
  const { client, records } = nn;
  const { file } = await commitNewFile(client, { name: "m", length: 10, layout: MIRROR });
  // dn0 keeps beating, dn1 falls silent.
  const beat = setInterval(() => client.heartbeat("dn0", { free: 1 << 30 }).catch(() => {}), 50);
  try {
    await waitFor("dn1 marked dead", () => events(records, "datanode-dead").length > 0);
  } finally {
    clearInterval(beat);
  }
  const [dead] = events(records, "datanode-dead");
  assert.equal(dead?.node, "dn1");
  assert.equal(dead?.reason, "silent");
  assert.equal(dead?.blocks, 1);
  assert.equal(dead?.files, 1);
  assert.ok((dead?.silentMs as number) > 300);
  await client.heartbeat("dn0", { free: 1 << 30 }); // dn0 is surely fresh for what follows
  const got = await client.getFile("m");
  const alive = Object.fromEntries(got.blocks.map((b) => [b.node, b.alive]));
  assert.deepEqual(alive, { dn0: true, dn1: false });
  const list = (await client.listDatanodes()).datanodes;
  assert.deepEqual(list.map((n) => [n.node, n.state]), [["dn0", "alive"], ["dn1", "dead"]]);
  const [health] = (await client.fsck({ name: "m" })).files;
  assert.equal(health?.status, "degraded", "the copy on dn0 still holds the data");
  assert.deepEqual(health?.unavailable, [{
    block: `f${file.fileId}.part0`,
    node: "dn1",
    why: "dead",
  }]);
  // It comes back.
  await client.heartbeat("dn1", { free: 1 << 30 });
  assert.equal(events(records, "datanode-alive-again")[0]?.node, "dn1");
  assert.equal((await client.getFile("m")).blocks.find((b) => b.node === "dn1")?.alive, true);
});

Deno.test("LEAVE: the datanode is dead at once, logged once; unknown ones refused; a heartbeat revives it", async () => {
  await using nn = await servingNameNode({ deadAfterMs: 60_000 }, 2);
  const { client, records } = nn;
  const { file } = await commitNewFile(client, { name: "m", length: 10, layout: MIRROR });
  const dn = file.blocks[0]!.node;

  assert.deepEqual(await client.leave(dn), { node: dn, state: "dead" });
  const [dead] = events(records, "datanode-dead");
  assert.equal(dead?.node, dn);
  assert.equal(dead?.reason, "left");
  assert.equal(dead?.address, file.blocks[0]!.address);
  assert.equal(dead?.blocks, 1);
  assert.equal(dead?.files, 1);
  assert.equal(typeof dead?.silentMs, "number");
  const [health] = (await client.fsck({ name: "m" })).files;
  assert.equal(health?.status, "degraded");
  assert.deepEqual(health?.unavailable, [{
    block: `f${file.fileId}.part0`,
    node: dn,
    why: "dead",
  }]);
  // No new blocks go there: one live datanode cannot take a mirror.
  await assert.rejects(
    client.createFile({ name: "n", code: "replication", length: 10, layout: MIRROR }),
    cdfsError("UNAVAILABLE", /needs 2 distinct live datanodes, 1 is available/),
  );

  // Said twice: the same answer, one death in the log.
  assert.deepEqual(await client.leave(dn), { node: dn, state: "dead" });
  assert.equal(events(records, "datanode-dead").length, 1);
  await assert.rejects(client.leave("dn9"), cdfsError("NOT_FOUND", /dn9 is not registered/));

  await client.heartbeat(dn, { free: 1 << 30 });
  assert.equal(events(records, "datanode-alive-again")[0]?.node, dn);
  assert.equal((await client.fsck({ name: "m" })).files[0]?.status, "healthy");
});

Deno.test("create, commit, get: pending files are invisible, names unique, unknown files refused", async () => {
  await using nn = await servingNameNode({}, 16);
  const { client, records } = nn;
  const spec = { name: "movies/big.mkv", code: "rapidraid", layout: RAPIDRAID_PARTS };
  const created = await client.createFile({ ...spec, length: 11_000 });
  const { file, nodes } = created;
  assert.equal(file.state, "pending");
  assert.equal(file.blocks.length, 22);
  assert.equal(new Set(nodes.map((n) => n?.node)).size, 16, "16 distinct datanodes");
  for (const b of file.blocks) {
    assert.match(b.block, new RegExp(`^f${file.fileId}\\.part${b.index}$`));
    const logical = RAPIDRAID_PARTS.roles[b.index]!.nodes;
    assert.ok(logical.some((i) => nodes[i]?.node === b.node), `${b.block} follows the layout`);
    assert.equal(b.address, `127.0.0.1:${20000 + Number(b.node.slice(2))}`);
    assert.equal(b.state, "pending");
  }
  await assert.rejects(
    client.getFile("movies/big.mkv"),
    cdfsError("NOT_FOUND", /there is no file "movies\/big.mkv"/),
  );
  assert.deepEqual((await client.listFiles()).files, []);
  assert.equal(
    (await client.getFileById(file.fileId)).state,
    "pending",
    "its writer sees it by id",
  );
  await assert.rejects(
    client.createFile({ ...spec, length: 1 }),
    cdfsError("EXISTS", /file "movies\/big.mkv" is being created/),
  );

  const committed = await client.commitFile(file.fileId, { digest: DIGEST });
  assert.equal(committed.state, "replicated");
  assert.ok(committed.blocks.every((b) => b.state === "stored" && b.alive));
  assert.deepEqual(await client.getFile("movies/big.mkv"), committed);
  const listed = (await client.listFiles({ prefix: "movies/" })).files;
  assert.deepEqual(listed.map((f) => [f.name, f.blocks, f.length]), [[
    "movies/big.mkv",
    22,
    11_000,
  ]]);
  await assert.rejects(
    client.createFile({ ...spec, length: 1 }),
    cdfsError("EXISTS", /file "movies\/big.mkv" already exists/),
  );

  // Explicit placements (a new replica), then aborted: the committed file keeps the rest.
  const extra = await client.addBlocks(file.fileId, {
    placements: [{ role: { kind: "coded", index: 0 }, node: "dn3" }],
  });
  assert.equal(extra.nodes, null);
  assert.deepEqual(
    extra.file.blocks.filter((b) => b.state === "pending").map((b) => [b.block, b.node]),
    [[`f${file.fileId}.coded0`, "dn3"]],
  );
  assert.deepEqual(await client.abortFile(file.fileId), {
    ...committed,
    version: committed.version + 2,
  });

  await assert.rejects(client.getFile("nope"), cdfsError("NOT_FOUND", /^there is no file "nope"$/));
  await assert.rejects(
    client.commitFile(9999, { digest: DIGEST }),
    cdfsError("NOT_FOUND", /^there is no file with id 9999$/),
  );
  await assert.rejects(client.abortFile(9999), cdfsError("NOT_FOUND", /with id 9999/));
  await assert.rejects(client.deleteFile("nope"), cdfsError("NOT_FOUND", /"nope"/));

  const tmp = await client.createFile({
    name: "tmp",
    code: "replication",
    length: 1,
    layout: SINGLE,
  });
  assert.equal(await client.abortFile(tmp.file.fileId), null);
  const again = await client.createFile({
    name: "tmp",
    code: "replication",
    length: 1,
    layout: SINGLE,
  });
  assert.ok(again.file.fileId > tmp.file.fileId, "ids are never reused");

  const deleted = await client.deleteFile("movies/big.mkv");
  assert.equal(deleted.blocks.length, 22, "the caller learns which blocks to delete");
  await assert.rejects(
    client.getFile("movies/big.mkv"),
    cdfsError("NOT_FOUND", /there is no file/),
  );
  for (const event of ["file-created", "file-committed", "file-aborted", "file-deleted"]) {
    assert.ok(events(records, event).length > 0, event);
  }
  assert.deepEqual(events(records, "file-committed")[0]?.name, "movies/big.mkv");
});

Deno.test("not enough datanodes with room: refused in one line naming the numbers", async () => {
  await using nn = await servingNameNode({}, 12);
  const { client } = nn;
  const spec = { name: "big", code: "rapidraid", length: 11 << 20, layout: RAPIDRAID_PARTS };
  await assert.rejects(
    client.createFile(spec),
    cdfsError(
      "UNAVAILABLE",
      /^cannot place the blocks of file "big": the layout needs 16 distinct live datanodes, 12 are available$/,
    ),
  );
  await registerNodes(client, 4, 1000, 12); // four nearly full nodes
  await assert.rejects(
    client.createFile(spec),
    cdfsError(
      "UNAVAILABLE",
      /needs 16 distinct live datanodes with at least 1\.0 MiB free; 16 are available, 12 of them with that much free$/,
    ),
  );
  // Nothing was reserved by the refusals: a small file fits.
  await client.createFile({ ...spec, length: 11 });
});

Deno.test("malformed requests get BAD_REQUEST, the connection keeps serving, broken frames close it", async () => {
  const { server, records } = await startNameNode();
  await using _server = server;
  const conn = await rawConnection(server.address);
  try {
    const cases: [object | Uint8Array, RegExp][] = [
      [{ op: "FORMAT" }, /^unknown op "FORMAT"$/],
      [{ op: "GET_FILE", name: 5 }, /GET_FILE "name": file name must be a string, got number/],
      [
        { op: "GET_FILE", name: "x".repeat(5000) },
        /file name is 5000 bytes long, the limit is 1024/,
      ],
      [{ op: "LIST_FILES", limit: "10" }, /"limit" must be an integer in 1\.\.10000, got string/],
      [
        { op: "REGISTER", node: "dn0", address: "127.0.0.1:1", capacity: -1, free: 0 },
        /"capacity" must be an integer/,
      ],
      [{
        op: "CREATE_FILE",
        name: "a",
        code: "rs",
        length: 1,
        layout: { n: 1, roles: [{ kind: "part", index: 0, nodes: [3] }] },
      }, /0\.\.0, got 3/],
      [{ op: "PING", extra: true }, /unknown field "extra"/],
      [new TextEncoder().encode("{not json"), /REQUEST payload is not valid JSON/],
      [new Uint8Array([0x7b, 0xff, 0x7d]), /not valid UTF-8/],
      [new TextEncoder().encode("[1]"), /must be a JSON object/],
    ];
    for (const [payload, pattern] of cases) {
      const { error } = await rawCall(conn, payload);
      assert.equal(error?.code, "BAD_REQUEST", String(pattern));
      assert.match(error!.message, pattern);
    }
    const { response } = await rawCall(conn, { op: "PING" });
    assert.equal(response?.service, "namenode", "the same connection still serves");
  } finally {
    conn.close();
  }
  assert.equal(events(records, "request-failed").length, 10);

  // A malformed full report: refused, then closed (its stream would follow the request).
  const report = await rawConnection(server.address);
  const refused = await rawCall(report, {
    op: "BLOCK_REPORT",
    node: "dn0",
    kind: "full",
    count: 1,
    length: 4,
    chunkSize: 1,
  });
  assert.equal(refused.error?.code, "BAD_REQUEST");
  assert.match(refused.error!.message, /"chunkSize" must be an integer in 4096\.\.1048576, got 1/);
  assert.equal(await report.readFrameHeader().catch(() => null), null, "then closed");
  report.close();
  // A frame of the wrong type: answered, then closed; the server goes on serving others.
  const wrong = await rawConnection(server.address);
  await wrong.writeFrame(FRAME_TYPE.DATA, new Uint8Array([1, 2, 3]));
  await assert.rejects(
    wrong.readJsonFrame(FRAME_TYPE.RESPONSE),
    cdfsError("BAD_REQUEST", /expected a REQUEST frame, got DATA/),
  );
  assert.equal(await wrong.readFrameHeader().catch(() => null), null, "then closed");
  wrong.close();
  // A REQUEST header announcing 100 000 bytes: refused before the payload is read.
  const big = await rawConnection(server.address);
  const header = new Uint8Array(16);
  header[0] = FRAME_TYPE.REQUEST;
  new DataView(header.buffer).setUint32(4, 100_000);
  await big.conn.write(header);
  await assert.rejects(
    big.readJsonFrame(FRAME_TYPE.RESPONSE),
    cdfsError("BAD_REQUEST", /^REQUEST payload of 100000 bytes exceeds the bound of 65536$/),
  );
  big.close();
  using client = await NameNodeClient.connect(server.address);
  assert.equal((await client.ping()).service, "namenode");
});

Deno.test("restart on the same SQLite file: nothing lost", async () => {
  const path = tempSqlitePath();
  const first = await startNameNode({ meta: `sqlite:${path}` });
  const before = await (async () => {
    using client = await NameNodeClient.connect(first.server.address);
    await registerNodes(client, 16);
    const a = await client.createFile({
      name: "a",
      code: "rapidraid",
      length: 1100,
      layout: RAPIDRAID_PARTS,
    });
    await client.commitFile(a.file.fileId, { digest: DIGEST });
    const b = await client.createFile({
      name: "b",
      code: "replication",
      length: 3,
      layout: MIRROR,
    });
    await client.commitFile(b.file.fileId, { digest: DIGEST, state: "encoded" });
    const pending = await client.createFile({
      name: "c",
      code: "replication",
      length: 3,
      layout: SINGLE,
    });
    return {
      datanodes: await client.listDatanodes(),
      files: await client.listFiles(),
      a: await client.getFile("a"),
      b: await client.getFile("b"),
      pending: await client.getFileById(pending.file.fileId),
    };
  })();
  await first.server.shutdown();

  const second = await startNameNode({ meta: `sqlite:${path}` });
  await using _second = second.server;
  using client = await NameNodeClient.connect(second.server.address);
  assert.deepEqual(await client.listDatanodes(), before.datanodes);
  assert.deepEqual(await client.listFiles(), before.files);
  assert.deepEqual(await client.getFile("a"), before.a);
  assert.deepEqual(await client.getFile("b"), before.b);
  assert.deepEqual(await client.getFileById(before.pending.fileId), before.pending);
  await assert.rejects(
    client.createFile({ name: "c", code: "replication", length: 3, layout: SINGLE }),
    cdfsError("EXISTS", /being created/),
  );
  const next = await client.createFile({
    name: "d",
    code: "replication",
    length: 3,
    layout: SINGLE,
  });
  assert.ok(next.file.fileId > before.pending.fileId);
});

Deno.test("an encode's lifecycle: blocks added along the layout, replicas dropped, a block moved; FSCK follows", async () => {
  const clock = new Clock();
  await using nn = await servingNameNode({ now: clock.now }, 17);
  const { client, records } = nn;
  const created = await client.createFile({
    name: "x",
    code: "rapidraid",
    length: 11 * 4096,
    layout: RAPIDRAID_PARTS,
  });
  const id = created.file.fileId;
  await client.commitFile(id, { digest: DIGEST });
  const added = await client.addBlocks(id, { layout: RAPIDRAID_ALL });
  assert.deepEqual(added.nodes, created.nodes, "logical node i is the same datanode at the encode");
  const coded = added.file.blocks.filter((b) => b.kind === "coded");
  assert.equal(coded.length, 16);
  coded.forEach((b) => assert.equal(b.node, created.nodes[b.index]?.node));
  assert.ok(coded.every((b) => b.state === "pending"));
  await assert.rejects(
    client.addBlocks(id, { layout: RAPIDRAID_ALL }),
    cdfsError("EXISTS", /already has every block/),
  );
  await client.commitFile(id, { state: "encoded" });
  const replicas = added.file.blocks.filter((b) => b.kind === "part").map((b) => ({
    blockId: b.block,
    node: b.node,
  }));
  const archived = await client.dropBlocks(id, replicas, "archived");
  assert.equal(archived.state, "archived");
  assert.equal(archived.blocks.length, 16);
  assert.equal((await client.fsck({ name: "x" })).files[0]?.status, "healthy");

  // 31 s later, the node of coded block 3 has not been heard from.
  const nodeOf = (i: number) => created.nodes[i]!.node;
  const everyone = Array.from({ length: 17 }, (_, i) => `dn${i}`);
  const beat = async (silent: readonly string[]) => {
    clock.advance(31_000);
    for (const n of everyone) if (!silent.includes(n)) await client.heartbeat(n, { free: 1 << 30 });
  };
  await beat([nodeOf(3)]);
  let [health] = (await client.fsck({ name: "x" })).files;
  assert.equal(health?.status, "degraded");
  assert.deepEqual(health?.unavailable, [{ block: `f${id}.coded3`, node: nodeOf(3), why: "dead" }]);

  // A repair rebuilt it on the spare node; the namenode records the move.
  const spare = everyone.find((n) => !created.nodes.some((r) => r?.node === n))!;
  const moved = await client.moveBlock(id, `f${id}.coded3`, nodeOf(3), spare);
  assert.equal(moved.blocks.find((b) => b.block === `f${id}.coded3`)?.node, spare);
  assert.equal(events(records, "block-moved")[0]?.to, spare);
  assert.equal((await client.fsck({ name: "x" })).files[0]?.status, "healthy");

  // The node of coded 5 lost its disk: its full report lacks the block.
  assert.equal((await client.reportAll(nodeOf(5), [])).missing, 1);
  [health] = (await client.fsck({ name: "x" })).files;
  assert.deepEqual(health?.unavailable, [{
    block: `f${id}.coded5`,
    node: nodeOf(5),
    why: "missing",
  }]);
  assert.equal(health?.status, "degraded");
  await client.reportChanges(nodeOf(5), [{ blockId: `f${id}.coded5`, length: 4096 }], []);
  assert.equal((await client.fsck({ name: "x" })).files[0]?.status, "healthy");

  // Six of the sixteen coded blocks gone: ten rows cannot span eleven parts.
  const holders = moved.blocks.map((b) => b.node);
  await beat(holders.slice(0, 6));
  [health] = (await client.fsck()).files;
  assert.equal(health?.status, "lost");
  assert.equal(health?.decodable, false);
  assert.equal(health?.unavailable.length, 6);
});

Deno.test("a pending file whose writer vanished expires; its written blocks become orphans", async () => {
  const clock = new Clock();
  await using nn = await servingNameNode({
    now: clock.now,
    pendingTimeoutMs: 60_000,
    pendingScanIntervalMs: 0,
    checkIntervalMs: 3_600_000, // rounds run by hand below
  }, 1);
  const { server, records, client } = nn;
  const { file } = await client.createFile({
    name: "half",
    code: "replication",
    length: 9,
    layout: SINGLE,
  });
  // The client stored its block (the datanode reported it), then died before committing.
  await client.reportChanges("dn0", [{ blockId: file.blocks[0]!.block, length: 9 }], []);
  assert.deepEqual((await client.orphans({ graceMs: 0 })).orphans, [], "placed: not an orphan");
  clock.advance(30_000);
  await client.heartbeat("dn0", { free: 1 << 30 });
  await server.checkNow();
  assert.equal((await client.getFileById(file.fileId)).state, "pending", "not old enough yet");
  clock.advance(31_000);
  await client.heartbeat("dn0", { free: 1 << 30 });
  await server.checkNow();
  assert.deepEqual(events(records, "file-expired").map((r) => r.name), ["half"]);
  await assert.rejects(client.getFileById(file.fileId), cdfsError("NOT_FOUND", /no file with id/));
  assert.deepEqual(
    (await client.orphans({ graceMs: 0 })).orphans.map((o) => [o.node, o.block]),
    [["dn0", file.blocks[0]!.block]],
  );
  await client.createFile({ name: "half", code: "replication", length: 9, layout: SINGLE });
});

Deno.test("space placed since a datanode's last heartbeat counts against it until the next one", async () => {
  await using nn = await servingNameNode({}, 2, 1000);
  const { client } = nn;
  const put = (name: string) =>
    client.createFile({ name, code: "replication", length: 600, layout: SINGLE });
  const first = (await put("a")).nodes[0]?.node;
  const second = (await put("b")).nodes[0]?.node;
  assert.notEqual(first, second, "the first node has only 400 bytes left");
  await assert.rejects(
    put("c"),
    cdfsError("UNAVAILABLE", /at least 600 B free; 2 are available, 0 of them with that much free/),
  );
  // A heartbeat brings fresh free space (the datanode deleted something meanwhile).
  await client.heartbeat("dn1", { free: 1000 });
  assert.equal((await put("c")).nodes[0]?.node, "dn1");
});
