/**
 * How soon a local cluster's namenode learns that a datanode is gone, driven as a user would:
 * `cluster up --dead-after`, a file put and archived with replication (three copies on three of
 * the four datanodes), then `cluster stop-node` of a datanode holding a copy: `cdfs fsck` says
 * degraded (exit 1) at once, because the stopping datanode said LEAVE, and healthy (exit 0)
 * again once `cluster start-node` brought it back and it registered. A killed datanode says
 * nothing and counts dead after `--dead-after`, which the cluster's namenode was given.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readClusterFile } from "../../src/cluster/cluster_file_io.ts";
import { processInfo } from "../../src/core/processes.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { waitFor } from "../namenode/_namenode.ts";

/** The namenode's `--dead-after` here: a kill is noticed within seconds, a stop at once. */
const DEAD_AFTER = "2s";

/** The JSON records of a log file with `event`. */
async function logEvents(path: string, event: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line))
    .filter((record) => record.event === event);
}

Deno.test("cli cluster: a stopped datanode is dead for fsck at once, a killed one after --dead-after", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "cdfs-cli-leave-test-" });
  const base = { CDFS_STATE_DIR: join(root, "state"), TMPDIR: root };
  const env = { ...base, CDFS_CLUSTER: "leave" };
  const cdfs = (...args: string[]): Promise<CliRun> => runCdfs(args, { env });
  try {
    const up = await cdfs(
      "cluster",
      "up",
      "--nodes",
      "4",
      "--name",
      "leave",
      "--detach",
      "--dead-after",
      DEAD_AFTER,
    );
    assert.equal(up.code, 0, up.err);
    const file = await readClusterFile(join(base.CDFS_STATE_DIR, "leave", "cluster.json"));
    const namenode = file.namenode!;
    const namenodeLog = namenode.log ?? assert.fail("the cluster file names no namenode log");
    const argv = processInfo(namenode.pid ?? assert.fail("no namenode pid"))!.argv;
    assert.equal(argv[argv.indexOf("--dead-after") + 1], DEAD_AFTER, argv.join(" "));

    const input = join(root, "small");
    await Deno.writeFile(input, crypto.getRandomValues(new Uint8Array(5000)));
    const put = await cdfs("put", "--code", "replication", input, "small");
    assert.equal(put.code, 0, put.err);
    const archive = await cdfs("archive", "small");
    assert.equal(archive.code, 0, archive.err);
    const stat = JSON.parse((await cdfs("stat", "--json", "small")).out);
    const holders = stat.blocks.map((b: { address: string }) =>
      file.nodes.findIndex((n) => n.address === b.address)
    );
    assert.equal(new Set(holders).size, 3, `three copies on three datanodes: ${holders}`);
    const fsck = async () => (await cdfs("fsck")).code;
    assert.equal(await fsck(), 0);
    const [stopped, killed] = holders as number[];

    await t.step(
      "stop-node: degraded at once (the node said LEAVE); start-node: healthy",
      async () => {
        const stop = await cdfs("cluster", "stop-node", String(stopped));
        assert.equal(stop.code, 0, stop.err);
        const degraded = await cdfs("fsck");
        assert.equal(degraded.code, 1, degraded.out + degraded.err);
        assert.match(degraded.out, /^degraded +small: 1 of 3 block copies unavailable/m);
        const node = file.nodes[stopped!]!;
        const [dead] = await logEvents(namenodeLog, "datanode-dead");
        assert.equal(dead?.reason, "left");
        assert.equal(dead?.node, node.id.replace(/[:@]/g, "_"));
        assert.equal((await logEvents(node.log, "namenode-left")).length, 1);

        const start = await cdfs("cluster", "start-node", String(stopped));
        assert.equal(start.code, 0, start.err);
        await waitFor("fsck healthy after the restart", async () => await fsck() === 0, 10_000);
      },
    );

    await t.step("stop-node --kill: degraded after --dead-after, healthy once back", async () => {
      const kill = await cdfs("cluster", "stop-node", "--kill", String(killed));
      assert.equal(kill.code, 0, kill.err);
      // The namenode's default (30 s) would not do it within this wait.
      await waitFor("fsck degraded after the silence", async () => await fsck() === 1, 10_000);
      // FSCK judges the silence at once; the background loop logs it within a quarter of it.
      await waitFor(
        "the death logged as a silence",
        async () => (await logEvents(namenodeLog, "datanode-dead")).at(-1)?.reason === "silent",
      );
      const start = await cdfs("cluster", "start-node", String(killed));
      assert.equal(start.code, 0, start.err);
      await waitFor("fsck healthy after the restart", async () => await fsck() === 0, 10_000);
    });
  } finally {
    await cdfs("cluster", "down");
    await runCdfs(["cluster", "clean", "--all"], { env: base });
    await Deno.remove(root, { recursive: true });
  }
});
