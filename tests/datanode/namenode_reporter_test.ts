/**
 * A datanode's reports to its namenode (src/datanode/namenode_reporter.ts), against a real
 * NameNodeServer on loopback and a real block store: registration and the full report at
 * start (committed blocks only), batched incremental reports, heartbeats, a namenode that
 * forgot the node, a namenode that is down and comes back, the last changes at stop; the
 * LEAVE of a graceful stop (the node dead at once, alive again when it restarts), and stops
 * that a namenode down, hung or unreachable cannot hold up past the bound.
 */
import assert from "node:assert/strict";
import { PendingChanges } from "../../src/datanode/block_changes.ts";
import type { LogRecord } from "../../src/datanode/log.ts";
import {
  type NameNodeLink,
  namenodeNodeId,
  NameNodeReporter,
  type NameNodeReporterOptions,
} from "../../src/datanode/namenode_reporter.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import type { NameNodeServer } from "../../src/namenode/server.ts";
import { PeerError } from "../../src/protocol/peer_error.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { commitNewFile, events, MIRROR, startNameNode, waitFor } from "../namenode/_namenode.ts";

/** A fresh block store in a temp directory, removed at the end. */
async function tempStore(): Promise<{ store: BlockStore } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-reporter-test-" });
  return {
    store: await BlockStore.open(dir, { chunkSize: 4096 }),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function put(store: BlockStore, id: string, length: number): Promise<void> {
  const writer = await store.create(id);
  await writer.write(new Uint8Array(length).fill(7));
  await writer.commit();
}

/** What the namenode has recorded as reported by `node`: block id → length. */
async function reported(server: NameNodeServer, node: string): Promise<Record<string, number>> {
  const blocks = await server.store.listReportedBlocks(node);
  return Object.fromEntries(blocks.map((b) => [b.blockId, b.length]));
}

function reporter(
  store: BlockStore,
  namenode: string,
  more: Partial<NameNodeReporterOptions> = {},
): { reporter: NameNodeReporter; log: LogRecord[] } & AsyncDisposable {
  const log: LogRecord[] = [];
  const started = NameNodeReporter.start({
    namenodes: [namenode],
    node: "dn0",
    address: "127.0.0.1:20000",
    store,
    log: (record) => log.push(record),
    retryMinMs: 20,
    retryMaxMs: 200,
    ...more,
  });
  return { reporter: started, log, [Symbol.asyncDispose]: () => started.stop() };
}

/** The messages of the reporter's log records of one event. */
function messages(log: readonly LogRecord[], event: string): string[] {
  return log.flatMap((r) => "event" in r && r.event === event ? [r.message ?? ""] : []);
}

Deno.test("reporter: registers, then a full report of exactly the committed blocks", async () => {
  await using dir = await tempStore();
  const { store } = dir;
  await put(store, "f1.part0", 5000);
  await put(store, "f1.part1", 0);
  // A write under way (a temp file) and a block whose header is damaged are not reported.
  await using _writing = await store.create("f1.part2");
  await put(store, "broken", 10);
  const file = await Deno.open(`${store.dir}/blocks/broken`, { write: true });
  await file.write(new Uint8Array(8));
  file.close();

  const { server } = await startNameNode({ heartbeatIntervalMs: 30, deadAfterMs: 5000 });
  await using _server = server;
  await using r = reporter(store, server.address);
  await waitFor("the full report", () => r.reporter.counts.fullReports === 1);
  assert.deepEqual(await reported(server, "dn0"), { "f1.part0": 5000, "f1.part1": 0 });

  using client = await NameNodeClient.connect(server.address);
  const [node] = (await client.listDatanodes()).datanodes;
  const space = await store.space();
  assert.equal(node?.node, "dn0");
  assert.equal(node.address, "127.0.0.1:20000");
  assert.equal(node.state, "alive");
  assert.equal(node.capacity, space.capacity);
  // Heartbeats follow at the namenode's pace, carrying the free space.
  const first = node.lastHeartbeat;
  await waitFor("heartbeats", () => r.reporter.counts.heartbeats >= 3);
  const later = (await client.listDatanodes()).datanodes[0]!;
  assert.ok(Date.parse(later.lastHeartbeat) > Date.parse(first), later.lastHeartbeat);
  assert.equal(r.reporter.counts.registrations, 1);
  assert.equal(r.reporter.counts.failures, 0);
  assert.match(messages(r.log, "namenode-report")[0]!, /full block report: 2 blocks/);
});

Deno.test("reporter: a burst of stores is one incremental report; deletes follow", async () => {
  await using dir = await tempStore();
  const { store } = dir;
  const { server } = await startNameNode();
  await using _server = server;
  // A long batch delay: the 20 concurrent stores take far less on any machine.
  await using r = reporter(store, server.address, { batchDelayMs: 1000 });
  await waitFor("the full report", () => r.reporter.counts.fullReports === 1);

  await Promise.all(Array.from({ length: 20 }, (_, i) => put(store, `f2.part${i}`, 100 + i)));
  // The namenode applies a report before its answer reaches the reporter, which counts it
  // only then: wait for both sides.
  await waitFor(
    "the incremental report",
    async () =>
      r.reporter.counts.incrementalReports >= 1 &&
      Object.keys(await reported(server, "dn0")).length === 20,
  );
  assert.equal(r.reporter.counts.incrementalReports, 1);
  assert.equal((await reported(server, "dn0"))["f2.part19"], 119);

  // A delete, and a block stored then deleted before the report: one removal each.
  await store.delete("f2.part0");
  await put(store, "short-lived", 1);
  await store.delete("short-lived");
  await waitFor("the second report", () => r.reporter.counts.incrementalReports === 2);
  const now = await reported(server, "dn0");
  assert.equal(now["f2.part0"], undefined);
  assert.equal(now["short-lived"], undefined);
  assert.equal(Object.keys(now).length, 19);

  // More than 100 changes at once: reports of at most 100 entries.
  await Promise.all(Array.from({ length: 150 }, (_, i) => put(store, `f3.part${i}`, 1)));
  await waitFor(
    "two more reports",
    async () =>
      r.reporter.counts.incrementalReports >= 4 &&
      Object.keys(await reported(server, "dn0")).length === 169,
  );
  assert.equal(r.reporter.counts.fullReports, 1);
});

Deno.test("reporter: a namenode that answers NOT_FOUND gets a new registration and full report", async () => {
  await using dir = await tempStore();
  const { store } = dir;
  await put(store, "f4.part0", 3);
  const { server } = await startNameNode({ heartbeatIntervalMs: 20, deadAfterMs: 5000 });
  await using _server = server;
  // The first heartbeat is answered as a namenode that lost its records would.
  let forget = true;
  const connect = async (addresses: readonly string[]): Promise<NameNodeLink> => {
    const client = await NameNodeClient.connect(addresses);
    return {
      register: (r) => client.register(r),
      heartbeat: (node, stats) => {
        if (forget) {
          forget = false;
          return Promise.reject(new PeerError("NOT_FOUND", `there is no datanode ${node}`));
        }
        return client.heartbeat(node, stats);
      },
      reportAll: (node, blocks) => client.reportAll(node, blocks),
      reportChanges: (node, added, removed) => client.reportChanges(node, added, removed),
      leave: (node) => client.leave(node),
      close: () => client.close(),
      get connections() {
        return client.connections;
      },
    };
  };
  await using r = reporter(store, server.address, { connect, retryMinMs: 0 });
  await waitFor("the second registration", () => r.reporter.counts.registrations === 2);
  await waitFor("the second full report", () => r.reporter.counts.fullReports === 2);
  assert.equal(r.reporter.counts.failures, 0);
  assert.match(
    messages(r.log, "namenode-reregister")[0]!,
    /there is no datanode dn0: registering again/,
  );
  assert.deepEqual(await reported(server, "dn0"), { "f4.part0": 3 });
});

Deno.test("reporter: a namenode that is down is retried with backoff, logged once; it comes and goes", async () => {
  await using dir = await tempStore();
  const { store } = dir;
  const metaDir = await Deno.makeTempDir({ prefix: "cdfs-reporter-nn-" });
  const meta = `sqlite:${metaDir}/meta.db`;
  // A port nothing listens on, for now.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await using r = reporter(store, `127.0.0.1:${port}`, { batchDelayMs: 10 });
  await waitFor("a few attempts", () => r.reporter.counts.failures >= 4);
  const outage = messages(r.log, "namenode-unreachable");
  assert.equal(outage.length, 1, JSON.stringify(r.log));
  assert.match(outage[0]!, /retrying with backoff/);
  // Changes made while it is down are in the first report once it is up.
  await put(store, "f5.part0", 10);

  let nn = await startNameNode({ meta, port });
  try {
    await waitFor("the registration", () => r.reporter.counts.fullReports === 1, 10_000);
    assert.deepEqual(await reported(nn.server, "dn0"), { "f5.part0": 10 });
    assert.equal(messages(r.log, "namenode-reachable").length, 1);

    // Stopped: the datanode's store goes on changing; restarted on the same store: the
    // reporter registers again and the namenode learns what happened meanwhile.
    await nn.server.shutdown(0);
    await put(store, "f5.part1", 20);
    await store.delete("f5.part0");
    nn = await startNameNode({ meta, port });
    await waitFor("the re-registration", () => r.reporter.counts.fullReports === 2, 10_000);
    assert.deepEqual(await reported(nn.server, "dn0"), { "f5.part1": 20 });
    assert.equal(r.reporter.counts.registrations, 2);
  } finally {
    await nn.server.shutdown(0);
    await Deno.remove(metaDir, { recursive: true });
  }
});

Deno.test("reporter: stop sends the changes still waiting", async () => {
  await using dir = await tempStore();
  const { store } = dir;
  const { server } = await startNameNode();
  await using _server = server;
  const r = reporter(store, server.address, { batchDelayMs: 60_000 });
  await waitFor("the full report", () => r.reporter.counts.fullReports === 1);
  await put(store, "f6.part0", 6);
  await r.reporter.stop();
  assert.deepEqual(await reported(server, "dn0"), { "f6.part0": 6 });
  // After the stop, changes are no longer watched.
  await put(store, "f6.part1", 6);
  assert.equal(r.reporter.counts.incrementalReports, 1);
});

/** One part on two datanodes: a file that survives the loss of either. */

Deno.test("reporter: a graceful stop says LEAVE: dead at once, its copies dead in FSCK; a restart makes it alive", async () => {
  await using dir = await tempStore();
  const { store } = dir;
  // A silence would take a minute to count: only the LEAVE can make the node dead in time.
  const { server, records } = await startNameNode({ deadAfterMs: 60_000 });
  await using _server = server;
  const first = reporter(store, server.address);
  await waitFor("the full report", () => first.reporter.counts.fullReports === 1);
  using client = await NameNodeClient.connect(server.address);
  // dn1 holds the other copy (a record only: the namenode never talks to datanodes).
  await client.register({ id: "dn1", address: "127.0.0.1:20001", capacity: 1e9, free: 1e9 });
  const { file } = await commitNewFile(client, { name: "m", length: 10, layout: MIRROR });
  const block = `${file.objectId}.part0`;
  await put(store, block, 10);
  await waitFor("the block's report", () => first.reporter.counts.incrementalReports === 1);
  assert.equal((await client.fsck({ name: "m" })).files[0]?.status, "healthy");

  const started = performance.now();
  await first.reporter.stop();
  const tookMs = performance.now() - started;
  assert.ok(tookMs < 1000, `the stop took ${tookMs} ms`);
  assert.equal(first.reporter.counts.leaves, 1);
  assert.match(messages(first.log, "namenode-left")[0]!, /told the namenode that dn0 is leaving/);
  // Dead at once, for every view, and the decision logged with its reason.
  const [dead] = events(records, "datanode-dead");
  assert.equal(dead?.node, "dn0");
  assert.equal(dead?.reason, "left");
  assert.equal(dead?.blocks, 1);
  assert.equal(dead?.files, 1);
  const nodes = (await client.listDatanodes()).datanodes;
  assert.deepEqual(nodes.map((n) => [n.node, n.state]), [["dn0", "dead"], ["dn1", "alive"]]);
  const got = await client.getFile("m");
  assert.deepEqual(Object.fromEntries(got.blocks.map((b) => [b.node, b.alive])), {
    dn0: false,
    dn1: true,
  });
  const [health] = (await client.fsck({ name: "m" })).files;
  assert.equal(health?.status, "degraded");
  assert.deepEqual(health?.unavailable, [{ block, node: "dn0", why: "dead" }]);

  // Started again on the same store: registered, alive, its copy readable again.
  await using second = reporter(store, server.address);
  await waitFor("the second full report", () => second.reporter.counts.fullReports === 1);
  assert.equal((await client.listDatanodes()).datanodes[0]?.state, "alive");
  assert.equal((await client.fsck({ name: "m" })).files[0]?.status, "healthy");
  const again = events(records, "datanode-registered").filter((r) => r.node === "dn0").at(-1);
  assert.equal(again?.again, true);
  assert.equal(again?.wasDead, true);
  assert.equal(events(records, "datanode-dead").length, 1, "one death, logged once");
});

Deno.test("reporter: a namenode that does not answer the LEAVE is cut off at stopTimeoutMs", async () => {
  await using dir = await tempStore();
  const { store } = dir;
  const { server, records } = await startNameNode({ deadAfterMs: 60_000 });
  await using _server = server;
  // A namenode that takes every request but the LEAVE, which it never answers.
  const connect = async (addresses: readonly string[]): Promise<NameNodeLink> => {
    const client = await NameNodeClient.connect(addresses);
    const closed = Promise.withResolvers<never>();
    return {
      register: (r) => client.register(r),
      heartbeat: (node, stats) => client.heartbeat(node, stats),
      reportAll: (node, blocks) => client.reportAll(node, blocks),
      reportChanges: (node, added, removed) => client.reportChanges(node, added, removed),
      leave: () => closed.promise,
      close: () => {
        closed.reject(new Error("the namenode client was closed"));
        closed.promise.catch(() => {});
        client.close();
      },
      get connections() {
        return client.connections;
      },
    };
  };
  const r = reporter(store, server.address, { connect, stopTimeoutMs: 300 });
  await waitFor("the full report", () => r.reporter.counts.fullReports === 1);
  const started = performance.now();
  await r.reporter.stop();
  const tookMs = performance.now() - started;
  assert.ok(tookMs >= 250 && tookMs < 1000, `the stop took ${tookMs} ms`);
  assert.equal(r.reporter.counts.leaves, 0);
  assert.match(
    messages(r.log, "namenode-leave-failed")[0]!,
    /could not tell the namenode that dn0 is leaving \(no answer within 300 ms\)/,
  );
  assert.equal(events(records, "datanode-dead").length, 0);
});

Deno.test("reporter: a namenode that went down makes the LEAVE fail at once, not the stop wait", async () => {
  await using dir = await tempStore();
  const { store } = dir;
  // Heartbeats far apart: the reporter does not notice the namenode is gone before its stop.
  const { server } = await startNameNode({ deadAfterMs: 60_000, heartbeatIntervalMs: 20_000 });
  const r = reporter(store, server.address);
  await waitFor("the full report", () => r.reporter.counts.fullReports === 1);
  await server.shutdown(0);
  const started = performance.now();
  await r.reporter.stop();
  const tookMs = performance.now() - started;
  assert.ok(tookMs < 500, `the stop took ${tookMs} ms`);
  assert.equal(r.reporter.counts.leaves, 0);
  assert.match(
    messages(r.log, "namenode-leave-failed")[0]!,
    /could not tell the namenode that dn0 is leaving \(.+\); it will count the node dead/,
  );
});

Deno.test("reporter: a stop while connecting to a namenode that never answers does not wait for it", async () => {
  await using dir = await tempStore();
  const { store } = dir;
  // Accepts connections and says nothing: connecting would wait out connectTimeoutMs.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })().catch(() => {});
  const r = reporter(store, `127.0.0.1:${listener.addr.port}`, { connectTimeoutMs: 10_000 });
  await waitFor("a connection", () => accepted.length === 1);
  const started = performance.now();
  await r.reporter.stop();
  const tookMs = performance.now() - started;
  assert.ok(tookMs < 300, `the stop took ${tookMs} ms`);
  assert.equal(r.reporter.counts.registrations, 0);
  assert.deepEqual(messages(r.log, "namenode-leave-failed"), [], "nothing to take back");
  for (const conn of accepted) conn.close();
  listener.close();
  await accepting;
});

Deno.test("pending changes: the last change of a block counts, oldest first, at most max", () => {
  const pending = new PendingChanges();
  pending.add({ kind: "added", block: "a", length: 1 });
  pending.add({ kind: "added", block: "b", length: 2 });
  pending.add({ kind: "removed", block: "a" });
  pending.add({ kind: "added", block: "c", length: 3 });
  pending.add({ kind: "added", block: "b", length: 4 });
  assert.equal(pending.size, 3);
  assert.deepEqual(pending.take(2), { added: [{ blockId: "c", length: 3 }], removed: ["a"] });
  assert.deepEqual(pending.take(2), { added: [{ blockId: "b", length: 4 }], removed: [] });
  assert.equal(pending.size, 0);
  pending.add({ kind: "removed", block: "d" });
  pending.clear();
  assert.deepEqual(pending.take(100), { added: [], removed: [] });
});

Deno.test("namenodeNodeId: a datanode id in the namenode's alphabet", () => {
  assert.equal(namenodeNodeId("local-n0"), "local-n0");
  assert.equal(namenodeNodeId("box.example:13100"), "box.example_13100");
  assert.equal(namenodeNodeId("dn@rack1:1"), "dn_rack1_1");
  assert.equal(namenodeNodeId("a..b"), undefined);
});
