import assert from "node:assert/strict";
import { inv, mul } from "../../src/gf/gf256.ts";
import {
  cauchy,
  equals,
  identity,
  independentRows,
  invert,
  type Matrix,
  multiply,
  rank,
  SingularMatrixError,
  solve,
  subMatrix,
  systematicCauchyGenerator,
  transpose,
  vandermonde,
  zeros,
} from "../../src/gf/matrix.ts";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
}

function randomMatrix(rnd: () => number, rows: number, cols: number): Matrix {
  return Array.from({ length: rows }, () => Uint8Array.from({ length: cols }, rnd));
}

/** Matrix product by the definition, with the scalar `mul`. */
function slowMultiply(a: Matrix, b: Matrix): Matrix {
  const cols = b[0]?.length ?? 0;
  return a.map((row) =>
    Uint8Array.from({ length: cols }, (_, j) => {
      let s = 0;
      for (let t = 0; t < row.length; t++) s ^= mul(row[t]!, b[t]![j]!);
      return s;
    })
  );
}

function* combinations(
  n: number,
  k: number,
  start = 0,
  prefix: number[] = [],
): Generator<number[]> {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = start; i <= n - (k - prefix.length); i++) {
    yield* combinations(n, k, i + 1, [...prefix, i]);
  }
}

Deno.test("matrix: multiply matches the definition; identity is neutral", () => {
  const rnd = lcg(5);
  for (let i = 0; i < 50; i++) {
    const a = randomMatrix(rnd, 4, 6), b = randomMatrix(rnd, 6, 3);
    assert.deepEqual(multiply(a, b), slowMultiply(a, b));
    assert.deepEqual(multiply(identity(4), a), a);
    assert.deepEqual(multiply(a, identity(6)), a);
  }
  assert.throws(() => multiply(zeros(2, 3), zeros(2, 3)), RangeError);
  assert.throws(() => multiply([Uint8Array.of(1), Uint8Array.of(1, 2)], zeros(1, 1)), RangeError);
});

Deno.test("matrix: random invertible matrices round trip through invert", () => {
  const rnd = lcg(9);
  let inverted = 0;
  for (let i = 0; i < 300; i++) {
    const n = 1 + (i % 12);
    const m = randomMatrix(rnd, n, n);
    if (rank(m) < n) {
      assert.throws(() => invert(m), SingularMatrixError);
      continue;
    }
    const mi = invert(m);
    assert.ok(equals(slowMultiply(m, mi), identity(n)), `m·m⁻¹ = I, n=${n}`);
    assert.ok(equals(slowMultiply(mi, m), identity(n)), `m⁻¹·m = I, n=${n}`);
    inverted++;
  }
  assert.ok(inverted > 250, "most random matrices are invertible");
  assert.deepEqual(invert([Uint8Array.of(141)]), [Uint8Array.of(inv(141))]);
  assert.deepEqual(invert([]), []);
});

Deno.test("matrix: singular matrices throw SingularMatrixError and have rank < n", () => {
  const rnd = lcg(13);
  for (let i = 0; i < 50; i++) {
    const n = 2 + (i % 8);
    const dup = randomMatrix(rnd, n, n);
    dup[n - 1] = dup[0]!.slice();
    const zero = randomMatrix(rnd, n, n);
    zero[i % n]!.fill(0);
    const scaled = randomMatrix(rnd, n, n);
    scaled[1] = scaled[0]!.map((v) => mul(v, 7));
    for (const m of [dup, zero, scaled]) {
      assert.ok(rank(m) < n);
      assert.throws(() => invert(m), (e: unknown) => {
        assert.ok(e instanceof SingularMatrixError);
        assert.ok(e instanceof Error);
        assert.equal(e.name, "SingularMatrixError");
        assert.match(e.message, /singular/);
        assert.equal(e.rank, rank(m));
        return true;
      });
      assert.throws(() => solve(m, new Uint8Array(n)), SingularMatrixError);
    }
  }
  assert.throws(() => invert(zeros(2, 3)), RangeError, "not square");
});

Deno.test("matrix: solve round trips for vectors and matrices", () => {
  const rnd = lcg(17);
  for (let i = 0; i < 100; i++) {
    const n = 1 + (i % 10);
    const a = randomMatrix(rnd, n, n);
    if (rank(a) < n) continue;
    const x = Uint8Array.from({ length: n }, rnd);
    const b = slowMultiply(a, Array.from(x, (v) => Uint8Array.of(v))).map((r) => r[0]!);
    assert.deepEqual(solve(a, Uint8Array.from(b)), x);
    const xs = randomMatrix(rnd, n, 3);
    assert.deepEqual(solve(a, slowMultiply(a, xs)), xs);
  }
  assert.throws(() => solve(identity(3), new Uint8Array(2)), RangeError);
  assert.throws(() => solve(identity(3), zeros(2, 1)), RangeError);
});

Deno.test("matrix: rank and independentRows choose greedily in order", () => {
  const m = [
    Uint8Array.of(0, 0, 0),
    Uint8Array.of(1, 2, 3),
    Uint8Array.of(1, 2, 3).map((v) => mul(v, 2)),
    Uint8Array.of(0, 1, 0),
    Uint8Array.of(1, 3, 3),
    Uint8Array.of(0, 0, 5),
    Uint8Array.of(9, 9, 9),
  ];
  // Row 2 is 2·row 1, row 4 is row 1 + row 3.
  assert.deepEqual(independentRows(m), [1, 3, 5]);
  assert.deepEqual(independentRows(m, 2), [1, 3]);
  assert.equal(rank(m), 3);
  assert.equal(rank(identity(7)), 7);
  assert.equal(rank(zeros(3, 4)), 0);
  assert.equal(rank([]), 0);
  const rnd = lcg(19);
  for (let i = 0; i < 50; i++) {
    const a = randomMatrix(rnd, 3, 5), b = randomMatrix(rnd, 5, 3);
    assert.ok(rank(multiply(b, a)) <= 3, "a 5x5 product through 3 dimensions has rank <= 3");
    const picked = independentRows(multiply(b, a));
    assert.equal(rank(subMatrix(multiply(b, a), picked)), picked.length);
  }
});

Deno.test("matrix: every 11 of the 16 rows of systematicCauchyGenerator(11, 5) are invertible", () => {
  const g = systematicCauchyGenerator(11, 5);
  assert.equal(g.length, 16);
  assert.deepEqual(g.slice(0, 11), identity(11));
  let count = 0;
  for (const rows of combinations(16, 11)) {
    const sub = subMatrix(g, rows);
    assert.equal(rank(sub), 11, `rows ${rows}`);
    count++;
  }
  assert.equal(count, 4368);
  // And a decoder derived by inversion recovers the data from an arbitrary surviving set.
  const survivors = [1, 2, 4, 5, 7, 8, 10, 11, 12, 14, 15];
  const decoder = invert(subMatrix(g, survivors));
  assert.ok(equals(multiply(decoder, subMatrix(g, survivors)), identity(11)));
});

Deno.test("matrix: cauchy entries are 1/(x_i + y_j) with x_i = cols + i, y_j = j", () => {
  const c = cauchy(5, 11);
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 11; j++) assert.equal(mul(c[i]![j]!, (11 + i) ^ j), 1);
  }
  // Every 2x2 minor of a Cauchy matrix is nonsingular.
  for (let i = 0; i < 5; i++) {
    for (let i2 = i + 1; i2 < 5; i2++) {
      for (let j = 0; j < 11; j++) {
        for (let j2 = j + 1; j2 < 11; j2++) {
          assert.equal(
            rank([Uint8Array.of(c[i]![j]!, c[i]![j2]!), Uint8Array.of(c[i2]![j]!, c[i2]![j2]!)]),
            2,
          );
        }
      }
    }
  }
  assert.throws(() => cauchy(200, 57), RangeError);
});

Deno.test("matrix: vandermonde rows are powers; any cols rows are independent", () => {
  const v = vandermonde(20, 4);
  for (let i = 0; i < 20; i++) {
    let p = 1;
    for (let j = 0; j < 4; j++) {
      assert.equal(v[i]![j], p);
      p = mul(p, i);
    }
  }
  for (const rows of combinations(20, 4)) {
    if (rows[0]! % 3 === 0) assert.equal(rank(subMatrix(v, rows)), 4);
  }
  assert.throws(() => vandermonde(257, 2), RangeError);
});

Deno.test("matrix: transpose, equals, subMatrix, zeros", () => {
  const m = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6)];
  assert.deepEqual(transpose(m), [Uint8Array.of(1, 4), Uint8Array.of(2, 5), Uint8Array.of(3, 6)]);
  assert.deepEqual(transpose(transpose(m)), m);
  assert.ok(equals(m, [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6)]));
  assert.ok(!equals(m, [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 7)]));
  assert.ok(!equals(m, [Uint8Array.of(1, 2, 3)]));
  assert.ok(!equals([Uint8Array.of(1)], [Uint8Array.of(1, 0)]));
  const sub = subMatrix(m, [1, 1, 0]);
  assert.deepEqual(sub, [m[1], m[1], m[0]]);
  sub[0]![0] = 99;
  assert.equal(m[1]![0], 4, "subMatrix copies rows");
  assert.throws(() => subMatrix(m, [2]), RangeError);
  assert.throws(() => zeros(-1, 2), RangeError);
  assert.deepEqual(zeros(2, 1), [Uint8Array.of(0), Uint8Array.of(0)]);
});

Deno.test("matrix: functions leave their arguments untouched", () => {
  const rnd = lcg(23);
  const m = randomMatrix(rnd, 6, 6);
  m[5] = m[4]!.slice();
  const before = m.map((r) => r.slice());
  rank(m);
  independentRows(m);
  assert.throws(() => invert(m));
  multiply(m, m);
  transpose(m);
  assert.deepEqual(m, before);
});
