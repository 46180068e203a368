import assert from "node:assert/strict";
import * as gf65536 from "../../../src/gf/gf65536.ts";
import { rank as rank8, SingularMatrixError } from "../../../src/gf/matrix.ts";
import {
  combinationOf,
  fieldArithmetic,
  fieldIdentity,
  fieldIndependentRows,
  fieldInvert,
  fieldMultiply,
  fieldRank,
  type FieldVector,
  unitVector,
} from "../../../src/coding/analysis/field_matrix.ts";

/** A deterministic pseudo-random generator (xorshift32), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function random16(next: () => number, rows: number, cols: number): Uint16Array[] {
  return Array.from(
    { length: rows },
    () => Uint16Array.from({ length: cols }, () => next() & 0xffff),
  );
}

Deno.test("fieldArithmetic: published sanity values of both fields", () => {
  assert.equal(fieldArithmetic(8).mul(2, 128), 29);
  assert.equal(fieldArithmetic(8).mul(141, 129), 80);
  assert.equal(fieldArithmetic(8).inv(141), 105);
  assert.equal(fieldArithmetic(16).mul(2, 32768), 4107);
  assert.equal(fieldArithmetic(16).inv(48386), 15748);
  assert.ok(fieldArithmetic(16).zeros(3) instanceof Uint16Array);
  assert.ok(fieldArithmetic(8).zeros(3) instanceof Uint8Array);
});

Deno.test("GF(2^16) invert: m · m⁻¹ = I for random matrices", () => {
  const next = rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = 1 + trial % 12;
    const m = random16(next, n, n);
    let inverse;
    try {
      inverse = fieldInvert(16, m);
    } catch (e) {
      // A random matrix is singular with probability ~1/65536; then its rank must say so.
      assert.ok(e instanceof SingularMatrixError);
      assert.ok(fieldRank(16, m) < n);
      continue;
    }
    assert.deepEqual(fieldMultiply(16, m, inverse), fieldIdentity(16, n));
    assert.deepEqual(fieldMultiply(16, inverse, m), fieldIdentity(16, n));
  }
});

Deno.test("GF(2^16) invert: a matrix with a dependent row is singular, with its rank", () => {
  const next = rng(11);
  const m = random16(next, 4, 5).slice(0, 4).map((r) => r.slice(0, 5));
  // Row 3 = 7·row 0 + row 1: rank 3 at most (and 3 for random rows 0..2).
  m[3] = m[0]!.map((v, j) => gf65536.mul(7, v) ^ m[1]![j]!);
  const square = m.map((r) => r.slice(0, 4));
  assert.equal(fieldRank(16, square), 3);
  assert.throws(
    () => fieldInvert(16, square),
    (e) => e instanceof SingularMatrixError && e.rank === 3,
  );
  assert.deepEqual(fieldIndependentRows(16, m), [0, 1, 2]);
});

Deno.test("GF(2^8) routines agree with src/gf/matrix.ts", () => {
  const next = rng(3);
  for (let trial = 0; trial < 20; trial++) {
    const m = Array.from({ length: 6 }, () => Uint8Array.from({ length: 5 }, () => next() & 3));
    assert.equal(fieldRank(8, m), rank8(m));
  }
  assert.deepEqual(unitVector(8, 3, 2), Uint8Array.of(0, 0, 1));
  assert.deepEqual(unitVector(16, 2, 0), Uint16Array.of(1, 0));
});

Deno.test("combinationOf: finds coefficients of a vector in the span, in both fields", () => {
  const next = rng(5);
  for (const width of [8, 16] as const) {
    const f = fieldArithmetic(width);
    for (let trial = 0; trial < 10; trial++) {
      const rows: FieldVector[] = Array.from({ length: 5 }, () => {
        const v = f.zeros(7);
        for (let j = 0; j < 7; j++) v[j] = next() & f.max;
        return v;
      });
      // A dependent row in the middle must get no weight it cannot have.
      rows[2] = rows[0]!.map((v, j) => f.mul(3, v) ^ rows[1]![j]!);
      const want = [next() & f.max, next() & f.max, 0, next() & f.max, next() & f.max];
      const target = f.zeros(7);
      want.forEach((c, i) => rows[i]!.forEach((v, j) => target[j]! ^= f.mul(c, v)));
      const x = combinationOf(width, rows, target)!;
      assert.ok(x !== undefined);
      const back = f.zeros(7);
      x.forEach((c, i) => rows[i]!.forEach((v, j) => back[j]! ^= f.mul(c, v)));
      assert.deepEqual(back, target);
      assert.equal(x[2], 0, "a row dependent on earlier ones is not used");
    }
    // Outside the span: e_6 when every row is 0 in column 6.
    const rows = [unitVector(width, 7, 0), unitVector(width, 7, 1)];
    assert.equal(combinationOf(width, rows, unitVector(width, 7, 6)), undefined);
  }
});
