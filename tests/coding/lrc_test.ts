/**
 * The LRC family: structure, maximal recoverability (every erasure pattern its structure
 * allows decodes, checked by an independent rank over every k-subset), encode → decode and
 * local repair on bytes in one process.
 */
import assert from "node:assert/strict";
import { deriveRepairProgram, withPrograms } from "../../src/coding/analysis/decoder.ts";
import { generatorMatrix } from "../../src/coding/analysis/symbolic.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { runLocal } from "../../src/coding/runtime/local_cluster.ts";
import { lrcGroups, lrcStructurallyDecodable } from "../../coding/lrc.ts";
import {
  combinations,
  decodeLocal,
  encodeLocal,
  independentRank,
  randomBytes,
  rng,
  survivorBlocks,
} from "./code_harness.ts";

Deno.test("lrc: data rows, one XOR parity per group, then the global rows", async () => {
  const m = await loadCodingModule("lrc:k=5,l=2,r=2");
  const g = generatorMatrix(m).map((row) => Array.from(row));
  assert.deepEqual(lrcGroups(5, 2), [[0, 1, 2], [3, 4]]);
  for (let j = 0; j < 5; j++) assert.deepEqual(g[j], [0, 1, 2, 3, 4].map((t) => t === j ? 1 : 0));
  assert.deepEqual(g[5], [1, 1, 1, 0, 0]);
  assert.deepEqual(g[6], [0, 0, 0, 1, 1]);
  for (const row of g.slice(7)) assert.ok(row.every((c) => c !== 0));
  m.coded.forEach((c, i) => assert.equal(c.node, i));
});

Deno.test("lrc: every k-subset decodes exactly when its structure allows (maximally recoverable)", async () => {
  for (const [k, l, r] of [[10, 2, 2], [6, 2, 2], [6, 3, 1]] as const) {
    const m = await loadCodingModule(`lrc:k=${k},l=${l},r=${r}`);
    const g = generatorMatrix(m);
    let undecodable = 0;
    for (const s of combinations(m.n, k)) {
      const decodes = independentRank(8, s.map((i) => g[i]!)) === k;
      assert.equal(decodes, lrcStructurallyDecodable(k, l, r, s), `${m.name} {${s}}`);
      if (!decodes) undecodable++;
    }
    if (k === 10) assert.equal(undecodable, 140); // of 1001: any 3 losses decode, 4 mostly
  }
});

Deno.test("lrc and rs families: encode → decode round trips on bytes", async () => {
  const next = rng(7);
  for (
    const [spec, survivors] of [
      ["lrc:k=6,l=2,r=2", [1, 2, 4, 6, 7, 8]], // lost 0 and 3 (group 0), 5 and 9
      ["lrc:k=10,l=2,r=2", [1, 2, 3, 4, 5, 6, 7, 8, 10, 12]],
      ["rs:k=6,m=3", [2, 3, 4, 5, 6, 8]],
      ["replication:n=2", [1]],
    ] as const
  ) {
    const m = await loadCodingModule(spec);
    const parts = Array.from({ length: m.k }, () => randomBytes(next, 3000));
    const coded = await encodeLocal(m, "obj", parts, 1024);
    const decoded = await decodeLocal(m, "obj", coded, survivors, "parts", 1024);
    assert.deepEqual(decoded, parts, spec);
  }
});

Deno.test("lrc: a lost data block is repaired from its group, on bytes", async () => {
  const m = await loadCodingModule("lrc:k=10,l=2,r=2");
  const next = rng(3);
  const parts = Array.from({ length: 10 }, () => randomBytes(next, 2048));
  const coded = await encodeLocal(m, "obj", parts, 1024);
  const others = Array.from({ length: 14 }, (_, i) => i).filter((i) => i !== 7);
  const repair = deriveRepairProgram(m, 7, others);
  const read = repair.streams.filter((s) => "read" in s).map((s) => s.name);
  assert.deepEqual(read, ["coded5", "coded6", "coded8", "coded9", "coded11"]);
  // With block 8 lost too, the group cannot help alone: 10 blocks are read.
  assert.equal(
    deriveRepairProgram(m, 7, others.filter((i) => i !== 8)).streams.length - 1,
    10,
  );
  const module = withPrograms(m, { repair });
  const result = await runLocal(module, ["repair"], {
    objectId: "obj",
    blocks: survivorBlocks(m, "obj", coded, others),
    chunkSize: 1024,
  });
  assert.deepEqual(result.blocks.get("7/obj.coded7"), coded[7]);
});
