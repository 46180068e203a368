/**
 * Emulated networks for real: namespaces, bridge, shaping, the relay's delay, teardown and the
 * clean-up after a crash. These need root and `ip netns`; elsewhere each one is listed as
 * ignored with the reason in its name. The name checks at the top run everywhere.
 *
 * Every cluster here is named after this process (`t<pid>...`), so tests running at the same
 * time on the machine (other engineers', CI) are never touched. Traffic goes only between the
 * namespaces a test creates; the host's isolation is checked from its tables, without sending
 * anything (a packet from the host to 10.213.0.x would leave through its default route).
 */
import assert from "node:assert/strict";
import { assignLinks, type LinkSettings } from "../../src/emulation/link_spec.ts";
import { cleanNetworks, listNamespaces, namespacePids } from "../../src/emulation/netns_clean.ts";
import { EmulatedNetwork } from "../../src/emulation/netns.ts";
import {
  HUB_ADDRESS,
  hubNamespace,
  nodeNamespace,
  parseNamespaceName,
} from "../../src/emulation/netns_names.ts";
import { netnsSupport } from "../../src/emulation/netns_support.ts";
import { NodeRelay } from "../../src/emulation/node_relay.ts";
import { Probe, probeResult } from "./net_probe_process.ts";
import { isCdfsError } from "../../src/core/errors.ts";

const LAUNCHER = new URL("./netns_launcher.ts", import.meta.url).pathname;
const support = await netnsSupport();
const skipped = support.ok ? "" : ` (skipped: ${support.reason})`;
let clusters = 0;
/** The clusters the running test has named: removed after it, whatever happened. */
const named: string[] = [];

/** A cluster name of this process, fresh for each test. */
function clusterName(): string {
  const name = `t${Deno.pid}x${clusters++}`;
  named.push(name);
  return name;
}

/** A Deno.test that needs root and `ip netns`; a failed one still leaves nothing behind. */
function netnsTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: `netns: ${name}${skipped}`,
    ignore: !support.ok,
    async fn() {
      try {
        await fn();
      } finally {
        for (const cluster of named.splice(0)) await cleanNetworks(cluster);
      }
    },
  });
}

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  assert.ok(
    output.success,
    `${command} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`,
  );
  return new TextDecoder().decode(output.stdout);
}

/** Everything of `cluster` the host can see: namespaces, and host links into them. */
async function traces(cluster: string): Promise<{ namespaces: string[]; hostLinks: string[] }> {
  const namespaces = (await run("ip", ["netns", "list"])).split("\n")
    .map((line) => line.split(" ")[0]!)
    .filter((name) => parseNamespaceName(name)?.cluster === cluster);
  const hostLinks = (await run("ip", ["-o", "link", "show"])).split("\n")
    .filter((line) => line.includes(`cdfs-${cluster}-`));
  return { namespaces, hostLinks };
}

function processExists(pid: number): boolean {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return !/^State:\s+Z/m.test(status); // a zombie has left its namespace already
  } catch {
    return false;
  }
}

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function links(nodes: number, base: LinkSettings) {
  return assignLinks({ nodes, base });
}

// ---- With root ----

netnsTest("3 nodes reach each other and the hub; the host has no way in", async () => {
  const cluster = clusterName();
  await using network = await EmulatedNetwork.create({
    cluster,
    links: links(3, { rateBitsPerSecond: 1e9, delayMs: 0, jitterMs: 0 }),
  });
  assert.deepEqual(
    (await listNamespaces(cluster)).map((ns) => ns.name),
    [0, 1, 2].map((i) => nodeNamespace(cluster, i)).concat(hubNamespace(cluster)),
  );
  const echoes = network.nodes.map((node) =>
    new Probe(node.namespace, ["echo", `${node.address}:5000`])
  );
  try {
    for (const echo of echoes) await echo.next();
    for (const from of network.nodes) {
      for (const to of network.nodes) {
        if (from === to) continue;
        const result = await probeResult<{ roundTripsMs: number[] }>(
          from.namespace,
          ["rtt", `${to.address}:5000`, "3", "64"],
        );
        assert.equal(result.roundTripsMs.length, 3, `${from.index} -> ${to.index}`);
      }
    }
    // The hub (the seat for a client) reaches the nodes too.
    const fromHub = await probeResult<{ connected: boolean }>(
      network.hub,
      ["connect", `${network.nodes[2]!.address}:5000`, "3000"],
    );
    assert.equal(fromHub.connected, true);
  } finally {
    for (const echo of echoes) await echo.stop();
  }
  // The host: no interface with an end in our namespaces, no address of the subnet, and its
  // route toward a node's address is its ordinary default route, not any link of ours.
  const { hostLinks } = await traces(cluster);
  assert.deepEqual(hostLinks, []);
  const hostAddresses = await run("ip", ["-o", "-4", "addr", "show"]);
  assert.ok(!hostAddresses.includes("10.213.0."), hostAddresses);
  const hostRoutes = await run("ip", ["-4", "route", "show", "table", "all"]);
  assert.ok(!hostRoutes.includes("10.213.0."), hostRoutes);
  // Inside, by contrast, a node has its subnet on eth0 and nothing else: no default route.
  const nodeRoutes = await run("ip", ["-n", network.nodes[0]!.namespace, "-4", "route", "show"]);
  assert.equal(nodeRoutes.trim(), `10.213.0.0/24 dev eth0 proto kernel scope link src 10.213.0.10`);
  assert.ok(!(await run("ip", ["-n", network.hub, "-4", "route", "show"])).includes("default"));
  assert.ok(
    (await run("ip", ["-n", network.hub, "-4", "addr", "show", "dev", "br0"])).includes(
      HUB_ADDRESS,
    ),
  );
});

netnsTest("a node's veth is shaped: 100mbit gives 80-105 Mbit/s of TCP", async () => {
  await using network = await EmulatedNetwork.create({
    cluster: clusterName(),
    links: links(2, { rateBitsPerSecond: 100e6, delayMs: 0, jitterMs: 0 }),
  });
  const [n0, n1] = network.nodes as [typeof network.nodes[0], typeof network.nodes[0]];
  const target = `${n1!.address}:5000`;
  const sink = new Probe(n1!.namespace, ["sink", target]);
  try {
    await sink.next();
    await probeResult(n0!.namespace, ["source", target, "2.5"]);
    const { bytes, seconds } = await sink.next<{ bytes: number; seconds: number }>();
    const mbit = bytes * 8 / seconds / 1e6;
    // tbf counts Ethernet frames: TCP's goodput is ~95.7% of the rate (1448 of 1514 bytes).
    assert.ok(mbit > 80 && mbit < 105, `${mbit.toFixed(1)} Mbit/s through a 100mbit link`);
  } finally {
    await sink.stop();
  }
  const qdiscs = await run("tc", ["-n", n0!.namespace, "qdisc", "show", "dev", "eth0"]);
  assert.match(qdiscs, /tbf .*rate 100Mbit/);
  const ingress = await run("tc", ["-n", network.hub, "qdisc", "show", "dev", "n1"]);
  assert.match(ingress, /tbf .*rate 100Mbit/);
});

netnsTest("htb shapes too, on both ends of the link", async () => {
  await using network = await EmulatedNetwork.create({
    cluster: clusterName(),
    links: links(1, { rateBitsPerSecond: 200e6, delayMs: 0, jitterMs: 0 }),
    shaper: "htb",
  });
  const node = network.nodes[0]!;
  assert.match(
    await run("tc", ["-n", node.namespace, "class", "show", "dev", "eth0"]),
    /htb 1:1 .*rate 200Mbit/,
  );
  assert.match(
    await run("tc", ["-n", network.hub, "class", "show", "dev", "n0"]),
    /htb 1:1 .*rate 200Mbit/,
  );
});

netnsTest("the relay adds the delay: 10 ms each way gives round trips of 20-30 ms", async () => {
  await using network = await EmulatedNetwork.create({
    cluster: clusterName(),
    links: links(2, { rateBitsPerSecond: 1e9, delayMs: 10, jitterMs: 0 }),
  });
  const [n0, n1] = network.nodes as [typeof network.nodes[0], typeof network.nodes[0]];
  // n1's echo listens on its loopback only: the relay is the one way in.
  const echo = new Probe(n1!.namespace, ["echo", "127.0.0.1:5000"]);
  await echo.next();
  const relay = await NodeRelay.start(network.nodes, 1, { port: 5000 });
  let status: Deno.CommandStatus | undefined;
  try {
    assert.equal(relay.address, `${n1!.address}:5000`);
    const { roundTripsMs } = await probeResult<{ roundTripsMs: number[] }>(
      n0!.namespace,
      ["rtt", relay.address, "60", "100"],
    );
    const sorted = roundTripsMs.slice(5).sort((a, b) => a - b); // without the first (ARP, JIT)
    const median = sorted[Math.floor(sorted.length / 2)]!;
    assert.ok(median >= 19 && median <= 30, `median round trip ${median.toFixed(2)} ms`);
    // Nothing bypasses the relay: the DataNode's port is closed on the bridge address.
    const direct = await probeResult<{ connected: boolean }>(
      n0!.namespace,
      ["connect", `${n1!.address}:5001`, "2000"],
    );
    assert.equal(direct.connected, false);
  } finally {
    // The relay prints its counters only on a graceful exit; on a busy machine that can take
    // longer than the default 5 s before SIGKILL, which would leave no counters to check.
    status = await relay.stop(30_000);
    await echo.stop();
    assert.notEqual(status.signal, "SIGKILL", "the relay did not exit on SIGTERM");
  }
  // Seen once in 8 fresh-clone runs: no stats line; the exit status and standard error say why.
  assert.ok(
    (relay.stats?.heldChunks ?? 0) >= 100,
    `relay stats: ${JSON.stringify(relay.stats)}, exit ${JSON.stringify(status)}, stderr: ${
      (await relay.errorOutput).trim() || "(none)"
    }`,
  );
});

netnsTest("teardown removes every namespace, veth, qdisc and process", async () => {
  const cluster = clusterName();
  const network = await EmulatedNetwork.create({
    cluster,
    links: links(3, { rateBitsPerSecond: 100e6, delayMs: 1, jitterMs: 0 }),
  });
  const relay = await NodeRelay.start(network.nodes, 0, { port: 5000 });
  assert.deepEqual(await namespacePids(network.nodes[0]!.namespace), [relay.pid]);
  assert.equal((await traces(cluster)).namespaces.length, 4);
  const report = await network.destroy();
  assert.deepEqual(report.killedPids, [relay.pid]);
  await relay.stop();
  assert.deepEqual(await traces(cluster), { namespaces: [], hostLinks: [] });
  assert.ok(!processExists(relay.pid));
  // A second teardown is harmless.
  await network.destroy();
});

netnsTest(
  "create refuses a cluster whose namespaces exist; clean removes a dropped one",
  async () => {
    const cluster = clusterName();
    // "Crash": create, start processes, and drop the handle without teardown.
    let network: EmulatedNetwork | undefined = await EmulatedNetwork.create({
      cluster,
      links: links(2, { delayMs: 0, jitterMs: 0 }),
    });
    const echo = new Probe(network.nodes[1]!.namespace, ["echo", "127.0.0.1:5000"]);
    await echo.next();
    network = undefined;
    await assert.rejects(
      EmulatedNetwork.create({ cluster, links: links(2, { delayMs: 0, jitterMs: 0 }) }),
      (e) => isCdfsError(e, "EXISTS") && e.message.includes(`cdfs cluster clean ${cluster}`),
    );
    const report = await cleanNetworks(cluster);
    assert.deepEqual(
      report.namespaces.sort(),
      [
        hubNamespace(cluster),
        nodeNamespace(cluster, 0),
        nodeNamespace(cluster, 1),
      ].sort(),
    );
    assert.deepEqual(report.killedPids, [echo.child.pid]);
    await echo.stop();
    assert.deepEqual(await traces(cluster), { namespaces: [], hostLinks: [] });
    assert.deepEqual(await cleanNetworks(cluster), { namespaces: [], killedPids: [] });
  },
);

netnsTest("after kill -9 of the launcher its relays exit, and clean removes the rest", async () => {
  const cluster = clusterName();
  const launcher = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", LAUNCHER, cluster, "3"],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" },
  }).spawn();
  const reader = launcher.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the launcher exited early");
      text += value;
    }
  } finally {
    launcher.kill("SIGKILL");
    await reader.cancel();
    await launcher.status;
  }
  const { relays, echoes } = JSON.parse(text) as { relays: number[]; echoes: number[] };
  assert.equal(relays.length, 3);
  // The relays see their standard input end and exit on their own.
  await waitUntil("the relays exit", () => relays.every((pid) => !processExists(pid)));
  // The echo servers know nothing of the launcher: they still run, in our namespaces.
  assert.ok(echoes.every(processExists));
  assert.equal((await traces(cluster)).namespaces.length, 4);
  const report = await cleanNetworks(cluster, { graceMs: 1000 });
  assert.deepEqual(report.killedPids.sort(), [...echoes].sort());
  await waitUntil("the echoes are gone", () => echoes.every((pid) => !processExists(pid)));
  assert.deepEqual(await traces(cluster), { namespaces: [], hostLinks: [] });
});

netnsTest("a failed create leaves nothing behind", async () => {
  const cluster = clusterName();
  // A tc on PATH that fails for node 1's veth: the hub and other nodes are made by then.
  const bin = await Deno.makeTempDir({ prefix: "cdfs-fake-tc-" });
  const path = Deno.env.get("PATH") ?? "";
  try {
    await Deno.writeTextFile(
      `${bin}/tc`,
      `#!/bin/sh\ncase " $* " in *" dev eth0 "*" -n cdfs-${cluster}-n1 "*|*" -n cdfs-${cluster}-n1 "*) ` +
        `echo "injected failure" >&2; exit 2;; esac\n` +
        `for tc in /usr/sbin/tc /sbin/tc /usr/bin/tc; do [ -x "$tc" ] && exec "$tc" "$@"; done\nexit 127\n`,
    );
    await Deno.chmod(`${bin}/tc`, 0o755);
    Deno.env.set("PATH", `${bin}:${path}`);
    await assert.rejects(
      EmulatedNetwork.create({
        cluster,
        links: links(3, { rateBitsPerSecond: 1e9, delayMs: 0, jitterMs: 0 }),
      }),
      (e) => isCdfsError(e, "UNAVAILABLE") && /'tc .*' failed: injected failure/.test(e.message),
    );
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(bin, { recursive: true });
  }
  assert.deepEqual(await traces(cluster), { namespaces: [], hostLinks: [] });
});
