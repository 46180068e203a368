/**
 * Automatic repair against real processes: a `cdfs namenode serve` child and 17
 * `cdfs datanode serve` children (RapidRAID needs 16 distinct datanodes), holding archived
 * RapidRAID files, a replicated RapidRAID file and an archived replication file.
 *
 * - With `--no-auto-repair`, a datanode killed with SIGKILL leaves its files degraded: no repair
 *   is started and none is logged.
 * - The namenode started again on the same store without the flag finds the degraded files in
 *   its first round (the queue is derived from the metadata, not kept elsewhere); with a second
 *   datanode killed too, without any command, fsck reports every file healthy within a
 *   generous bound, every block on a live datanode, and `get` of every file is byte-identical.
 * - The first datanode killed comes back: its stale copies (rebuilt elsewhere since) are
 *   removed by the periodic garbage collection once past `--gc-grace`, nothing a file needs.
 *
 * `CDFS_AUTO_REPAIR_FILES=N` puts N files of each kind instead of the default 2 (the issue's
 * scenario: 20).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { runCdfs } from "../helpers/cli.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { waitFor } from "../helpers/wait.ts";
import {
  cdfs,
  datanodeArgs,
  fsckStatuses,
  logRecords,
  putRandomFile,
  startProcesses,
} from "./_processes.ts";

const DATANODES = 17;
const PER_KIND = Number(Deno.env.get("CDFS_AUTO_REPAIR_FILES") ?? "2");
const NAMENODE_ARGS = [
  "--heartbeat-interval",
  "300ms",
  "--dead-after",
  "2s",
  "--gc-grace",
  "1s",
  "--repair-delay",
  "0s",
];

Deno.test("auto repair, processes: --no-auto-repair leaves files degraded; without it, a restarted namenode heals every file after kill -9 of two datanodes; a returning datanode's stale copies are collected", async () => {
  const started = Date.now();
  await using processes = await startProcesses({
    prefix: "cdfs-auto-repair-",
    datanodes: DATANODES,
    namenodeArgs: [...NAMENODE_ARGS, "--no-auto-repair"],
  });
  const { work, log, address, dataDirs, datanodes } = processes;
  const sources = new Map<string, string>();
  const put = async (name: string, code: string, bytes: number, archive: boolean) =>
    void sources.set(name, await putRandomFile(address, work, name, code, bytes, archive));
  for (let i = 0; i < PER_KIND; i++) {
    await put(`coded${i}`, "rapidraid", 200_000 + 777 * i, true);
    await put(`parts${i}`, "rapidraid", 100_000 + 333 * i, false);
    await put(`copies${i}`, "replication", 20_000 + 11 * i, true);
  }
  // The datanodes holding the most blocks go first.
  using client = await NameNodeClient.connect(address);
  const count = new Map<string, number>();
  /** The part replicas of each datanode, as `file/index`. */
  const parts = new Map<string, Set<string>>();
  for (const name of sources.keys()) {
    for (const b of (await client.getFile(name)).blocks) {
      count.set(b.node, (count.get(b.node) ?? 0) + 1);
      if (b.kind !== "part") continue;
      const held = parts.get(b.node) ?? new Set<string>();
      held.add(`${name}/${b.index}`);
      parts.set(b.node, held);
    }
  }
  const ranked = [...count].sort((a, b) => b[1] - a[1]).map(([node]) => node);
  // The second holds no replica of a part whose other replica is on the first: both gone,
  // that part would be lost, not degraded (placement is random).
  const shares = (a: string, b: string) =>
    [...(parts.get(a) ?? [])].some((part) => parts.get(b)?.has(part) === true);
  const [first, second] = [
    ranked[0]!,
    ranked.find((n) => n !== ranked[0] && !shares(ranked[0]!, n)),
  ]
    .map((node) => Number(node!.slice(2)));

  // --no-auto-repair: degraded it stays.
  await datanodes[first!]!.kill("SIGKILL");
  await waitFor(
    "the killed datanode's files degraded",
    async () => (await fsckStatuses(address)).some((s) => s === "degraded"),
    30_000,
  );
  // No event to await for "nothing happens": a few of the default 5 s rounds would have run.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.ok((await fsckStatuses(address)).some((s) => s === "degraded"));
  assert.deepEqual(
    (await logRecords(log)).filter((r) => String(r.event).startsWith("repair-")),
    [],
  );

  // The same store, repair on: the queue comes from the metadata; a second node dies too.
  await processes.restartNameNode(NAMENODE_ARGS);
  await datanodes[second!]!.kill("SIGKILL");
  const healStart = Date.now();
  await waitFor(
    "the second datanode dead",
    async () =>
      (await logRecords(log)).some((r) => r.event === "datanode-dead" && r.node === `dn${second}`),
    30_000,
  );
  await waitFor(
    "every file healthy again",
    async () => (await fsckStatuses(address)).every((s) => s === "healthy"),
    120_000,
  ).catch(async (e) => {
    // What the loop did, to tell a slow repair from a failing one.
    const repairs = (await logRecords(log)).filter((r) =>
      String(r.event).startsWith("repair-") || r.event === "datanode-dead"
    );
    throw new Error(`${e.message}: ${await fsckStatuses(address)}; ${JSON.stringify(repairs)}`);
  });
  const healMs = Date.now() - healStart;
  const dead = new Set([`dn${first}`, `dn${second}`]);
  for (const name of sources.keys()) {
    const file = await client.getFile(name);
    assert.ok(
      file.blocks.every((b) => b.alive && !dead.has(b.node)),
      `${name}: every block on a live datanode`,
    );
  }
  const fsck = await runCdfs(["fsck"], { env: { CDFS_NAMENODE: address } });
  assert.equal(fsck.code, 0, fsck.out + fsck.err);
  for (const [name, source] of sources) {
    const copy = join(work, `${name}.copy`);
    await cdfs(address, "get", name, "-o", copy);
    assert.deepEqual(await Deno.readFile(copy), await Deno.readFile(source), `get ${name}`);
  }
  const records = await logRecords(log);
  const finished = records.filter((r) => r.event === "repair-finished");
  assert.equal(
    new Set(finished.map((r) => r.name)).size,
    new Set(records.filter((r) => r.event === "repair-queued").map((r) => r.name)).size,
  );
  assert.ok(finished.length >= sources.size / 3, `${finished.length} files repaired`);
  // deno-lint-ignore no-console
  console.log(
    `healed ${finished.length} file repairs of ${sources.size} files in ${healMs} ms; ` +
      `${finished.reduce((s, r) => s + Number(r.bytesRead), 0)} bytes read, ` +
      `${finished.reduce((s, r) => s + Number(r.bytesWritten), 0)} written`,
  );

  // The first node returns: its copies were rebuilt elsewhere, so they are orphans, and go.
  datanodes[first!] = await DataNodeProcess.start({
    dataDir: dataDirs[first!]!,
    listen: `127.0.0.1:${datanodes[first!]!.port}`,
    args: datanodeArgs(first!, address),
  });
  const held = async () => {
    using dn = await DataNodeClient.connect(`127.0.0.1:${datanodes[first!]!.port}`);
    return (await Array.fromAsync(dn.listAll())).map((e) => e.block);
  };
  assert.ok((await held()).length > 0, "the returning datanode still holds its old copies");
  await waitFor("the stale copies removed", async () => (await held()).length === 0, 60_000);
  // The records follow the deletes (a collection logs once its pass is over).
  await waitFor(
    "the removals logged",
    async () => (await logRecords(log)).some((r) => r.event === "gc-removed"),
    30_000,
  );
  const files = new Map<string, string>();
  for (const name of sources.keys()) {
    for (const b of (await client.getFile(name)).blocks) files.set(b.block, b.node);
  }
  assert.ok(![...files.values()].includes(`dn${first}`));
  for (const [name, source] of sources) {
    const copy = join(work, `${name}.copy2`);
    await cdfs(address, "get", name, "-o", copy);
    assert.deepEqual(await Deno.readFile(copy), await Deno.readFile(source), `get ${name}`);
  }
  assert.deepEqual(await fsckStatuses(address), [...sources.keys()].map(() => "healthy"));
  // deno-lint-ignore no-console
  console.log(`whole scenario: ${Date.now() - started} ms`);
});
