/**
 * The status of `namenode serve --http` without a browser: STATUS over the framed protocol and
 * `/status.json` over HTTP are the same report (datanodes alive and dead, file counts, the
 * endangered files, traffic, recent events newest first); the page and its refresh fragment
 * escape a hostile file name and let only their own script run; unknown paths are 404 and
 * other methods 405.
 */
import assert from "node:assert/strict";
import type { StatusReport, TrafficSource } from "../../src/namenode/status.ts";
import {
  Clock,
  commitNewFile,
  MIRROR,
  rawCall,
  rawConnection,
  servingNameNode,
} from "./_namenode.ts";

const HOSTILE = `<script>alert("x")</script>&'<img src=x onerror=alert(1)>.bin`;

/** dn0 answers STATS, dn1 does not. */
const traffic: TrafficSource = {
  traffic: (nodes) =>
    Promise.resolve(
      new Map(nodes.map((n) => [
        n.id,
        n.id === "dn0"
          ? { requests: 7, errors: 1, bytesIn: 1000, bytesOut: 2000 }
          : { error: "Connection refused" },
      ])),
    ),
};

async function getJson(address: string): Promise<StatusReport> {
  const reply = await fetch(`http://${address}/status.json`);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get("content-type"), "application/json");
  return await reply.json();
}

Deno.test("STATUS and /status.json: the same report, alive and dead nodes, endangered files, events", async () => {
  const clock = new Clock();
  await using nn = await servingNameNode({
    now: clock.now,
    deadAfterMs: 10_000,
    http: { hostname: "127.0.0.1", port: 0 },
    traffic,
  }, 2);
  const http = nn.server.httpAddress!;
  assert.match(http, /^127\.0\.0\.1:\d+$/);
  await commitNewFile(nn.client, { name: "plain.bin", length: 10, layout: MIRROR });
  await commitNewFile(nn.client, { name: HOSTILE, length: 10, layout: MIRROR });

  const before = await nn.client.status();
  assert.deepEqual(before.nodes.map((n) => [n.node, n.state, n.blocks]), [
    ["dn0", "alive", 2],
    ["dn1", "alive", 2],
  ]);
  assert.deepEqual(before.files, { total: 2, healthy: 2, degraded: 0, lost: 0, unknown: 0 });
  assert.deepEqual(before.endangered, []);
  assert.deepEqual(before.nodes[0]!.traffic, {
    requests: 7,
    errors: 1,
    bytesIn: 1000,
    bytesOut: 2000,
  });
  assert.equal(before.nodes[1]!.traffic, null);
  assert.equal(before.nodes[1]!.trafficError, "Connection refused");
  assert.deepEqual(before.repair, { queued: 0, items: [] });
  // The log's own records, newest first.
  assert.deepEqual(before.events, [...nn.records].reverse());
  assert.equal(before.events[0]!.event, "file-committed");
  assert.equal(before.events[0]!.name, HOSTILE);
  assert.equal(before.events.at(-1)!.event, "listening");

  // dn1 falls silent: dead, and every file (one copy on each) degraded.
  clock.advance(11_000);
  await nn.client.heartbeat("dn0", { free: 1 << 30 });
  const after = await nn.client.status();
  assert.deepEqual(after.nodes.map((n) => [n.node, n.state, n.heartbeatAgeMs]), [
    ["dn0", "alive", 0],
    ["dn1", "dead", 11_000],
  ]);
  assert.deepEqual(after.files, { total: 2, healthy: 0, degraded: 2, lost: 0, unknown: 0 });
  assert.deepEqual(after.endangered.map((f) => [f.name, f.status, f.unavailable]), [
    [HOSTILE, "degraded", 1],
    ["plain.bin", "degraded", 1],
  ]);
  // A dead node is not asked for traffic.
  assert.deepEqual([after.nodes[1]!.traffic, after.nodes[1]!.trafficError], [null, null]);
  // The HTTP report is the framed one (the clock stands still; no event in between).
  assert.deepEqual(await getJson(http), JSON.parse(JSON.stringify(after)));
});

Deno.test("status page: a hostile file name is escaped, only the page's script runs, bad paths 404", async () => {
  await using nn = await servingNameNode({
    deadAfterMs: 60_000,
    http: { hostname: "127.0.0.1", port: 0 },
    traffic,
  }, 1);
  await commitNewFile(nn.client, { name: HOSTILE, length: 10 });
  const http = nn.server.httpAddress!;
  for (const path of ["/", "/fragment"]) {
    const reply = await fetch(`http://${http}${path}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await reply.text();
    // The recent events name the file: escaped, never raw.
    assert.ok(!html.includes("<script>alert"), `${path} holds the raw name`);
    assert.ok(!html.includes("<img src=x"), `${path} holds the raw name`);
    assert.ok(
      html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&lt;img src=x"),
      `${path} shows the escaped name`,
    );
    assert.ok(html.includes('id="nodes-alive">1<'));
    if (path === "/") {
      const csp = reply.headers.get("content-security-policy")!;
      const nonce = /script-src 'nonce-([0-9a-f]{32})'/.exec(csp)?.[1];
      assert.ok(nonce !== undefined, csp);
      assert.equal([...html.matchAll(/<script/g)].length, 1);
      assert.ok(html.includes(`<script nonce="${nonce}">`));
      assert.ok(!/(src|href)="https?:/.test(html), "no external resource");
    }
  }
  const missing = await fetch(`http://${http}/etc/passwd`);
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /^not found: \/etc\/passwd\n$/);
  const posted = await fetch(`http://${http}/status.json`, { method: "POST", body: "x" });
  assert.equal(posted.status, 405);
  await posted.body?.cancel();
});

Deno.test("STATUS: a request with fields it does not take is refused, the connection stays usable", async () => {
  await using nn = await servingNameNode({ deadAfterMs: 60_000, traffic }, 0);
  const conn = await rawConnection(nn.server.address);
  try {
    const refused = await rawCall(conn, { op: "STATUS", limit: 3 });
    assert.equal(refused.error?.code, "BAD_REQUEST");
    assert.match(refused.error!.message, /STATUS.*"limit"/);
    const answered = await rawCall(conn, { op: "STATUS" });
    assert.equal((answered.response?.files as { total: number }).total, 0);
  } finally {
    conn.close();
  }
  const report = await nn.client.status();
  assert.equal(report.files.total, 0);
  assert.equal(nn.server.httpAddress, null);
});
