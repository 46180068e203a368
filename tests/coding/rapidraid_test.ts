import assert from "node:assert/strict";
import { isCdfsError } from "../../src/core/errors.ts";
import * as gf256 from "../../src/gf/gf256.ts";
import * as gf65536 from "../../src/gf/gf65536.ts";
import {
  deriveDecodePlan,
  deriveRepairProgram,
  withPrograms,
} from "../../src/coding/analysis/decoder.ts";
import { fieldIdentity, fieldMultiply } from "../../src/coding/analysis/field_matrix.ts";
import { runLocal } from "../../src/coding/runtime/local_cluster.ts";
import type { CodingModule, FieldWidth } from "../../src/coding/lang/program.ts";
import { analyze, generatorMatrix, programOutputs } from "../../src/coding/analysis/symbolic.ts";
import { validateModule } from "../../src/coding/lang/validate.ts";
import { codingModule as rapidraid, RAPIDRAID_COEFFICIENTS } from "../../coding/rapidraid.ts";
import { codingModule as rapidraid16, RAPIDRAID16_COEFFICIENTS } from "../../coding/rapidraid16.ts";
import {
  combinations,
  decodeLocal,
  encodeLocal,
  independentRank,
  randomBytes,
  rng,
  survivorBlocks,
} from "./code_harness.ts";

// The published tables (the original's `clusterdfs/rapidraid.py`, GF(2^16) at commit 76e0449),
// copied here so that a typo in the module shows up.
// deno-fmt-ignore
const SPEC_TABLES = {
  8: {
    xis: [141, 139, 79, 152, 152, 243, 2, 37, 149, 189, 174, 149, 237, 31, 198, 15, 45, 138, 246, 100, 101, 16],
    psis: [129, 207, 158, 56, 171, 247, 145, 139, 137, 211, 190, 230, 140, 177, 75, 47, 94, 60, 244, 69, 190, 167],
    xisi: [105, 45, 147, 11, 11, 234, 142, 86, 188, 154, 190, 188, 33, 42, 163, 150, 139, 39, 211, 185, 196, 216],
  },
  16: {
    xis: [48386, 55077, 40589, 63304, 49062, 47871, 17507, 49390, 54054, 45897, 55796,
      27611, 50294, 30336, 882, 60087, 56842, 14836, 7618, 32265, 22869, 38138],
    psis: [11950, 26509, 16377, 40200, 35199, 3729, 10098, 16621, 3878, 45829, 1937,
      60293, 38528, 31094, 7594, 45107, 15330, 63820, 41913, 20615, 58324, 16983],
    xisi: [15748, 20308, 20626, 63764, 63644, 26972, 27999, 47342, 10956, 10780, 36355,
      16304, 47805, 37304, 44207, 32175, 23548, 29691, 49597, 52531, 10592, 53038],
  },
} as const;

const MODULES: Record<FieldWidth, CodingModule> = { 8: rapidraid, 16: rapidraid16 };
const K = 11;
const N = 16;

/**
 * The generator by the recurrence of the original's `enc_node<i>` programs
 * (`clusterdfs/rapidraid.py`), written independently of the module: s is the
 * stream node i forwards, c_i what it stores; node i holds part(s) with replica indices r.
 */
function specGenerator(field: FieldWidth): number[][] {
  const { xis, psis } = SPEC_TABLES[field];
  const mul = field === 8 ? gf256.mul : gf65536.mul;
  const add = (a: number[], c: number, j: number) => a.map((v, t) => t === j ? v ^ mul(c, 1) : v);
  const held = (i: number): [number, number][] =>
    i === 0
      ? [[0, 0]]
      : i <= 4
      ? [[i, i]]
      : i <= 10
      ? [[i - 5, 2 * i - 5], [i, 2 * i - 4]]
      : [[i - 5, i + 6]];
  const rows: number[][] = [];
  let s: number[] = new Array(K).fill(0);
  for (let i = 0; i < N; i++) {
    let c = s.slice();
    let next = s.slice();
    for (const [part, r] of held(i)) {
      c = add(c, xis[r]!, part);
      next = add(next, psis[r]!, part);
    }
    rows.push(c);
    s = next;
  }
  return rows;
}

Deno.test("rapidraid: coefficient tables are the published ones, xisi = xis⁻¹", () => {
  for (const field of [8, 16] as const) {
    const c = field === 8 ? RAPIDRAID_COEFFICIENTS : RAPIDRAID16_COEFFICIENTS;
    assert.deepEqual([...c.xis], [...SPEC_TABLES[field].xis]);
    assert.deepEqual([...c.psis], [...SPEC_TABLES[field].psis]);
    assert.deepEqual([...c.xisi], [...SPEC_TABLES[field].xisi]);
    const mul = field === 8 ? gf256.mul : gf65536.mul;
    c.xis.forEach((x, r) => assert.equal(mul(x, c.xisi[r]!), 1, `xis[${r}]·xisi[${r}]`));
  }
});

Deno.test("rapidraid: placement of the original (part j on nodes j and j+5, coded i on node i)", () => {
  for (const m of [rapidraid, rapidraid16]) {
    assert.equal(m.n, 16);
    assert.equal(m.k, 11);
    m.parts.forEach((p, j) => assert.deepEqual([...p.nodes], [j, j + 5]));
    m.coded.forEach((c, i) => assert.equal(c.node, i));
    assert.equal(m.encode, "enc_node15");
    validateModule(m, "coding/" + m.name + ".ts");
  }
});

Deno.test("rapidraid: symbolic generator = the recurrence of enc_node<i> (c0 = xis[0]·o0)", () => {
  for (const field of [8, 16] as const) {
    const g = generatorMatrix(MODULES[field]);
    assert.deepEqual(g.map((r) => Array.from(r)), specGenerator(field));
    // A few rows by hand: c0 = xis[0]·o0 (the paper's form); c1 = psis[0]·o0 + xis[1]·o1;
    // c15 = s14 + xis[21]·o10.
    const { xis, psis } = SPEC_TABLES[field];
    assert.deepEqual(Array.from(g[0]!), [xis[0], ...new Array(10).fill(0)]);
    assert.deepEqual(Array.from(g[1]!), [psis[0], xis[1], ...new Array(9).fill(0)]);
    assert.equal(g[15]![10], psis[16] ^ xis[21]);
  }
});

for (const field of [8, 16] as const) {
  Deno.test(`rapidraid GF(2^${field}): analyze lists exactly the undecodable 11-subsets`, () => {
    const m = MODULES[field];
    const a = analyze(m);
    const g = a.generator;
    const expected: number[][] = [];
    for (const s of combinations(N, K)) {
      if (independentRank(field, s.map((i) => g[i]!)) < K) expected.push(s);
    }
    assert.deepEqual(a.undecodableSubsets, expected);
    assert.equal(a.subsetCount, 4368);
    assert.equal(a.decodableCount, 4368 - expected.length);
    // Not MDS (as the original says nowhere: it decodes coded0..10 only), yet the original's decode set coded0..10 decodes.
    assert.equal(a.isMds, false);
    assert.ok(expected.length > 0);
    assert.ok(!expected.some((s) => s.join() === "0,1,2,3,4,5,6,7,8,9,10"));
    assert.equal(a.rank, K);
  });

  Deno.test(`rapidraid GF(2^${field}): a derived decode exists for every decodable subset`, () => {
    const m = MODULES[field];
    const { generator: g, undecodableSubsets } = analyze(m);
    const bad = new Set(undecodableSubsets.map((s) => s.join()));
    let checked = 0;
    for (const s of combinations(N, K)) {
      if (bad.has(s.join())) {
        assert.throws(() => deriveDecodePlan(m, s), (e) => {
          assert.ok(isCdfsError(e, "SINGULAR"));
          const rank = independentRank(field, s.map((i) => g[i]!));
          assert.match(e.message, new RegExp(`have rank ${rank} < k = 11: not decodable`));
          assert.ok(e.message.includes(`{${s.join(", ")}}`));
          return true;
        });
        continue;
      }
      const plan = deriveDecodePlan(m, s);
      assert.deepEqual([...plan.used], s);
      const product = fieldMultiply(field, plan.decodeMatrix, s.map((i) => g[i]!));
      assert.deepEqual(product, fieldIdentity(field, K));
      // The emitted program computes exactly that: it writes e_j as orig<j>.
      const { written } = programOutputs(withPrograms(m, plan.programs), plan.name);
      for (let j = 0; j < K; j++) {
        assert.deepEqual(Array.from(written.get(`{id}.orig${j}`)!), [
          ...new Array(j).fill(0),
          1,
          ...new Array(K - 1 - j).fill(0),
        ]);
      }
      checked++;
    }
    assert.equal(checked, 4368 - bad.size);
  });

  Deno.test(`rapidraid GF(2^${field}): repair of each coded block from the 15 others`, () => {
    const m = MODULES[field];
    const g = generatorMatrix(m);
    for (let lost = 0; lost < N; lost++) {
      const others = Array.from({ length: N }, (_, i) => i).filter((i) => i !== lost);
      const repair = deriveRepairProgram(m, lost, others);
      assert.equal(repair.node, lost);
      const { written } = programOutputs(m, repair);
      assert.deepEqual(written.get(`{id}.coded${lost}`), g[lost]);
    }
  });
}

/** Part j = k·w bytes where word j is 1 (little-endian for GF(2^16)): coded i is then row i. */
function unitParts(field: FieldWidth): Uint8Array[] {
  const w = field / 8;
  return Array.from({ length: K }, (_, j) => {
    const part = new Uint8Array(K * w);
    part[j * w] = 1;
    return part;
  });
}

for (const field of [8, 16] as const) {
  Deno.test(`rapidraid GF(2^${field}): bytes encoded from unit parts are the generator`, async () => {
    const m = MODULES[field];
    const coded = await encodeLocal(m, "unit", unitParts(field), 64);
    const g = generatorMatrix(m);
    coded.forEach((bytes, i) => {
      // Column j of G multiplies part j, whose only nonzero word is word j: word j of c_i.
      const words = field === 8 ? Array.from(bytes) : Array.from(
        { length: K },
        (_, t) => bytes[2 * t]! | bytes[2 * t + 1]! << 8,
      );
      const row = Array.from(g[i]!);
      // Word t of c_i = Σ_j G[i][j]·part_j[t] = G[i][t].
      assert.deepEqual(words, row, `coded block ${i}`);
    });
  });
}

/** Random parts of an even length with a partial last chunk. */
function dataParts(seed: number): Uint8Array[] {
  const next = rng(seed);
  return Array.from({ length: K }, () => randomBytes(next, 1000));
}

for (const field of [8, 16] as const) {
  // GF(2^8), the field cdfs runs by default: the bytes of EVERY decodable subset are decoded
  // by the byte interpreter (about 2 ms each); GF(2^16): 30 random ones.
  Deno.test(
    `rapidraid GF(2^${field}): derived decode of ${
      field === 8 ? "every" : "random"
    } decodable subset on bytes`,
    async () => {
      const m = MODULES[field];
      const parts = dataParts(100 + field);
      const coded = await encodeLocal(m, "obj", parts, 256);
      const bad = new Set(analyze(m).undecodableSubsets.map((s) => s.join()));
      const next = rng(field);
      const subsets: number[][] = field === 8
        ? kSubsets(N, K).filter((s) => !bad.has(s.join()))
        : [];
      if (field === 8) assert.equal(subsets.length, analyze(m).decodableCount);
      while (field === 16 && subsets.length < 30) {
        const order = Array.from({ length: N }, (_, i) => i);
        for (let i = N - 1; i > 0; i--) {
          const t = next() % (i + 1);
          [order[i], order[t]] = [order[t]!, order[i]!];
        }
        const s = order.slice(0, K).sort((a, b) => a - b);
        if (!bad.has(s.join())) subsets.push(s);
      }
      for (const [index, s] of subsets.entries()) {
        const output = index % 3 === 0 ? "stream" : "parts";
        const decoded = await decodeLocal(m, "obj", coded, s, output, field === 8 ? 96 : 128);
        assert.deepEqual(decoded, parts, `survivors ${s.join(",")} (${output})`);
      }
    },
  );

  Deno.test(`rapidraid GF(2^${field}): repaired bytes equal the lost block`, async () => {
    const m = MODULES[field];
    const parts = dataParts(200 + field);
    const coded = await encodeLocal(m, "obj", parts, 256);
    for (const lost of [0, 7, 15]) {
      const others = Array.from({ length: N }, (_, i) => i).filter((i) => i !== lost);
      const repair = deriveRepairProgram(m, lost, others);
      const extended = validateModule(withPrograms(m, { repair }), "test");
      const { blocks } = await runLocal(extended, "repair", {
        objectId: "obj",
        blocks: survivorBlocks(m, "obj", coded, others),
        chunkSize: 256,
      });
      assert.deepEqual(blocks.get(`${lost}/obj.coded${lost}`), coded[lost]);
    }
  });
}

/** Every k-subset of 0..n-1, in lexicographic order. */
function kSubsets(n: number, k: number): number[][] {
  const out: number[][] = [];
  const pick = (start: number, chosen: number[]): void => {
    if (chosen.length === k) {
      out.push([...chosen]);
      return;
    }
    for (let i = start; i <= n - (k - chosen.length); i++) pick(i + 1, [...chosen, i]);
  };
  pick(0, []);
  return out;
}
