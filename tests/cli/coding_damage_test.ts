/**
 * What a user sees when a decode or repair meets a damaged coded block (bytes flipped on disk),
 * and when a later decode needs a block that a repair moved: the commands finish, exit 0, say
 * on stderr which block was damaged and on which node, and the output is byte-identical.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runCdfs } from "../helpers/cli.ts";
import { startCluster } from "../helpers/in_process_cluster.ts";
import { randomBytes } from "../client/_blocks.ts";

const CHUNK = 4096;
/** A byte inside the third chunk of a block: found only when that chunk is read. */
const IN_CHUNK_2 = 2 * CHUNK + 100;

Deno.test("decode and repair go around a damaged block and name it; a repaired block is used", async (t) => {
  await using cluster = await startCluster(16);
  const work = await Deno.makeTempDir({ prefix: "cdfs-cli-damage-" });
  const env = { CDFS_NODES: cluster.nodes.join(",") };
  const cdfs = (...args: string[]) => runCdfs(args, { env });
  try {
    const input = `${work}/big.in`;
    const bytes = randomBytes(11 * 3 * CHUNK + 5);
    await Deno.writeFile(input, bytes);
    const chunk = ["--chunk-size", String(CHUNK)];
    let run = await cdfs("object", "put-parts", "--code", "rapidraid", ...chunk, input, "big");
    assert.equal(run.code, 0, run.err);
    run = await cdfs("object", "encode", ...chunk, "--drop-replicas", "big");
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /dropped 22 part replicas after confirming 16 coded blocks\n/);

    await t.step(
      "decode: a damaged block is reported on stderr, the copy is identical",
      async () => {
        await cluster.corrupt(3, "big.coded3", IN_CHUNK_2);
        const output = `${work}/big.copy`;
        const decoded = await cdfs("object", "decode", ...chunk, "big", "-o", output);
        assert.equal(decoded.code, 0, decoded.err);
        assert.match(
          decoded.err,
          new RegExp(
            `^cdfs: decode big: coded block 3 \\(big\\.coded3\\) on node 3 \\(${
              cluster.nodes[3]!.replaceAll(".", "\\.")
            }\\) is damaged, not used: .*checksum mismatch.*\\n$`,
          ),
        );
        assert.deepEqual(await Deno.readFile(output), bytes);
      },
    );

    await t.step(
      "repair rebuilds the damaged block elsewhere; a later decode uses it",
      async () => {
        await cluster.stop(3);
        const repaired = await cdfs(
          "object",
          "repair",
          ...chunk,
          "big",
          "--block",
          "3",
          "--to",
          "15",
        );
        assert.equal(repaired.code, 0, repaired.err);
        assert.match(repaired.out, /^repaired big\.coded3 on node 15 /);
        // Lose four more nodes: 11 blocks are left only if block 3 is found on node 15.
        for (const node of [0, 1, 2, 4]) await cluster.stop(node);
        const output = `${work}/big.copy2`;
        const decoded = await cdfs("object", "decode", ...chunk, "big", "-o", output);
        assert.equal(decoded.code, 0, decoded.err);
        assert.deepEqual(await Deno.readFile(output), bytes);
      },
    );

    await t.step("repair of a block whose survivors include a damaged one", async () => {
      // Blocks 0-4 are lost (nodes stopped), 3 lives on node 15; damage 7, which the cheapest
      // repair of block 0 reads (3 and 7-15): the repair onto node 14 must go around it with
      // another set of survivors.
      await cluster.corrupt(7, "big.coded7", IN_CHUNK_2);
      const repaired = await cdfs(
        "object",
        "repair",
        ...chunk,
        "big",
        "--block",
        "0",
        "--to",
        "14",
      );
      // Blocks 3 (on node 15), 5, 6 and 8-15 still make block 0: it succeeds without 7.
      assert.equal(repaired.code, 0, repaired.err);
      assert.match(
        repaired.err,
        /^cdfs: repair big: coded block 7 \(big\.coded7\) on node 7 \(.*\) is damaged, not used: .*checksum mismatch/,
      );
      assert.match(
        repaired.out,
        /^repaired big\.coded0 on node 14 .* from coded blocks [^\n]*\b3\b/,
      );
      // Only the block list counts (a rate such as "187.5 KiB/s" later on the line must not).
      assert.doesNotMatch(repaired.out, /from coded blocks (\d+(-\d+)?, )*7(-\d+)?, digest/);
      assert.doesNotMatch(repaired.out, /from coded blocks (\d+(-\d+)?, )*[0-6]-([7-9]|1\d)\b/);
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
