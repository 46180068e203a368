import assert from "node:assert/strict";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import type { ClusterFile } from "../../src/cluster/cluster_file.ts";
import { readClusterFile, writeClusterFile } from "../../src/cluster/cluster_file_io.ts";
import { cleanClusters, stopCluster } from "../../src/cluster/cluster_stop.ts";
import { clusterStatus } from "../../src/cluster/node_status.ts";
import { LocalCluster } from "../../src/cluster/local.ts";
import { startNodes, stopNodes } from "../../src/cluster/node_control.ts";
import { isDatanodeOf, NodeChild, selfLauncher } from "../../src/cluster/node_process.ts";
import { findProcesses, processInfo } from "../../src/core/processes.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { isNameNodeOf } from "../../src/cluster/namenode_process.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { defaultTls, setDefaultTls } from "../../src/protocol/tls.ts";

const launcher = selfLauncher((name) => Deno.env.get(name));

/** A private state root and temp dir for one test, removed (after checks) at the end. */
async function scratch(): Promise<{ stateRoot: string; tempDir: string } & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "cdfs-local-test-" });
  return {
    stateRoot: join(root, "state"),
    tempDir: root,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** Datanode processes serving a directory under `dataDir`: none once a cluster is down. */
function datanodesUnder(dataDir: string): number[] {
  return findProcesses((argv) => {
    const data = argv.indexOf("--data");
    return data > 0 && (argv[data + 1] ?? "").startsWith(`${dataDir}/`);
  }).map((p) => p.pid);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Checks that a cluster left nothing: no process (by recorded pid, `/proc` shows none that
 * is not a zombie; a zombie is an exited process its parent has not reaped, and this VM's
 * init does not reap orphans), none serving its data, no state, no temporary data.
 */
async function assertGone(file: ClusterFile): Promise<void> {
  for (const node of file.nodes) {
    if (node.pid !== null) assert.equal(processInfo(node.pid), undefined, `node ${node.index}`);
  }
  assert.deepEqual(datanodesUnder(file.dataDir), []);
  assert.equal(await exists(file.stateDir), false, "state dir left");
  if (file.removeData) assert.equal(await exists(file.dataDir), false, "data dir left");
}

async function ping(address: string): Promise<string> {
  using client = await DataNodeClient.connect(address, { connectTimeoutMs: 2000 });
  return (await client.ping()).node;
}

Deno.test("local cluster: 4 nodes answer PING, the file says who they are, stop leaves nothing", async () => {
  await using dirs = await scratch();
  const cluster = await LocalCluster.start({
    nodes: 4,
    name: "four",
    stateRoot: dirs.stateRoot,
    tempDir: dirs.tempDir,
    launcher,
  });
  let file = cluster.file;
  try {
    assert.equal(cluster.path, join(dirs.stateRoot, "four", "cluster.json"));
    file = await readClusterFile(cluster.path);
    assert.deepEqual(file, cluster.file);
    assert.equal(file.state, "up");
    assert.equal(file.launcher.pid, Deno.pid);
    assert.equal(file.removeData, true);
    assert.ok(file.dataDir.startsWith(`${dirs.tempDir}/cdfs-four-`));
    assert.equal(file.nodes.length, 4);
    for (const node of file.nodes) {
      assert.equal(await ping(node.address), node.id);
      assert.equal(node.id, `four-n${node.index}`);
      assert.equal(node.dataDir, join(file.dataDir, `n${node.index}`));
      const info = processInfo(node.pid!);
      assert.ok(info !== undefined, `node ${node.index} runs`);
      assert.equal(info.startTime, node.startTime);
      assert.ok(isDatanodeOf(info.argv, node.dataDir), info.argv.join(" "));
      assert.equal(info.argv[info.argv.indexOf("--id") + 1], node.id);
      // Its log is the JSON log of a datanode.
      const log = await Deno.readTextFile(node.log);
      assert.match(log.split("\n")[0]!, /^\{.*"event":"listening"/);
    }
    assert.equal(new Set(file.nodes.map((n) => n.address)).size, 4);
    const statuses = await clusterStatus(file);
    assert.deepEqual(statuses.map((s) => [s.up, s.running, s.blocks]), [
      [true, true, 0],
      [true, true, 0],
      [true, true, 0],
      [true, true, 0],
    ]);
  } finally {
    const report = await cluster.stop(5000);
    assert.equal(report.terminated, 4);
    assert.equal(report.killed, 0);
  }
  await assertGone(file);
});

Deno.test("local cluster: stop-node and start-node; the node's blocks survive", async () => {
  await using dirs = await scratch();
  await using cluster = await LocalCluster.start({
    nodes: 3,
    name: "restart",
    stateRoot: dirs.stateRoot,
    tempDir: dirs.tempDir,
    launcher,
    basePort: 0,
  });
  const before = cluster.file.nodes[1]!;
  {
    using client = await DataNodeClient.connect(before.address);
    await client.store("kept", [new TextEncoder().encode("still here")]);
  }
  assert.deepEqual(await stopNodes(cluster.path, [1], { graceMs: 5000 }), [1]);
  assert.equal(processInfo(before.pid!), undefined);
  let file = await readClusterFile(cluster.path);
  assert.equal(file.nodes[1]!.pid, null);
  assert.equal(file.nodes[0]!.pid, cluster.file.nodes[0]!.pid);
  const down = await clusterStatus(file, 1000);
  assert.deepEqual(down.map((s) => s.up), [true, false, true]);
  assert.equal(down[1]!.running, false);
  assert.match(down[1]!.error!, /127\.0\.0\.1/);
  // Stopping it again is harmless and says it was not running.
  assert.deepEqual(await stopNodes(cluster.path, [1], { kill: true }), []);
  await assert.rejects(
    stopNodes(cluster.path, [3]),
    (e) => isCdfsError(e, "USAGE") && /has nodes 0\.\.2, not 3/.test(e.message),
  );

  const [started] = await startNodes(cluster.path, [1], { launcher });
  assert.equal(started!.address, before.address);
  assert.notEqual(started!.pid, before.pid);
  file = await readClusterFile(cluster.path);
  assert.equal(file.nodes[1]!.pid, started!.pid);
  assert.equal(await ping(before.address), before.id);
  {
    using client = await DataNodeClient.connect(before.address);
    assert.equal((await client.stat("kept")).length, "still here".length);
  }
  await assert.rejects(
    startNodes(cluster.path, [1], { launcher }),
    (e) => isCdfsError(e, "EXISTS") && /node 1 .* is running/.test(e.message),
  );

  // A crash (SIGKILL) and a restart; `stop` then stops the restarted nodes too.
  await stopNodes(cluster.path, [0, 2], { kill: true });
  await startNodes(cluster.path, [0, 2], { launcher });
  file = await readClusterFile(cluster.path);
  assert.deepEqual((await clusterStatus(file)).map((s) => s.up), [true, true, true]);
  const report = await cluster.stop(5000);
  assert.equal(report.terminated, 3);
  await assertGone(file);
});

Deno.test("local cluster: a node that cannot start fails the start, and nothing is left", async () => {
  await using dirs = await scratch();
  // Hold the port node 0 is to get (nodes 1 and 2 start, on the ports after it, unless
  // something else on this busy machine holds those too: then they fail the same way).
  using blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await assert.rejects(
    LocalCluster.start({
      nodes: 3,
      name: "clash",
      stateRoot: dirs.stateRoot,
      tempDir: dirs.tempDir,
      launcher,
      basePort: blocker.addr.port,
    }),
    (e) =>
      isCdfsError(e, "UNAVAILABLE") &&
      /^node clash-n\d did not start: .*cannot listen on 127\.0\.0\.1:\d+/.test(e.message),
  );
  assert.deepEqual(await Array.fromAsync(Deno.readDir(dirs.stateRoot)), []);
  const temps = (await Array.fromAsync(Deno.readDir(dirs.tempDir))).map((e) => e.name);
  assert.deepEqual(temps, ["state"]);
  assert.deepEqual(datanodesUnder(dirs.tempDir), []);
});

Deno.test("local cluster: bad options are refused before anything starts", async () => {
  await using dirs = await scratch();
  const base = { stateRoot: dirs.stateRoot, tempDir: dirs.tempDir, launcher };
  await assert.rejects(LocalCluster.start({ ...base, nodes: 0 }), /--nodes must be 1\.\.1000/);
  await assert.rejects(
    LocalCluster.start({ ...base, nodes: 4, basePort: 65533 }),
    /needs ports up to 65536/,
  );
  await assert.rejects(
    LocalCluster.start({ ...base, nodes: 1, name: "no/slash" }),
    (e) => isCdfsError(e, "USAGE") && /--name "no\/slash"/.test(e.message),
  );
  assert.equal(await exists(join(dirs.stateRoot, "local")), false);
});

Deno.test("local cluster: one cluster per name; a --data directory is kept", async () => {
  await using dirs = await scratch();
  const dataDir = join(dirs.tempDir, "mydata");
  const base = { stateRoot: dirs.stateRoot, tempDir: dirs.tempDir, launcher };
  const cluster = await LocalCluster.start({ ...base, nodes: 1, name: "one", dataDir });
  try {
    assert.equal(cluster.file.dataDir, dataDir);
    assert.equal(cluster.file.removeData, false);
    await assert.rejects(
      LocalCluster.start({ ...base, nodes: 1, name: "one" }),
      (e) => isCdfsError(e, "EXISTS") && /cluster 'one' is up/.test(e.message),
    );
    await assert.rejects(
      LocalCluster.start({ ...base, nodes: 1, name: "two", dataDir }),
      (e) =>
        isCdfsError(e, "EXISTS") &&
        e.message === `--data ${dataDir}: datanode ${cluster.file.nodes[0]!.pid} already serves it`,
    );
  } finally {
    await cluster.stop(5000);
  }
  await assertGone(cluster.file);
  // The data stays, with the node's directory and log, and a new cluster can run on it.
  assert.ok(await exists(join(dataDir, "n0")));
  assert.ok(await exists(join(dataDir, "n0.log")));
  await using again = await LocalCluster.start({ ...base, nodes: 1, name: "one", dataDir });
  assert.equal(await ping(again.file.nodes[0]!.address), "one-n0");
});

Deno.test("local cluster: an aborted start stops what it started", async () => {
  await using dirs = await scratch();
  const abort = new AbortController();
  const start = LocalCluster.start({
    nodes: 2,
    name: "aborted",
    stateRoot: dirs.stateRoot,
    tempDir: dirs.tempDir,
    launcher,
    signal: abort.signal,
  });
  // Abort once the nodes are spawned (their data directories name them on /proc).
  while (datanodesUnder(dirs.tempDir).length < 2) await new Promise((r) => setTimeout(r, 5));
  abort.abort();
  await assert.rejects(start, (e) => isCdfsError(e, "TIMEOUT") && /interrupted/.test(e.message));
  assert.deepEqual(datanodesUnder(dirs.tempDir), []);
  assert.deepEqual(await Array.fromAsync(Deno.readDir(dirs.stateRoot)), []);
});

Deno.test("local cluster with a namenode: nodes registered and reporting; stop stops it too", async () => {
  await using dirs = await scratch();
  const cluster = await LocalCluster.start({
    nodes: 2,
    name: "withnn",
    stateRoot: dirs.stateRoot,
    tempDir: dirs.tempDir,
    launcher,
    namenode: { args: ["--heartbeat-interval", "200ms"] },
  });
  const file = cluster.file;
  try {
    const namenode = file.namenode!;
    assert.equal(namenode.meta, `sqlite:${join(dirs.stateRoot, "withnn", "namenode.db")}`);
    assert.equal(namenode.log, join(file.dataDir, "namenode.log"));
    const info = processInfo(namenode.pid!);
    assert.ok(info !== undefined && isNameNodeOf(info.argv, namenode.log!), "the namenode runs");
    assert.equal(info.startTime, namenode.startTime);
    for (const node of file.nodes) {
      const argv = processInfo(node.pid!)!.argv;
      assert.equal(argv[argv.indexOf("--namenode") + 1], namenode.address);
    }
    using client = await NameNodeClient.connect(namenode.address);
    assert.deepEqual(
      (await client.listDatanodes()).datanodes.map((d) => [d.node, d.address, d.state]),
      file.nodes.map((n) => [n.id, n.address, "alive"]),
    );
    // A block stored on a node is reported to the namenode.
    {
      using node = await DataNodeClient.connect(file.nodes[1]!.address);
      await node.store("kept", [new TextEncoder().encode("reported")]);
    }
    const reported = async () =>
      (await client.orphans({ graceMs: 0 })).orphans.map((o) => [o.node, o.block, o.length]);
    const until = Date.now() + 10_000;
    while ((await reported()).length === 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(await reported(), [["withnn-n1", "kept", 8]]);
  } finally {
    const report = await cluster.stop(5000);
    assert.deepEqual([report.terminated, report.services], [2, ["namenode"]]);
  }
  await assertGone(file);
  assert.equal(processInfo(file.namenode!.pid!), undefined, "the namenode is gone");
});

Deno.test("local cluster: a namenode that cannot start fails the start, and nothing is left", async () => {
  await using dirs = await scratch();
  await assert.rejects(
    LocalCluster.start({
      nodes: 2,
      name: "badnn",
      stateRoot: dirs.stateRoot,
      tempDir: dirs.tempDir,
      launcher,
      namenode: { meta: `sqlite:${dirs.tempDir}/no/such/dir/meta.db` },
    }),
    (e) =>
      isCdfsError(e, "UNAVAILABLE") &&
      /^namenode did not start: it exited before it listened \(exit code 1\): cannot open metadata database/
        .test(e.message),
  );
  assert.deepEqual(await Array.fromAsync(Deno.readDir(dirs.stateRoot)), []);
  assert.deepEqual(datanodesUnder(dirs.tempDir), []);
  assert.deepEqual(
    findProcesses((argv) => argv.some((word) => word.startsWith(dirs.tempDir))).map((p) => p.pid),
    [],
  );
});

Deno.test("clean: stops clusters whose launcher died, with strays; keeps live and detached ones", async () => {
  await using dirs = await scratch();
  const base = { stateRoot: dirs.stateRoot, tempDir: dirs.tempDir, launcher };
  const live = await LocalCluster.start({ ...base, nodes: 1, name: "live" });
  const detached = await LocalCluster.start({ ...base, nodes: 1, name: "detached" });
  await detached.detach();
  const orphan = await LocalCluster.start({ ...base, nodes: 2, name: "orphan" });
  try {
    // Make "orphan" look like the leftover of a launcher that died: its recorded launcher is
    // a process that has exited.
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    await writeClusterFile(orphan.path, {
      ...orphan.file,
      launcher: { pid: dead.pid, startTime: null, detached: false },
    });
    // And a datanode the file does not list (a launcher that died before recording it).
    const stray = NodeChild.spawn({
      launcher,
      dataDir: join(orphan.file.dataDir, "n7"),
      listen: "127.0.0.1:0",
      id: "orphan-n7",
      log: join(orphan.file.dataDir, "n7.log"),
    });
    await stray.ready(30_000);
    // And a state directory without a cluster file (a launcher that died at once).
    await Deno.mkdir(join(dirs.stateRoot, "empty"));
    await Deno.utime(join(dirs.stateRoot, "empty"), 0, 0);

    const cleaned = await cleanClusters(dirs.stateRoot, { graceMs: 5000 });
    assert.deepEqual(cleaned.map((c) => [c.name, c.action]), [
      ["detached", "kept"],
      ["empty", "removed"],
      ["live", "kept"],
      ["orphan", "stopped"],
    ]);
    assert.match(cleaned[3]!.detail, /^3 node processes stopped, removed /);
    await stray.status;
    stray.release();
    await assertGone(orphan.file);
    assert.deepEqual((await clusterStatus(live.file)).map((s) => s.up), [true]);
    assert.deepEqual((await clusterStatus(detached.file)).map((s) => s.up), [true]);

    // --all stops the rest.
    const all = await cleanClusters(dirs.stateRoot, { all: true, graceMs: 5000 });
    assert.deepEqual(all.map((c) => [c.name, c.action]), [
      ["detached", "stopped"],
      ["live", "stopped"],
    ]);
    await assertGone(live.file);
    await assertGone(detached.file);
    assert.deepEqual(await cleanClusters(dirs.stateRoot), []);
  } finally {
    // Whatever an assertion left running.
    for (const c of [live, detached, orphan]) await c.stop(2000).catch(() => {});
  }
});

Deno.test("down: a missing cluster file is NOT_FOUND", async () => {
  await using dirs = await scratch();
  await assert.rejects(
    stopCluster(join(dirs.stateRoot, "none", "cluster.json")),
    (e) => isCdfsError(e, "NOT_FOUND") && /does not exist/.test(e.message),
  );
});

Deno.test("local cluster: with tls every node serves TLS with the CA the cluster file names", async () => {
  await using dirs = await scratch();
  const before = setDefaultTls(null);
  try {
    await using cluster = await LocalCluster.start({
      nodes: 2,
      name: "tls",
      stateRoot: dirs.stateRoot,
      tempDir: dirs.tempDir,
      launcher,
      tls: true,
    });
    const caFile = join(dirs.stateRoot, "tls", "tls", "ca.pem");
    assert.equal(cluster.file.tlsCaFile, caFile);
    assert.equal((await readClusterFile(cluster.path)).tlsCaFile, caFile);
    assert.ok(cluster.file.nodeArgs.includes("--tls-cert"), cluster.file.nodeArgs.join(" "));
    // The launcher trusts the CA from then on (it PINGed the nodes over TLS to start them).
    assert.equal(defaultTls()?.caCerts[0], await Deno.readTextFile(caFile));
    assert.equal(await ping(cluster.file.nodes[1]!.address), "tls-n1");
    await assert.rejects(
      DataNodeClient.connect(cluster.file.nodes[0]!.address, { tls: null }),
      (e) => isCdfsError(e, "UNAVAILABLE") && /the node speaks TLS/.test(e.message),
    );
  } finally {
    setDefaultTls(before);
  }
});
