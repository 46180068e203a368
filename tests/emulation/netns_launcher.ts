/**
 * Test fixture: a stand-in for the cluster launcher, to be killed with SIGKILL. It creates an
 * emulated network of cluster `Deno.args[0]` with `Deno.args[1]` nodes, starts in every node's
 * namespace a relay (whose standard input this process holds) and an echo server (which knows
 * nothing of this process), prints one JSON line `{"relays":[pids],"echoes":[pids]}` and waits
 * to be killed.
 *
 * @module
 */
import { assignLinks } from "../../src/emulation/link_spec.ts";
import { EmulatedNetwork } from "../../src/emulation/netns.ts";
import { runInNamespace } from "../../src/emulation/netns_tools.ts";
import { NodeRelay } from "../../src/emulation/node_relay.ts";

const PROBE = new URL("./net_probe.ts", import.meta.url).pathname;

if (import.meta.main) {
  const [cluster, count] = Deno.args;
  const network = await EmulatedNetwork.create({
    cluster: cluster!,
    links: assignLinks({ nodes: Number(count), base: { delayMs: 1, jitterMs: 0 } }),
  });
  const echoes = network.nodes.map((node) =>
    runInNamespace(
      node.namespace,
      Deno.execPath(),
      ["run", "--allow-net", PROBE, "echo", "127.0.0.1:5001"],
      { stdout: "null", stdin: "null" },
    )
  );
  const relays = await Promise.all(
    network.nodes.map((node) => NodeRelay.start(network.nodes, node.index, { port: 5000 })),
  );
  Deno.stdout.writeSync(
    new TextEncoder().encode(
      JSON.stringify({ relays: relays.map((r) => r.pid), echoes: echoes.map((e) => e.pid) }) +
        "\n",
    ),
  );
  setInterval(() => {}, 60_000); // keeps the process alive until it is killed
}
