/**
 * Traffic accounting: the counters themselves, a STORE counted on both ends of its connection,
 * and a RapidRAID pipeline run on 16 `cdfs datanode serve` processes where what node i sent to
 * node i+1 for the run is exactly what node i+1 counted as received from node i.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import { TrafficCounters } from "../../src/datanode/traffic.ts";
import type { ByteMeter } from "../../src/protocol/byte_meter.ts";
import { FRAME_HEADER_SIZE } from "../../src/protocol/frame.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { KiB, newRunId, randomBytes, statsWhen } from "./_coding.ts";
import { runCoding } from "../../src/coding/runtime/coding_stream.ts";

const RUN_A = "0123456789abcdef0123456789abcdef";
const RUN_B = "1123456789abcdef0123456789abcdef";
const RUN_C = "2123456789abcdef0123456789abcdef";

Deno.test("TrafficCounters adds requests up per op and in total", () => {
  const traffic = new TrafficCounters();
  traffic.recordRequest("STORE", { bytesIn: 1000, bytesOut: 80, ms: 2, failed: false });
  traffic.recordRequest("STORE", { bytesIn: 500, bytesOut: 60, ms: 1.5, failed: true });
  traffic.recordRequest("PING", { bytesIn: 31, bytesOut: 90, ms: 0.5, failed: false });
  const snapshot = traffic.snapshot();
  assert.deepEqual(snapshot.ops.STORE, {
    requests: 2,
    errors: 1,
    bytesIn: 1500,
    bytesOut: 140,
    ms: 3.5,
  });
  assert.deepEqual(snapshot.total, { requests: 3, errors: 1, bytesIn: 1531, bytesOut: 230, ms: 4 });
  assert.ok(!Number.isNaN(Date.parse(snapshot.since)));
  // A snapshot is a copy.
  snapshot.ops.STORE!.requests = 99;
  assert.equal(traffic.snapshot().ops.STORE!.requests, 2);
});

Deno.test("TrafficCounters meters a run served and upstream, by peer", () => {
  const traffic = new TrafficCounters();
  const before = Date.now();
  const served = traffic.servedMeter(RUN_A);
  served.bytesIn += 100;
  served.bytesOut += 5000;
  traffic.finishServed(RUN_A, 12, false);
  const toNode1 = traffic.upstreamMeter(RUN_A, "127.0.0.1:1");
  toNode1.bytesIn += 7;
  traffic.upstreamMeter(RUN_A, "127.0.0.1:1").bytesOut += 3;
  traffic.upstreamMeter(RUN_A, "127.0.0.1:2").bytesIn += 11;
  // The run's busy window: started by the first request, ended by the last.
  const { times, ...counters } = traffic.run(RUN_A)!;
  assert.ok(times !== undefined && before <= times.startedAt);
  assert.ok(times.startedAt <= times.endedAt! && times.endedAt! <= Date.now());
  assert.equal(times.firstStepAt, undefined);
  traffic.markStep(RUN_A);
  traffic.markStep(RUN_A);
  const stepped = traffic.run(RUN_A)!.times!;
  assert.ok(stepped.firstStepAt! <= stepped.lastStepAt!);
  assert.ok(times.endedAt! <= stepped.firstStepAt!);
  assert.deepEqual(counters, {
    served: { requests: 1, errors: 0, bytesIn: 100, bytesOut: 5000, ms: 12 },
    upstream: {
      "127.0.0.1:1": { connections: 2, bytesIn: 7, bytesOut: 3 },
      "127.0.0.1:2": { connections: 1, bytesIn: 11, bytesOut: 0 },
    },
  });
  // An address from the network is a plain key, not a prototype setter.
  traffic.upstreamMeter(RUN_A, "__proto__").bytesIn += 1;
  assert.equal(traffic.run(RUN_A)!.upstream["__proto__"]?.bytesIn, 1);
  assert.equal(traffic.run(RUN_B), undefined);
});

Deno.test("TrafficCounters forgets the least recently active run beyond its bound", () => {
  const traffic = new TrafficCounters({ maxRuns: 2 });
  traffic.servedMeter(RUN_A).bytesIn += 1;
  traffic.servedMeter(RUN_B).bytesIn += 2;
  traffic.servedMeter(RUN_A).bytesIn += 1; // A is now the most recent
  traffic.servedMeter(RUN_C).bytesIn += 3; // evicts B
  assert.deepEqual(Object.keys(traffic.snapshot().runs), [RUN_A, RUN_C]);
  assert.equal(traffic.run(RUN_B), undefined);
  assert.equal(traffic.run(RUN_A)!.served.bytesIn, 2);
  assert.deepEqual(Object.keys(traffic.snapshot({ recentRuns: 1 }).runs), [RUN_C]);
  assert.deepEqual(Object.keys(traffic.snapshot({ run: RUN_A }).runs), [RUN_A]);
  assert.deepEqual(Object.keys(traffic.snapshot({ run: RUN_B }).runs), []);
  assert.throws(() => new TrafficCounters({ maxRuns: 0 }), RangeError);
});

Deno.test("STORE and STATS count the frames both ends of the connection saw", async () => {
  await using node = await DataNodeProcess.start();
  const length = 300 * KiB + 17;
  const meter: ByteMeter = { bytesIn: 0, bytesOut: 0 };
  {
    using client = await DataNodeClient.connect(node.address, { meter });
    await client.store("counted", [randomBytes(length)], { length, chunkSize: 64 * KiB });
  }
  const stats = await statsWhen(node.address, (s) => s.ops.STORE?.requests === 1);
  const store = stats.ops.STORE!;
  assert.equal(store.errors, 0);
  // The data and at least one header per 64 KiB chunk came in; exactly what the client sent.
  assert.ok(store.bytesIn >= length + 5 * FRAME_HEADER_SIZE, `bytesIn ${store.bytesIn}`);
  assert.equal(store.bytesIn, meter.bytesOut);
  // The reply went out: exactly what the client read.
  assert.ok(store.bytesOut > FRAME_HEADER_SIZE);
  assert.equal(store.bytesOut, meter.bytesIn);
  assert.ok(store.ms >= 0);
  assert.deepEqual(stats.runs, {});
  // The totals include the STORE (and earlier STATS requests, if any).
  assert.ok(stats.total.bytesIn >= store.bytesIn);
  assert.equal(stats.total.requests, Object.values(stats.ops).reduce((n, c) => n + c.requests, 0));

  // A failed request counts as an error of its op; an unknown op counts as "other".
  using client = await DataNodeClient.connect(node.address);
  await assert.rejects(client.stat("missing"), /does not exist/);
  await assert.rejects(client.stats("not-a-run-id"), /BAD_REQUEST|32 lower-case hex/);
  const after = await statsWhen(node.address, (s) => (s.ops.STAT?.errors ?? 0) === 1);
  assert.equal(after.ops.STAT!.requests, 1);
  assert.ok(after.ops.STATS!.errors >= 1);
});

Deno.test("a RapidRAID pipeline run: node i's bytes out to node i+1 are node i+1's bytes in from node i", async () => {
  const NODES = 16;
  const processes = await Promise.all(
    Array.from({ length: NODES }, () => DataNodeProcess.start()),
  );
  try {
    const nodes = processes.map((p) => p.address);
    const rapidraid = await loadCodingModule("rapidraid");
    const chunkSize = 64 * KiB;
    const partLength = 256 * KiB;
    await Promise.all(rapidraid.parts.flatMap((part) => {
      const bytes = randomBytes(partLength);
      return part.nodes.map(async (node) => {
        using client = await DataNodeClient.connect(nodes[node]!);
        await client.store(expandBlockName(part.block, "objT"), [bytes], {
          length: partLength,
          chunkSize,
        });
      });
    }));
    const run = newRunId();
    const clientMeter: ByteMeter = { bytesIn: 0, bytesOut: 0 };
    {
      using client = await DataNodeClient.connect(nodes[15]!, { meter: clientMeter });
      const result = await runCoding(client, {
        op: "CODING",
        module: "rapidraid",
        program: "enc_node15",
        object: "objT",
        run,
        nodes,
        chunkSize,
      });
      assert.equal(result.committed.length, NODES);
    }
    // Every node served one CODING request of the run (node 15 the client's, node i < 15
    // node i+1's); wait until each has finished counting it.
    const stats = await Promise.all(
      nodes.map((address) => statsWhen(address, (s) => s.runs[run]?.served.requests === 1, run)),
    );
    for (let i = 0; i < NODES - 1; i++) {
      const sender = stats[i]!.runs[run]!;
      const receiver = stats[i + 1]!.runs[run]!;
      assert.deepEqual(Object.keys(receiver.upstream), [nodes[i]]);
      const link = receiver.upstream[nodes[i]!]!;
      assert.equal(link.connections, 1);
      assert.equal(sender.served.errors, 0);
      // The stream of node i's program went over this link: at least the part's bytes.
      assert.ok(sender.served.bytesOut >= partLength, `node ${i} sent ${sender.served.bytesOut}`);
      assert.equal(sender.served.bytesOut, link.bytesIn, `node ${i} -> ${i + 1} bytes`);
      assert.equal(sender.served.bytesIn, link.bytesOut, `node ${i + 1} -> ${i} bytes`);
    }
    assert.deepEqual(stats[0]!.runs[run]!.upstream, {});
    // Node 15 served the client: the same equality on the client's own connection.
    assert.equal(stats[15]!.runs[run]!.served.bytesOut, clientMeter.bytesIn);
    assert.equal(stats[15]!.runs[run]!.served.bytesIn, clientMeter.bytesOut);
    // The run's bytes are also counted under the CODING op.
    for (const s of stats) {
      assert.ok(s.ops.CODING!.bytesOut >= s.runs[run]!.served.bytesOut);
    }
  } finally {
    await Promise.all(processes.map((p) => p[Symbol.asyncDispose]()));
  }
});
