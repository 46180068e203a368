/**
 * Files by name, as a user drives them: `cdfs put`, `archive`, `fsck`, `get`, `repair`, `ls`,
 * `stat`, `rm` against in-process datanodes registered with an in-process namenode. The whole
 * life of a RapidRAID and of an RS file: put, archive, lose five datanodes (fsck: degraded,
 * exit 1, the missing blocks named), a degraded get byte for byte, repair onto spare
 * datanodes, fsck healthy (exit 0), get with the lost datanodes still down; then one datanode
 * too many and the file is lost (exit 2), its get refused naming the missing blocks. Without
 * spare datanodes, the repair doubles the lost blocks up on the live ones and says so, fsck
 * notes the shared datanodes, and losing one of them is judged by the code's analysis; a
 * replication file's lost copy has no datanode to go to.
 *
 * @module
 */
import assert from "node:assert/strict";
import { layoutOfModule, sharedDatanodes } from "../../src/namenode/layout.ts";
import { nodesOfFile } from "../../src/namenode/nodes_of_file.ts";
import { analyze } from "../../src/coding/analysis/symbolic.ts";
import { fieldRank } from "../../src/coding/analysis/field_matrix.ts";
import { runCdfs } from "../helpers/cli.ts";
import { statBlock } from "../helpers/in_process_cluster.ts";
import { randomBytes } from "../client/_blocks.ts";
import { formatBytes } from "../../src/format/bytes.ts";
import { type FileCluster, startFileCluster } from "../client/_file_cluster.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import type { FileView } from "../../src/namenode/responses.ts";

const CHUNK = ["--chunk-size", "4096"];

/**
 * The datanode index of each logical node of a file's code (-1: none yet, as RS's coded-only
 * nodes before the archive).
 */
async function logicalNodes(files: FileCluster, name: string): Promise<number[]> {
  const file = await files.client.getFile(name);
  const module = await loadCodingModule(file.code);
  return nodesOfFile(file, layoutOfModule(module)).map((ref) =>
    ref === null ? -1 : files.cluster.nodes.indexOf(ref.address)
  );
}

/** The blocks a datanode holds of a file, by id prefix. */
async function blocksOn(files: FileCluster, node: number, file: FileView): Promise<string[]> {
  const ids = file.blocks.map((b) => b.block);
  const found: string[] = [];
  for (const id of new Set(ids)) {
    if (await statBlock(files.cluster.nodes[node]!, id) !== undefined) found.push(id);
  }
  return found;
}

for (const code of ["rapidraid", "rs"]) {
  Deno.test(`a ${code} file: put, archive, lose 5 datanodes, degraded get, repair, lost`, async (t) => {
    // 16 datanodes for the file and 5 spares for the repair.
    await using files = await startFileCluster(21);
    const cdfs = (...args: string[]) => runCdfs(args, { env: files.env });
    const work = await Deno.makeTempDir({ prefix: "cdfs-files-" });
    const module = await loadCodingModule(code);
    try {
      const input = `${work}/big.in`;
      const bytes = randomBytes(11 * 3 * 4096 + 777);
      const size = formatBytes(bytes.length).replace(".", "\\.");
      await Deno.writeFile(input, bytes);

      await t.step("put: the parts on the datanodes the namenode chose", async () => {
        const put = await cdfs("put", "--code", code, ...CHUNK, input, "big");
        assert.equal(put.code, 0, put.err);
        assert.equal(put.err, "");
        const copies = module.parts.reduce((sum, p) => sum + p.nodes.length, 0);
        assert.match(
          put.out,
          new RegExp(
            `^put big \\(${size}\\) with ${code}: 11 parts of 12\\.1 KiB, ` +
              `${copies} copies on ${code === "rs" ? 11 : 16} datanodes`,
          ),
        );
        const file = await files.client.getFile("big");
        assert.equal(file.state, "replicated");
        assert.equal(file.blocks.length, copies);
        // No manifest: the namenode's record is what a manifest would say.
        for (
          const node of new Set(file.blocks.map((b) => files.cluster.nodes.indexOf(b.address!)))
        ) {
          assert.equal(
            await statBlock(files.cluster.nodes[node]!, `${file.objectId}.manifest`),
            undefined,
          );
        }
        // The relation of the layout holds between the chosen datanodes.
        const logical = await logicalNodes(files, "big");
        assert.equal(logical.filter((l) => l >= 0).length, code === "rs" ? 11 : 16);
        for (const [j, part] of module.parts.entries()) {
          for (const l of part.nodes) {
            assert.ok(
              file.blocks.some((b) =>
                b.kind === "part" && b.index === j && b.address === files.cluster.nodes[logical[l]!]
              ),
              `part ${j} on logical node ${l}`,
            );
          }
        }
      });

      await t.step("archive: coded blocks confirmed, then the replicas dropped", async () => {
        const archived = await cdfs("archive", ...CHUNK, "big");
        assert.equal(archived.code, 0, archived.err);
        assert.match(
          archived.out,
          new RegExp(
            `^archived big with ${code}: encoded in run [0-9a-f]{32}.*, 16 coded ` +
              `blocks of 12\\.1 KiB confirmed, ${
                module.parts.reduce((s, p) => s + p.nodes.length, 0)
              } ` +
              "part replicas dropped\\n$",
          ),
        );
        const file = await files.client.getFile("big");
        assert.equal(file.state, "archived");
        assert.deepEqual(file.blocks.map((b) => b.kind), new Array(16).fill("coded"));
        const logical = await logicalNodes(files, "big");
        for (let i = 0; i < 16; i++) {
          assert.deepEqual(await blocksOn(files, logical[i]!, file), [
            `${file.objectId}.coded${i}`,
          ]);
        }
        // Archiving again changes nothing.
        const again = await cdfs("archive", "big");
        assert.equal(again.code, 0, again.err);
        assert.equal(again.out, "big is archived already: nothing to do\n");
      });

      await files.report();
      const healthy = await cdfs("fsck");
      assert.equal(healthy.code, 0, healthy.out + healthy.err);
      assert.equal(healthy.out, "healthy   big\n1 file: 1 healthy, 0 degraded, 0 lost\n");

      const logical = await logicalNodes(files, "big");
      const lost = [0, 1, 2, 3, 4];
      // Five coded blocks whose loss the code survives.
      const survivors = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
      assert.ok(
        !analyze(module).undecodableSubsets.some((s) => s.join() === survivors.join()),
        "coded blocks 5-15 decode",
      );
      const objectId = (await files.client.getFile("big")).objectId;

      await t.step(
        "lose 5 datanodes: fsck says degraded (exit 1) and names the blocks",
        async () => {
          await files.kill(lost.map((l) => logical[l]!));
          const fsck = await cdfs("fsck", "big");
          assert.equal(fsck.code, 1, fsck.out + fsck.err);
          assert.equal(
            fsck.out,
            `degraded  big: 5 of 16 block copies unavailable: ${
              lost.map((l) => `${objectId}.coded${l} on ${files.id(logical[l]!)} (dead)`).join(", ")
            }\n1 file: 0 healthy, 1 degraded, 0 lost\n`,
          );
          const json = JSON.parse((await cdfs("fsck", "--json")).out);
          assert.deepEqual(json.counts, { healthy: 0, degraded: 1, lost: 0, unknown: 0 });
        },
      );

      await t.step("a degraded get is byte-identical and says what was lost", async () => {
        const output = `${work}/degraded.out`;
        const got = await cdfs("get", ...CHUNK, "big", "-o", output);
        assert.equal(got.code, 0, got.err);
        assert.match(got.err, /^cdfs: get big: degraded read: lost coded blocks 0-4 \(nodes 0-4: /);
        assert.match(
          got.out,
          new RegExp(
            `^got big to .*: ${size}, sha256 verified, decoded from coded blocks 5-15 on dn\\d+, `,
          ),
        );
        assert.deepEqual(await Deno.readFile(output), bytes);
        // To standard output, the same bytes.
        const piped = await cdfs("get", ...CHUNK, "big");
        assert.equal(piped.code, 0, piped.err);
        assert.deepEqual(piped.stdout, bytes);
      });

      await t.step("repair rebuilds the 5 blocks on the spares, fsck healthy again", async () => {
        const repaired = await cdfs("repair", ...CHUNK, "big");
        assert.equal(repaired.code, 0, repaired.err);
        const spares = files.cluster.nodes.map((_, i) => i).filter((i) => !logical.includes(i));
        for (const l of lost) {
          assert.match(
            repaired.out,
            new RegExp(
              `repaired big: ${objectId}\\.coded${l} rebuilt on dn(\\d+) .*was on ` +
                `${files.id(logical[l]!)}, 12\\.1 KiB from coded blocks `,
            ),
          );
        }
        assert.match(repaired.out, /\nbig: 5 block copies rebuilt\n$/);
        const file = await files.client.getFile("big");
        const now = await logicalNodes(files, "big");
        for (const l of lost) {
          assert.ok(spares.includes(now[l]!), `coded ${l} on a spare, not on ${now[l]}`);
          assert.deepEqual(await blocksOn(files, now[l]!, file), [`${objectId}.coded${l}`]);
        }
        await files.report();
        const fsck = await cdfs("fsck", "big");
        assert.equal(fsck.code, 0, fsck.out + fsck.err);
        assert.match(fsck.out, /^healthy {3}big\n/);
        const again = await cdfs("repair", "big");
        assert.equal(again.out, "big: healthy, nothing to repair\n");
      });

      await t.step("get with the lost datanodes still down", async () => {
        const output = `${work}/repaired.out`;
        const got = await cdfs("get", ...CHUNK, "big", "-o", output, "--json");
        assert.equal(got.code, 0, got.err);
        assert.equal(got.err, "");
        const summary = JSON.parse(got.out);
        assert.equal(summary.via, "decode");
        assert.equal(summary.sha256, (await files.client.getFile("big")).digest);
        assert.deepEqual(await Deno.readFile(output), bytes);

        // A damaged block the decode reads: named on stderr, another set of survivors used.
        const used: number = summary.decode.used[0];
        const now = await logicalNodes(files, "big");
        const block = `${objectId}.coded${used}`;
        await files.cluster.corrupt(now[used]!, block, 5000);
        const damaged = await cdfs("get", ...CHUNK, "big", "-o", output);
        assert.equal(damaged.code, 0, damaged.err);
        assert.match(
          damaged.err,
          new RegExp(
            `^cdfs: get big: coded block ${used} \\(${block}\\) on node ${used} ` +
              `\\(${files.cluster.nodes[now[used]!]!}\\) is damaged, not used: .*checksum mismatch`,
          ),
        );
        assert.deepEqual(await Deno.readFile(output), bytes);
        // The datanode moved the damaged block aside (quarantine): reported, it is missing,
        // and repair rebuilds it.
        await files.report();
        const fsck = await cdfs("fsck", "big");
        assert.equal(fsck.code, 1, fsck.out + fsck.err);
        assert.match(
          fsck.out,
          new RegExp(`${block.replaceAll(".", "\\.")} on dn\\d+ \\(missing\\)`),
        );
        const fixed = await cdfs("repair", ...CHUNK, "big");
        assert.equal(fixed.code, 0, fixed.err);
        await files.report();
        const healthy = await cdfs("fsck", "big");
        assert.equal(healthy.code, 0, healthy.out + healthy.err);
      });

      await t.step(
        "one datanode too many: fsck lost (exit 2), get refused naming them",
        async () => {
          const now = await logicalNodes(files, "big");
          const gone = [5, 6, 7, 8, 9, 10];
          await files.kill(gone.map((l) => now[l]!));
          const fsck = await cdfs("fsck");
          assert.equal(fsck.code, 2, fsck.out + fsck.err);
          assert.match(fsck.out, /^lost {6}big: 6 of 16 block copies unavailable: /);
          const output = `${work}/lost.out`;
          const got = await cdfs("get", ...CHUNK, "big", "-o", output);
          assert.equal(got.code, 1);
          assert.equal(got.out, "");
          const [survey, error, ...rest] = got.err.split("\n");
          assert.match(
            survey!,
            /^cdfs: get big: degraded read: lost coded blocks 5-10 \(nodes 5-10: /,
          );
          assert.match(
            error!,
            /^cdfs: error: file "big" cannot be decoded \(lost coded blocks \{5, 6, 7, 8, 9, 10\}\): .* have rank 10 < k = 11: not decodable \(SINGULAR\)$/,
          );
          assert.deepEqual(rest, [""]);
          await assert.rejects(Deno.stat(output));
        },
      );
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  });
}

Deno.test("no spare datanode: repair doubles up, fsck notes it, get works, one more loss judged", async (t) => {
  await using files = await startFileCluster(16);
  const cdfs = (...args: string[]) => runCdfs(args, { env: files.env });
  const work = await Deno.makeTempDir({ prefix: "cdfs-files-" });
  const module = await loadCodingModule("rapidraid");
  const { generator } = analyze(module);
  try {
    const input = `${work}/big.in`;
    const bytes = randomBytes(11 * 3 * 4096 + 777);
    await Deno.writeFile(input, bytes);
    assert.equal((await cdfs("put", ...CHUNK, input, "big")).code, 0);
    assert.equal((await cdfs("archive", ...CHUNK, "big")).code, 0);
    const objectId = (await files.client.getFile("big")).objectId;
    const logical = await logicalNodes(files, "big");
    const lost = [0, 1, 2, 3, 4];
    await files.kill(lost.map((l) => logical[l]!));
    const live = logical.filter((_, l) => !lost.includes(l));
    /** The datanodes that hold two logical nodes, with the blocks, as the record says. */
    const shared = async () => {
      const refs = nodesOfFile(await files.client.getFile("big"), layoutOfModule(module));
      return [...sharedDatanodes(refs.map((r) => r?.node ?? null))].sort(([a], [b]) =>
        a < b ? -1 : 1
      ).map(([node, nodes]) => ({ node, blocks: nodes.map((l) => `${objectId}.coded${l}`) }));
    };

    await t.step(
      "repair rebuilds the 5 blocks on 5 of the 11 live datanodes, saying so",
      async () => {
        const repaired = await cdfs("repair", ...CHUNK, "big");
        assert.equal(repaired.code, 0, repaired.err);
        assert.equal(repaired.err, "");
        const targets = new Set<number>();
        for (const l of lost) {
          const line = new RegExp(
            `repaired big: ${objectId}\\.coded${l} rebuilt on dn(\\d+) \\([^)]*\\), was on ` +
              `${
                files.id(logical[l]!)
              }, 12\\.1 KiB from coded blocks [-, 0-9]+ \\(dn(\\d+) also holds ` +
              `${objectId}\\.coded(\\d+): 2 blocks of this file share that datanode\\)\n`,
          ).exec(repaired.out);
          assert.ok(line !== null, `coded ${l} in:\n${repaired.out}`);
          const [, to, again, other] = line.map(Number);
          assert.equal(to, again);
          assert.ok(live.includes(to!), `dn${to} is live`);
          // The datanode's own block: the one the layout put there before.
          assert.equal(logical[other!], to);
          targets.add(to!);
        }
        assert.equal(
          targets.size,
          5,
          "the fewest blocks first: five datanodes, one block more each",
        );
        assert.match(
          repaired.out,
          /\nbig: 5 block copies rebuilt; 5 share a datanode with other blocks of the file, as no live datanode without one was left \(fsck notes them until a rebalance\)\n$/,
        );
        assert.equal((await shared()).length, 5);
      },
    );

    await t.step("fsck: healthy (exit 0), noting the shared datanodes", async () => {
      await files.report();
      const fsck = await cdfs("fsck");
      assert.equal(fsck.code, 0, fsck.out + fsck.err);
      const notes = (await shared()).map((s) => `2 blocks share ${s.node}`).join(", ");
      assert.equal(fsck.out, `healthy   big (${notes})\n1 file: 1 healthy, 0 degraded, 0 lost\n`);
      const json = JSON.parse((await cdfs("fsck", "--json", "big")).out);
      assert.deepEqual(json.files[0].shared, await shared());
      assert.equal(json.files[0].status, "healthy");
    });

    await t.step("get with the 5 still down: byte-identical", async () => {
      const output = `${work}/doubled.out`;
      const got = await cdfs("get", ...CHUNK, "big", "-o", output);
      assert.equal(got.code, 0, got.err);
      assert.equal(got.err, "");
      assert.deepEqual(await Deno.readFile(output), bytes);
    });

    await t.step(
      "losing a datanode with two blocks: both named, judged by the analysis",
      async () => {
        const [victim] = await shared();
        const index = Number(victim!.node.slice(2));
        await files.kill([index]);
        const gone = victim!.blocks.map((b) => Number(b.slice(`${objectId}.coded`.length)));
        const rows = generator.filter((_, i) => !gone.includes(i));
        const decodable = fieldRank(module.field, rows) === module.k;
        const fsck = await cdfs("fsck", "big");
        assert.equal(fsck.code, decodable ? 1 : 2, fsck.out + fsck.err);
        const named = victim!.blocks.map((b) => `${b} on ${victim!.node} (dead)`).join(", ");
        assert.ok(
          fsck.out.startsWith(
            `${
              decodable ? "degraded" : "lost    "
            }  big: 2 of 16 block copies unavailable: ${named} (`,
          ),
          fsck.out,
        );
        const output = `${work}/one-more.out`;
        const got = await cdfs("get", ...CHUNK, "big", "-o", output);
        if (decodable) {
          assert.equal(got.code, 0, got.err);
          assert.deepEqual(await Deno.readFile(output), bytes);
        } else {
          assert.equal(got.code, 1);
          assert.match(got.err, /cannot be decoded .*\(SINGULAR\)\n$/);
        }
        if (!decodable) return;
        // A second repair, with --json: each lost block on its own datanode again.
        const again = await cdfs("repair", ...CHUNK, "--json", "big");
        assert.equal(again.code, 0, again.err);
        const [result] = JSON.parse(again.out).files;
        assert.deepEqual(
          result.rebuilt.map((r: { block: string }) => r.block).sort(),
          [...victim!.blocks].sort(),
        );
        assert.notEqual(result.rebuilt[0].to, result.rebuilt[1].to);
        for (const r of result.rebuilt) assert.equal(r.shares.length, 1, JSON.stringify(r));
        await files.report();
        assert.equal((await cdfs("fsck", "big")).code, 0);
        assert.equal((await shared()).length, 6);
      },
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("a replication file on 3 datanodes, one lost: no datanode to re-replicate to", async () => {
  await using files = await startFileCluster(3);
  const cdfs = (...args: string[]) => runCdfs(args, { env: files.env });
  const work = await Deno.makeTempDir({ prefix: "cdfs-files-" });
  try {
    const bytes = randomBytes(10_000);
    await Deno.writeFile(`${work}/a`, bytes);
    assert.equal((await cdfs("put", "--code", "replication", ...CHUNK, `${work}/a`, "a")).code, 0);
    assert.equal((await cdfs("archive", ...CHUNK, "a")).code, 0);
    const file = await files.client.getFile("a");
    // Three copies, one per datanode: coded0-2, other ids, the same bytes.
    assert.deepEqual(file.blocks.map((b) => b.block), ["f1.coded0", "f1.coded1", "f1.coded2"]);
    const [lost, ...kept] = file.blocks;
    await files.kill([Number(lost!.node.slice(2))]);
    const repair = await cdfs("repair", ...CHUNK, "a");
    assert.equal(repair.code, 1);
    assert.equal(repair.out, "a: 0 block copies rebuilt, 1 not\n");
    assert.equal(
      repair.err,
      `cdfs: repair a: f1.coded0 on ${lost!.node} not rebuilt: no datanode to re-replicate ` +
        "f1.coded0 to: every live datanode (2) already carries its data (" +
        // By datanode id, as the namenode lists them.
        kept.map((b) => `${b.node} holds ${b.block}`).sort().join("; ") +
        "), and a second copy on one datanode is lost with the first; add a datanode and " +
        "repair again\n",
    );
    // Nothing changed: still degraded, still readable from the other copies.
    assert.deepEqual(
      (await files.client.getFile("a")).blocks,
      file.blocks.map((b) => b === lost ? { ...b, alive: false } : b),
    );
    assert.equal((await cdfs("fsck", "a")).code, 1);
    const got = await cdfs("get", ...CHUNK, "a", "-o", `${work}/a.out`);
    assert.equal(got.code, 0, got.err);
    assert.deepEqual(await Deno.readFile(`${work}/a.out`), bytes);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
