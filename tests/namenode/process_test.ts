/**
 * The namenode as processes: real `cdfs namenode serve` children (SQLite or etcd) and 16 real
 * `cdfs datanode serve` children that register with them, driven through the `cdfs` file
 * commands (run in this process) as a user would.
 *
 * - A namenode killed with SIGKILL and started again on the same store and address loses
 *   nothing: `ls`, `stat`, `fsck` and `get` answer as before (SQLite and etcd).
 * - Two namenodes on one etcd, 16 puts and archives at once spread over both, the datanodes
 *   split between them (`--namenode A,B` registers with the first that answers, B the
 *   fallback; half the datanodes list B first): no file id or block id twice, no update lost
 *   (every record complete, the datanodes hold exactly what the records say), every file
 *   byte-identical from either namenode.
 * - Bad input from datanodes changes nothing, and each is one clear line: a full report of
 *   blocks the datanode does not hold (`unknown` in the reply, files and health untouched), a
 *   second datanode process under a registered id at another address (`CONFLICT`, in the
 *   namenode's log and the datanode's).
 *
 * The etcd cases need Debian's `etcd-server` (tests/namenode/_etcd.ts installs it as root);
 * where it cannot run they are skipped, the reason in their names.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { waitForRegistrations } from "../../src/cluster/cluster_namenode.ts";
import { NameNodeChild } from "../../src/cluster/namenode_process.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import type { FileView } from "../../src/namenode/responses.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { waitFor } from "../helpers/wait.ts";
import { EtcdCluster, findEtcd } from "./_etcd.ts";

const etcd = await findEtcd();
const etcdSkip = etcd.found ? "" : ` (skipped: ${etcd.reason})`;
const launcher = selfLauncher((name) => Deno.env.get(name));

/** RapidRAID places its 22 part copies and 16 coded blocks on 16 distinct datanodes. */
const DATANODES = 16;
/** Datanodes heartbeat this often, so a restarted namenode hears from them within a second. */
const NAMENODE_ARGS = ["--heartbeat-interval", "500ms"];

/** A `namenode serve` child and where it listens and logs. */
interface NameNodeProc {
  readonly child: NameNodeChild;
  readonly address: string;
  readonly log: string;
}

async function startNameNode(meta: string, log: string, listen = "127.0.0.1:0") {
  const child = NameNodeChild.spawn({ launcher, listen, meta, log, args: NAMENODE_ARGS });
  try {
    return { child, address: await child.ready(60_000), log } satisfies NameNodeProc;
  } catch (error) {
    await stopNameNode({ child, address: listen, log });
    throw error;
  }
}

/** SIGKILL (a crash, nothing flushed or said) and the exit. */
async function killNameNode(namenode: NameNodeProc): Promise<Deno.CommandStatus> {
  if (!namenode.child.exited) namenode.child.child.kill("SIGKILL");
  return await namenode.child.status;
}

async function stopNameNode(namenode: NameNodeProc): Promise<void> {
  if (!namenode.child.exited) namenode.child.child.kill("SIGTERM");
  const timer = setTimeout(() => {
    if (!namenode.child.exited) namenode.child.child.kill("SIGKILL");
  }, 10_000);
  await namenode.child.status;
  clearTimeout(timer);
  namenode.child.release();
}

/**
 * Starts datanode `dn<i>` for i < count, each registering with the namenodes `namenodes(i)`
 * names (`--namenode`), and waits until `registeredAt` lists every one alive.
 */
async function startDatanodes(
  count: number,
  namenodes: (index: number) => string,
  registeredAt: string,
): Promise<DataNodeProcess[]> {
  const started = await Promise.allSettled(
    Array.from(
      { length: count },
      (_, i) => DataNodeProcess.start({ args: ["--id", `dn${i}`, "--namenode", namenodes(i)] }),
    ),
  );
  const nodes = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  try {
    if (failed !== undefined) throw failed.reason;
    await waitForRegistrations(registeredAt, nodes.map((_, i) => `dn${i}`), 60_000);
    return nodes;
  } catch (error) {
    await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
    throw error;
  }
}

/** The JSON records of a namenode's log file. */
async function logRecords(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

/** `cdfs ARGS` against these namenodes; fails the test unless it exits 0. */
async function cdfs(namenode: string, ...args: string[]): Promise<CliRun> {
  const run = await runCdfs(args, { env: { CDFS_NAMENODE: namenode } });
  assert.equal(run.code, 0, `cdfs ${args.join(" ")}: exit ${run.code}: ${run.err}`);
  return run;
}

/** A local file of pseudo-random bytes. */
async function sourceFile(dir: string, name: string, bytes: number): Promise<string> {
  const data = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at += 65536) {
    crypto.getRandomValues(data.subarray(at, Math.min(bytes, at + 65536)));
  }
  const path = join(dir, name.replaceAll("/", "_"));
  await Deno.writeFile(path, data);
  return path;
}

/** `cdfs get NAME` through `namenode`, byte-compared with the source. */
async function assertGetIdentical(namenode: string, name: string, source: string, dir: string) {
  const copy = join(dir, `${name.replaceAll("/", "_")}.${crypto.randomUUID()}.copy`);
  await cdfs(namenode, "get", name, "-o", copy);
  assert.deepEqual(await Deno.readFile(copy), await Deno.readFile(source), `get ${name}`);
  await Deno.remove(copy);
}

/** What `ls`, `stat` and `fsck` say about the files (all of it deterministic). */
interface Answers {
  ls: string;
  lsJson: unknown;
  stat: Record<string, unknown>;
  fsck: { code: number; out: string };
}

async function answers(namenode: string, names: readonly string[]): Promise<Answers> {
  const stat: Record<string, unknown> = {};
  for (const name of names) {
    stat[name] = JSON.parse((await cdfs(namenode, "stat", "--json", name)).out);
  }
  const fsck = await runCdfs(["fsck"], { env: { CDFS_NAMENODE: namenode } });
  return {
    ls: (await cdfs(namenode, "ls")).out,
    lsJson: JSON.parse((await cdfs(namenode, "ls", "--json")).out),
    stat,
    fsck: { code: fsck.code, out: fsck.out },
  };
}

/**
 * Puts three files (RapidRAID archived, RapidRAID replicated, replication archived), kills
 * the namenode with SIGKILL, starts it again on the same store and address, and checks that
 * every answer is the one before, also once every datanode has registered again.
 */
async function restartLosesNothing(meta: string, work: string): Promise<void> {
  let namenode = await startNameNode(meta, join(work, "namenode.log"));
  const address = namenode.address;
  try {
    const datanodes = await startDatanodes(DATANODES, () => address, address);
    try {
      const files: [name: string, code: string, bytes: number, archive: boolean][] = [
        ["photos/big.iso", "rapidraid", 700_001, true],
        ["photos/fresh.bin", "rapidraid", 123_457, false],
        ["notes.txt", "replication", 5_000, true],
      ];
      const sources = new Map<string, string>();
      for (const [name, code, bytes, archive] of files) {
        const source = await sourceFile(work, name, bytes);
        sources.set(name, source);
        await cdfs(address, "put", "--code", code, source, name);
        if (archive) await cdfs(address, "archive", name);
      }
      const names = [...sources.keys()];
      const before = await answers(address, names);
      assert.equal(before.fsck.code, 0, before.fsck.out);
      assert.deepEqual(
        Object.values(before.stat).map((f) => (f as FileView).state),
        ["archived", "replicated", "archived"],
      );
      for (const [name, source] of sources) await assertGetIdentical(address, name, source, work);

      // A crash: no graceful stop, nothing flushed beyond what each reply already promised.
      const killed = await killNameNode(namenode);
      assert.equal(killed.signal, "SIGKILL");
      namenode.child.release();
      const linesBefore = (await logRecords(namenode.log)).length;
      namenode = await startNameNode(meta, namenode.log, address);
      assert.equal(namenode.address, address);

      // At once: the records are the store's, not the datanodes' to tell again.
      assert.deepEqual(await answers(address, names), before);
      for (const [name, source] of sources) await assertGetIdentical(address, name, source, work);

      // The datanodes notice the new process (their connection broke) and register again,
      // each with a full report; the answers stay the same.
      const registeredAgain = async () =>
        (await logRecords(namenode.log)).slice(linesBefore)
          .filter((r) => r.event === "datanode-registered");
      await waitFor(
        "every datanode registered again",
        async () => new Set((await registeredAgain()).map((r) => r.node)).size === DATANODES,
        30_000,
      );
      // Known (from the store) and alive (its last heartbeat is recent): not a new node.
      const again = await registeredAgain();
      assert.ok(again.every((r) => r.again === true && r.wasDead === false), JSON.stringify(again));
      assert.deepEqual(await answers(address, names), before);
      for (const [name, source] of sources) await assertGetIdentical(address, name, source, work);
    } finally {
      await Promise.all(datanodes.map((node) => node[Symbol.asyncDispose]()));
    }
  } finally {
    await stopNameNode(namenode);
  }
}

Deno.test("namenode process, SQLite: kill -9 and a restart on the same store lose nothing (ls, stat, fsck, get)", async () => {
  const work = await Deno.makeTempDir({ prefix: "cdfs-nn-process-" });
  try {
    await restartLosesNothing(`sqlite:${join(work, "meta.db")}`, work);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test({
  name:
    `namenode process, etcd: kill -9 and a restart on the same etcd lose nothing (ls, stat, fsck, get)${etcdSkip}`,
  ignore: !etcd.found,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "cdfs-nn-process-" });
    try {
      await using store = await EtcdCluster.start();
      await restartLosesNothing(`etcd:${store.clientUrls.join(",")}`, work);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `two namenodes on one etcd, 16 concurrent puts and archives over both: no id twice, no lost update, every file identical from either${etcdSkip}`,
  ignore: !etcd.found,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "cdfs-nn-two-" });
    await using store = await EtcdCluster.start();
    const meta = `etcd:${store.clientUrls.join(",")}`;
    const a = await startNameNode(meta, join(work, "a.log"));
    let b: NameNodeProc | undefined;
    let datanodes: DataNodeProcess[] = [];
    try {
      b = await startNameNode(meta, join(work, "b.log"));
      const both = [a.address, b.address];
      // `--namenode X,Y` registers with X (the first that answers) and falls back to Y; half
      // the datanodes report to each namenode.
      datanodes = await startDatanodes(
        DATANODES,
        (i) => (i % 2 === 0 ? both : [...both].reverse()).join(","),
        a.address,
      );
      await waitForRegistrations(b.address, datanodes.map((_, i) => `dn${i}`), 30_000);
      for (const [namenode, parity] of [[a, 0], [b, 1]] as const) {
        const registered = [
          ...new Set(
            (await logRecords(namenode.log)).filter((r) => r.event === "datanode-registered")
              .map((r) => r.node),
          ),
        ].sort();
        const expected = Array.from({ length: DATANODES / 2 }, (_, j) => `dn${2 * j + parity}`);
        assert.deepEqual(registered, expected.sort(), `registered through ${namenode.address}`);
      }

      // 16 clients at once, alternating between the namenodes; each puts, then archives.
      const jobs = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
        const name = `race/file-${String(i).padStart(2, "0")}`;
        const source = await sourceFile(work, name, 20_000 + i * 37_003);
        return { name, source, via: both[i % 2]! };
      }));
      await Promise.all(jobs.map(async ({ name, source, via }) => {
        await cdfs(via, "put", source, name);
        await cdfs(via, "archive", name);
      }));

      // Every namenode's log: both created files, 16 in all, none twice.
      const created = [
        ...(await logRecords(a.log)).filter((r) => r.event === "file-created"),
        ...(await logRecords(b.log)).filter((r) => r.event === "file-created"),
      ];
      assert.equal(created.length, 16);
      assert.equal(new Set(created.map((r) => r.fileId)).size, 16, "a file id allocated twice");

      // Both namenodes give the same records: 16 archived files, distinct ids, complete.
      const names = jobs.map((j) => j.name);
      const [fromA, fromB] = [await answers(a.address, names), await answers(b.address, names)];
      assert.deepEqual(fromB, fromA);
      assert.equal(fromA.fsck.code, 0, fromA.fsck.out);
      assert.match(fromA.fsck.out, /^16 files: 16 healthy, 0 degraded, 0 lost$/m);
      const records = Object.values(fromA.stat) as FileView[];
      assert.equal(new Set(records.map((f) => f.fileId)).size, 16);
      const blockIds = records.flatMap((f) => f.blocks.map((blk) => blk.block));
      assert.equal(blockIds.length, 16 * 16, "every file has its 16 coded blocks, no part left");
      assert.equal(new Set(blockIds).size, blockIds.length, "a block id allocated twice");
      for (const f of records) {
        assert.equal(f.state, "archived", f.name);
        assert.deepEqual(f.blocks.map((blk) => blk.kind).filter((k) => k !== "coded"), []);
        assert.equal(
          new Set(f.blocks.map((blk) => blk.node)).size,
          16,
          `${f.name}: distinct nodes`,
        );
      }

      // What the datanodes hold is exactly what the records place on them: no copy of one
      // file overwrote another's, no part copy left behind, no block without a record.
      for (const [i, node] of datanodes.entries()) {
        using client = await DataNodeClient.connect(node.address);
        const held = (await Array.fromAsync(client.listAll())).map((e) => e.block).sort();
        const placed = records.flatMap((f) => f.blocks).filter((blk) => blk.node === `dn${i}`)
          .map((blk) => blk.block).sort();
        assert.deepEqual(held, placed, `dn${i}`);
      }
      // The namenodes agree: once the deletions are reported, nothing is an orphan.
      for (const address of both) {
        using client = await NameNodeClient.connect(address);
        await waitFor(
          `no orphans at ${address}`,
          async () => (await client.orphans({ graceMs: 0 })).orphans.length === 0,
          10_000,
        );
      }

      // Every file byte-identical from either namenode.
      for (const { name, source } of jobs) {
        for (const address of both) await assertGetIdentical(address, name, source, work);
      }
    } finally {
      await Promise.all(datanodes.map((node) => node[Symbol.asyncDispose]()));
      if (b !== undefined) await stopNameNode(b);
      await stopNameNode(a);
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test("bad input from datanodes: blocks a datanode lacks are 'unknown', an id at another address is CONFLICT; nothing changes", async () => {
  const work = await Deno.makeTempDir({ prefix: "cdfs-nn-bad-" });
  const namenode = await startNameNode(`sqlite:${join(work, "meta.db")}`, join(work, "nn.log"));
  const address = namenode.address;
  let datanodes: DataNodeProcess[] = [];
  try {
    datanodes = await startDatanodes(DATANODES, () => address, address);
    const source = await sourceFile(work, "doc", 300_000);
    await cdfs(address, "put", source, "doc");
    const before = await answers(address, ["doc"]);
    assert.equal(before.fsck.code, 0);
    const file = before.stat.doc as FileView;
    using client = await NameNodeClient.connect(address);

    // A full report under dn0 of what dn0 holds, plus a block of the file that lives on
    // another datanode and a block no file has: both 'unknown', nothing missing.
    const own = new Set(file.blocks.filter((b) => b.node === "dn0").map((b) => b.block));
    const elsewhere = file.blocks.find((b) => !own.has(b.block))!.block;
    using dn0 = await DataNodeClient.connect(datanodes[0]!.address);
    const held = (await Array.fromAsync(dn0.listAll())).map((e) => ({
      blockId: e.block,
      length: e.length,
    }));
    assert.deepEqual(held.map((e) => e.blockId).sort(), [...own].sort());
    const reply = await client.reportAll("dn0", [
      ...held,
      { blockId: elsewhere, length: 1 },
      { blockId: "no.such.block", length: 9 },
    ]);
    assert.deepEqual(reply, {
      node: "dn0",
      kind: "full",
      blocks: held.length + 2,
      missing: 0,
      unknown: 2,
    });
    // Kept as what dn0 says it has (orphans, for a later GC to judge), placed nowhere.
    const orphans = (await client.orphans({ graceMs: 0 })).orphans;
    assert.deepEqual(
      orphans.map((o) => `${o.node} ${o.block}`).sort(),
      [`dn0 ${elsewhere}`, "dn0 no.such.block"],
    );
    assert.deepEqual(await answers(address, ["doc"]), before);

    // A second datanode process under dn3's id, at another address: refused, and it says so
    // in one line of its log; the namenode logs the refusal; dn3 stays where it is.
    const dn3 = datanodes[3]!;
    await using impostor = await DataNodeProcess.start({
      args: ["--id", "dn3", "--namenode", address],
    });
    await waitFor(
      "the impostor's refusal",
      () => impostor.logRecords().some((r) => r.event === "namenode-error"),
      30_000,
    );
    const refusal = impostor.logRecords().find((r) => r.event === "namenode-error")!;
    const line =
      `datanode dn3 is registered at ${dn3.address}, refusing to register it at ${impostor.address}`;
    assert.ok(String(refusal.message).includes(line), String(refusal.message));
    assert.doesNotMatch(String(refusal.message), /\n/);
    const failed = (await logRecords(namenode.log)).filter((r) => r.event === "request-failed");
    assert.ok(
      failed.some((r) => r.code === "CONFLICT" && r.op === "REGISTER" && r.message === line),
      JSON.stringify(failed),
    );
    const dn3Record = (await client.listDatanodes()).datanodes.find((d) => d.node === "dn3")!;
    assert.deepEqual([dn3Record.address, dn3Record.state], [dn3.address, "alive"]);
    // The same refusal to a client, as an error with that one line.
    await assert.rejects(
      client.register({ id: "dn3", address: impostor.address, capacity: 10, free: 5 }),
      (error) => isCdfsError(error, "CONFLICT") && error.message === line,
    );
    assert.deepEqual(await answers(address, ["doc"]), before);
    await assertGetIdentical(address, "doc", source, work);
  } finally {
    await Promise.all(datanodes.map((node) => node[Symbol.asyncDispose]()));
    await stopNameNode(namenode);
    await Deno.remove(work, { recursive: true });
  }
});
