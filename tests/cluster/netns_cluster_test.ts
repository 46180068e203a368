/**
 * `cdfs cluster up --netns` end to end: the nodes in their namespaces behind relays, reachable
 * from the hub namespace, and `cluster down` removing every namespace, process and state. That
 * part needs root and `ip netns`; elsewhere it is listed as ignored with the reason in its name.
 * The refusal without support and the option checks run everywhere.
 *
 * The cluster is named after this process (`nc<pid>`) and lives in a state directory of its
 * own, so clusters of others on the machine are never touched.
 */
import assert from "node:assert/strict";
import { netnsLinks } from "../../src/cli/netns_options.ts";
import { listNamespaces, namespacePids } from "../../src/emulation/netns_clean.ts";
import { netnsSupport } from "../../src/emulation/netns_support.ts";
import { readClusterFile } from "../../src/cluster/cluster_file_io.ts";
import {
  isRelayOf,
  namespaceLauncher,
  networkNodes,
  startNetnsNodes,
  stopNetnsNodes,
} from "../../src/cluster/netns_cluster.ts";
import { processInfo } from "../../src/core/processes.ts";
import { isCdfsError } from "../../src/core/errors.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ENV = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" };
const support = await netnsSupport();
const skipped = support.ok ? "" : ` (skipped: ${support.reason})`;

/** Runs `cdfs ARGS`, inside `namespace` when given; resolves to its code and output. */
async function cdfs(
  args: string[],
  namespace?: string,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const words = ["run", "-A", MAIN, ...args];
  const command = namespace === undefined
    ? new Deno.Command(Deno.execPath(), { args: words, env: { ...ENV, ...env }, stdin: "null" })
    : new Deno.Command("ip", {
      args: ["netns", "exec", namespace, Deno.execPath(), ...words],
      env: { ...ENV, ...env },
      stdin: "null",
    });
  const output = await command.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr),
  };
}

/**
 * `cdfs cluster up --netns --detach --json --name NAME ARGS --state-dir DIR`, which must
 * succeed: the path of its cluster file and the file.
 */
async function upNetns(
  name: string,
  stateDir: string,
  args: string[],
  // deno-lint-ignore no-explicit-any
): Promise<{ clusterFile: string; cluster: any }> {
  const up = await cdfs([
    "cluster",
    "up",
    "--netns",
    "--detach",
    "--json",
    "--name",
    name,
    ...args,
    "--state-dir",
    stateDir,
  ]);
  assert.equal(up.code, 0, up.err);
  return JSON.parse(up.out);
}

/** Whether process `pid` exists (and is not a zombie). */
function isRunning(pid: number): boolean {
  try {
    return !/\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** Whether any process's command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (argv.includes(text)) pids.push(Number(entry.name));
    } catch {
      // It exited meanwhile.
    }
  }
  return pids;
}

Deno.test("cluster up --netns: without support it refuses in one line naming the reason", async () => {
  const args = { values: { netns: true, rate: "100mbit" }, positionals: [] };
  await assert.rejects(
    netnsLinks(args, 3, () => Promise.resolve({ ok: false, reason: "it needs root (uid 1000)" })),
    (e) =>
      isCdfsError(e, "UNAVAILABLE") && !(e as Error).message.includes("\n") &&
      (e as Error).message.includes("--netns") &&
      (e as Error).message.includes("it needs root (uid 1000)"),
  );
});

Deno.test("cluster up --netns: link options are checked, and need --netns", async () => {
  const ok = () => Promise.resolve({ ok: true as const });
  assert.equal(await netnsLinks({ values: {}, positionals: [] }, 3, ok), undefined);
  await assert.rejects(
    netnsLinks({ values: { delay: "5ms" }, positionals: [] }, 3, ok),
    (e) => isCdfsError(e, "USAGE") && (e as Error).message.includes("--netns"),
  );
  await assert.rejects(
    netnsLinks({ values: { netns: true, rate: "fast" }, positionals: [] }, 3, ok),
    (e) => isCdfsError(e, "USAGE"),
  );
  const links = await netnsLinks(
    {
      values: { netns: true, rate: "100mbit", delay: "5ms", congest: "34%:10mbit:50ms" },
      positionals: [],
    },
    3,
    ok,
  );
  assert.equal(links?.length, 3);
  assert.equal(links!.filter((l) => l.congested).length, 1);
  assert.ok(
    links!.every((l) =>
      l.congested || (l.link.delayMs === 5 && l.link.rateBitsPerSecond === 100e6)
    ),
  );
});

Deno.test("cluster up --netns: a node's launcher runs cdfs through ip netns exec", () => {
  const launcher = namespaceLauncher({ command: "/bin/cdfs", args: ["x"] }, "cdfs-c-n2");
  assert.match(launcher.command, /(^|\/)ip$/);
  assert.deepEqual(launcher.args, ["netns", "exec", "cdfs-c-n2", "/bin/cdfs", "x"]);
});

Deno.test({
  name: `cluster up --netns: nodes answer PING from the hub; down leaves nothing${skipped}`,
  ignore: !support.ok,
  async fn() {
    const name = `nc${Deno.pid}`;
    const stateDir = await Deno.makeTempDir({ prefix: "cdfs-netns-state-" });
    const dataDir = await Deno.makeTempDir({ prefix: "cdfs-netns-data-" });
    const state = ["--state-dir", stateDir];
    try {
      const { clusterFile, cluster } = await upNetns(name, stateDir, [
        "--nodes",
        "3",
        "--rate",
        "100mbit",
        "--delay",
        "5ms",
        "--data",
        dataDir,
      ]);
      const hub = `cdfs-${name}-hub`;
      assert.equal(cluster.network.hub, hub);
      assert.deepEqual(
        cluster.nodes.map((n: { address: string }) => n.address.split(":")[0]),
        ["10.213.0.10", "10.213.0.11", "10.213.0.12"],
      );
      assert.equal((await listNamespaces(name)).length, 4);

      // The nodes take only requests signed with the cluster's secret (docs/security.md).
      assert.ok(cluster.secretFile, "cluster up gave the cluster a secret");
      const signed = { CDFS_SECRET_FILE: cluster.secretFile as string };
      for (const node of cluster.nodes as { address: string; id: string }[]) {
        const ping = await cdfs(["block", "ping", "--node", node.address, "--json"], hub, signed);
        assert.equal(ping.code, 0, ping.err);
        assert.equal(JSON.parse(ping.out).node, node.id);
      }
      // Every DataNode and relay of the cluster runs inside its namespaces.
      const inside = (await Promise.all(
        (await listNamespaces(name)).map((ns) => namespacePids(ns.name)),
      )).flat();
      assert.ok(inside.length >= 6, `${inside.length} processes in the namespaces`);

      const down = await cdfs(["cluster", "down", "--cluster", clusterFile, ...state]);
      assert.equal(down.code, 0, down.err);
      assert.deepEqual(await listNamespaces(name), []);
      assert.deepEqual(processesMentioning(dataDir), []);
      assert.deepEqual(inside.filter((pid) => isRunning(pid)), []);
      assert.deepEqual([...Deno.readDirSync(stateDir)], []);
    } finally {
      await cdfs(["cluster", "clean", "--all", ...state]);
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    `cluster up --netns --tls: the nodes serve TLS through their relays, to clients that trust the cluster's CA${skipped}`,
  ignore: !support.ok,
  async fn() {
    const name = `nt${Deno.pid}`;
    const stateDir = await Deno.makeTempDir({ prefix: "cdfs-netns-state-" });
    const state = ["--state-dir", stateDir];
    try {
      const { clusterFile, cluster } = await upNetns(name, stateDir, ["--tls", "--nodes", "3"]);
      const hub = `cdfs-${name}-hub`;
      assert.ok(cluster.tlsCaFile, "the cluster file names its CA");
      const trusting = {
        CDFS_SECRET_FILE: cluster.secretFile as string,
        CDFS_TLS_CA: cluster.tlsCaFile as string,
      };
      const listed = cluster.nodes as { address: string; id: string }[];
      const addresses = listed.map((node) => node.address);
      for (const node of listed) {
        const ping = await cdfs(["block", "ping", "--node", node.address, "--json"], hub, trusting);
        assert.equal(ping.code, 0, ping.err);
        assert.equal(JSON.parse(ping.out).node, node.id);
      }
      // A client without the CA's trust does not get through.
      const plain = await cdfs(["block", "ping", "--node", addresses[0]!], hub, {
        CDFS_SECRET_FILE: cluster.secretFile as string,
      });
      assert.notEqual(plain.code, 0);
      assert.match(plain.err, /TLS/);
      // A coding run between the namespaces: nodes 1 and 2 copy node 0's part over TLS.
      const file = `${stateDir}/input`;
      const bytes = new Uint8Array(100_000).map((_, i) => i * 7);
      await Deno.writeFile(file, bytes);
      const nodes = ["--nodes", addresses.join(","), "--code", "replication"];
      const put = await cdfs(["object", "put-parts", ...nodes, file, "x"], hub, trusting);
      assert.equal(put.code, 0, put.err);
      const encode = await cdfs(["object", "encode", ...nodes, "x"], hub, trusting);
      assert.equal(encode.code, 0, encode.err);
      const out = `${stateDir}/copy`;
      const get = await cdfs(
        ["block", "retrieve", "--node", addresses[2]!, "x.coded2", "-o", out],
        hub,
        trusting,
      );
      assert.equal(get.code, 0, get.err);
      assert.deepEqual(await Deno.readFile(out), bytes);
      const down = await cdfs(["cluster", "down", "--cluster", clusterFile, ...state]);
      assert.equal(down.code, 0, down.err);
    } finally {
      await cdfs(["cluster", "clean", "--all", ...state]);
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("isRelayOf knows a relay by its listening address, in either option form", () => {
  const script = [
    "deno",
    "run",
    "relay_main.ts",
    "--listen",
    "10.213.0.11:7001",
    "--target",
    "127.0.0.1:7001",
  ];
  assert.equal(isRelayOf(script, "10.213.0.11:7001"), true);
  assert.equal(isRelayOf(script, "10.213.0.10:7001"), false);
  const command = [
    "cdfs",
    "cluster",
    "relay",
    "--listen=10.213.0.11:7001",
    "--target=127.0.0.1:7001",
  ];
  assert.equal(isRelayOf(command, "10.213.0.11:7001"), true);
  // The DataNode behind it listens too, on loopback, and has no --target.
  const datanode = ["deno", "run", "main.ts", "datanode", "serve", "--listen", "127.0.0.1:7001"];
  assert.equal(isRelayOf(datanode, "127.0.0.1:7001"), false);
});

Deno.test("networkNodes rebuilds the relays' view of the network, only with every link known", () => {
  const link = { rateBitsPerSecond: 1e8, delayMs: 5, jitterMs: 1 };
  const network = {
    netns: true as const,
    hub: "cdfs-c-hub",
    hubAddress: "10.213.0.1",
    nodes: [
      { namespace: "cdfs-c-n0", address: "10.213.0.10", link, congested: true },
      { namespace: "cdfs-c-n1", address: "10.213.0.11", link: { delayMs: 0, jitterMs: 0 } },
    ],
  };
  assert.deepEqual(networkNodes(network), [
    { index: 0, namespace: "cdfs-c-n0", address: "10.213.0.10", link, congested: true },
    {
      index: 1,
      namespace: "cdfs-c-n1",
      address: "10.213.0.11",
      link: { delayMs: 0, jitterMs: 0 },
      congested: false,
    },
  ]);
  const older = { ...network, nodes: [{ namespace: "cdfs-c-n0", address: "10.213.0.10" }] };
  assert.equal(networkNodes(older), undefined);
});

Deno.test("stopNetnsNodes and startNetnsNodes refuse a cluster without an emulated network", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-netns-plain-" });
  try {
    const path = `${dir}/cluster.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        version: 1,
        name: "plain",
        state: "up",
        created: "2026-01-01T00:00:00.000Z",
        stateDir: dir,
        dataDir: dir,
        removeData: false,
        nodeArgs: [],
        launcher: { pid: 4242, startTime: null, detached: true },
        nodes: [],
      }),
    );
    const notNetns = (e: unknown) =>
      isCdfsError(e, "USAGE") && /does not run in an emulated network/.test((e as Error).message);
    await assert.rejects(stopNetnsNodes(path, [0]), notNetns);
    await assert.rejects(
      startNetnsNodes(path, [0], { launcher: { command: "cdfs", args: [] } }),
      notNetns,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The processes in a namespace that are relays listening on `address`. */
async function relaysIn(namespace: string, address: string): Promise<number[]> {
  return (await namespacePids(namespace)).filter((pid) => {
    const info = processInfo(pid);
    return info !== undefined && isRelayOf(info.argv, address);
  });
}

Deno.test({
  name:
    `cluster stop-node/start-node --netns: the node comes back in its namespace, same address, new relay${skipped}`,
  ignore: !support.ok,
  async fn() {
    const name = `ns${Deno.pid}`;
    const stateDir = await Deno.makeTempDir({ prefix: "cdfs-netns-state-" });
    const dataDir = await Deno.makeTempDir({ prefix: "cdfs-netns-data-" });
    const state = ["--state-dir", stateDir];
    const hub = `cdfs-${name}-hub`;
    const n1 = `cdfs-${name}-n1`;
    try {
      const up = await cdfs([
        "cluster",
        "up",
        "--netns",
        "--nodes",
        "2",
        "--delay",
        "2ms",
        "--detach",
        "--json",
        "--name",
        name,
        "--data",
        dataDir,
        ...state,
      ]);
      assert.equal(up.code, 0, up.err);
      const { clusterFile, cluster } = JSON.parse(up.out);
      const address = cluster.nodes[1].address as string;
      const client = ["--cluster", clusterFile];
      const on = [...client, ...state];
      // The links are in the file: what start-node needs to start a relay again.
      assert.deepEqual(
        (await readClusterFile(clusterFile)).network?.nodes.map((n) => n.link?.delayMs),
        [2, 2],
      );
      const block = `${dataDir}/block.bin`;
      await Deno.writeTextFile(block, "kept across a restart\n");
      const store = await cdfs(["block", "store", ...client, "--node", "1", "kept", block], hub);
      assert.equal(store.code, 0, store.err);
      assert.equal((await relaysIn(n1, address)).length, 1);

      // stop-node: the DataNode and its relay are gone; the address refuses connections.
      const stop = await cdfs(["cluster", "stop-node", ...on, "1"]);
      assert.equal(stop.out, "node 1: stopped\n", stop.err);
      assert.deepEqual(await namespacePids(n1), []);
      const down = await cdfs(["cluster", "status", ...on, "--json"], hub);
      assert.equal(down.code, 1);
      const downNode = JSON.parse(down.out).nodes[1];
      assert.equal(downNode.up, false);
      assert.match(downNode.error, /refused/i);

      // start-node: back inside n1 on the same address, with a new relay, with its data.
      const start = await cdfs(["cluster", "start-node", ...on, "1"]);
      assert.equal(start.code, 0, start.err);
      const pid = Number(/^node 1: started on (\S+), pid (\d+)\n$/.exec(start.out)?.[2]);
      assert.match(start.out, new RegExp(`started on ${address.replaceAll(".", "\\.")},`));
      assert.ok((await namespacePids(n1)).includes(pid), "the node runs in its namespace");
      assert.equal((await relaysIn(n1, address)).length, 1);
      const stat = await cdfs(["block", "stat", ...client, "--node", "1", "--json", "kept"], hub);
      assert.equal(stat.code, 0, stat.err);
      assert.equal(JSON.parse(stat.out).length, "kept across a restart\n".length);
      const stats = await cdfs(["cluster", "stats", ...on], hub);
      assert.equal(stats.code, 0, stats.err);
      assert.match(stats.out, /^cluster '[^']+': 2 of 2 nodes answered/);

      // A crash of the DataNode alone leaves its relay: start-node does not start a second.
      Deno.kill(pid, "SIGKILL");
      while (isRunning(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
      const relay = await relaysIn(n1, address);
      assert.equal(relay.length, 1);
      const again = await cdfs(["cluster", "start-node", ...on, "1"]);
      assert.equal(again.code, 0, again.err);
      assert.deepEqual(await relaysIn(n1, address), relay);
      const ping = await cdfs(["block", "ping", ...client, "--node", "1", "--json"], hub);
      assert.equal(ping.code, 0, ping.err);
      assert.equal(JSON.parse(ping.out).node, cluster.nodes[1].id);

      const gone = await cdfs(["cluster", "down", ...on]);
      assert.equal(gone.code, 0, gone.err);
      assert.deepEqual(await listNamespaces(name), []);
      assert.deepEqual(processesMentioning(dataDir), []);
    } finally {
      await cdfs(["cluster", "clean", "--all", ...state]);
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
