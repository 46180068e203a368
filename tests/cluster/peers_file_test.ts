/**
 * `datanode serve --peers-file`: one address per line or a cluster file, read again when it
 * changes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ClusterFile } from "../../src/cluster/cluster_file.ts";
import { writeClusterFile } from "../../src/cluster/cluster_file_io.ts";
import { parsePeersFile, peersFileSource } from "../../src/cluster/peers_file.ts";
import { CdfsError } from "../../src/core/errors.ts";
import { tempDir } from "../helpers/temp_dir.ts";

Deno.test("a peers file of lines: comments and blanks skipped, literal IP:PORT only", () => {
  assert.deepEqual(
    parsePeersFile("# the lab\n10.0.0.1:13100  # dn1\n\n  [0::1]:13101\r\n", "p"),
    ["10.0.0.1:13100", "[::1]:13101"],
  );
  const refused = (text: string, pattern: RegExp) =>
    assert.throws(
      () => parsePeersFile(text, "p"),
      (e) => e instanceof CdfsError && e.code === "USAGE" && pattern.test(e.message),
    );
  refused(
    "10.0.0.1:1\ndn2.example:13100\n",
    /--peers-file p line 2: "dn2\.example:13100" is a host name/,
  );
  refused("10.0.0.1\n", /--peers-file p line 1: .*no port/);
});

Deno.test("a cluster file as peers file: its nodes' addresses, read again once rewritten", async () => {
  await using dir = await tempDir("cdfs-peers-file-");
  const path = join(dir.path, "cluster.json");
  const node = (index: number, address: string) => ({
    index,
    address,
    id: `c-n${index}`,
    dataDir: join(dir.path, `n${index}`),
    log: join(dir.path, `n${index}.log`),
    pid: null,
    startTime: null,
  });
  const starting: ClusterFile = {
    version: 1,
    name: "c",
    state: "starting",
    created: new Date().toISOString(),
    stateDir: dir.path,
    dataDir: dir.path,
    removeData: false,
    nodeArgs: [],
    launcher: { pid: Deno.pid, startTime: null, detached: false },
    nodes: [],
  };
  await writeClusterFile(path, starting);
  const source = peersFileSource(path);
  assert.deepEqual(await source.fetch(), []);
  await writeClusterFile(path, {
    ...starting,
    state: "up",
    nodes: [node(0, "127.0.0.1:40000"), node(1, "127.0.0.1:40001")],
  });
  assert.deepEqual(await source.fetch(), ["127.0.0.1:40000", "127.0.0.1:40001"]);
  await Deno.remove(path);
  await assert.rejects(source.fetch(), /--peers-file .*cluster\.json: /);
});
