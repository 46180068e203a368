import assert from "node:assert/strict";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { join } from "node:path";
import { EXIT_USAGE } from "../../src/cli/app.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import type { ClusterFile } from "../../src/cluster/cluster_file.ts";
import { readClusterFile } from "../../src/cluster/cluster_file_io.ts";
import { findProcesses, processInfo } from "../../src/core/processes.ts";
import { findEtcd } from "../../src/cluster/etcd.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { RequestSigner } from "../../src/protocol/auth.ts";
import { EtcdCluster } from "../namenode/_etcd.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A private state root for one test (every command gets it as $CDFS_STATE_DIR). */
async function scratch(): Promise<{ root: string; env: Record<string, string> } & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "cdfs-cli-cluster-test-" });
  return {
    root,
    env: { CDFS_STATE_DIR: join(root, "state"), TMPDIR: root },
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** Runs `cdfs ARGS` in this process. */
function cdfs(args: string[], env: Record<string, string>): Promise<CliRun> {
  return runCdfs(args, { env });
}

/** A `cdfs cluster up --json ...` launcher process, and its first stdout line parsed. */
async function launch(
  args: string[],
  env: Record<string, string>,
): Promise<{ child: Deno.ChildProcess; path: string; file: ClusterFile; stderr: () => string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "cluster", "up", "--json", ...args],
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  (async () => {
    for await (const bytes of child.stderr.pipeThrough(new TextDecoderStream())) stderr += bytes;
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  if (!text.includes("\n")) {
    await child.status;
    throw new Error(`cluster up printed no line; stderr:\n${stderr}`);
  }
  const { clusterFile, cluster } = JSON.parse(text.slice(0, text.indexOf("\n")));
  return { child, path: clusterFile, file: cluster, stderr: () => stderr };
}

function datanodesUnder(dataDir: string): number[] {
  return findProcesses((argv) => {
    const data = argv.indexOf("--data");
    return data > 0 && (argv[data + 1] ?? "").startsWith(`${dataDir}/`);
  }).map((p) => p.pid);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/**
 * No node, namenode or etcd process (zombies of orphans excepted: see
 * tests/cluster/local_test.ts), no dirs.
 */
async function assertGone(file: ClusterFile): Promise<void> {
  for (const node of file.nodes) {
    if (node.pid !== null) assert.equal(processInfo(node.pid), undefined, `node ${node.index}`);
  }
  if (file.namenode?.pid !== undefined) {
    assert.equal(processInfo(file.namenode.pid), undefined, "the namenode");
  }
  if (file.etcd !== undefined) assert.equal(processInfo(file.etcd.pid), undefined, "the etcd");
  assert.deepEqual(datanodesUnder(file.dataDir), []);
  assert.equal(await exists(file.stateDir), false, "state dir left");
  assert.equal(await exists(file.dataDir), false, "data dir left");
}

/** The datanodes the cluster's namenode has registered, and whether each is alive. */
/** The signer of the cluster's secret (`cluster up` generates one; the nodes require it). */
async function signerOf(file: ClusterFile): Promise<RequestSigner> {
  assert.ok(file.secretFile !== undefined, "the cluster file names its secret");
  return new RequestSigner((await Deno.readTextFile(file.secretFile)).trim());
}

async function registered(file: ClusterFile): Promise<[string, string, string][]> {
  assert.ok(file.namenode !== undefined, "the cluster file names its namenode");
  using client = await NameNodeClient.connect(file.namenode.address, {
    connectTimeoutMs: 2000,
    signer: await signerOf(file),
  });
  const { datanodes } = await client.listDatanodes();
  return datanodes.map((d) => [d.node, d.address, d.state]);
}

async function pingAll(file: ClusterFile): Promise<string[]> {
  return await Promise.all(file.nodes.map(async (node) => {
    using client = await DataNodeClient.connect(node.address, {
      connectTimeoutMs: 2000,
      signer: await signerOf(file),
    });
    return (await client.ping()).node;
  }));
}

Deno.test("cli cluster: up in the foreground, status, down stops it through the launcher", async () => {
  await using dirs = await scratch();
  const up = await launch(["--nodes", "4", "--name", "fg"], dirs.env);
  try {
    assert.equal(up.path, join(dirs.env.CDFS_STATE_DIR!, "fg", "cluster.json"));
    assert.deepEqual(await readClusterFile(up.path), up.file);
    assert.deepEqual(await pingAll(up.file), ["fg-n0", "fg-n1", "fg-n2", "fg-n3"]);
    // A namenode runs, with every datanode registered and alive (it was up before the file).
    assert.match(up.file.namenode!.meta, /^sqlite:.*\/state\/fg\/namenode\.db$/);
    assert.ok(processInfo(up.file.namenode!.pid!) !== undefined, "the namenode runs");
    assert.deepEqual(
      await registered(up.file),
      up.file.nodes.map((n) => [n.id, n.address, "alive"]),
    );

    const status = await cdfs(["cluster", "status", "--cluster", up.path, "--json"], dirs.env);
    assert.equal(status.code, 0, status.err);
    const parsed = JSON.parse(status.out);
    assert.deepEqual(parsed.nodes.map((n: { up: boolean }) => n.up), [true, true, true, true]);
    // By name and through $CDFS_CLUSTER too.
    assert.equal((await cdfs(["cluster", "status", "--cluster", "fg"], dirs.env)).code, 0);
    const viaEnv = await cdfs(["cluster", "status"], { ...dirs.env, CDFS_CLUSTER: up.path });
    assert.match(viaEnv.out, /^cluster 'fg' \(up\): 4 of 4 nodes up, namenode up\n/);
    assert.match(
      viaEnv.out,
      /\n {2}namenode +127\.0\.0\.1:\d+ +up +\d+ .* 4 datanodes alive, 0 dead/,
    );
    assert.equal(parsed.namenode.up, true);
    assert.equal(parsed.namenode.alive, 4);

    const down = await cdfs(["cluster", "down", "--cluster", up.path, "--json"], dirs.env);
    assert.equal(down.code, 0, down.err);
    assert.equal(JSON.parse(down.out).viaLauncher, true);
    const exit = await up.child.status;
    assert.equal(exit.code, 0, up.stderr());
    assert.match(up.stderr(), /SIGTERM: stopping cluster 'fg'/);
    await assertGone(up.file);
  } finally {
    try {
      up.child.kill("SIGKILL");
    } catch {
      // It has exited, as it should.
    }
    await up.child.status;
    await cdfs(["cluster", "clean", "--all"], dirs.env);
  }
});

Deno.test("cli cluster: Ctrl-C (SIGINT) stops the foreground cluster cleanly", async () => {
  await using dirs = await scratch();
  const up = await launch(["--nodes", "2", "--name", "intr"], dirs.env);
  up.child.kill("SIGINT");
  const exit = await up.child.status;
  assert.equal(exit.code, 0, up.stderr());
  assert.match(up.stderr(), /cluster 'intr' is down: 2 nodes and the namenode stopped, removed /);
  await assertGone(up.file);
});

Deno.test("cli cluster: after kill -9 of the launcher the nodes run on; clean removes them", async () => {
  await using dirs = await scratch();
  const up = await launch(["--nodes", "3", "--name", "crash"], dirs.env);
  up.child.kill("SIGKILL");
  await up.child.status;
  // The nodes are in sessions of their own: they still serve.
  assert.deepEqual(await pingAll(up.file), ["crash-n0", "crash-n1", "crash-n2"]);
  const status = await cdfs(["cluster", "status", "--cluster", "crash"], dirs.env);
  assert.equal(status.code, 0);
  // Starting the same name again says what to do.
  const again = await cdfs(["cluster", "up", "--nodes", "1", "--name", "crash"], dirs.env);
  assert.equal(again.code, 1);
  assert.match(again.err, /left behind by a launcher that died .*'cdfs cluster clean'/);

  const clean = await cdfs(["cluster", "clean"], dirs.env);
  assert.equal(clean.code, 0, clean.err);
  assert.match(
    clean.out,
    /^crash: stopped \(3 node processes and the namenode stopped, removed .*\)\n$/,
  );
  await assertGone(up.file);
  assert.equal((await cdfs(["cluster", "clean"], dirs.env)).out, "no clusters\n");
});

Deno.test("cli cluster: --detach, stop-node, start-node, down", async () => {
  await using dirs = await scratch();
  const up = await cdfs(["cluster", "up", "--nodes", "3", "--name", "det", "--detach"], dirs.env);
  assert.equal(up.code, 0, up.err);
  const path = join(dirs.env.CDFS_STATE_DIR!, "det", "cluster.json");
  assert.match(
    up.out,
    new RegExp(
      `^cluster 'det' is up: 3 nodes and a namenode in [\\d.]+ s\ncluster file: ${path}\n`,
    ),
  );
  assert.match(up.out, /stop it with: cdfs cluster down --cluster /);
  const file = await readClusterFile(path);
  try {
    assert.equal(file.launcher.detached, true);
    const env = { ...dirs.env, CDFS_CLUSTER: path };
    // The nodes require the cluster's secret; commands naming the cluster sign with it.
    const bytes = crypto.getRandomValues(new Uint8Array(60_000));
    await Deno.writeFile(join(dirs.root, "in"), bytes);
    const stored = await cdfs(["block", "store", "--node", "1", "b1", join(dirs.root, "in")], env);
    assert.equal(stored.code, 0, stored.err);
    const copy = join(dirs.root, "out");
    const got = await cdfs(["block", "retrieve", "--node", "1", "b1", "-o", copy], env);
    assert.equal(got.code, 0, got.err);
    assert.deepEqual(await Deno.readFile(copy), bytes);
    const unsigned = await cdfs(["block", "ls", "--node", file.nodes[1]!.address], dirs.env);
    assert.match(unsigned.err, /UNAUTHENTICATED/);

    const stop = await cdfs(["cluster", "stop-node", "0", "2"], env);
    assert.equal(stop.out, "node 0: stopped\nnode 2: stopped\n");
    const status = await cdfs(["cluster", "status"], env);
    assert.equal(status.code, 1);
    assert.match(status.out, /1 of 3 nodes up/);
    const start = await cdfs(["cluster", "start-node", "2"], env);
    assert.match(start.out, /^node 2: started on 127\.0\.0\.1:\d+, pid \d+\n$/);
    // The restarted node registers with the cluster's namenode again.
    const restarted = (await readClusterFile(path)).nodes[2]!;
    const argv = processInfo(restarted.pid!)!.argv;
    assert.equal(argv[argv.indexOf("--namenode") + 1], file.namenode!.address);
    const bad = await cdfs(["cluster", "start-node", "x"], env);
    assert.equal(bad.code, EXIT_USAGE);
    assert.match(bad.err, /node index 'x' is not a number/);

    const down = await cdfs(["cluster", "down"], env);
    assert.match(down.out, /^cluster 'det' is down: 2 nodes and the namenode stopped, removed /);
    await assertGone(file);
  } finally {
    await cdfs(["cluster", "clean", "--all"], dirs.env);
  }
});

Deno.test("cli cluster: bad or missing cluster files are refused with clear errors", async () => {
  await using dirs = await scratch();
  const missing = await cdfs(["cluster", "status"], dirs.env);
  assert.equal(missing.code, EXIT_USAGE);
  assert.match(missing.err, /--cluster FILE is required \(or set CDFS_CLUSTER\)/);

  const none = await cdfs(["cluster", "down", "--cluster", "nope"], dirs.env);
  assert.equal(none.code, 1);
  assert.match(none.err, /cluster file .*\/nope\/cluster\.json does not exist/);

  const bad = join(dirs.root, "bad.json");
  await Deno.writeTextFile(bad, JSON.stringify({ version: 1, name: "x", nodes: "all" }));
  const refused = await cdfs(["cluster", "status", "--cluster", bad], dirs.env);
  assert.equal(refused.code, EXIT_USAGE);
  assert.match(refused.err, /cluster file .*bad\.json: state must be a string/);

  await Deno.writeTextFile(bad, "not json");
  const notJson = await cdfs(["cluster", "stop-node", "--cluster", bad, "0"], dirs.env);
  assert.equal(notJson.code, EXIT_USAGE);
  assert.match(notJson.err, /cluster file .*bad\.json: not JSON/);

  const noNodes = await cdfs(["cluster", "up"], dirs.env);
  assert.equal(noNodes.code, EXIT_USAGE);
  assert.match(noNodes.err, /--nodes N is required/);
});

Deno.test("cli cluster: start-node on a running node and stop-node on a stopped one both say so", async () => {
  await using dirs = await scratch();
  const up = await cdfs(["cluster", "up", "--nodes", "2", "--name", "sym", "--detach"], dirs.env);
  assert.equal(up.code, 0, up.err);
  const path = join(dirs.env.CDFS_STATE_DIR!, "sym", "cluster.json");
  const env = { ...dirs.env, CDFS_CLUSTER: path };
  try {
    const pid0 = (await readClusterFile(path)).nodes[0]!.pid;
    const running = await cdfs(["cluster", "start-node", "0"], env);
    assert.equal(running.code, 0, running.err);
    assert.equal(running.out, `node 0: already running, pid ${pid0}\n`);
    assert.equal(running.err, "");

    assert.equal((await cdfs(["cluster", "stop-node", "1"], env)).out, "node 1: stopped\n");
    const stopped = await cdfs(["cluster", "stop-node", "1"], env);
    assert.equal(stopped.code, 0, stopped.err);
    assert.equal(stopped.out, "node 1: already stopped\n");
    assert.equal(stopped.err, "");

    // Both kinds at once: the running one is left alone, the stopped one starts.
    const both = await cdfs(["cluster", "start-node", "0", "1"], env);
    assert.equal(both.code, 0, both.err);
    assert.match(
      both.out,
      new RegExp(
        `^node 0: already running, pid ${pid0}\nnode 1: started on 127\\.0\\.0\\.1:\\d+, pid \\d+\n$`,
      ),
    );
    const status = await cdfs(["cluster", "status"], env);
    assert.match(status.out, /2 of 2 nodes up/);
    const bad = await cdfs(["cluster", "start-node", "5"], env);
    assert.equal(bad.code, EXIT_USAGE);
    assert.match(bad.err, /cluster 'sym' has nodes 0\.\.1, not 5/);
  } finally {
    await cdfs(["cluster", "down"], env);
    await cdfs(["cluster", "clean", "--all"], dirs.env);
  }
});

Deno.test("cli cluster up: bad options are refused before 'starting N datanodes'", async () => {
  await using dirs = await scratch();
  const cases: [string[], string][] = [
    [["--nodes", "0"], "--nodes must be 1..1000, got 0"],
    [["--nodes", "1001"], "--nodes must be 1..1000, got 1001"],
    [
      ["--nodes", "2", "--base-port", "65535"],
      "--base-port 65535 with 2 nodes needs ports up to 65536; ports end at 65535",
    ],
    [
      ["--nodes", "2", "--meta", "mysql:x"],
      '--meta "mysql:x": expected etcd:URL[,URL...] or sqlite:PATH',
    ],
    [
      ["--nodes", "2", "--meta", "sqlite:/tmp/x.db", "--etcd"],
      "--meta names a store and --etcd starts one: give one of them",
    ],
    [["--nodes", "2", "--no-namenode", "--etcd"], "--etcd: --no-namenode means no namenode"],
    [
      ["--nodes", "2", "--netns", "--meta", "sqlite:/x.db"],
      "--meta: --netns clusters have no namenode",
    ],
    [
      ["--nodes", "2", "--dead-after", "soon"],
      '--dead-after "soon": expected a number and a unit of us, ms or s (e.g. 1ms)',
    ],
    [["--nodes", "2", "--dead-after", "0s"], '--dead-after "0s": must be at least 1ms'],
    [
      ["--nodes", "2", "--dead-after", "1s", "--namenode-arg=--dead-after=2s"],
      "--dead-after is given twice (once in --namenode-arg)",
    ],
    [
      ["--nodes", "2", "--no-namenode", "--dead-after", "5s"],
      "--dead-after: --no-namenode means no namenode",
    ],
  ];
  for (const [args, message] of cases) {
    const run = await cdfs(["cluster", "up", ...args], dirs.env);
    assert.equal(run.code, EXIT_USAGE, args.join(" "));
    assert.equal(run.err, `cdfs: error: ${message}\n`);
    assert.equal(run.out, "");
  }
  assert.deepEqual(await Array.fromAsync(Deno.readDir(dirs.root)), [], "nothing created");
});

Deno.test("cli cluster up: a busy port is one error line with its code once", async () => {
  await using dirs = await scratch();
  using blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const run = await cdfs(
    ["cluster", "up", "--nodes", "1", "--name", "clash", "--base-port", String(blocker.addr.port)],
    dirs.env,
  );
  assert.equal(run.code, 1, run.err);
  assert.equal(run.out, "");
  const [starting, error, ...rest] = run.err.split("\n");
  assert.equal(starting, "starting a namenode and 1 datanode...");
  assert.deepEqual(rest, [""]);
  assert.match(
    error!,
    new RegExp(
      "^cdfs: error: node clash-n0 did not start: it exited before it listened \\(exit code 1\\): " +
        `cannot listen on 127\\.0\\.0\\.1:${blocker.addr.port}: address already in use ` +
        "\\(UNAVAILABLE\\)$",
    ),
  );
  assert.equal(error!.split("(UNAVAILABLE)").length, 2, "the code once");
  await cdfs(["cluster", "clean", "--all"], dirs.env);
});

const etcd = await findEtcd((name) => Deno.env.get(name));

Deno.test({
  name: `cli cluster up --etcd: the namenode on an etcd of the cluster's own; --meta: on yours${
    etcd.found ? "" : ` (skipped: ${etcd.reason})`
  }`,
  ignore: !etcd.found,
  async fn() {
    await using dirs = await scratch();
    const up = await cdfs(
      ["cluster", "up", "--nodes", "4", "--name", "ed", "--etcd", "--detach", "--json"],
      dirs.env,
    );
    assert.equal(up.code, 0, up.err);
    const { clusterFile: path, cluster } = JSON.parse(up.out) as {
      clusterFile: string;
      cluster: ClusterFile;
    };
    try {
      const file = await readClusterFile(path);
      assert.deepEqual(file, cluster);
      assert.ok(file.etcd !== undefined);
      assert.equal(file.namenode?.meta, `etcd:${file.etcd.clientUrl}`);
      assert.equal(file.etcd.dataDir, join(file.dataDir, "etcd"));
      assert.ok(processInfo(file.etcd.pid) !== undefined, "etcd runs");
      assert.deepEqual(await registered(file), file.nodes.map((n) => [n.id, n.address, "alive"]));
      const status = await cdfs(["cluster", "status", "--cluster", path], dirs.env);
      assert.equal(status.code, 0, status.err);
      assert.match(status.out, /4 datanodes alive, 0 dead \(etcd:http:\/\/127\.0\.0\.1:\d+\)/);

      const down = await cdfs(["cluster", "down", "--cluster", path], dirs.env);
      assert.match(down.out, /^cluster 'ed' is down: 4 nodes, the namenode and the etcd stopped/);
      await assertGone(file);
    } finally {
      await cdfs(["cluster", "clean", "--all"], dirs.env);
    }

    // An etcd of the user's: used, and left running by 'down'.
    await using mine = await EtcdCluster.start();
    const meta = `etcd:${mine.clientUrls[0]}`;
    const shared = await cdfs(
      ["cluster", "up", "--nodes", "2", "--name", "mine", "--meta", meta, "--detach", "--json"],
      dirs.env,
    );
    assert.equal(shared.code, 0, shared.err);
    const file = JSON.parse(shared.out).cluster as ClusterFile;
    try {
      assert.equal(file.namenode?.meta, meta);
      assert.equal(file.etcd, undefined);
      assert.deepEqual(await registered(file), file.nodes.map((n) => [n.id, n.address, "alive"]));
    } finally {
      const down = await cdfs(["cluster", "down", "--cluster", "mine"], dirs.env);
      assert.match(down.out, /^cluster 'mine' is down: 2 nodes and the namenode stopped/);
    }
    await assertGone(file);
    assert.ok(mine.members[0]!.running);
    const health = await fetch(`${mine.clientUrls[0]}/health`);
    assert.equal((await health.json()).health, "true");
  },
});
