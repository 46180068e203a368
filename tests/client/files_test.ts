/**
 * The file operations of `src/client/files/` where they must hold under failure: a put that
 * fails leaves no file and no block; an archive interrupted after each of its steps is finished
 * by the next archive and never loses the file; an archive whose coded blocks are not all
 * confirmed keeps the replicas; reads go around damaged and missing copies; a repair of a
 * replicated file re-replicates every part a dead datanode held onto one spare, so the record
 * still follows the code's layout (and the file can then be archived); without a spare, the
 * parts double up on the live datanode holding the fewest (never beside a copy of themselves),
 * and the file still archives, reads, and repairs again; the choice of that datanode.
 *
 * @module
 */
import assert from "node:assert/strict";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { archiveFile } from "../../src/client/files/archive.ts";
import { fileNodes } from "../../src/client/files/file_target.ts";
import { putFile } from "../../src/client/files/put.ts";
import { readFile } from "../../src/client/files/read.ts";
import { repairFile } from "../../src/client/files/repair.ts";
import { chooseTarget, type CopyVector } from "../../src/client/files/spare.ts";
import { encodeObject } from "../../src/client/objects/encode.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { nodesOfFile } from "../../src/namenode/nodes_of_file.ts";
import { layoutOfModule, sharedDatanodes } from "../../src/namenode/layout.ts";
import type { DatanodeView, FileView } from "../../src/namenode/responses.ts";
import { randomBytes } from "./_blocks.ts";
import { type FileCluster, startFileCluster } from "./_file_cluster.ts";
import { tempDir } from "../helpers/temp_dir.ts";

const CHUNK = 4096;
const LENGTH = 11 * 2 * CHUNK + 123;

/** Every block id of a file's object that any live datanode holds. */
async function blocksEverywhere(files: FileCluster, objectId: string, skip: number[] = []) {
  const found: string[] = [];
  for (const [i, address] of files.cluster.nodes.entries()) {
    if (skip.includes(i)) continue;
    using client = await DataNodeClient.connect(address);
    for await (const entry of client.listAll({ prefix: `${objectId}.` })) {
      found.push(`${entry.block}@dn${i}`);
    }
  }
  return found.sort();
}

/** The datanode index of an address. */
function indexOf(files: FileCluster, address: string | null): number {
  const i = files.cluster.nodes.indexOf(address ?? "");
  assert.ok(i >= 0, `no datanode at ${address}`);
  return i;
}

/** Puts `bytes` as `name` with RapidRAID. */
async function put(files: FileCluster, work: string, name: string, bytes: Uint8Array) {
  const path = `${work}/${name}`;
  await Deno.writeFile(path, bytes);
  return (await putFile({
    namenode: files.client,
    module: rapidraid,
    path,
    name,
    chunkSize: CHUNK,
  })).file;
}

/**
 * Puts `bytes` as `name`, adds the coded blocks of its code (pending) and runs the encode, but
 * commits nothing: the file as an archive that stopped right after its encode leaves it.
 */
async function putEncoded(files: FileCluster, work: string, name: string, bytes: Uint8Array) {
  const file = await put(files, work, name, bytes);
  const added = await files.client.addBlocks(file.fileId, { layout: layoutOfModule(rapidraid) });
  await encodeObject({
    module: rapidraid,
    nodes: added.nodes!.map((r) => r!.address),
    objectId: file.objectId,
    chunkSize: CHUNK,
  });
  return file;
}

/** Archives a RapidRAID file. */
function archive(files: FileCluster, file: FileView) {
  return archiveFile({ namenode: files.client, file, module: rapidraid, chunkSize: CHUNK });
}

/** Reads a file into `work/<name>.out` and returns the bytes. */
async function read(work: string, file: FileView, onEvent?: (what: string) => void) {
  const output = `${work}/${file.name}.out`;
  const result = await readFile({
    file,
    module: rapidraid,
    output,
    chunkSize: CHUNK,
    onFailedCopy: (c) => onEvent?.(`failed ${c.block} corrupt=${c.corrupt}`),
    onCorrupt: (c) => onEvent?.(`corrupt ${c.block}`),
  });
  return { result, bytes: await Deno.readFile(output) };
}

Deno.test("a put that fails leaves no file and no block; the name is free", async () => {
  await using files = await startFileCluster(16);
  await using dir = await tempDir("cdfs-files-lib-");
  const work = dir.path;
  // The namenode still believes node 3 alive: it places parts there, the STOREs fail.
  await files.cluster.stop(3);
  const path = `${work}/a`;
  await Deno.writeFile(path, randomBytes(LENGTH));
  await assert.rejects(
    putFile({ namenode: files.client, module: rapidraid, path, name: "a", chunkSize: CHUNK }),
    (e) =>
      isCdfsError(e, "UNAVAILABLE") && e.message.includes(files.cluster.nodes[3]!) &&
      e.message.endsWith('; file "a" was not created'),
  );
  await assert.rejects(files.client.getFile("a"), (e) => isCdfsError(e, "NOT_FOUND"));
  assert.deepEqual(await blocksEverywhere(files, "f1", [3]), []);
  // The name is free again at once (not only once the namenode would expire it).
  await files.kill([3]);
  await assert.rejects(
    putFile({ namenode: files.client, module: rapidraid, path, name: "a", chunkSize: CHUNK }),
    (e) => isCdfsError(e, "UNAVAILABLE") && /needs 16 distinct live datanodes, 15/.test(e.message),
  );
});

Deno.test("archive: interrupted after each step, the next archive finishes; never neither", async (t) => {
  await using files = await startFileCluster(16);
  await using dir = await tempDir("cdfs-files-lib-");
  const work = dir.path;
  const bytes = randomBytes(LENGTH);
  await t.step(
    "a crash after ADD_BLOCKS: the pending blocks are aborted, then done",
    async () => {
      const file = await put(files, work, "one", bytes);
      await files.client.addBlocks(file.fileId, { layout: layoutOfModule(rapidraid) });
      const pending = await files.client.getFile("one");
      assert.equal(pending.state, "replicated");
      assert.equal(pending.blocks.filter((b) => b.state === "pending").length, 16);
      // Readers meanwhile see the replicated file.
      assert.deepEqual((await read(work, pending)).bytes, bytes);
      const result = await archive(files, pending);
      assert.equal(result.file.state, "archived");
      assert.equal(result.confirmed.length, 16);
      assert.deepEqual((await read(work, result.file)).bytes, bytes);
    },
  );

  await t.step("a crash after COMMIT encoded: confirm and drop only", async () => {
    const file = await putEncoded(files, work, "two", bytes);
    const encoded = await files.client.commitFile(file.fileId, { state: "encoded" });
    assert.equal(encoded.blocks.length, 22 + 16);
    assert.deepEqual((await read(work, encoded)).result.via, "parts");
    const result = await archive(files, encoded);
    assert.equal(result.encode, undefined);
    assert.equal(result.file.state, "archived");
    assert.equal(result.replicas.deleted.length, 22);
    assert.deepEqual(
      await blocksEverywhere(files, file.objectId),
      result.file.blocks.map((b) => `${b.block}@${b.node}`).sort(),
    );
    assert.deepEqual((await read(work, result.file)).bytes, bytes);
  });

  await t.step("a crash after the encode, before its commit: encoded again over it", async () => {
    await putEncoded(files, work, "three", bytes);
    // The coded blocks are on the datanodes, the record has them pending: the file reads
    // as replicated, and the next archive replaces the blocks no record names.
    const crashed = await files.client.getFile("three");
    assert.equal(crashed.state, "replicated");
    const result = await archive(files, crashed);
    assert.equal(result.file.state, "archived");
    assert.ok(result.encode !== undefined);
    assert.deepEqual((await read(work, result.file)).bytes, bytes);
  });

  await t.step(
    "a coded block not confirmed: nothing dropped, the file stays encoded",
    async () => {
      const file = await putEncoded(files, work, "four", bytes);
      const encoded = await files.client.commitFile(file.fileId, { state: "encoded" });
      const coded7 = encoded.blocks.find((b) => b.block === `${file.objectId}.coded7`)!;
      using client = await DataNodeClient.connect(coded7.address!);
      await client.delete(coded7.block);
      await assert.rejects(archive(files, encoded), (e) =>
        isCdfsError(e, "NOT_FOUND") &&
        e.message.startsWith(
          'file "four" is kept encoded, its part replicas kept: 1 of its 16',
        ) &&
        e.message.includes(`${coded7.block} on ${coded7.node}`));
      const after = await files.client.getFile("four");
      assert.equal(after.state, "encoded");
      assert.equal(after.blocks.filter((b) => b.kind === "part").length, 22);
      assert.equal(
        (await blocksEverywhere(files, file.objectId)).filter((b) => b.includes(".part")).length,
        22,
      );
      assert.deepEqual((await read(work, after)).bytes, bytes);
    },
  );

  await t.step("an encode that fails keeps the file replicated, nothing pending", async () => {
    const file = await put(files, work, "five", bytes);
    // The namenode still believes the datanode alive; the encode's run fails on it.
    const victim = indexOf(files, file.blocks[0]!.address);
    await files.cluster.stop(victim);
    await assert.rejects(
      archive(files, file),
      (e) =>
        isCdfsError(e) && e.message.includes(files.cluster.nodes[victim]!) &&
        e.message.endsWith('; file "five" is kept replicated'),
    );
    const after = await files.client.getFile("five");
    assert.equal(after.state, "replicated");
    assert.deepEqual(after.blocks, file.blocks);
    // Read from the other replica of every part the stopped datanode held.
    assert.deepEqual((await read(work, after)).bytes, bytes);
    const coded = (await blocksEverywhere(files, file.objectId, [victim]))
      .filter((id) => id.includes(".coded"));
    assert.deepEqual(coded, []);
  });
});

Deno.test("reads go around a damaged part copy, and decode when a part has no copy", async () => {
  await using files = await startFileCluster(16);
  await using dir = await tempDir("cdfs-files-lib-");
  const work = dir.path;
  const bytes = randomBytes(LENGTH);
  const file = await putEncoded(files, work, "big", bytes);
  const encoded = await files.client.commitFile(file.fileId, { state: "encoded" });
  const part3 = encoded.blocks.filter((b) => b.block === `${file.objectId}.part3`);
  // Damage the copy a read tries first (both are alive: the first in the record).
  await files.cluster.corrupt(indexOf(files, part3[0]!.address), part3[0]!.block, 100);
  const events: string[] = [];
  const damaged = await read(work, encoded, (e) => events.push(e));
  assert.deepEqual(damaged.bytes, bytes);
  assert.equal(damaged.result.via, "parts");
  assert.deepEqual(events, [`failed ${part3[0]!.block} corrupt=true`]);
  assert.equal(damaged.result.parts!.used[3]!.node, part3[1]!.node);

  // Neither copy of part 3 readable any more: the coded blocks decode the file.
  using second = await DataNodeClient.connect(part3[1]!.address!);
  await second.delete(part3[1]!.block);
  const decoded = await read(work, encoded);
  assert.equal(decoded.result.via, "decode");
  assert.match(decoded.result.partsError!, /1 of its 11 parts cannot be read: part 3 /);
  assert.deepEqual(decoded.bytes, bytes);
});

Deno.test("repair of a replicated file: a dead datanode's parts go to one spare", async () => {
  await using files = await startFileCluster(17);
  await using dir = await tempDir("cdfs-files-lib-");
  const work = dir.path;
  const bytes = randomBytes(LENGTH);
  const file = await put(files, work, "big", bytes);
  // Logical node 5 holds parts 5 and 0: both must go to the same spare.
  const dead = indexOf(files, fileNodes(file, rapidraid)[5]!);
  await files.kill([dead]);
  const result = await repairFile({
    namenode: files.client,
    file: await files.client.getFile("big"),
    module: rapidraid,
    chunkSize: CHUNK,
  });
  assert.equal(result.health.status, "degraded");
  assert.deepEqual(result.failed, []);
  assert.deepEqual(
    result.rebuilt.map((r) => r.block).sort(),
    [`${file.objectId}.part0`, `${file.objectId}.part5`],
  );
  const spare = result.rebuilt[0]!.to;
  assert.ok(result.rebuilt.every((r) => r.to === spare && r.from === `dn${dead}`));
  // The record still follows the layout: the spare is logical node 5 now.
  const now = await files.client.getFile("big");
  assert.equal(fileNodes(now, rapidraid)[5], files.cluster.nodes[Number(spare.slice(2))]);
  const [health] = (await files.client.fsck({ name: "big" })).files;
  assert.equal(health!.status, "healthy");
  assert.deepEqual((await read(work, now)).bytes, bytes);
  // And it archives: the encode runs on the spare as logical node 5.
  const archived = await archive(files, now);
  assert.equal(archived.file.state, "archived");
  assert.deepEqual((await read(work, archived.file)).bytes, bytes);
});

Deno.test("the repair's target: an empty datanode, else the fewest blocks, never its own data", () => {
  const node = (id: string, free: number, state: "alive" | "dead" = "alive"): DatanodeView => ({
    node: id,
    address: `${id}:1`,
    capacity: 1000,
    free,
    registered: "",
    lastHeartbeat: "",
    state,
  });
  const copy = (block: string, on: string, ...vector: number[]): CopyVector => ({
    block,
    node: on,
    vector: Uint8Array.from(vector),
  });
  // Three parts: the lost block is p0 + p1 + p2, the others carry less.
  const lost = copy("f1.coded2", "gone", 1, 1, 1);
  const copies = [copy("f1.coded0", "a", 1, 0, 0), copy("f1.coded1", "b", 0, 1, 0), lost];
  const ask = (datanodes: DatanodeView[], more: CopyVector[] = []) =>
    chooseTarget({
      datanodes,
      copies: [...copies, ...more],
      rebuilding: [lost],
      bytes: 10,
      field: 8,
    });
  // An empty datanode wins over ones with more free space that hold a block; the most free.
  const empty = ask([node("a", 900), node("c", 20), node("d", 50), node("gone", 999, "dead")]);
  assert.deepEqual([empty.datanode.node, empty.shares], ["d", []]);
  // Too small an empty one is passed over; then the fewest blocks (b holds two, which do not
  // carry the lost block either), then the most free.
  const more = [copy("f1.part2", "b", 0, 0, 1)];
  const fallback = ask([node("a", 100), node("b", 900), node("c", 5)], more);
  assert.deepEqual([fallback.datanode.node, fallback.shares], ["a", ["f1.coded0"]]);
  const tie = ask([node("a", 100), node("b", 900)]);
  assert.deepEqual([tie.datanode.node, tie.shares], ["b", ["f1.coded1"]]);
  // A datanode whose blocks carry the lost block's data (a copy, or a combination) is useless.
  const replica = copy("f1.coded2", "gone", 1, 0);
  assert.throws(
    () =>
      chooseTarget({
        datanodes: [node("a", 100), node("b", 100), node("c", 1)],
        copies: [copy("f1.coded0", "a", 1, 0), copy("f1.coded1", "b", 1, 0), copy("x", "c", 1)],
        rebuilding: [replica],
        bytes: 10,
        field: 8,
      }),
    (e) =>
      isCdfsError(e, "UNAVAILABLE") &&
      e.message ===
        "no datanode to re-replicate f1.coded2 to: of the 3 live datanodes, 1 lack 10 B free " +
          "and the other 2 already carry its data (a holds f1.coded0; b holds f1.coded1), and " +
          "a second copy on one datanode is lost with the first; add a datanode and repair again",
  );
  // Two blocks whose sum is the lost one: a has its data, though no copy of it.
  const spanned = [copy("f1.coded0", "a", 1, 0, 0), copy("f1.coded1", "a", 0, 1, 1)];
  assert.throws(
    () =>
      chooseTarget({
        datanodes: [node("a", 100)],
        copies: spanned,
        rebuilding: [lost],
        bytes: 10,
        field: 8,
      }),
    (e) => isCdfsError(e, "UNAVAILABLE") && /every live datanode \(1\) already/.test(e.message),
  );
  assert.throws(
    () => ask([node("a", 5), node("b", 5)]),
    (e) =>
      isCdfsError(e, "UNAVAILABLE") &&
      e.message === "no live datanode has 10 B free for f1.coded2 (2 live datanodes, of 2)",
  );
});

Deno.test("no spare: a replicated file's parts double up, then it archives, reads, repairs again", async () => {
  await using files = await startFileCluster(16);
  await using dir = await tempDir("cdfs-files-lib-");
  const work = dir.path;
  const repair = async () =>
    repairFile({
      namenode: files.client,
      file: await files.client.getFile("big"),
      module: rapidraid,
      chunkSize: CHUNK,
    });
  const sharedOf = (
    file: FileView,
  ) => [
    ...sharedDatanodes(nodesOfFile(file, layoutOfModule(rapidraid)).map((r) => r?.node ?? null)),
  ];
  const bytes = randomBytes(LENGTH);
  const file = await put(files, work, "big", bytes);
  const before = fileNodes(file, rapidraid).map((a) => indexOf(files, a));
  // Logical node 5 holds parts 0 and 5; the datanodes of 0 and 10 hold a copy of them.
  await files.kill([before[5]!]);
  const result = await repair();
  assert.deepEqual(result.failed, []);
  assert.deepEqual(result.rebuilt.map((r) => r.block).sort(), ["f1.part0", "f1.part5"]);
  const target = result.rebuilt[0]!.to;
  const t = Number(target.slice(2));
  assert.ok(result.rebuilt.every((r) => r.to === target));
  // The fewest blocks of the file: a logical node with one part (0-4, 11-15), not 0 (part0).
  const logical = before.indexOf(t);
  assert.ok([1, 2, 3, 4, 11, 12, 13, 14, 15].includes(logical), `logical node ${logical}`);
  const held = file.blocks.filter((b) => b.node === target).map((b) => b.block);
  assert.deepEqual(result.rebuilt.map((r) => r.shares), [held, held]);
  // MOVE_BLOCK took them; the target is logical nodes 5 and its own; FSCK says so.
  const now = await files.client.getFile("big");
  assert.deepEqual(sharedOf(now), [[target, [Math.min(5, logical), Math.max(5, logical)]]]);
  const [health] = (await files.client.fsck({ name: "big" })).files;
  assert.equal(health!.status, "healthy");
  assert.deepEqual(health!.shared, [{
    node: target,
    blocks: now.blocks.filter((b) => b.node === target).map((b) => b.block),
  }]);
  assert.equal(health!.shared[0]!.blocks.length, 3);
  assert.deepEqual((await read(work, now)).bytes, bytes);

  // The encode runs two of its logical nodes on the target: coded 5 and its own there.
  const archived = await archive(files, now);
  assert.equal(archived.file.state, "archived");
  assert.deepEqual(
    archived.file.blocks.filter((b) => b.node === target).map((b) => b.block).sort(),
    [`f1.coded${logical}`, "f1.coded5"].sort(),
  );
  assert.deepEqual((await read(work, archived.file)).bytes, bytes);

  // That datanode lost: two coded blocks at once; the second repair spreads them out again.
  await files.kill([t]);
  const [degraded] = (await files.client.fsck({ name: "big" })).files;
  assert.equal(degraded!.status, "degraded");
  assert.deepEqual(
    degraded!.unavailable.map((u) => `${u.block}@${u.node}`).sort(),
    [
      `f1.coded${logical}@${target}`,
      `f1.coded5@${target}`,
    ].sort(),
  );
  const again = await repair();
  assert.deepEqual(again.failed, []);
  assert.equal(again.rebuilt.length, 2);
  assert.notEqual(again.rebuilt[0]!.to, again.rebuilt[1]!.to, "one per datanode");
  assert.ok(again.rebuilt.every((r) => r.shares.length === 1));
  const repaired = await files.client.getFile("big");
  assert.equal(sharedOf(repaired).length, 2);
  assert.equal((await files.client.fsck({ name: "big" })).files[0]!.status, "healthy");
  const decoded = await read(work, repaired);
  assert.equal(decoded.result.via, "decode");
  assert.deepEqual(decoded.bytes, bytes);
});
