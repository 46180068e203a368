import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { scrubNode } from "../../src/client/scrub.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import type { LogRecord } from "../../src/datanode/log.ts";
import { Scrubber } from "../../src/datanode/scrub.ts";
import type { Clock } from "../../src/datanode/token_bucket.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { quarantinedFiles } from "../../src/store/quarantine.ts";
import type { BlockChange } from "../../src/store/types.ts";
import { runCdfs } from "../helpers/cli.ts";
import { startCluster } from "../helpers/in_process_cluster.ts";
import { waitFor } from "../helpers/wait.ts";
import { call, connect, patternBytes, rejectsWith } from "./_client.ts";

const CHUNK = 64 * 1024;
const BLOCK_LENGTH = 5 * CHUNK + 1234;

/** Stores blocks b00..b(n-1) of seeded contents on a node. */
async function storeBlocks(address: string, n: number): Promise<string[]> {
  using client = await DataNodeClient.connect(address);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `b${String(i).padStart(2, "0")}`;
    await client.store(id, [patternBytes(BLOCK_LENGTH, i)], { chunkSize: CHUNK });
    ids.push(id);
  }
  return ids;
}

async function listed(address: string): Promise<string[]> {
  using client = await DataNodeClient.connect(address);
  const ids: string[] = [];
  for await (const entry of client.listAll()) ids.push(entry.block);
  return ids;
}

async function retrieve(address: string, block: string): Promise<Uint8Array> {
  using client = await DataNodeClient.connect(address);
  const parts: Uint8Array[] = [];
  await client.retrieve(block, (chunk) => void parts.push(chunk.slice()));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) out.set(part, (at += part.length) - part.length);
  return out;
}

Deno.test("one scrub pass finds exactly the 5 blocks with a flipped byte and quarantines them", async () => {
  const records: LogRecord[] = [];
  await using cluster = await startCluster(1, { log: () => (r) => void records.push(r) });
  const [address] = cluster.nodes;
  const ids = await storeBlocks(address!, 12);
  const rotten = ["b01", "b04", "b05", "b08", "b11"];
  // One byte each, in different chunks (the last one in the short last chunk).
  for (const [i, block] of rotten.entries()) {
    await cluster.corrupt(0, block, Math.min(i * CHUNK + 17, BLOCK_LENGTH - 1), 1);
  }
  const run = await runCdfs(["scrub", "--node", address!, "--json"]);
  assert.equal(run.code, 0, run.err);
  const summary = JSON.parse(run.out);
  assert.equal(summary.node, address);
  assert.equal(summary.pass, 1);
  assert.equal(summary.blocks, 12);
  assert.equal(summary.corrupt, 5);
  assert.deepEqual(summary.quarantined, rotten);
  // Only the intact blocks' bytes count as verified: each rotten one stopped at its bad chunk.
  assert.ok(summary.bytes >= 7 * BLOCK_LENGTH && summary.bytes < 12 * BLOCK_LENGTH);

  const intact = ids.filter((id) => !rotten.includes(id));
  assert.deepEqual(await listed(address!), intact);
  for (const block of rotten) {
    await assert.rejects(retrieve(address!, block), (e) => isCdfsError(e, "NOT_FOUND"));
  }
  for (const [i, block] of ids.entries()) {
    if (intact.includes(block)) {
      assert.deepEqual(await retrieve(address!, block), patternBytes(BLOCK_LENGTH, i));
    }
  }
  const kept = await quarantinedFiles(cluster.dirs[0]!);
  assert.deepEqual(kept.map((name) => name.split(".")[0]), rotten);
  const corruptRecords = records.filter((r) => "event" in r && r.event === "block-corrupt");
  assert.deepEqual(corruptRecords.map((r) => "block" in r ? r.block : undefined), rotten);
  for (const [i, record] of corruptRecords.entries()) {
    assert.ok("event" in record);
    assert.equal(record.chunk, Math.floor(Math.min(i * CHUNK + 17, BLOCK_LENGTH - 1) / CHUNK));
    assert.equal(record.offset, record.chunk! * CHUNK);
    assert.match(record.message!, /checksum mismatch.*quarantined as .*quarantine/);
  }

  // The text form, on a second pass that finds nothing; STATS shows the progress.
  const again = await runCdfs(["scrub"], { env: { CDFS_NODE: address! } });
  assert.equal(again.code, 0, again.err);
  assert.match(
    again.out,
    new RegExp(
      `^${address}: pass 2: 7 blocks, .* verified in .*, 0 corrupt blocks quarantined\\n$`,
    ),
  );
  using client = await DataNodeClient.connect(address!);
  const { scrub } = await client.stats();
  assert.deepEqual({ ...scrub, lastPassFinished: typeof scrub?.lastPassFinished }, {
    rate: 0,
    running: false,
    pass: 2,
    passBytes: 7 * BLOCK_LENGTH,
    passBlocks: 7,
    lastPassFinished: "string",
    corruptFound: 5,
  });
});

Deno.test("the text output of cdfs scrub names the quarantined blocks", async () => {
  await using cluster = await startCluster(1);
  const [address] = cluster.nodes;
  await storeBlocks(address!, 3);
  await cluster.corrupt(0, "b02", 5, 1);
  const run = await runCdfs(["scrub", "--node", address!, "--rate", "512MiB/s"]);
  assert.equal(run.code, 0, run.err);
  assert.match(
    run.out,
    /: pass 1: 3 blocks, .* 1 corrupt block quarantined\n {2}quarantined b02\n$/,
  );
});

Deno.test("a RETRIEVE of a rotten block gets CORRUPT, and the block is quarantined and reported removed", async () => {
  await using cluster = await startCluster(1);
  const [address] = cluster.nodes;
  await storeBlocks(address!, 2);
  await cluster.corrupt(0, "b01", 3 * CHUNK, 1);
  await assert.rejects(retrieve(address!, "b01"), (e) => isCdfsError(e, "CORRUPT"));
  await waitFor(
    "b01 out of the listing",
    async () => !(await listed(address!)).includes("b01"),
    20_000,
  );
  assert.deepEqual(await listed(address!), ["b00"]);
  await assert.rejects(retrieve(address!, "b01"), (e) => isCdfsError(e, "NOT_FOUND"));
  assert.equal((await quarantinedFiles(cluster.dirs[0]!)).length, 1);
  assert.equal(cluster.servers[0]!.scrubber.status.corruptFound, 1);
});

Deno.test("the background scrub finds a rotten block by itself and the change feed reports it removed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = await BlockStore.open(dir, { chunkSize: 4096 });
    for (const id of ["x", "y"]) {
      const writer = await store.create(id);
      await writer.write(patternBytes(10_000, id.charCodeAt(0)));
      await writer.commit();
    }
    const changes: BlockChange[] = [];
    store.watch((change) => changes.push(change));
    using file = await Deno.open(`${dir}/blocks/y`, { read: true, write: true });
    await file.seek(100, Deno.SeekMode.Start);
    const byte = new Uint8Array(1);
    await file.read(byte);
    await file.seek(100, Deno.SeekMode.Start);
    await file.write(new Uint8Array([byte[0]! ^ 1]));
    const scrubber = new Scrubber({ store, nodeId: "dn1", rate: 64 << 20, pauseMs: 20 });
    scrubber.start();
    try {
      await waitFor("the quarantine of y", () => scrubber.status.corruptFound === 1, 20_000);
      assert.deepEqual(changes, [{ kind: "removed", block: "y" }]);
      assert.deepEqual((await store.list()).blocks.map((b) => b.block), ["x"]);
      await waitFor("another pass", () => scrubber.status.pass >= 3, 20_000);
      assert.equal(scrubber.status.corruptFound, 1);
    } finally {
      await scrubber.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("one requested scrub at a time: a second one is told BUSY", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = await BlockStore.open(dir);
    const writer = await store.create("b");
    await writer.write(new Uint8Array(100_000));
    await writer.commit();
    // A clock whose sleeps never end until the scrubber stops: the first pass waits for ever.
    const clock: Clock = {
      now: () => 0,
      sleep: (_ms, signal) =>
        new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
    };
    const scrubber = new Scrubber({ store, nodeId: "dn1", clock });
    const first = scrubber.scrubNow({ rate: 10 });
    await waitFor("the first pass", () => scrubber.status.running);
    await rejectsWith(scrubber.scrubNow(), "BUSY", /a scrub requested earlier is still running/);
    await scrubber.stop();
    await rejectsWith(first, "UNAVAILABLE", /stopping/);
    await rejectsWith(scrubber.scrubNow(), "UNAVAILABLE", /stopping/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a SCRUB over the wire while another runs gets BUSY; progress replies come first", async () => {
  await using cluster = await startCluster(1);
  const [address] = cluster.nodes;
  await storeBlocks(address!, 3);
  using a = await DataNodeClient.connect(address!);
  const progress: number[] = [];
  // 1 MiB at 200 KiB/s: about 5 s, long enough to be asked again meanwhile.
  const first = scrubNode(a, { rate: 200 * 1024, onProgress: (n) => progress.push(n) });
  await waitFor("the first pass", () => cluster.servers[0]!.scrubber.status.running, 20_000);
  using b = await DataNodeClient.connect(address!);
  await rejectsWith(scrubNode(b), "BUSY", /still running/);
  const summary = await first;
  assert.equal(summary.blocks, 3);
  assert.equal(summary.bytes, 3 * BLOCK_LENGTH);
  assert.ok(progress.length > 0, "progress replies before the summary");
  assert.ok(progress.every((n) => n <= summary.bytes));
});

Deno.test("malformed SCRUB requests get clear errors and the connection goes on", async () => {
  await using cluster = await startCluster(1);
  const port = cluster.servers[0]!.addr.port;
  const conn = await connect(port);
  try {
    await rejectsWith(
      call(conn, "SCRUB", { rate: 0 }),
      "BAD_REQUEST",
      /SCRUB "rate" must be an integer in 1\.\./,
    );
    await rejectsWith(
      call(conn, "SCRUB", { rate: "fast" }),
      "BAD_REQUEST",
      /SCRUB "rate" must be an integer/,
    );
    await rejectsWith(call(conn, "SCRUB", { rate: 1.5 }), "BAD_REQUEST", /"rate"/);
    await rejectsWith(call(conn, "SCRUB", { block: "b" }), "BAD_REQUEST", /SCRUB.*"block"/);
    const pong = await call(conn, "PING");
    assert.equal(pong.node, "dn0");
  } finally {
    conn.close();
  }
  const usage = await runCdfs(["scrub", "--node", cluster.nodes[0]!, "--rate", "fast"]);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /--rate: expected a non-negative integer/);
  const zero = await runCdfs(["scrub", "--node", cluster.nodes[0]!, "--rate", "0"]);
  assert.match(zero.err, /--rate must be above 0/);
  const noNode = await runCdfs(["scrub"]);
  assert.notEqual(noNode.code, 0);
  assert.match(noNode.err, /--node/);
});
