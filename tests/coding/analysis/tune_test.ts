/**
 * The coefficient tuner: its structural count against an exact determinant over GF(2)[symbols]
 * (an independent brute force, from the paper's construction rather than the module's
 * programs), and the search reaching the floor, deterministically for a seed.
 */
import assert from "node:assert/strict";
import { structuralSubsets, tuneCoefficients } from "../../../src/coding/analysis/tune.ts";
import { analyze } from "../../../src/coding/analysis/symbolic.ts";
import { rapidRaidTuning } from "../../../coding/rapidraid.ts";

/**
 * RapidRAID (n, k) with symbolic coefficients: entry (i, j) is the set of symbols summed
 * there (xi of replica r = symbol r, psi of replica r = symbol 2k + r). Node i holds parts
 * i-(n-k) and i; it stores what it received plus xi·(its parts) and forwards what it received
 * plus psi·(its parts).
 */
function symbolicGenerator(n: number, k: number): number[][][] {
  const replicas: { node: number; part: number; r: number }[] = [];
  for (let i = 0; i < n; i++) {
    for (const part of [i - (n - k), i]) {
      if (part >= 0 && part < k) replicas.push({ node: i, part, r: replicas.length });
    }
  }
  return Array.from(
    { length: n },
    (_, i) =>
      Array.from(
        { length: k },
        (_, j) =>
          replicas.filter((x) => x.part === j && x.node <= i).map((x) =>
            x.node === i ? x.r : 2 * k + x.r
          ),
      ),
  );
}

/** Whether the determinant of these rows is the zero polynomial over GF(2) (Leibniz). */
function zeroPolynomial(rows: number[][][]): boolean {
  const k = rows.length;
  const monomials = new Set<string>();
  const permute = (i: number, used: boolean[], terms: number[][]): void => {
    if (i === k) {
      for (const t of terms) {
        const key = t.toSorted((a, b) => a - b).join(",");
        if (monomials.has(key)) monomials.delete(key);
        else monomials.add(key);
      }
      return;
    }
    for (let c = 0; c < k; c++) {
      if (used[c] || rows[i]![c]!.length === 0) continue;
      used[c] = true;
      permute(i + 1, used, terms.flatMap((t) => rows[i]![c]!.map((s) => [...t, s])));
      used[c] = false;
    }
  };
  permute(0, [], [[]]);
  return monomials.size === 0;
}

function bruteForceStructural(n: number, k: number): number[][] {
  const g = symbolicGenerator(n, k);
  const out: number[][] = [];
  const s = Array.from({ length: k }, (_, i) => i);
  while (true) {
    if (zeroPolynomial(s.map((i) => g[i]!))) out.push(s.slice());
    let t = k - 1;
    while (t >= 0 && s[t] === n - k + t) t--;
    if (t < 0) break;
    s[t]!++;
    for (let u = t + 1; u < k; u++) s[u] = s[u - 1]! + 1;
  }
  return out;
}

Deno.test("structural subsets equal an exact symbolic determinant over GF(2)", () => {
  for (const [n, k, expected] of [[8, 4, 1], [10, 5, 10], [8, 5, 0], [10, 6, 1]] as const) {
    const exact = bruteForceStructural(n, k);
    assert.equal(exact.length, expected, `(${n},${k}) brute force`);
    const found = structuralSubsets(rapidRaidTuning, { n, k }, `rapidraid:n=${n},k=${k}`);
    assert.deepEqual(found.subsets, exact, `(${n},${k})`);
    assert.ok(found.bound < 1e-12, `bound ${found.bound}`);
  }
});

Deno.test("one draw is not enough to be structural: more draws only remove subsets", () => {
  const one = structuralSubsets(rapidRaidTuning, { n: 10, k: 5 }, "rapidraid:n=10,k=5", {
    draws: 1,
  });
  assert.ok(one.subsets.length >= 10);
  assert.ok(one.bound > 1e-4); // (5/65535)·C(10,5)
});

Deno.test("tuning rapidraid (8,5) reaches the floor, the same tables for the same seed", () => {
  const options = { field: 8, seed: 3, iterations: 200 } as const;
  const a = tuneCoefficients(rapidRaidTuning, { n: 8, k: 5 }, "rapidraid:n=8,k=5", options);
  const b = tuneCoefficients(rapidRaidTuning, { n: 8, k: 5 }, "rapidraid:n=8,k=5", options);
  assert.equal(a.before, 2);
  assert.equal(a.after, 0);
  assert.equal(a.structural.subsets.length, 0);
  assert.equal(a.stopped, "floor");
  assert.deepEqual(a.tables, b.tables);
  const built = rapidRaidTuning.build({ n: 8, k: 5 }, a.tables, 8, "rapidraid:n=8,k=5");
  assert.equal(analyze(built).undecodableSubsets.length, 0);
});

Deno.test("tuning (10,5) stops at its structural floor of 10, never below", () => {
  const r = tuneCoefficients(rapidRaidTuning, { n: 10, k: 5 }, "rapidraid:n=10,k=5", {
    field: 8,
    seed: 1,
    iterations: 300,
  });
  assert.equal(r.after, 10);
  assert.equal(r.stopped, "floor");
  const built = rapidRaidTuning.build({ n: 10, k: 5 }, r.tables, 8, "x");
  assert.deepEqual(analyze(built).undecodableSubsets, r.structural.subsets);
});
