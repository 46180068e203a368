/**
 * The RapidRAID family `rapidraid:n=..,k=..`: parameter checks (k < n ≤ 2k, n ≤ 32), the
 * paper's placement and pipeline for every member, (16,11) equal to the published module, and
 * for a few members the analyzer's undecodable sets (checked by an independent rank) and an
 * encode → decode round trip on bytes in one process from decodable k-subsets.
 */
import assert from "node:assert/strict";
import { analyze, generatorMatrix } from "../../src/coding/analysis/symbolic.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import {
  codingFamily,
  codingModule as rapidraid,
  RAPIDRAID_COEFFICIENTS,
  rapidRaidTables,
} from "../../coding/rapidraid.ts";
import {
  combinations,
  decodeLocal,
  encodeLocal,
  independentRank,
  randomBytes,
  rng,
} from "./code_harness.ts";

Deno.test("rapidraid:n=16,k=11 is the published rapidraid module and encodes the same bytes", async () => {
  const m = await loadCodingModule("rapidraid:k=11,n=16");
  assert.equal(m.name, "rapidraid:n=16,k=11");
  assert.notEqual(m, rapidraid);
  const { name: _a, description: _b, ...mine } = m;
  const { name: _c, description: _d, ...published } = rapidraid;
  assert.deepEqual(mine, published);
  assert.equal(rapidRaidTables(16, 11), RAPIDRAID_COEFFICIENTS);
  const next = rng(16);
  const parts = Array.from({ length: 11 }, () => randomBytes(next, 1000));
  assert.deepEqual(
    await encodeLocal(m, "obj", parts, 256),
    await encodeLocal(rapidraid, "obj", parts, 256),
  );
});

Deno.test("rapidraid family: bad n or k fail in one line naming the parameter and its range", async () => {
  const cases: [string, RegExp][] = [
    ["rapidraid:n=9,k=4", /parameter n must be in k\+1\.\.2k = 5\.\.8 .*got 9/],
    ["rapidraid:n=4,k=4", /parameter n must be in k\+1\.\.2k = 5\.\.8 .*got 4/],
    ["rapidraid:n=33,k=20", /parameter n must be in 2\.\.32 \(coded blocks/],
    ["rapidraid:n=2,k=0", /parameter k must be in 1\.\.31 \(parts\), got 0/],
    ["rapidraid:n=12", /parameter k \(parts, 1\.\.31\) is missing/],
    ["rapidraid:n=12,k=8,w=16", /unknown parameter w \(rapidraid takes n, k\)/],
  ];
  for (const [spec, pattern] of cases) {
    await assert.rejects(loadCodingModule(spec), (e) => {
      assert.ok(isCdfsError(e, "BAD_REQUEST"), `${spec}: ${e}`);
      assert.match((e as Error).message, pattern);
      assert.doesNotMatch((e as Error).message, /\n/);
      return true;
    });
  }
});

Deno.test("rapidraid family: part j on nodes j and j+(n-k), one pipeline ending on node n-1", () => {
  for (const [n, k] of [[2, 1], [5, 4], [6, 4], [8, 4], [13, 8], [32, 16], [32, 31]]) {
    const m = codingFamily.build({ n: n!, k: k! }, `rapidraid:n=${n},k=${k}`);
    assert.deepEqual([m.n, m.k, m.field, m.encode], [n, k, 8, `enc_node${n! - 1}`]);
    m.parts.forEach((p, j) => assert.deepEqual([...p.nodes], [j, j + n! - k!]));
    // Node i pulls node i-1: a chain through all n nodes.
    for (let i = 1; i < n!; i++) {
      const pulled = m.programs[`enc_node${i}`]!.streams.flatMap((s) =>
        "read" in s && "program" in s.read ? [s.read.program] : []
      );
      assert.deepEqual(pulled, [`enc_node${i - 1}`], `${m.name} node ${i}`);
    }
    // Deterministic: building again gives the same tables, all nonzero.
    const again = codingFamily.build({ n: n!, k: k! }, m.name);
    assert.deepEqual(again, m);
    const { xis, psis } = rapidRaidTables(n!, k!);
    assert.ok([...xis, ...psis].every((c) => c >= 1 && c <= 255));
  }
  // Different members draw different tables.
  assert.notDeepEqual(rapidRaidTables(8, 5).xis, rapidRaidTables(9, 5).xis);
});

Deno.test("rapidraid family: the analyzer's undecodable sets, encode and decode on bytes", async () => {
  // Undecodable k-subsets as the analyzer finds them with the seeded GF(2^8) tables.
  const expected: [string, number, number][] = [
    ["rapidraid:n=6,k=4", 0, 15],
    ["rapidraid:n=8,k=5", 2, 56],
    ["rapidraid:n=12,k=8", 1, 495],
  ];
  const next = rng(5);
  for (const [spec, undecodable, subsets] of expected) {
    const m = await loadCodingModule(spec);
    const a = analyze(m);
    assert.deepEqual([a.undecodableSubsets.length, a.subsetCount], [undecodable, subsets], spec);
    // An independent elimination agrees on every k-subset.
    const g = generatorMatrix(m);
    const bad = [...combinations(m.n, m.k)].filter((s) =>
      independentRank(8, s.map((i) => g[i]!)) < m.k
    );
    assert.deepEqual(bad, a.undecodableSubsets, spec);
    const parts = Array.from({ length: m.k }, () => randomBytes(next, 1501));
    const coded = await encodeLocal(m, "obj", parts, 512);
    // Decodable sets by the analyzer: the last one in lexicographic order (the blocks at the
    // end of the pipeline), and the first with the last block but not the first.
    const decodable = [...combinations(m.n, m.k)].filter((s) =>
      !a.undecodableSubsets.some((u) => u.join() === s.join())
    );
    const tail = decodable.at(-1)!;
    const mixed = decodable.find((s) => s.includes(m.n - 1) && !s.includes(0))!;
    for (const survivors of [tail, mixed]) {
      for (const output of ["parts", "stream"] as const) {
        const decoded = await decodeLocal(m, "obj", coded, survivors, output, 512);
        assert.deepEqual(decoded, parts, `${spec} from {${survivors}} (${output})`);
      }
    }
    for (const survivors of a.undecodableSubsets) {
      await assert.rejects(
        decodeLocal(m, "obj", coded, survivors, "parts", 512),
        (e) => isCdfsError(e, "SINGULAR"),
      );
    }
  }
});
