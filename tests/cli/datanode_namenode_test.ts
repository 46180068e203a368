/**
 * `cdfs datanode serve --namenode`: a real datanode process and a namenode (in this process,
 * so the test can stop it and start it again on the same port and store). The datanode
 * registers, its full report lists exactly its committed blocks, a STORE and a DELETE show up
 * as incremental reports, it keeps serving while the namenode is down, and registers and
 * reports again when the namenode is back.
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { concatBytes } from "../helpers/bytes.ts";
import { runCdfs } from "../helpers/cli.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { events, startNameNode, type TestNameNode, waitFor } from "../namenode/_namenode.ts";

const encoder = new TextEncoder();

/**
 * The blocks the namenode has on record for `node`, as any client sees them: no file places
 * them, so they are its orphans (with no grace period).
 */
async function reportedBlocks(address: string, node: string): Promise<Record<string, number>> {
  using client = await NameNodeClient.connect(address);
  const { orphans } = await client.orphans({ graceMs: 0 });
  return Object.fromEntries(
    orphans.filter((o) => o.node === node).map((o) => [o.block, o.length]),
  );
}

async function retrieveText(address: string, block: string): Promise<string> {
  using client = await DataNodeClient.connect(address);
  const chunks: Uint8Array[] = [];
  await client.retrieve(block, (chunk) => void chunks.push(chunk.slice()));
  return new TextDecoder().decode(concatBytes(chunks));
}

Deno.test("datanode serve --namenode: registers, reports its blocks, survives the namenode's restart", async () => {
  const work = await Deno.makeTempDir({ prefix: "cdfs-dn-nn-" });
  const dataDir = `${work}/dn`;
  const meta = `sqlite:${work}/meta.db`;
  // Blocks committed before the node starts (a write under way is not reported either: see
  // tests/datanode/namenode_reporter_test.ts).
  {
    const store = await BlockStore.open(dataDir);
    const blocks: [string, string][] = [["old.a", "alpha"], ["old.b", "bravo!"]];
    for (const [id, text] of blocks) {
      const writer = await store.create(id);
      await writer.write(encoder.encode(text));
      await writer.commit();
    }
  }
  let nn: TestNameNode = await startNameNode({ meta, heartbeatIntervalMs: 100 });
  const port = nn.server.addr.port;
  await using node = await DataNodeProcess.start({
    dataDir,
    args: ["--id", "dn-proc", "--namenode", nn.server.address],
  });
  try {
    // Registered, with its address and its file system's size.
    await waitFor("the registration", async () => {
      using client = await NameNodeClient.connect(nn.server.address);
      return (await client.listDatanodes()).datanodes.some((d) => d.node === "dn-proc");
    }, 30_000);
    {
      using client = await NameNodeClient.connect(nn.server.address);
      const [record] = (await client.listDatanodes()).datanodes;
      assert.equal(record!.address, node.address);
      assert.equal(record!.state, "alive");
      assert.ok(record!.capacity >= record!.free && record!.free > 0);
    }
    // The full report: exactly the committed blocks.
    await waitFor(
      "the full report",
      async () => Object.keys(await reportedBlocks(nn.server.address, "dn-proc")).length === 2,
    );
    assert.deepEqual(await reportedBlocks(nn.server.address, "dn-proc"), {
      "old.a": 5,
      "old.b": 6,
    });

    // A STORE and a DELETE become incremental reports.
    {
      using client = await DataNodeClient.connect(node.address);
      await client.store("new.c", [encoder.encode("charlie")]);
      await waitFor(
        "the STORE's report",
        async () => (await reportedBlocks(nn.server.address, "dn-proc"))["new.c"] === 7,
      );
      await client.delete("old.a");
      await waitFor(
        "the DELETE's report",
        async () => !("old.a" in await reportedBlocks(nn.server.address, "dn-proc")),
      );
    }
    assert.deepEqual(await reportedBlocks(nn.server.address, "dn-proc"), {
      "new.c": 7,
      "old.b": 6,
    });

    // The namenode goes away: the datanode serves on, says so once in its log, and stores.
    await nn.server.shutdown(0);
    {
      using client = await DataNodeClient.connect(node.address);
      await client.store("while.down", [encoder.encode("delta")]);
      await client.delete("old.b");
    }
    assert.equal(await retrieveText(node.address, "while.down"), "delta");
    assert.equal(await retrieveText(node.address, "new.c"), "charlie");
    await waitFor(
      "the outage in the log",
      () => node.logRecords().some((r) => r.event === "namenode-unreachable"),
    );

    // Back on the same port and store: the datanode registers again and reports everything.
    nn = await startNameNode({ meta, port, heartbeatIntervalMs: 100 });
    await waitFor(
      "the new registration",
      () => events(nn.records, "datanode-registered").length > 0,
      30_000,
    );
    assert.equal(events(nn.records, "datanode-registered")[0]!.again, true);
    await waitFor("the report after the restart", async () => {
      const blocks = await reportedBlocks(nn.server.address, "dn-proc");
      return blocks["while.down"] === 5 && !("old.b" in blocks);
    }, 30_000);
    assert.deepEqual(await reportedBlocks(nn.server.address, "dn-proc"), {
      "new.c": 7,
      "while.down": 5,
    });
    const log = node.logRecords().map((r) => r.event).filter((e) =>
      typeof e === "string" && e.startsWith("namenode-")
    );
    assert.equal(log.filter((e) => e === "namenode-unreachable").length, 1, log.join(" "));
    assert.ok(log.includes("namenode-reachable"), log.join(" "));
    assert.equal(log.filter((e) => e === "namenode-registered").length, 2, log.join(" "));

    // A clean stop of the datanode.
    assert.equal((await node.stop()).code, 0);
  } finally {
    await nn.server.shutdown(0);
    await node.kill();
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("datanode serve --namenode: bad values are usage errors before serving", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string[], RegExp][] = [
      [["--namenode", "nowhere"], /--namenode "nowhere"/],
      [["--namenode", "127.0.0.1:13000,"], /--namenode ""/],
      [["--namenode", "127.0.0.1:13000", "--id", "a..b"], /--id "a\.\.b" cannot be a namenode's/],
      [["--advertise", "10.0.0.1:13100"], /--advertise is the address told to a namenode/],
      [["--namenode", "127.0.0.1:13000", "--advertise", "10.0.0.1:0"], /--advertise/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runCdfs(["datanode", "serve", "--data", dir, ...args]);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.err}`);
      assert.match(run.err, pattern);
      assert.equal(run.out, "");
    }
    // The environment names the namenode when the option does not.
    const viaEnv = await runCdfs(["datanode", "serve", "--data", dir, "--id", "x..y"], {
      env: { CDFS_NAMENODE: "127.0.0.1:13000" },
    });
    assert.equal(viaEnv.code, 2);
    assert.match(viaEnv.err, /--id "x\.\.y" cannot be a namenode's datanode id/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
