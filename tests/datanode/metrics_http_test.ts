/**
 * The `/metrics` endpoint: the exposition text is well formed, names what the counters hold,
 * is served by `cdfs datanode serve --metrics HOST:PORT`, and nothing listens without the flag.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import {
  formatMetrics,
  METRICS_CONTENT_TYPE,
  serveMetrics,
} from "../../src/datanode/metrics_http.ts";
import { TrafficCounters } from "../../src/datanode/traffic.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";

const RUN = "0123456789abcdef0123456789abcdef";

/** A sample line `name{label="value",...} number` or a `# HELP` / `# TYPE` line. */
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? -?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|[+-]Inf)$/;
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/;

/** Checks every line and returns the samples by `name{labels}`. */
function parseExposition(text: string): Map<string, number> {
  assert.ok(text.endsWith("\n"), "the text ends with a newline");
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("#")) {
      assert.match(line, COMMENT);
      const [, kind, name] = line.split(" ");
      if (kind === "TYPE") typed.add(name!);
      continue;
    }
    assert.match(line, SAMPLE);
    const at = line.lastIndexOf(" ");
    const key = line.slice(0, at);
    const name = key.replace(/\{.*$/, "");
    assert.ok(typed.has(name), `${name} has a # TYPE line before its samples`);
    assert.ok(!samples.has(key), `${key} appears once`);
    samples.set(key, Number(line.slice(at + 1)));
  }
  return samples;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

Deno.test("formatMetrics writes valid exposition text of the counters", () => {
  const traffic = new TrafficCounters();
  traffic.recordRequest("STORE", { bytesIn: 1000, bytesOut: 80, ms: 1500, failed: false });
  traffic.recordRequest("STORE", { bytesIn: 24, bytesOut: 40, ms: 500, failed: true });
  traffic.recordRequest('we"ird\\op\n', { bytesIn: 1, bytesOut: 2, ms: 3, failed: false });
  const served = traffic.servedMeter(RUN);
  served.bytesIn += 10;
  served.bytesOut += 20;
  traffic.finishServed(RUN, 250, false);
  traffic.upstreamMeter(RUN, "127.0.0.1:1").bytesIn += 5;
  const samples = parseExposition(
    formatMetrics(traffic.snapshot(), { blocks: 7, freeBytes: 123456789 }),
  );
  assert.equal(samples.get('cdfs_op_requests_total{op="STORE"}'), 2);
  assert.equal(samples.get('cdfs_op_errors_total{op="STORE"}'), 1);
  assert.equal(samples.get('cdfs_op_bytes_in_total{op="STORE"}'), 1024);
  assert.equal(samples.get('cdfs_op_bytes_out_total{op="STORE"}'), 120);
  assert.equal(samples.get('cdfs_op_seconds_total{op="STORE"}'), 2);
  assert.equal(samples.get('cdfs_op_requests_total{op="we\\"ird\\\\op\\n"}'), 1);
  assert.equal(samples.get(`cdfs_run_bytes_in_total{run="${RUN}"}`), 15);
  assert.equal(samples.get(`cdfs_run_bytes_out_total{run="${RUN}"}`), 20);
  assert.equal(samples.get(`cdfs_run_seconds_total{run="${RUN}"}`), 0.25);
  assert.equal(samples.get("cdfs_blocks"), 7);
  assert.equal(samples.get("cdfs_free_bytes"), 123456789);
  // Without the store's gauges they are left out, not made up.
  const bare = parseExposition(formatMetrics(new TrafficCounters().snapshot()));
  assert.equal(bare.has("cdfs_blocks"), false);
});

Deno.test("serveMetrics answers /metrics, 404 elsewhere, 405 for other methods", async () => {
  const traffic = new TrafficCounters();
  traffic.recordRequest("PING", { bytesIn: 31, bytesOut: 90, ms: 1, failed: false });
  const store = { count: () => Promise.resolve(3), freeBytes: () => Promise.resolve(4096) };
  const metrics = serveMetrics({ hostname: "127.0.0.1", port: 0, traffic, store });
  try {
    const base = `http://127.0.0.1:${metrics.addr.port}`;
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), METRICS_CONTENT_TYPE);
    const samples = parseExposition(await response.text());
    assert.equal(samples.get('cdfs_op_requests_total{op="PING"}'), 1);
    assert.equal(samples.get("cdfs_blocks"), 3);
    assert.equal(samples.get("cdfs_free_bytes"), 4096);
    const missing = await fetch(`${base}/other`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  } finally {
    await metrics.shutdown();
  }
});

Deno.test("datanode serve --metrics serves the node's counters; without it nothing listens", async () => {
  const port = freePort();
  {
    await using node = await DataNodeProcess.start({
      args: ["--metrics", `127.0.0.1:${port}`],
    });
    {
      using client = await DataNodeClient.connect(node.address);
      await client.store("m1", [new Uint8Array(5000)], { length: 5000, chunkSize: 4096 });
    }
    let samples = new Map<string, number>();
    const until = Date.now() + 20_000;
    // The STORE is counted once its request ends, just after the reply went out.
    while (samples.get('cdfs_op_requests_total{op="STORE"}') !== 1) {
      assert.ok(Date.now() < until, "the STORE never showed in /metrics");
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(response.status, 200);
      samples = parseExposition(await response.text());
    }
    assert.ok(samples.get('cdfs_op_bytes_in_total{op="STORE"}')! >= 5000);
    assert.equal(samples.get("cdfs_blocks"), 1);
    assert.ok(samples.get("cdfs_free_bytes")! > 0);
  }
  await using plain = await DataNodeProcess.start();
  using client = await DataNodeClient.connect(plain.address);
  await client.ping();
  await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`), TypeError);
});
