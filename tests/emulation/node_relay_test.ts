import assert from "node:assert/strict";
import {
  defaultRelayLauncher,
  nodeRelaySettings,
  sourceRelayLauncher,
} from "../../src/emulation/node_relay.ts";
import type { NetworkNode } from "../../src/emulation/netns.ts";
import { isCdfsError } from "../../src/core/errors.ts";

function node(index: number, delayMs: number, jitterMs = 0): NetworkNode {
  return {
    index,
    namespace: `cdfs-t-n${index}`,
    address: `10.213.0.${10 + index}`,
    link: { rateBitsPerSecond: 1e9, delayMs, jitterMs },
    congested: delayMs > 50,
  };
}

Deno.test("nodeRelaySettings: a path i->j is held d_i toward j and d_j on the way back", () => {
  const nodes = [node(0, 1), node(1, 100, 10), node(2, 0), node(3, 5, 1)];
  const settings = nodeRelaySettings(nodes, 1, { port: 13100 });
  assert.equal(settings.exitWithStdin, true);
  const relay = settings.relay;
  assert.deepEqual(relay.listen, { hostname: "10.213.0.11", port: 13100 });
  assert.deepEqual(relay.target, { hostname: "127.0.0.1", port: 13100 });
  // What node 1 sends back: its own delay.
  assert.deepEqual(relay.toPeer, { delayMs: 100, jitterMs: 10 });
  // What others send to node 1: their own delays; a node without delay is not listed, the
  // node itself is local.
  assert.deepEqual(
    [...relay.toTargetByPeer!],
    [["10.213.0.10", { delayMs: 1, jitterMs: 0 }], ["10.213.0.13", { delayMs: 5, jitterMs: 1 }]],
  );
  assert.equal(relay.toTargetDefault, undefined); // the hub's link is ideal
  assert.deepEqual(relay.localAddresses, ["10.213.0.11", "127.0.0.1"]);
});

Deno.test("nodeRelaySettings: round trips compose as d_i + d_j for every pair", () => {
  const delays = [1, 100, 0, 5];
  const nodes = delays.map((d, i) => node(i, d));
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < nodes.length; j++) {
      if (i === j) continue;
      const relay = nodeRelaySettings(nodes, j, { port: 1 }).relay;
      const toward = relay.toTargetByPeer?.get(nodes[i]!.address)?.delayMs ?? 0;
      assert.equal(toward + relay.toPeer.delayMs, delays[i]! + delays[j]!, `${i} -> ${j}`);
    }
  }
});

Deno.test("nodeRelaySettings: another target port and buffer bound; unknown node refused", () => {
  const nodes = [node(0, 1), node(1, 1)];
  const relay =
    nodeRelaySettings(nodes, 0, { port: 5000, targetPort: 5001, maxBufferedBytes: 1 << 20 })
      .relay;
  assert.equal(relay.target.port, 5001);
  assert.equal(relay.maxBufferedBytes, 1 << 20);
  assert.throws(() => nodeRelaySettings(nodes, 2, { port: 1 }), (e) => isCdfsError(e, "USAGE"));
});

Deno.test("sourceRelayLauncher runs relay_main.ts with this Deno and network access only", async () => {
  const launcher = sourceRelayLauncher();
  assert.equal(launcher.command, Deno.execPath());
  assert.deepEqual(launcher.args.slice(0, 3), ["run", "--allow-net", "--no-prompt"]);
  assert.ok((await Deno.stat(launcher.args[3]!)).isFile);
});

Deno.test("defaultRelayLauncher is the source launcher when running from source", () => {
  assert.deepEqual(defaultRelayLauncher(), sourceRelayLauncher());
});
