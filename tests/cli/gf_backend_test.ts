import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { formatMetrics } from "../../src/datanode/metrics_http.ts";
import { parseResponse } from "../../src/protocol/response_validation.ts";
import { TrafficCounters } from "../../src/datanode/traffic.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { isalNamed, noIsal } from "../helpers/isal.ts";

/** The node's `gf-backend` log records and what its PING reports. */
async function backendOf(node: DataNodeProcess): Promise<{ logged: string[]; ping: unknown }> {
  using client = await DataNodeClient.connect(node.address, { connectTimeoutMs: 10_000 });
  const ping = (await client.ping()).gfBackend;
  const logged = node.logRecords().filter((r) => r.event === "gf-backend").map((r) =>
    String(r.message)
  );
  return { logged, ping };
}

Deno.test({
  name: isalNamed("cli datanode serve --gf-backend isal: logs it once and PING reports isal"),
  ignore: noIsal !== null,
  async fn() {
    await using node = await DataNodeProcess.start({ args: ["--gf-backend", "isal"] });
    const { logged, ping } = await backendOf(node);
    assert.equal(ping, "isal");
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /^isal \(ISA-L through FFI, libisal\.so\.2, self-checked\)$/);
  },
});

Deno.test("cli datanode serve: auto without the library falls back to wasm, one line why", async () => {
  await using node = await DataNodeProcess.start({
    wrapper: ["env", "CDFS_GF_BACKEND=auto", "CDFS_ISAL_LIBRARY=/nonexistent/libisal.so.2"],
  });
  const { logged, ping } = await backendOf(node);
  assert.equal(ping, "wasm");
  assert.equal(logged.length, 1);
  assert.match(logged[0]!, /^wasm \(auto: ISA-L not used: cannot open \/nonexistent\/libisal/);
});

Deno.test("/metrics reports the GF backend as a labelled gauge", () => {
  const text = formatMetrics(new TrafficCounters().snapshot(), { gfBackend: "isal" });
  assert.ok(text.includes('cdfs_gf_backend{backend="isal"} 1\n'), text);
  assert.ok(!formatMetrics(new TrafficCounters().snapshot()).includes("cdfs_gf_backend"));
});

Deno.test("a PING response's gfBackend is read, and a bad one refused in one line", () => {
  const base = { node: "dn1", version: "0.1.0", freeBytes: 10, blocks: 1 };
  assert.equal(parseResponse("PING", { ...base, gfBackend: "isal" }).gfBackend, "isal");
  assert.equal(parseResponse("PING", base).gfBackend, undefined);
  assert.throws(
    () => parseResponse("PING", { ...base, gfBackend: "ISA L\n" }),
    /PING response "gfBackend" must be a short lowercase name/,
  );
});
