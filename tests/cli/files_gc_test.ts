/**
 * `cdfs gc` against in-process datanodes registered with an in-process namenode (whose clock
 * is the test's, so the grace period is moved past, not waited for): orphans past the grace
 * go and nothing a file places is touched; ids that name no file stay unless --foreign; a
 * copy whose file has that block on a dead datanode stays (a repair may be putting it there);
 * a dry run changes nothing; a datanode that is down fails its copies (exit 1). An abandoned
 * pending file past the grace is aborted and its blocks deleted, a young one is left alone.
 * And the race the re-check cannot close (a file placing the copy between the re-check and
 * the delete) is reported.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { collectGarbage, judgeOrphan } from "../../src/client/files/gc.ts";
import { fileIdOfBlock } from "../../src/client/files/gc_pending.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { layoutOfModule } from "../../src/namenode/layout.ts";
import type { FileView } from "../../src/namenode/responses.ts";
import { randomBytes } from "../client/_blocks.ts";
import { type FileCluster, startFileCluster } from "../client/_file_cluster.ts";
import { runCdfs } from "../helpers/cli.ts";
import { statBlock } from "../helpers/in_process_cluster.ts";

const CHUNK = ["--chunk-size", "4096"];

async function store(address: string, block: string, bytes: Uint8Array): Promise<void> {
  using client = await DataNodeClient.connect(address);
  await client.store(block, [bytes], { chunkSize: 4096 });
}

/** The namenode's orphans as `block@node` (no grace). */
async function orphanList(files: FileCluster): Promise<string[]> {
  const { orphans } = await files.client.orphans({ graceMs: 0 });
  return orphans.map((o) => `${o.block}@${o.node}`);
}

/** Every copy the file places is on its datanode. */
async function assertFileWhole(file: FileView): Promise<void> {
  for (const b of file.blocks) {
    assert.ok(await statBlock(b.address!, b.block), `${b.block} on ${b.node}`);
  }
}

Deno.test("gc: block ids name their file", () => {
  assert.equal(fileIdOfBlock("f12.part0"), 12);
  assert.equal(fileIdOfBlock("f7.coded15"), 7);
  for (
    const id of ["photo.jpg.0", "f0.part0", "f7.manifest", "f07.part1", "f7.part", "f7.part01"]
  ) {
    assert.equal(fileIdOfBlock(id), undefined, id);
  }
});

Deno.test("gc: orphans past the grace go, a file's blocks never; --dry-run, --foreign, dead copies, a datanode down", async () => {
  await using files = await startFileCluster(17);
  const cdfs = (...args: string[]) => runCdfs(args, { env: files.env });
  const work = await Deno.makeTempDir({ prefix: "cdfs-gc-" });
  try {
    const input = `${work}/a.in`;
    const bytes = randomBytes(11 * 4096 + 5);
    await Deno.writeFile(input, bytes);
    assert.equal((await cdfs("put", ...CHUNK, input, "a")).code, 0);
    const file = await files.client.getFile("a");
    const nodes = files.cluster.nodes;
    const holders = (block: string) =>
      file.blocks.filter((b) => b.block === block).map((b) => nodes.indexOf(b.address!));
    // A stale copy of the file's part 0 on a datanode the file does not place it on (what a
    // returning datanode keeps after a repair moved its block), a block of a file that never
    // existed, and a block stored outside the namenode's files.
    const stale = [...nodes.keys()].find((i) =>
      i !== 0 && !holders(`${file.objectId}.part0`).includes(i)
    )!;
    await store(nodes[stale]!, `${file.objectId}.part0`, bytes.subarray(0, 4096));
    await store(nodes[0]!, "f999.part3", bytes.subarray(0, 100));
    await store(nodes[0]!, "photo.0", bytes.subarray(0, 10));
    await files.report();
    const orphans = [`f999.part3@dn0`, `photo.0@dn0`, `${file.objectId}.part0@dn${stale}`].sort();
    assert.deepEqual((await orphanList(files)).sort(), orphans);

    // Younger than the grace: nothing to do.
    const young = await cdfs("gc", "--grace", "10s");
    assert.equal(young.code, 0, young.err);
    assert.equal(
      young.out,
      "gc (grace 10s): aborted 0 abandoned pending files, deleted 0 orphan block copies (0 B) " +
        "on 0 datanodes\n",
    );
    await files.kill([]); // 30 s later on the namenode's clock, every datanode heartbeating

    const dry = await cdfs("gc", "--grace", "10s", "--dry-run");
    assert.equal(dry.code, 0, dry.err);
    const lines = dry.out.split("\n");
    assert.equal(
      lines[0],
      "gc --dry-run (grace 10s): would abort 0 abandoned pending files, would delete 2 orphan " +
        "block copies (4.1 KiB) on 2 datanodes; 1 kept",
    );
    assert.match(
      dry.out,
      new RegExp(`^would delete f999\\.part3 on dn0 \\(${nodes[0]}\\): 100 B`, "m"),
    );
    assert.match(dry.out, new RegExp(`^would delete ${file.objectId}\\.part0 on dn${stale} `, "m"));
    assert.match(dry.out, /^kept photo\.0 on dn0: its id names no file .*--foreign/m);
    assert.deepEqual((await orphanList(files)).sort(), orphans, "a dry run deletes nothing");
    assert.ok(await statBlock(nodes[stale]!, `${file.objectId}.part0`));

    const json = await cdfs("gc", "--grace", "10s", "--json");
    assert.equal(json.code, 0, json.err);
    const result = JSON.parse(json.out);
    assert.deepEqual(
      result.deleted.map((c: { block: string }) => c.block).sort(),
      [`${file.objectId}.part0`, "f999.part3"],
    );
    assert.equal(result.bytes, 4096 + 100);
    assert.deepEqual(result.kept.map((c: { block: string }) => c.block), ["photo.0"]);
    assert.equal(await statBlock(nodes[stale]!, `${file.objectId}.part0`), undefined);
    assert.equal(await statBlock(nodes[0]!, "f999.part3"), undefined);
    await assertFileWhole(file);
    await files.report(); // what the datanodes' incremental reports do
    assert.deepEqual(await orphanList(files), ["photo.0@dn0"]);

    const foreign = await cdfs("gc", "--grace", "0", "--foreign");
    assert.equal(foreign.code, 0, foreign.err);
    assert.match(foreign.out, /deleted 1 orphan block copy \(10 B\) on 1 datanode\n$/);
    await files.report();
    assert.deepEqual(await orphanList(files), []);

    // The file's part 1 on a dead datanode: a copy of it elsewhere may be a repair's new copy
    // that MOVE_BLOCK has not recorded yet, so it stays.
    const [lost] = holders(`${file.objectId}.part1`);
    const other = [...nodes.keys()].find((i) =>
      i !== lost && !holders(`${file.objectId}.part1`).includes(i)
    )!;
    await store(nodes[other]!, `${file.objectId}.part1`, bytes.subarray(0, 4096));
    // And an orphan on that datanode: not tried while it is dead.
    await store(nodes[lost!]!, "f997.part0", bytes.subarray(0, 3));
    await files.report();
    await files.kill([lost!]);
    await files.report();
    const kept = await cdfs("gc", "--grace", "0");
    assert.equal(kept.code, 0, kept.err);
    assert.match(
      kept.out,
      new RegExp(
        `^kept ${file.objectId}\\.part1 on dn${other}: file "a" has it on dn${lost}, which is ` +
          "dead: a repair may be rebuilding it here$",
        "m",
      ),
    );
    assert.ok(await statBlock(nodes[other]!, `${file.objectId}.part1`));
    assert.match(
      kept.out,
      new RegExp(`^kept f997\\.part0 on dn${lost}: its datanode is dead: `, "m"),
    );
    assert.match(kept.out, /deleted 0 orphan block copies \(0 B\) on 0 datanodes; 2 kept\n/);

    // A datanode that is down (the namenode does not know yet): its copy is not deleted.
    // (One that shares no part with the dead one, so that the file stays readable.)
    const onLost = file.blocks.filter((b) => b.address === nodes[lost!]).map((b) => b.block);
    const downNode = [...nodes.keys()].find((i) =>
      i !== lost && i !== other && !onLost.some((block) => holders(block).includes(i))
    )!;
    await store(nodes[downNode]!, "f998.part0", bytes.subarray(0, 7));
    await files.report();
    await files.cluster.stop(downNode);
    const failed = await cdfs("gc", "--grace", "0");
    assert.equal(failed.code, 1);
    assert.match(failed.out, /; 2 kept; 1 not deleted\n/);
    assert.match(
      failed.err,
      new RegExp(
        `^cdfs: gc: f998\\.part0 on dn${downNode} \\(${nodes[downNode]}\\) not deleted: `,
        "m",
      ),
    );
    // Its blocks could not be listed either (for pending files): said, not fatal.
    assert.match(
      failed.err,
      new RegExp(`^cdfs: gc: dn${downNode} \\(.*\\): its blocks could not be listed`, "m"),
    );

    const got = await cdfs("get", "a", "-o", `${work}/a.out`);
    assert.equal(got.code, 0, got.err);
    assert.deepEqual(await Deno.readFile(`${work}/a.out`), bytes);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("gc: an abandoned pending file past the grace is aborted, then its blocks go", async () => {
  await using files = await startFileCluster(16);
  const module = await loadCodingModule("rapidraid");
  const created = await files.client.createFile({
    name: "half",
    code: "rapidraid",
    length: 11 * 1000,
    layout: layoutOfModule(module, "parts"),
    blockLength: 1000,
  });
  const { fileId } = created.file;
  // The writer stored three part copies, then died.
  const written = created.file.blocks.slice(0, 3);
  for (const b of written) await store(b.address!, b.block, new Uint8Array(1000));
  await files.report();
  assert.deepEqual(await orphanList(files), [], "a pending file's blocks are placed");

  const gc = (graceMs: number, dryRun = false) =>
    collectGarbage({ namenode: files.client, graceMs, dryRun, now: files.clock.now });
  const young = await gc(60_000);
  assert.deepEqual([young.expired, young.deleted], [[], []]);
  files.clock.advance(61_000);
  for (let i = 0; i < 16; i++) await files.client.heartbeat(files.id(i), { free: 1 << 30 });

  const dry = await gc(60_000, true);
  assert.deepEqual(
    dry.expired.map((f) => [f.fileId, f.name, f.copies, f.bytes]),
    [[fileId, "half", 3, 3000]],
  );
  assert.equal((await files.client.getFileById(fileId)).state, "pending", "dry run");

  const result = await gc(60_000);
  assert.deepEqual(result.expired.map((f) => f.name), ["half"]);
  await assert.rejects(files.client.getFileById(fileId), (e) => isCdfsError(e, "NOT_FOUND"));
  // Its blocks were orphans once it was aborted (reported when stored long ago): deleted.
  assert.deepEqual(
    result.deleted.map((c) => `${c.block}@${c.node}`).sort(),
    written.map((b) => `${b.block}@${b.node}`).sort(),
  );
  assert.equal(result.bytes, 3000);
  for (const b of written) assert.equal(await statBlock(b.address!, b.block), undefined);
  // The name is free again.
  await files.client.createFile({
    name: "half",
    code: "rapidraid",
    length: 11,
    layout: layoutOfModule(module, "parts"),
  });
});

Deno.test("gc: judging an orphan against its file", () => {
  const orphan = { block: "f7.part0", node: "dn3", address: "h:3", length: 1, firstSeen: "" };
  const view = (blocks: { node: string; alive: boolean; state?: "pending" | "stored" }[]) =>
    ({
      fileId: 7,
      name: "x",
      blocks: blocks.map((b) => ({
        block: "f7.part0",
        kind: "part",
        index: 0,
        node: b.node,
        address: "h:1",
        alive: b.alive,
        state: b.state ?? "stored",
      })),
    }) as unknown as FileView;
  assert.equal(judgeOrphan(orphan, null, false), null, "the file is gone: ids are never reused");
  assert.equal(judgeOrphan(orphan, view([{ node: "dn1", alive: true }]), false), null);
  assert.match(
    judgeOrphan(orphan, view([{ node: "dn3", alive: true, state: "pending" }]), false)!,
    /places it there now/,
  );
  assert.match(
    judgeOrphan(orphan, view([{ node: "dn1", alive: false }]), false)!,
    /on dn1, which is dead/,
  );
  const foreign = { ...orphan, block: "photo.0" };
  assert.match(judgeOrphan(foreign, null, false)!, /names no file/);
  assert.equal(judgeOrphan(foreign, null, true), null);
});

Deno.test("gc: a file that comes to place a copy while it is deleted is reported", async () => {
  await using files = await startFileCluster(16);
  const work = await Deno.makeTempDir({ prefix: "cdfs-gc-race-" });
  try {
    const input = `${work}/r.in`;
    await Deno.writeFile(input, randomBytes(11 * 4096));
    const put = await runCdfs(["put", ...CHUNK, input, "r"], { env: files.env });
    assert.equal(put.code, 0, put.err);
    const file = await files.client.getFile("r");
    // An old copy of coded block 3 (an archive that died before it recorded it) on datanode 0.
    const block = `${file.objectId}.coded3`;
    await store(files.cluster.nodes[0]!, block, new Uint8Array(4096));
    await files.report();
    assert.deepEqual(await orphanList(files), [`${block}@dn0`]);
    // The race: an archive's ADD_BLOCKS places coded block 3 on datanode 0 right after gc's
    // re-check read the file (and its encode would write it before gc's DELETE arrives).
    let reads = 0;
    const namenode = new Proxy(files.client, {
      get(target, key) {
        const value = Reflect.get(target, key);
        if (key !== "getFileById") return typeof value === "function" ? value.bind(target) : value;
        return async (fileId: number) => {
          const read = await target.getFileById(fileId);
          if (fileId === file.fileId && reads++ === 0) {
            await target.addBlocks(fileId, {
              placements: [{ role: { kind: "coded", index: 3 }, node: "dn0" }],
            });
          }
          return read;
        };
      },
    });
    const result = await collectGarbage({ namenode, graceMs: 0 });
    assert.equal(reads, 2, "read before and after the delete");
    assert.deepEqual(result.deleted.map((c) => c.block), [block]);
    assert.deepEqual(result.raced.map((c) => c.block), [block]);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
