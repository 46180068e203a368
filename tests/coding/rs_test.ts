import assert from "node:assert/strict";
import * as gf256 from "../../src/gf/gf256.ts";
import { systematicCauchyGenerator } from "../../src/gf/matrix.ts";
import { referenceKernels } from "../../src/gf/region_ref.ts";
import { deriveRepairProgram } from "../../src/coding/analysis/decoder.ts";
import { analyze, generatorMatrix, programOutputs } from "../../src/coding/analysis/symbolic.ts";
import { validateModule } from "../../src/coding/lang/validate.ts";
import { codingModule as rs, rsModule } from "../../coding/rs.ts";
import {
  combinations,
  decodeLocal,
  encodeLocal,
  independentRank,
  randomBytes,
  rng,
} from "./code_harness.ts";

/** ISA-L's gf_gen_cauchy1_matrix parity entries: 1 / (i ^ j) for i = k..k+m-1, j < k. */
function cauchyParity(k: number, m: number): number[][] {
  return Array.from(
    { length: m },
    (_, p) => Array.from({ length: k }, (_, j) => gf256.inv((k + p) ^ j)),
  );
}

Deno.test("rs: the module's shape, placement and validity", () => {
  assert.equal(rs.name, "rs");
  assert.equal(rs.n, 16);
  assert.equal(rs.k, 11);
  rs.parts.forEach((p, j) => assert.deepEqual([...p.nodes], [j]));
  rs.coded.forEach((c, i) => assert.deepEqual(c, { block: `{id}.coded${i}`, node: i }));
  validateModule(rs, "coding/rs.ts");
  // One coordinator (node k) computes all parities: k LOADs, then every MULT before the MULADDs.
  const ops = rs.programs.encode_parity!.instructions.map((i) => i[0]);
  assert.equal(rs.programs.encode_parity!.node, 11);
  assert.equal(ops.filter((o) => o === "LOAD").length, 11);
  assert.equal(ops.filter((o) => o === "MULT").length, 5);
  assert.equal(ops.filter((o) => o === "MULADD").length, 50);
  assert.ok(ops.lastIndexOf("MULT") < ops.indexOf("MULADD"));
  assert.deepEqual(ops.filter((o) => o === "PUSH").length, 4);
});

Deno.test("rs: the symbolic generator is [I; Cauchy] (ISA-L's construction)", () => {
  const g = generatorMatrix(rs);
  assert.deepEqual(g, systematicCauchyGenerator(11, 5));
  assert.deepEqual(g.slice(11).map((r) => Array.from(r)), cauchyParity(11, 5));
});

Deno.test("rs: MDS, every 11-subset of the 16 blocks has rank 11", () => {
  const a = analyze(rs);
  assert.equal(a.isMds, true);
  assert.deepEqual(a.undecodableSubsets, []);
  assert.equal(a.decodableCount, 4368);
  for (const s of combinations(16, 11)) {
    assert.equal(independentRank(8, s.map((i) => a.generator[i]!)), 11);
  }
});

Deno.test("rs: encoded bytes equal a direct dotProduct with the Cauchy parity rows", async () => {
  const next = rng(9);
  const parts = Array.from({ length: 11 }, () => randomBytes(next, 777));
  const coded = await encodeLocal(rs, "obj", parts, 100);
  const parity = Array.from({ length: 5 }, () => new Uint8Array(777));
  referenceKernels.dotProduct(parity, cauchyParity(11, 5).map((r) => Uint8Array.from(r)), parts);
  assert.deepEqual(coded, [...parts, ...parity]);
});

Deno.test("rs: decode from data and parity subsets", async () => {
  const next = rng(10);
  const parts = Array.from({ length: 11 }, () => randomBytes(next, 500));
  const coded = await encodeLocal(rs, "obj", parts, 128);
  const subsets = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [0, 2, 4, 6, 8, 10, 11, 12, 13, 14, 15],
    [15, 14, 13, 12, 11, 1, 3, 5, 7, 9, 0],
  ];
  for (const [index, s] of subsets.entries()) {
    const decoded = await decodeLocal(rs, "obj", coded, s, index % 2 ? "stream" : "parts", 128);
    assert.deepEqual(decoded, parts, `survivors ${s.join(",")}`);
  }
});

Deno.test("rs: repair of a parity and of a data block, symbolically", () => {
  const g = generatorMatrix(rs);
  for (const lost of [0, 13]) {
    const others = Array.from({ length: 16 }, (_, i) => i).filter((i) => i !== lost).reverse();
    const { written } = programOutputs(rs, deriveRepairProgram(rs, lost, others));
    assert.deepEqual(written.get(`{id}.coded${lost}`), g[lost]);
  }
});

Deno.test("rsModule: other (k, m) are MDS codes that encode and decode", async () => {
  const m = rsModule(6, 3);
  assert.equal(m.name, "rs_6_3");
  validateModule(m, "coding/rs_6_3.ts");
  const a = analyze(m);
  assert.equal(a.isMds, true);
  assert.equal(a.subsetCount, 84);
  assert.deepEqual(a.generator, systematicCauchyGenerator(6, 3));
  const next = rng(11);
  const parts = Array.from({ length: 6 }, () => randomBytes(next, 300));
  const coded = await encodeLocal(m, "x", parts, 64);
  assert.deepEqual(await decodeLocal(m, "x", coded, [3, 6, 7, 8, 1, 0], "parts", 64), parts);
  // m = 1: a single parity, no queues.
  const single = rsModule(4, 1);
  validateModule(single, "coding/rs_4_1.ts");
  assert.equal(analyze(single).isMds, true);
  assert.throws(() => rsModule(4, 0), RangeError);
  assert.throws(() => rsModule(0, 2), RangeError);
});
