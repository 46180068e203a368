import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type ClusterFile,
  clusterNodeAddresses,
  formatClusterFile,
} from "../../src/cluster/cluster_file.ts";
import {
  clusterFilePath,
  defaultStateRoot,
  resolveClusterPath,
} from "../../src/cluster/state_root.ts";
import { parseClusterFile } from "../../src/cluster/cluster_file_parse.ts";
import {
  readClusterFile,
  readClusterFileSync,
  writeClusterFile,
} from "../../src/cluster/cluster_file_io.ts";
import { validateClusterName } from "../../src/core/cluster_name.ts";
import { isCdfsError } from "../../src/core/errors.ts";

function sample(nodes = 3): ClusterFile {
  return {
    version: 1,
    name: "t1",
    state: "up",
    created: "2025-06-01T12:00:00.000Z",
    stateDir: "/tmp/state/t1",
    dataDir: "/tmp/data",
    removeData: true,
    nodeArgs: ["--chunk-size", "64K"],
    launcher: { pid: 4242, startTime: "100", detached: false },
    nodes: Array.from({ length: nodes }, (_, index) => ({
      index,
      address: `127.0.0.1:${13100 + index}`,
      id: `t1-n${index}`,
      dataDir: `/tmp/data/n${index}`,
      log: `/tmp/data/n${index}.log`,
      pid: index === 1 ? null : 5000 + index,
      startTime: index === 1 ? null : String(200 + index),
    })),
  };
}

/** Parses `sample()` with one change made to its JSON form; returns the error message. */
function rejection(change: (json: Record<string, unknown>) => void): string {
  const json = JSON.parse(formatClusterFile(sample()));
  change(json);
  try {
    parseClusterFile(JSON.stringify(json), "c.json");
  } catch (error) {
    assert.ok(isCdfsError(error, "USAGE"), String(error));
    assert.match(error.message, /^cluster file c\.json: /);
    return error.message;
  }
  assert.fail("the change was accepted");
}

const node = (json: Record<string, unknown>, i: number) =>
  (json.nodes as Record<string, unknown>[])[i]!;

Deno.test("cluster file: format then parse gives the same cluster back", () => {
  const file = sample();
  assert.deepEqual(parseClusterFile(formatClusterFile(file), "c.json"), file);
});

Deno.test("cluster file: the node list is every address in index order, stopped ones too", () => {
  assert.deepEqual(clusterNodeAddresses(sample()), [
    "127.0.0.1:13100",
    "127.0.0.1:13101",
    "127.0.0.1:13102",
  ]);
});

Deno.test("cluster file: host names differing only in case are the same address", () => {
  assert.match(
    rejection((j) => {
      node(j, 0).address = "dn.example:13100";
      node(j, 1).address = "DN.example:13100";
    }),
    /nodes\[1\]\.address is the same as nodes\[0\]'s/,
  );
});

Deno.test("cluster file: unknown fields are ignored (newer writers may add some)", () => {
  const json = JSON.parse(formatClusterFile(sample()));
  json.network = { kind: "netns" };
  node(json, 0).relay = "10.213.0.10:13100";
  assert.deepEqual(parseClusterFile(JSON.stringify(json), "c.json"), sample());
});

Deno.test("cluster file: an emulated network keeps each node's link (start-node needs it)", () => {
  const network = {
    netns: true as const,
    hub: "cdfs-t1-hub",
    hubAddress: "10.213.0.1",
    nodes: [
      {
        namespace: "cdfs-t1-n0",
        address: "10.213.0.10",
        link: { rateBitsPerSecond: 500_000_000, delayMs: 100, jitterMs: 10 },
        congested: true,
      },
      { namespace: "cdfs-t1-n1", address: "10.213.0.11", link: { delayMs: 1, jitterMs: 0 } },
      { namespace: "cdfs-t1-n2", address: "10.213.0.12" }, // an older writer's entry
    ],
  };
  const file = { ...sample(), network };
  assert.deepEqual(parseClusterFile(formatClusterFile(file), "c.json"), file);
  const withNetwork = (change: (entry: Record<string, unknown>) => void) =>
    rejection((j) => {
      j.network = structuredClone(network);
      change((j.network as { nodes: Record<string, unknown>[] }).nodes[0]!);
    });
  assert.match(
    withNetwork((n) => n.link = { delayMs: 1, jitterMs: 2 }),
    /network\.nodes\[0\]\.link: the jitter must be between 0 and the delay/,
  );
  assert.match(
    withNetwork((n) => n.link = { delayMs: "1ms", jitterMs: 0 }),
    /network\.nodes\[0\]\.link\.delayMs must be a number/,
  );
  assert.match(withNetwork((n) => n.link = 5), /network\.nodes\[0\]\.link must be a JSON object/);
  assert.match(
    withNetwork((n) => n.congested = "yes"),
    /network\.nodes\[0\]\.congested must be true or false/,
  );
});

Deno.test("cluster file: the namenode and its etcd, checked; files without them still read", () => {
  const file: ClusterFile = {
    ...sample(),
    namenode: {
      address: "127.0.0.1:13000",
      meta: "etcd:http://127.0.0.1:2379",
      log: "/tmp/data/namenode.log",
      pid: 4300,
      startTime: "300",
    },
    etcd: {
      clientUrl: "http://127.0.0.1:2379",
      dataDir: "/tmp/data/etcd",
      log: "/tmp/data/etcd.log",
      pid: 4299,
      startTime: "299",
    },
  };
  assert.deepEqual(parseClusterFile(formatClusterFile(file), "c.json"), file);
  // A namenode the cluster does not own: only where it is and what it stores in.
  const external: ClusterFile = {
    ...sample(),
    namenode: { address: "[::1]:13000", meta: "sqlite:/var/lib/nn.db" },
  };
  assert.deepEqual(parseClusterFile(formatClusterFile(external), "c.json"), external);
  assert.equal(parseClusterFile(formatClusterFile(sample()), "c.json").namenode, undefined);

  const broken = (change: (json: Record<string, unknown>) => void): string =>
    rejection((json) => {
      json.namenode = { address: "127.0.0.1:13000", meta: "sqlite:/x.db" };
      change(json);
    });
  assert.match(
    broken((json) => (json.namenode as Record<string, unknown>).address = "nowhere"),
    /namenode\.address/,
  );
  assert.match(
    broken((json) => (json.namenode as Record<string, unknown>).meta = "mysql:x"),
    /namenode\.meta "mysql:x" is not sqlite:PATH or etcd:URL/,
  );
  assert.match(
    broken((json) => (json.namenode as Record<string, unknown>).pid = -3),
    /namenode\.pid must be a process id/,
  );
  assert.match(broken((json) => json.namenode = "127.0.0.1:13000"), /namenode must be a JSON/);
  assert.match(
    broken((json) => json.etcd = { clientUrl: "ftp://x", dataDir: "/d", log: "/l", pid: 9 }),
    /etcd\.clientUrl "ftp:\/\/x" is not http:\/\/HOST:PORT/,
  );
});

Deno.test("cluster file: a missing nodeArgs reads as none", () => {
  const json = JSON.parse(formatClusterFile(sample()));
  delete json.nodeArgs;
  assert.deepEqual(parseClusterFile(JSON.stringify(json), "c.json").nodeArgs, []);
});

Deno.test("cluster file: bad files are refused naming what is wrong", () => {
  assert.throws(
    () => parseClusterFile("{nodes: []", "c.json"),
    (e) => isCdfsError(e, "USAGE") && /^cluster file c\.json: not JSON/.test(e.message),
  );
  assert.throws(
    () => parseClusterFile("[1, 2]", "c.json"),
    (e) => isCdfsError(e, "USAGE") && /must be a JSON object/.test(e.message),
  );
  assert.match(rejection((j) => delete j.version), /not a cdfs cluster file/);
  assert.match(rejection((j) => j.version = 2), /version 2 is not supported/);
  assert.match(rejection((j) => j.name = "a b"), /name "a b" is not a valid cluster name/);
  assert.match(rejection((j) => j.state = "down"), /state "down" is not one of/);
  assert.match(rejection((j) => j.created = "yesterday"), /created "yesterday" is not a date/);
  assert.match(rejection((j) => j.stateDir = "state"), /stateDir must be an absolute path/);
  assert.match(rejection((j) => j.dataDir = 7), /dataDir must be a string/);
  assert.match(rejection((j) => j.removeData = "yes"), /removeData must be true or false/);
  assert.match(rejection((j) => j.nodeArgs = [1]), /nodeArgs must be an array of strings/);
  assert.match(rejection((j) => delete j.launcher), /launcher must be a JSON object/);
  assert.match(
    rejection((j) => (j.launcher as Record<string, unknown>).pid = null),
    /launcher\.pid must be a pid/,
  );
  assert.match(rejection((j) => j.nodes = {}), /nodes must be an array/);
  assert.match(
    rejection((j) => node(j, 2).index = 5),
    /nodes\[2\]\.index is 5, expected 2/,
  );
  assert.match(
    rejection((j) => node(j, 1).address = "127.0.0.1"),
    /nodes\[1\]\.address "127\.0\.0\.1": no port/,
  );
  assert.match(
    rejection((j) => node(j, 2).address = "127.0.0.1:13100"),
    /nodes\[2\]\.address is the same as nodes\[0\]'s/,
  );
  assert.match(
    rejection((j) => node(j, 1).dataDir = "/tmp/data/n0"),
    /nodes\[1\]\.dataDir is the same as nodes\[0\]'s/,
  );
  assert.match(rejection((j) => node(j, 0).id = "has space"), /nodes\[0\]\.id "has space"/);
  assert.match(rejection((j) => node(j, 0).log = "n0.log"), /nodes\[0\]\.log must be an abs/);
  assert.match(rejection((j) => node(j, 0).pid = 1), /nodes\[0\]\.pid must be a process id/);
  assert.match(rejection((j) => node(j, 0).pid = 2.5), /nodes\[0\]\.pid must be a process id/);
  assert.match(
    rejection((j) => node(j, 0).startTime = 123),
    /nodes\[0\]\.startTime must be a decimal string/,
  );
});

Deno.test("cluster file: read and write through the file system", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-cluster-file-test-" });
  try {
    const path = join(dir, "cluster.json");
    await writeClusterFile(path, sample());
    assert.deepEqual(await readClusterFile(path), sample());
    assert.deepEqual(readClusterFileSync(path), sample());
    // Private to its owner, and no temporary file is left beside it.
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), [
      "cluster.json",
    ]);
    // A rewrite replaces it whole.
    await writeClusterFile(path, { ...sample(), state: "stopping" });
    assert.equal((await readClusterFile(path)).state, "stopping");

    await assert.rejects(
      readClusterFile(join(dir, "nothing.json")),
      (e) => isCdfsError(e, "NOT_FOUND") && /does not exist/.test(e.message),
    );
    assert.throws(
      () => readClusterFileSync(join(dir, "nothing.json")),
      (e) => isCdfsError(e, "NOT_FOUND") && /does not exist/.test(e.message),
    );
    await assert.rejects(
      readClusterFile(dir),
      (e) => isCdfsError(e, "USAGE") && /not a regular file/.test(e.message),
    );
    const binary = join(dir, "binary.json");
    await Deno.writeFile(binary, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    await assert.rejects(
      readClusterFile(binary),
      (e) => isCdfsError(e, "USAGE") && /not UTF-8/.test(e.message),
    );
    assert.throws(
      () => readClusterFileSync(binary),
      (e) => isCdfsError(e, "USAGE") && /not UTF-8/.test(e.message),
    );
    // What could not be read back is never written.
    await assert.rejects(
      writeClusterFile(path, { ...sample(), name: "no/slash" }),
      (e) => isCdfsError(e, "USAGE"),
    );
    assert.equal((await readClusterFile(path)).name, "t1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cluster file: names, paths and the state root", () => {
  assert.equal(validateClusterName("bench-16_a"), "bench-16_a");
  for (const bad of ["", "-a", "a-", "a.b", "x".repeat(33), "a/b"]) {
    assert.throws(() => validateClusterName(bad), (e) => isCdfsError(e, "USAGE"));
  }
  assert.equal(clusterFilePath("/s", "local"), "/s/local/cluster.json");
  assert.equal(resolveClusterPath("local", "/s"), "/s/local/cluster.json");
  assert.equal(resolveClusterPath("/x/c.json", "/s"), "/x/c.json");
  assert.equal(resolveClusterPath("c.json", "/s"), join(Deno.cwd(), "c.json"));
  assert.equal(resolveClusterPath("d/cluster", "/s"), join(Deno.cwd(), "d/cluster"));
  assert.throws(() => resolveClusterPath("", "/s"), (e) => isCdfsError(e, "USAGE"));
  assert.throws(() => resolveClusterPath("bad name", "/s"), (e) => isCdfsError(e, "USAGE"));

  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(defaultStateRoot(env({ CDFS_STATE_DIR: "/a", XDG_RUNTIME_DIR: "/r" })), "/a");
  assert.equal(defaultStateRoot(env({ XDG_RUNTIME_DIR: "/run/user/7" })), "/run/user/7/cdfs");
  assert.equal(defaultStateRoot(env({ TMPDIR: "/t" })), `/t/cdfs-${Deno.uid()}`);
  assert.equal(defaultStateRoot(env({ XDG_RUNTIME_DIR: "relative" })), `/tmp/cdfs-${Deno.uid()}`);
});
