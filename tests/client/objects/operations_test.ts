/**
 * Object operations against real datanodes (3 processes): where put-parts places parts and
 * manifests, cleanup after a failed put, the survey of coded blocks, the up-front refusal of
 * an undecodable set, and a whole put / encode / decode / repair cycle of the built-in
 * `replication` module. The 16-node codes are in tests/e2e/coding_e2e_test.ts.
 */
import assert from "node:assert/strict";
import { codingModule as replication } from "../../../coding/replication.ts";
import { DataNodeClient } from "../../../src/client/datanode_client.ts";
import { manifestBlockId, parseManifest } from "../../../src/client/objects/manifest.ts";
import { decodeObject } from "../../../src/client/objects/decode.ts";
import { encodeObject } from "../../../src/client/objects/encode.ts";
import { putParts } from "../../../src/client/objects/put_parts.ts";
import { repairBlock } from "../../../src/client/objects/repair.ts";
import { readManifest, surveyCodedBlocks } from "../../../src/client/objects/state.ts";
import { moduleNodeCount } from "../../../src/client/objects/target.ts";
import {
  codedBlock,
  partBlock,
  program,
  readBlock,
  writeBlock,
} from "../../../src/coding/lang/helpers.ts";
import type { CodingModule } from "../../../src/coding/lang/program.ts";
import { validateModule } from "../../../src/coding/lang/validate.ts";
import { isCdfsError } from "../../../src/core/errors.ts";
import { DataNodeProcess } from "../../helpers/datanode_process.ts";
import { randomBytes, sha256, unusedPort } from "../_blocks.ts";
import { retrieveBlock } from "../../helpers/in_process_cluster.ts";
import { concatBytes } from "../../helpers/bytes.ts";

/**
 * A small code that is not MDS: coded0 = part0 (node 0), coded1 = part1 (node 1), coded2 =
 * part0 again (node 2). Losing coded1 leaves {0, 2}, of rank 1.
 */
const pair: CodingModule = validateModule({
  name: "pair",
  description: "test code: two parts, part 0 twice",
  field: 8,
  n: 3,
  k: 2,
  parts: [{ block: partBlock(0), nodes: [0, 2] }, { block: partBlock(1), nodes: [1] }],
  coded: [0, 1, 2].map((i) => ({ block: codedBlock(i), node: i })),
  encode: ["c0", "c1", "c2"],
  programs: Object.fromEntries([0, 1, 2].map((i) => [
    `c${i}`,
    program(i, [readBlock("p", partBlock(i % 2)), writeBlock("c", codedBlock(i))], [
      ["LOAD", "b", "p"],
      ["WRITE", "b", "c"],
    ]),
  ])),
}, "tests/client/objects_test.ts");

async function blockIds(address: string, prefix: string): Promise<string[]> {
  using client = await DataNodeClient.connect(address);
  const ids: string[] = [];
  for await (const entry of client.listAll({ prefix })) ids.push(entry.block);
  return ids;
}

async function store(address: string, block: string, bytes: Uint8Array): Promise<void> {
  using client = await DataNodeClient.connect(address);
  await client.store(block, [bytes], { overwrite: true });
}

async function startNodes(count: number): Promise<DataNodeProcess[]> {
  return await Promise.all(Array.from({ length: count }, () => DataNodeProcess.start()));
}

Deno.test("object operations on three datanodes", async (t) => {
  const nodes = await startNodes(3);
  const addresses = nodes.map((n) => n.address);
  const work = await Deno.makeTempDir({ prefix: "cdfs-objects-" });
  try {
    const object = randomBytes(100_001);
    const file = `${work}/object`;
    await Deno.writeFile(file, object);

    await t.step(
      "put-parts places every part on its nodes and a manifest on every node",
      async () => {
        assert.equal(moduleNodeCount(pair), 3);
        const reports: [number, number][] = [];
        const result = await putParts({
          module: pair,
          nodes: addresses,
          objectId: "obj",
          file,
          chunkSize: 4096,
          now: () => new Date("2025-01-02T03:04:05.000Z"),
          onProgress: (done, total) => void reports.push([done, total]),
        });
        const partLength = 50_001;
        assert.deepEqual(result.manifest, {
          module: "pair",
          k: 2,
          n: 3,
          objectLength: object.length,
          partLength,
          sha256: sha256(object),
          created: "2025-01-02T03:04:05.000Z",
        });
        assert.deepEqual(
          result.parts.map((p) => [p.part, p.node, p.block]).sort(),
          [[0, 0, "obj.part0"], [0, 2, "obj.part0"], [1, 1, "obj.part1"]],
        );
        const part0 = object.subarray(0, partLength);
        const part1 = new Uint8Array(partLength); // the last byte is the zero padding
        part1.set(object.subarray(partLength));
        assert.deepEqual(await retrieveBlock(addresses[0]!, "obj.part0"), part0);
        assert.deepEqual(await retrieveBlock(addresses[2]!, "obj.part0"), part0);
        assert.deepEqual(await retrieveBlock(addresses[1]!, "obj.part1"), part1);
        for (const address of addresses) {
          const manifest = parseManifest(await retrieveBlock(address, manifestBlockId("obj")));
          assert.deepEqual(manifest, result.manifest);
        }
        const [done, total] = reports.at(-1)!;
        assert.equal(done, total);
        assert.equal(done, result.bytesSent);
        assert.ok(reports.every(([d], i) => i === 0 || d >= reports[i - 1]![0]), "monotonic");
        assert.deepEqual((await readManifest(addresses, "obj")).manifest, result.manifest);
      },
    );

    await t.step("a put over an existing object fails with EXISTS and keeps it", async () => {
      const other = `${work}/other`;
      await Deno.writeFile(other, randomBytes(10));
      await assert.rejects(
        putParts({ module: pair, nodes: addresses, objectId: "obj", file: other }),
        (e) => isCdfsError(e, "EXISTS"),
      );
      assert.equal((await readManifest(addresses, "obj")).manifest.sha256, sha256(object));
      assert.deepEqual(await blockIds(addresses[0]!, "obj."), ["obj.manifest", "obj.part0"]);
    });

    await t.step("a failed put removes the blocks it stored", async () => {
      const dead = `127.0.0.1:${unusedPort()}`;
      await assert.rejects(
        putParts({
          module: pair,
          nodes: [addresses[0]!, addresses[1]!, dead],
          objectId: "gone",
          file,
        }),
        (e) => isCdfsError(e, "UNAVAILABLE") && e.message.includes(dead),
      );
      for (const address of addresses) assert.deepEqual(await blockIds(address, "gone."), []);
    });

    await t.step("the survey tells missing, short and unreachable coded blocks apart", async () => {
      const partLength = 50_001;
      await store(addresses[0]!, "obj.coded0", randomBytes(partLength));
      await store(addresses[2]!, "obj.coded2", randomBytes(partLength - 1));
      const survey = await surveyCodedBlocks(
        { module: pair, nodes: addresses, objectId: "obj" },
        partLength,
      );
      assert.deepEqual(survey.map((b) => [b.index, b.present, b.node, b.block]), [
        [0, true, 0, "obj.coded0"],
        [1, false, 1, "obj.coded1"],
        [2, false, 2, "obj.coded2"],
      ]);
      assert.equal(survey[1]!.reason, "missing");
      assert.match(survey[2]!.reason!, /length 50000, the manifest says 50001/);
      const dead = [addresses[0]!, `127.0.0.1:${unusedPort()}`, addresses[2]!];
      const lost = await surveyCodedBlocks({ module: pair, nodes: dead, objectId: "obj" });
      assert.match(lost[1]!.reason!, /^node unreachable: cannot reach node/);
      assert.equal(lost[2]!.present, true, "no length given: any length counts");
    });

    await t.step("decode refuses an undecodable set up front, naming what was lost", async () => {
      await store(addresses[2]!, "obj.coded2", randomBytes(50_001));
      const output = `${work}/decoded`;
      const error = await decodeObject({
        module: pair,
        nodes: addresses,
        objectId: "obj",
        output,
      }).catch((e) => e);
      assert.ok(isCdfsError(error, "SINGULAR"), String(error));
      assert.match(error.message, /^object 'obj' cannot be decoded \(lost coded blocks \{1\}\): /);
      assert.match(error.message, /coded blocks \{0, 2\} have rank 1 < k = 2/);
      assert.deepEqual([...Deno.readDirSync(work)].map((e) => e.name).sort(), ["object", "other"]);
      const repair = await repairBlock({
        module: pair,
        nodes: addresses,
        objectId: "obj",
        block: 1,
      })
        .catch((e) => e);
      assert.ok(isCdfsError(repair, "SINGULAR"), String(repair));
      assert.match(repair.message, /^coded block 1 of 'obj' cannot be repaired/);
    });

    await t.step("decode refuses a module other than the manifest's", async () => {
      await assert.rejects(
        decodeObject({
          module: replication,
          nodes: addresses,
          objectId: "obj",
          output: `${work}/x`,
        }),
        (e) =>
          isCdfsError(e, "BAD_REQUEST") && /was put with pair .* not replication/.test(e.message),
      );
    });

    for (const length of [0, 1, 300_007]) {
      await t.step(`replication: put, encode, decode and repair ${length} bytes`, async () => {
        const id = `rep${length}`;
        const bytes = randomBytes(length);
        const source = `${work}/${id}`;
        await Deno.writeFile(source, bytes);
        const target = { module: replication, nodes: addresses, objectId: id };
        await putParts({ ...target, file: source, chunkSize: 65536 });
        const progress: number[] = [];
        const encoded = await encodeObject({
          ...target,
          chunkSize: 65536,
          onProgress: (done) => void progress.push(done),
        });
        assert.equal(encoded.length, length);
        assert.deepEqual(encoded.committed.map((b) => [b.node, b.block]), [
          [0, `${id}.coded0`],
          [1, `${id}.coded1`],
          [2, `${id}.coded2`],
        ]);
        for (const address of addresses) {
          using client = await DataNodeClient.connect(address);
          await client.delete(`${id}.manifest`).catch(() => {});
        }
        await assert.rejects(
          decodeObject({ ...target, output: `${work}/${id}.out` }),
          (e) => isCdfsError(e, "NOT_FOUND") && /has no manifest/.test(e.message),
        );
        // Put the manifest back (as put-parts wrote it) and lose two of the three copies.
        await putParts({ ...target, file: source, overwrite: true });
        using client0 = await DataNodeClient.connect(addresses[0]!);
        await client0.delete(`${id}.part0`);
        await client0.delete(`${id}.coded0`);
        using client1 = await DataNodeClient.connect(addresses[1]!);
        await client1.delete(`${id}.coded1`);
        const output = `${work}/${id}.out`;
        const decoded = await decodeObject({ ...target, output, chunkSize: 65536 });
        assert.deepEqual(decoded.used, [2]);
        assert.equal(decoded.coordinator, 2);
        assert.deepEqual(await Deno.readFile(output), bytes);
        const chunks: Uint8Array[] = [];
        await decodeObject({
          ...target,
          output: { write: (view) => Promise.resolve(chunks.push(view.slice()) && view.length) },
        });
        assert.equal(sha256(concatBytes(chunks)), sha256(bytes));

        const repaired = await repairBlock({ ...target, block: 0, chunkSize: 65536 });
        assert.deepEqual(repaired.used, [2]);
        assert.equal(repaired.node, 0);
        assert.deepEqual(await retrieveBlock(addresses[0]!, `${id}.coded0`), bytes);
        const elsewhere = await repairBlock({ ...target, block: 1, to: 0 });
        assert.equal(elsewhere.node, 0);
        assert.deepEqual(await retrieveBlock(addresses[0]!, `${id}.coded1`), bytes);
      });
    }
  } finally {
    await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()));
    await Deno.remove(work, { recursive: true });
  }
});
