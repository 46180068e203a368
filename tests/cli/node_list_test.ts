import assert from "node:assert/strict";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { codingModule as replication } from "../../coding/replication.ts";
import { checkNodeCount, nodeListArgument, parseNodeList } from "../../src/cli/node_list.ts";
import { writeClusterFile } from "../../src/cluster/cluster_file_io.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { capturingContext } from "../helpers/cli.ts";

function usageError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isCdfsError(error, "USAGE"), `expected USAGE, got ${error}`);
    assert.match((error as Error).message, pattern);
    assert.doesNotMatch((error as Error).message, /\n/);
    return true;
  };
}

Deno.test("parseNodeList keeps the order and canonical HOST:PORT forms", () => {
  assert.deepEqual(parseNodeList("b.example:2,10.0.0.1:13100,[::1]:3"), [
    "b.example:2",
    "10.0.0.1:13100",
    "[::1]:3",
  ]);
  assert.deepEqual(parseNodeList("[0:0::1]:9"), ["[0:0::1]:9"]);
  assert.deepEqual(parseNodeList("h:1"), ["h:1"]);
});

Deno.test("parseNodeList refuses empty entries, spaces, bad addresses and repetitions", () => {
  assert.throws(() => parseNodeList(""), usageError(/--nodes is empty/));
  assert.throws(() => parseNodeList("a:1,,b:2"), usageError(/entry 1 is empty/));
  assert.throws(() => parseNodeList("a:1,b:2,"), usageError(/entry 2 is empty/));
  assert.throws(() => parseNodeList(",a:1"), usageError(/entry 0 is empty/));
  assert.throws(() => parseNodeList("a:1, b:2"), usageError(/entry 1 " b:2" has spaces/));
  assert.throws(() => parseNodeList("a:1,b"), usageError(/--nodes entry 1 "b": no port/));
  assert.throws(() => parseNodeList("a:1,b:70000"), usageError(/entry 1 "b:70000".*65535/));
  assert.throws(() => parseNodeList("a:1,::1:5"), usageError(/IPv6 address must be in brackets/));
  assert.throws(() => parseNodeList("a:0"), usageError(/port 0 is outside 1\.\.65535/));
  assert.throws(
    () => parseNodeList("a:1,b:2,A:1"),
    usageError(/A:1 is listed twice \(logical nodes 0 and 2\)/),
  );
  assert.throws(() => parseNodeList("x", "CDFS_NODES"), usageError(/^CDFS_NODES entry 0/));
});

Deno.test("nodeListArgument: --nodes first, then $CDFS_NODES, else a usage error", () => {
  const fromOption = nodeListArgument(capturingContext({ env: { CDFS_NODES: "e:1" } }), {
    values: { nodes: "o:1,o:2" },
    positionals: [],
  });
  assert.deepEqual(fromOption, { addresses: ["o:1", "o:2"], source: "--nodes" });
  const fromEnv = nodeListArgument(capturingContext({ env: { CDFS_NODES: "e:1,e:2" } }), {
    values: {},
    positionals: [],
  });
  assert.deepEqual(fromEnv, { addresses: ["e:1", "e:2"], source: "CDFS_NODES" });
  assert.throws(
    () => nodeListArgument(capturingContext(), { values: {}, positionals: [] }),
    usageError(/--nodes HOST:PORT,\.\.\. or --cluster FILE is required/),
  );
  assert.throws(
    () =>
      nodeListArgument(capturingContext({ env: { CDFS_NODES: "e:1,e:1" } }), {
        values: {},
        positionals: [],
      }),
    usageError(/^CDFS_NODES: e:1 is listed twice/),
  );
});

Deno.test("nodeListArgument: CDFS_NODES and CDFS_CLUSTER both set are refused, unless an option picks", () => {
  const env = { CDFS_NODES: "e:1,e:2", CDFS_CLUSTER: "/nonexistent/cluster.json" };
  const none = { values: {}, positionals: [] };
  assert.throws(
    () => nodeListArgument(capturingContext({ env }), none),
    usageError(
      /^CDFS_NODES and CDFS_CLUSTER are both set: pick one with --nodes or --cluster, or unset/,
    ),
  );
  // --nodes picks the list.
  const picked = nodeListArgument(capturingContext({ env }), {
    values: { nodes: "o:1" },
    positionals: [],
  });
  assert.deepEqual(picked, { addresses: ["o:1"], source: "--nodes" });
  // --cluster picks the cluster (which does not exist here: the error names that file).
  assert.throws(
    () =>
      nodeListArgument(capturingContext({ env }), {
        values: { cluster: "/other/cluster.json" },
        positionals: [],
      }),
    (e) => isCdfsError(e) && /\/other\/cluster\.json/.test(e.message),
  );
});

Deno.test("checkNodeCount wants exactly the module's nodes", () => {
  const three = { addresses: ["a:1", "b:1", "c:1"], source: "--nodes" };
  checkNodeCount(replication, three);
  assert.throws(
    () => checkNodeCount(rapidraid, three),
    usageError(/^rapidraid needs 16 nodes, got 3$/),
  );
  const sixteen = Array.from({ length: 16 }, (_, i) => `h:${i + 1}`);
  checkNodeCount(rapidraid, { addresses: sixteen, source: "--nodes" });
  assert.throws(
    () => checkNodeCount(replication, { addresses: sixteen, source: "CDFS_NODES" }),
    usageError(/^replication needs 3 nodes, got 16 in CDFS_NODES$/),
  );
});

Deno.test("nodeListArgument: --cluster FILE gives the cluster's nodes in index order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/cluster.json`;
    const nodes = [13107, 13100, 13103].map((port, index) => ({
      index,
      address: `127.0.0.1:${port}`,
      id: `t-n${index}`,
      dataDir: `${dir}/n${index}`,
      log: `${dir}/n${index}.log`,
      pid: null,
      startTime: null,
    }));
    await writeClusterFile(path, {
      version: 1,
      name: "t",
      state: "up",
      created: "2026-11-25T00:00:00.000Z",
      stateDir: dir,
      dataDir: dir,
      removeData: false,
      nodeArgs: [],
      launcher: { pid: 4242, startTime: "100", detached: true },
      nodes,
    });
    const expected = ["127.0.0.1:13107", "127.0.0.1:13100", "127.0.0.1:13103"];
    const ctx = capturingContext();
    assert.deepEqual(
      nodeListArgument(ctx, { values: { cluster: path }, positionals: [] }).addresses,
      expected,
    );
    // --nodes wins over --cluster; $CDFS_CLUSTER is used when nothing else is given.
    assert.deepEqual(
      nodeListArgument(ctx, { values: { cluster: path, nodes: "h:1" }, positionals: [] })
        .addresses,
      ["h:1"],
    );
    assert.deepEqual(
      nodeListArgument(capturingContext({ env: { CDFS_CLUSTER: path } }), {
        values: {},
        positionals: [],
      })
        .addresses,
      expected,
    );
    assert.throws(
      () => nodeListArgument(ctx, { values: { cluster: `${dir}/nope.json` }, positionals: [] }),
      (e) => isCdfsError(e) && /nope\.json/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
