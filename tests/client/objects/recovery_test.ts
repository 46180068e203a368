/**
 * RapidRAID objects on 16 in-process datanodes, when things go wrong: coded blocks damaged on
 * disk (found mid-stream by the node that reads them: decode and repair start again without
 * them and report them; too many lost or damaged: an error naming them), a block repaired on
 * another node and found there by a later decode with other nodes lost, an object that was
 * put but never encoded, and encode with `dropReplicas` (the replicas go only once every coded
 * block is confirmed).
 *
 * Parts of 13,637 bytes in chunks of 4 KiB: damage in chunk 2 is found after two chunks of the
 * block have already gone down the run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeManifest, manifestBlockId } from "../../../src/client/objects/manifest.ts";
import { archiveObject } from "../../../src/client/objects/archive.ts";
import { decodeObject } from "../../../src/client/objects/decode.ts";
import { encodeObject } from "../../../src/client/objects/encode.ts";
import { putParts } from "../../../src/client/objects/put_parts.ts";
import { repairBlock } from "../../../src/client/objects/repair.ts";
import {
  type CorruptBlock,
  readManifest,
  surveyCodedBlocks,
} from "../../../src/client/objects/state.ts";
import { DataNodeClient } from "../../../src/client/datanode_client.ts";
import { deriveRepairProgram } from "../../../src/coding/analysis/decoder.ts";
import { loadCodingModule } from "../../../src/coding/lang/loader.ts";
import type { CodingModule, Program } from "../../../src/coding/lang/program.ts";
import { STANDARD_OPS } from "../../../src/datanode/dispatch.ts";
import { CdfsError } from "../../../src/core/errors.ts";
import { cdfsError } from "../../helpers/assert_error.ts";
import { waitFor } from "../../helpers/wait.ts";
import { concatBytes } from "../../helpers/bytes.ts";
import { randomBytes } from "../_blocks.ts";
import {
  type InProcessCluster,
  retrieveBlock,
  startCluster,
  statBlock,
} from "../../helpers/in_process_cluster.ts";

const CHUNK = 4096;
const LENGTH = 150_001;
/** A data offset in chunk 2 of every coded block. */
const IN_CHUNK_2 = 2 * CHUNK + 100;

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** The coded blocks a derived program reads. */
function reads(program: Program): number[] {
  return program.streams.flatMap((s) =>
    "read" in s && s.name.startsWith("coded") ? [Number(s.name.slice("coded".length))] : []
  );
}

/** Puts (and, unless told otherwise, encodes) a random object; returns its bytes. */
async function putObject(
  cluster: InProcessCluster,
  module: CodingModule,
  work: string,
  objectId: string,
  encode = true,
): Promise<Uint8Array> {
  const bytes = randomBytes(LENGTH);
  const file = `${work}/${objectId}.in`;
  await Deno.writeFile(file, bytes);
  const target = { module, nodes: cluster.nodes, objectId };
  await putParts({ ...target, file, chunkSize: CHUNK });
  if (encode) await encodeObject({ ...target, chunkSize: CHUNK });
  await Deno.remove(file);
  return bytes;
}

async function deleteBlock(address: string, block: string): Promise<void> {
  using client = await DataNodeClient.connect(address);
  await client.delete(block);
}

/** Every part replica of an object: [node, block]. */
function replicas(module: CodingModule, objectId: string): [number, string][] {
  return module.parts.flatMap((p, j) =>
    p.nodes.map((node): [number, string] => [node, `${objectId}.part${j}`])
  );
}

/** The ops of a cluster whose node `node` refuses every read of `block` with `error`. */
function refusingReads(node: number, block: string, error: CdfsError) {
  return (n: number) =>
    n !== node ? undefined : STANDARD_OPS.map((op) =>
      op.op !== "RETRIEVE" ? op : {
        ...op,
        run(ctx: Parameters<typeof op.run>[0], raw: Parameters<typeof op.run>[1]) {
          if (raw.block !== block) return op.run(ctx, raw);
          return Promise.reject(error);
        },
      }
    );
}

Deno.test("damaged, lost, moved and archived coded blocks on 16 datanodes", async (t) => {
  const rapidraid = await loadCodingModule("rapidraid");
  await using cluster = await startCluster(16);
  const nodes = cluster.nodes;
  const work = await Deno.makeTempDir({ prefix: "cdfs-recovery-" });
  const target = (objectId: string) => ({ module: rapidraid, nodes, objectId });
  const leftovers = () => [...Deno.readDirSync(work)].map((e) => e.name).sort();
  try {
    await t.step(
      "a block damaged on disk is found mid-decode: decode starts again without it",
      async () => {
        const bytes = await putObject(cluster, rapidraid, work, "dmg");
        // With every block present the first plan reads coded blocks 0..10, 3 among them.
        await cluster.corrupt(3, "dmg.coded3", IN_CHUNK_2);
        const seen: CorruptBlock[] = [];
        const output = `${work}/dmg.out`;
        const result = await decodeObject({
          ...target("dmg"),
          output,
          chunkSize: CHUNK,
          onCorrupt: (block) => void seen.push(block),
        });
        assert.deepEqual(await Deno.readFile(output), bytes);
        assert.equal(result.attempts, 2);
        assert.deepEqual(
          result.corrupt.map((c) => [c.index, c.block, c.node, c.address]),
          [[3, "dmg.coded3", 3, nodes[3]]],
        );
        assert.match(
          result.corrupt[0]!.reason,
          /^block 'dmg\.coded3' chunk 2 \(bytes 8192\.\.12287\): checksum mismatch \(stored [0-9a-f]{16}, computed [0-9a-f]{16}\)$/,
        );
        assert.deepEqual(seen, result.corrupt);
        assert.equal(result.used.includes(3), false);
        assert.equal(result.blocks[3]!.corrupt, true);
        assert.equal(result.blocks[3]!.present, false);
        assert.deepEqual(leftovers(), ["dmg.out"], "no temporary file is left");
      },
    );

    await t.step("the coordinator's own damaged block, decoded to a writer", async () => {
      const bytes = await putObject(cluster, rapidraid, work, "own");
      // The first plan's coordinator is node 0 (the holder of its first block): a local read.
      await cluster.corrupt(0, "own.coded0", IN_CHUNK_2);
      const chunks: Uint8Array[] = [];
      const result = await decodeObject({
        ...target("own"),
        output: { write: (view) => Promise.resolve(chunks.push(view.slice()) && view.length) },
        tempDir: work,
        chunkSize: CHUNK,
      });
      assert.deepEqual(concatBytes(chunks), bytes);
      assert.deepEqual(result.corrupt.map((c) => [c.index, c.node]), [[0, 0]]);
      assert.equal(result.attempts, 2);
      assert.deepEqual(leftovers(), ["dmg.out"]);
    });

    await t.step(
      "repair sets a damaged survivor aside and rebuilds the block byte for byte",
      async () => {
        await putObject(cluster, rapidraid, work, "rep");
        const original = await retrieveBlock(nodes[1]!, "rep.coded1");
        await deleteBlock(nodes[1]!, "rep.coded1");
        const first = reads(deriveRepairProgram(rapidraid, 1, [0, ...range(2, 16)]))[0]!;
        await cluster.corrupt(first, `rep.coded${first}`, IN_CHUNK_2);
        const result = await repairBlock({ ...target("rep"), block: 1, chunkSize: CHUNK });
        assert.deepEqual(result.corrupt.map((c) => [c.index, c.node]), [[first, first]]);
        assert.equal(result.attempts, 2);
        assert.equal(result.used.includes(first), false);
        // Written without overwrite: had the stopped run committed anything, this one would
        // have failed with EXISTS.
        assert.deepEqual(await retrieveBlock(nodes[1]!, "rep.coded1"), original);
        const { manifest } = await readManifest(nodes, "rep");
        assert.deepEqual(manifest.coded![1], { node: 1, digest: result.digest });
        assert.equal(result.manifestUpdate!.written.length, 16);
      },
    );

    await t.step(
      "too many blocks lost or damaged: an error naming them, nothing left",
      async () => {
        await putObject(cluster, rapidraid, work, "gone");
        for (const i of range(0, 5)) await deleteBlock(nodes[i]!, `gone.coded${i}`);
        await cluster.corrupt(5, "gone.coded5", IN_CHUNK_2);
        // {5..15} decodes, {6..15} (10 blocks) cannot: the damage is found by the first run.
        const error = await decodeObject({
          ...target("gone"),
          output: `${work}/gone.out`,
          chunkSize: CHUNK,
        }).catch((e) => e);
        const named = `lost coded blocks \\{0, 1, 2, 3, 4\\}; corrupt coded blocks ` +
          `\\{5 on node 5 \\(${nodes[5]}\\)\\}`;
        cdfsError("SINGULAR", new RegExp(`^object 'gone' cannot be decoded \\(${named}\\): `))(
          error,
        );
        assert.match(error.message, /coded blocks \{6, .*, 15\} have rank 10 < k = 11/);
        assert.deepEqual(leftovers(), ["dmg.out"]);

        // The decode's read of block 5 had node 5 move it aside (quarantine): it is gone now,
        // and repairing block 0, which reads block 5 too (premise checked), finds it lost.
        await waitFor(
          "gone.coded5 quarantined",
          async () => await statBlock(nodes[5]!, "gone.coded5") === undefined,
          10_000,
        );
        assert.ok(reads(deriveRepairProgram(rapidraid, 0, range(5, 16))).includes(5));
        await assert.rejects(
          repairBlock({ ...target("gone"), block: 0, chunkSize: CHUNK }),
          cdfsError(
            "SINGULAR",
            new RegExp(
              `^coded block 0 of 'gone' cannot be repaired \\(lost coded blocks ` +
                `\\{1, 2, 3, 4, 5\\}\\): `,
            ),
          ),
        );
        assert.equal(await statBlock(nodes[0]!, "gone.coded0"), undefined, "nothing committed");
      },
    );

    await t.step("an object put but never encoded: one clear line", async () => {
      await putObject(cluster, rapidraid, work, "fresh", false);
      const message = "object 'fresh' has no coded blocks: it was put but never encoded " +
        "(run `cdfs object encode fresh` first)";
      // Both run at once: each failure is caught as it comes, whichever comes first.
      for (
        const attempt of [
          decodeObject({ ...target("fresh"), output: `${work}/fresh.out` }).catch((e) => e),
          repairBlock({ ...target("fresh"), block: 3 }).catch((e) => e),
        ]
      ) {
        const error = await attempt;
        assert.ok(error instanceof CdfsError, String(error));
        assert.equal(error.code, "NOT_FOUND");
        assert.equal(error.message, message);
      }
      // Blocks that existed and are gone are a loss, told as such.
      await putObject(cluster, rapidraid, work, "wiped");
      for (const i of range(0, 16)) await deleteBlock(nodes[i]!, `wiped.coded${i}`);
      await assert.rejects(
        decodeObject({ ...target("wiped"), output: `${work}/wiped.out` }),
        cdfsError(
          "SINGULAR",
          /^object 'wiped' cannot be decoded \(lost coded blocks \{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\}\): /,
        ),
      );
    });

    await t.step(
      "encode with dropReplicas: replicas gone, coded blocks intact, decode works",
      async () => {
        const bytes = await putObject(cluster, rapidraid, work, "arch", false);
        const encoded = await encodeObject({
          ...target("arch"),
          chunkSize: CHUNK,
          dropReplicas: true,
          now: () => new Date("2026-01-02T03:04:05.000Z"),
        });
        const archive = encoded.archive!;
        assert.equal(archive.confirmed.length, 16);
        assert.deepEqual(
          archive.dropped.map((r) => [r.node, r.block]).sort(),
          replicas(rapidraid, "arch").sort(),
        );
        assert.equal(archive.dropped.length, 22);
        assert.deepEqual(archive.kept, []);
        for (const [node, block] of replicas(rapidraid, "arch")) {
          assert.equal(await statBlock(nodes[node]!, block), undefined, `${block} on node ${node}`);
        }
        for (const block of encoded.committed) {
          assert.equal((await statBlock(nodes[block.node]!, block.block))?.digest, block.digest);
        }
        const { manifest } = await readManifest(nodes, "arch");
        assert.deepEqual(manifest.archived, { at: "2026-01-02T03:04:05.000Z", replicas: 22 });
        assert.equal(manifest.encoded!.run, encoded.runId);
        assert.equal(manifest.revision, 2);

        // From coded blocks only, with five of them lost.
        for (const i of range(0, 5)) await deleteBlock(nodes[i]!, `arch.coded${i}`);
        const decoded = await decodeObject({
          ...target("arch"),
          output: `${work}/arch.out`,
          chunkSize: CHUNK,
        });
        assert.deepEqual(await Deno.readFile(`${work}/arch.out`), bytes);
        assert.deepEqual(decoded.used, range(5, 16));
        await assert.rejects(
          encodeObject({ ...target("arch"), chunkSize: CHUNK, overwrite: true }),
          cdfsError("BAD_REQUEST", /^object 'arch' is archived: its part replicas were dropped/),
        );
        await Deno.remove(`${work}/arch.out`);
      },
    );

    await t.step(
      "archive keeps every replica when a coded block is not the one encoded",
      async () => {
        await putObject(cluster, rapidraid, work, "keep");
        const length = (await statBlock(nodes[5]!, "keep.coded5"))!.length;
        using client = await DataNodeClient.connect(nodes[5]!);
        await client.store("keep.coded5", [randomBytes(length)], {
          overwrite: true,
          chunkSize: CHUNK,
        });
        await deleteBlock(nodes[7]!, "keep.coded7");
        const error = await archiveObject(target("keep")).catch((e) => e);
        cdfsError(
          "CORRUPT",
          /^object 'keep': its part replicas are kept: 2 of its 16 coded blocks not confirmed: /,
        )(error);
        assert.match(
          error.message,
          new RegExp(
            `coded block 5 \\(keep\\.coded5\\) on node 5 \\(${nodes[5]}\\): digest [0-9a-f]{16}, ` +
              `the manifest records [0-9a-f]{16}; coded block 7 \\(keep\\.coded7\\) on node 7 `,
          ),
        );
        for (const [node, block] of replicas(rapidraid, "keep")) {
          assert.ok(await statBlock(nodes[node]!, block), `${block} on node ${node} is kept`);
        }
        assert.equal((await readManifest(nodes, "keep")).manifest.archived, undefined);
      },
    );

    await t.step(
      "a block recorded elsewhere but not there is looked for on its own node",
      async () => {
        await putObject(cluster, rapidraid, work, "back");
        await repairBlock({ ...target("back"), block: 2, to: 14, chunkSize: CHUNK });
        const { manifest } = await readManifest(nodes, "back");
        assert.equal(manifest.coded![2]!.node, 14);
        assert.equal((await surveyCodedBlocks(target("back"), manifest))[2]!.node, 14);
        await deleteBlock(nodes[14]!, "back.coded2");
        const survey = await surveyCodedBlocks(target("back"), manifest);
        assert.deepEqual([survey[2]!.present, survey[2]!.node], [true, 2]);
      },
    );

    await t.step("a block repaired on another node is found there by a later decode", async () => {
      const bytes = await putObject(cluster, rapidraid, work, "moved");
      const before = (await readManifest(nodes, "moved")).manifest;
      await deleteBlock(nodes[3]!, "moved.coded3");
      const repaired = await repairBlock({
        ...target("moved"),
        block: 3,
        to: 15,
        chunkSize: CHUNK,
      });
      assert.equal(repaired.node, 15);
      assert.equal(repaired.manifestUpdate!.written.length, 16);
      const { manifest } = await readManifest(nodes, "moved");
      assert.deepEqual(manifest.coded![3], { node: 15, digest: repaired.digest });
      assert.equal(manifest.revision, (before.revision ?? 0) + 1);
      // A node that missed the update (an older copy) does not hide it, not even the first
      // node of the list: the newest copy wins.
      using client = await DataNodeClient.connect(nodes[0]!);
      const old = encodeManifest(before);
      await client.store(manifestBlockId("moved"), [old], { overwrite: true, chunkSize: CHUNK });
      assert.deepEqual((await readManifest(nodes, "moved")).manifest, manifest);

      // Lose nodes 0..5: the 10 blocks on nodes 6..15 cannot decode, block 3 on node 15 makes 11.
      for (const i of range(0, 6)) await cluster.stop(i);
      const survey = await surveyCodedBlocks(target("moved"), manifest);
      assert.deepEqual(
        survey.filter((b) => b.present).map((b) => [b.index, b.node]),
        [[3, 15], ...range(6, 16).map((i) => [i, i])],
      );
      const output = `${work}/moved.out`;
      const decoded = await decodeObject({ ...target("moved"), output, chunkSize: CHUNK });
      assert.deepEqual(await Deno.readFile(output), bytes);
      assert.deepEqual([...decoded.used].sort((a, b) => a - b), [3, ...range(6, 16)]);
      assert.equal(decoded.blocks[3]!.node, 15);
      assert.equal(decoded.coordinator, 15, "node 15 holds two of the blocks read");
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("dropReplicas keeps every replica when a node goes down before its block is confirmed", async () => {
  const rapidraid = await loadCodingModule("rapidraid");
  const statOp = STANDARD_OPS.find((op) => op.op === "STAT")!;
  // Node 9 dies when asked about its coded block: after the encode committed, at confirmation.
  await using cluster = await startCluster(16, {
    ops: (node, server) =>
      node !== 9 ? undefined : STANDARD_OPS.map((op) =>
        op !== statOp ? op : {
          ...op,
          async run(ctx, raw) {
            if (raw.block !== "frail.coded9") return await op.run(ctx, raw);
            void server().shutdown(0);
            await new Promise((resolve) => setTimeout(resolve, 50));
            throw new CdfsError("UNAVAILABLE", "node 9 went down");
          },
        }
      ),
  });
  const work = await Deno.makeTempDir({ prefix: "cdfs-recovery-" });
  try {
    await putObject(cluster, rapidraid, work, "frail", false);
    const error = await encodeObject({
      module: rapidraid,
      nodes: cluster.nodes,
      objectId: "frail",
      chunkSize: CHUNK,
      dropReplicas: true,
    }).catch((e) => e);
    cdfsError(
      "UNAVAILABLE",
      new RegExp(
        `^the encode of 'frail' committed \\(run [0-9a-f]{32}\\), but object 'frail': its part ` +
          `replicas are kept: 1 of its 16 coded blocks not confirmed: coded block 9 ` +
          `\\(frail\\.coded9\\) on node 9 \\(${cluster.nodes[9]}\\): `,
      ),
    )(error);
    for (const [node, block] of replicas(rapidraid, "frail")) {
      if (node === 9) continue; // down
      assert.ok(await statBlock(cluster.nodes[node]!, block), `${block} on node ${node} is kept`);
    }
    const { manifest } = await readManifest(cluster.nodes, "frail");
    assert.equal(manifest.archived, undefined);
    assert.notEqual(manifest.encoded, undefined, "the encode itself is recorded");
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("a CORRUPT that names no block: the blocks read are checked, the damaged one set aside", async () => {
  const rapidraid = await loadCodingModule("rapidraid");
  // Node 4 refuses every read of odd.coded4 with a CORRUPT in words no parser knows.
  await using cluster = await startCluster(16, {
    ops: refusingReads(4, "odd.coded4", new CdfsError("CORRUPT", "the disk returned garbage")),
  });
  const work = await Deno.makeTempDir({ prefix: "cdfs-recovery-" });
  try {
    const bytes = await putObject(cluster, rapidraid, work, "odd");
    const output = `${work}/odd.out`;
    const result = await decodeObject({
      module: rapidraid,
      nodes: cluster.nodes,
      objectId: "odd",
      output,
      chunkSize: CHUNK,
    });
    assert.deepEqual(await Deno.readFile(output), bytes);
    assert.deepEqual(result.corrupt.map((c) => [c.index, c.node]), [[4, 4]]);
    assert.match(result.corrupt[0]!.reason, /the disk returned garbage/);
    assert.equal(result.attempts, 2);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("a block gone between the survey and the read (quarantined, moved): decode and repair plan again without it", async () => {
  const rapidraid = await loadCodingModule("rapidraid");
  // Node 3 still lists gone.coded3 (the survey sees it) but no longer has it when a run reads
  // it: what a scrub quarantining the block between the two does.
  await using cluster = await startCluster(16, {
    ops: refusingReads(
      3,
      "gone.coded3",
      new CdfsError("NOT_FOUND", "block 'gone.coded3' does not exist"),
    ),
  });
  const work = await Deno.makeTempDir({ prefix: "cdfs-recovery-" });
  try {
    const bytes = await putObject(cluster, rapidraid, work, "gone");
    const target = { module: rapidraid, nodes: cluster.nodes, objectId: "gone" };
    const output = `${work}/gone.out`;
    const seen: CorruptBlock[] = [];
    const result = await decodeObject({
      ...target,
      output,
      chunkSize: CHUNK,
      onCorrupt: (block) => void seen.push(block),
    });
    assert.deepEqual(await Deno.readFile(output), bytes);
    assert.equal(result.attempts, 2, "the first plan read block 3, the second did not");
    assert.equal(result.used.includes(3), false);
    assert.equal(result.blocks[3]!.present, false);
    assert.match(
      result.blocks[3]!.reason!,
      /gone since the survey \(block 'gone\.coded3' does not exist\)/,
    );
    assert.deepEqual(result.corrupt, [], "a vanished block is not called corrupt");
    assert.deepEqual(seen, []);
    // The coordinator's own block (node 0 in the first plan), a local read, gone just after
    // the survey.
    const here = await putObject(cluster, rapidraid, work, "here");
    const local = await decodeObject({
      module: rapidraid,
      nodes: cluster.nodes,
      objectId: "here",
      output: `${work}/here.out`,
      chunkSize: CHUNK,
      onSurvey: () => Deno.removeSync(join(cluster.dirs[0]!, "blocks", "here.coded0")),
    });
    assert.deepEqual(await Deno.readFile(`${work}/here.out`), here);
    assert.equal(local.attempts, 2);
    assert.equal(local.used.includes(0), false);
    // A repair of another block whose first plan reads block 3 plans again the same way.
    await deleteBlock(cluster.nodes[0]!, "gone.coded0");
    const repaired = await repairBlock({ ...target, block: 0, chunkSize: CHUNK });
    assert.equal(repaired.block, "gone.coded0");
    assert.equal(repaired.used.includes(3), false);
    assert.equal(repaired.attempts, 2, "its first plan read block 3");
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
