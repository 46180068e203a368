/**
 * Dense matrices over GF(2^8) (polynomial 0x11D): the linear algebra that builds generator
 * matrices and derives decoders. A {@linkcode Matrix} is an array of `Uint8Array` rows, all of
 * the same length. Every function returns new matrices and leaves its arguments untouched.
 *
 * @module
 */

import { INV, MUL_TABLE } from "./gf256.ts";
import type { Matrix } from "./region.ts";

export type { Matrix } from "./region.ts";

/**
 * Thrown when a matrix that must be invertible is not: its rows are linearly dependent, so the
 * blocks they describe cannot be decoded.
 *
 * @example
 * ```ts
 * import { invert, SingularMatrixError } from "./matrix.ts";
 * try {
 *   invert([Uint8Array.of(1, 2), Uint8Array.of(1, 2)]);
 * } catch (e) {
 *   if (e instanceof SingularMatrixError) console.log(e.rank); // 1
 * }
 * ```
 */
export class SingularMatrixError extends Error {
  /** The number of rows (and columns) of the matrix. */
  readonly size: number;
  /** Its rank, less than `size`. */
  readonly rank: number;

  /**
   * Creates the error.
   *
   * @param size The number of rows of the square matrix.
   * @param rank Its rank.
   */
  constructor(size: number, rank: number) {
    super(
      `matrix is singular: its ${size} rows have rank ${rank}, so it has no inverse ` +
        `(${size - rank} row(s) depend on the others)`,
    );
    this.name = "SingularMatrixError";
    this.size = size;
    this.rank = rank;
  }
}

/** The number of columns, after checking that every row has it. */
function columns(m: Matrix, name = "matrix"): number {
  const cols = m[0]?.length ?? 0;
  for (let i = 1; i < m.length; i++) {
    if (m[i]!.length !== cols) {
      throw new RangeError(
        `${name} is not rectangular: row ${i} has ${m[i]!.length} entries, row 0 has ${cols}`,
      );
    }
  }
  return cols;
}

function checkSquare(m: Matrix, name = "matrix"): number {
  const cols = columns(m, name);
  if (cols !== m.length && m.length > 0) {
    throw new RangeError(`${name} must be square, got ${m.length}x${cols}`);
  }
  return m.length;
}

function copy(m: Matrix): Matrix {
  return m.map((row) => row.slice());
}

/** `row ^= c · pivotRow` for the entries from `from` on (earlier ones are known to be 0). */
function addScaledRow(row: Uint8Array, c: number, pivotRow: Uint8Array, from: number): void {
  const t = c << 8;
  for (let j = from; j < row.length; j++) row[j]! ^= MUL_TABLE[t | pivotRow[j]!]!;
}

function scaleRow(row: Uint8Array, c: number): void {
  const t = c << 8;
  for (let j = 0; j < row.length; j++) row[j] = MUL_TABLE[t | row[j]!]!;
}

/**
 * The `n`×`n` identity matrix.
 *
 * @example
 * ```ts
 * import { identity } from "./matrix.ts";
 * console.log(identity(2)); // [ Uint8Array(2) [ 1, 0 ], Uint8Array(2) [ 0, 1 ] ]
 * ```
 *
 * @param n The size, a non-negative integer.
 * @returns A new matrix.
 */
export function identity(n: number): Matrix {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m[i]![i] = 1;
  return m;
}

/**
 * A `rows`×`cols` matrix of zeros.
 *
 * @example
 * ```ts
 * import { zeros } from "./matrix.ts";
 * console.log(zeros(1, 3)); // [ Uint8Array(3) [ 0, 0, 0 ] ]
 * ```
 *
 * @param rows The number of rows.
 * @param cols The number of columns.
 * @returns A new matrix.
 * @throws {RangeError} When a dimension is not a non-negative integer.
 */
export function zeros(rows: number, cols: number): Matrix {
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(cols) || cols < 0) {
    throw new RangeError(`matrix dimensions must be non-negative integers, got ${rows}x${cols}`);
  }
  return Array.from({ length: rows }, () => new Uint8Array(cols));
}

/**
 * The product `a · b`.
 *
 * @example
 * ```ts
 * import { multiply } from "./matrix.ts";
 * const p = multiply([Uint8Array.of(2, 1)], [Uint8Array.of(128), Uint8Array.of(1)]);
 * console.log(p[0]![0]); // 28, that is 2·128 + 1
 * ```
 *
 * @param a An `r`×`n` matrix.
 * @param b An `n`×`c` matrix.
 * @returns The `r`×`c` product.
 * @throws {RangeError} When the inner dimensions differ or a matrix is not rectangular.
 */
export function multiply(a: Matrix, b: Matrix): Matrix {
  const inner = columns(a, "left matrix");
  const cols = columns(b, "right matrix");
  if (inner !== b.length && a.length > 0) {
    throw new RangeError(
      `cannot multiply a ${a.length}x${inner} matrix by a ${b.length}x${cols} matrix`,
    );
  }
  const out = zeros(a.length, cols);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    const oi = out[i]!;
    for (let t = 0; t < inner; t++) {
      const c = ai[t]!;
      if (c !== 0) addScaledRow(oi, c, b[t]!, 0);
    }
  }
  return out;
}

/**
 * The inverse of a square matrix, by Gauss-Jordan elimination.
 *
 * @example
 * ```ts
 * import { equals, identity, invert, multiply } from "./matrix.ts";
 * const m = [Uint8Array.of(1, 2), Uint8Array.of(3, 4)];
 * console.log(equals(multiply(m, invert(m)), identity(2))); // true
 * ```
 *
 * @param m A square matrix.
 * @returns `m⁻¹`.
 * @throws {SingularMatrixError} When `m` is not invertible.
 * @throws {RangeError} When `m` is not square.
 */
export function invert(m: Matrix): Matrix {
  const n = checkSquare(m);
  return gaussJordan(m, identity(n));
}

/**
 * Solves `a · x = b` for `x`, where `a` is square and invertible. `b` is either a matrix (each
 * column one right-hand side; the result has the same shape) or a vector (a `Uint8Array` of
 * `a.length` entries; the result is a vector).
 *
 * @example
 * ```ts
 * import { solve } from "./matrix.ts";
 * const x = solve([Uint8Array.of(1, 1), Uint8Array.of(0, 1)], Uint8Array.of(3, 1));
 * console.log(x); // Uint8Array(2) [ 2, 1 ]
 * ```
 *
 * @param a A square, invertible matrix.
 * @param b The right-hand side(s), with `a.length` rows.
 * @returns The `x` with `a · x = b`.
 * @throws {SingularMatrixError} When `a` is not invertible.
 * @throws {RangeError} When the shapes do not fit.
 */
export function solve(a: Matrix, b: Uint8Array): Uint8Array;
/**
 * The same for a matrix `b`: each column is one right-hand side.
 *
 * @param a A square, invertible matrix.
 * @param b The right-hand sides, with `a.length` rows.
 * @returns The `x` with `a · x = b`, of the shape of `b`.
 */
export function solve(a: Matrix, b: Matrix): Matrix;
export function solve(a: Matrix, b: Matrix | Uint8Array): Matrix | Uint8Array {
  const n = checkSquare(a, "coefficient matrix");
  if (b instanceof Uint8Array) {
    if (b.length !== n) {
      throw new RangeError(`right-hand side has ${b.length} entries, expected ${n}`);
    }
    return Uint8Array.from(gaussJordan(a, Array.from(b, (v) => Uint8Array.of(v))), (r) => r[0]!);
  }
  columns(b, "right-hand side");
  if (b.length !== n) {
    throw new RangeError(`right-hand side has ${b.length} rows, expected ${n}`);
  }
  return gaussJordan(a, copy(b));
}

/**
 * Reduces `[a | rhs]` until `a` is the identity; returns what `rhs` became, `a⁻¹ · rhs`.
 * `rhs` is modified in place.
 */
function gaussJordan(a: Matrix, rhs: Matrix): Matrix {
  const n = a.length;
  const w = copy(a);
  for (let col = 0; col < n; col++) {
    let p = col;
    while (p < n && w[p]![col] === 0) p++;
    if (p === n) throw new SingularMatrixError(n, rank(a));
    if (p !== col) {
      [w[p], w[col]] = [w[col]!, w[p]!];
      [rhs[p], rhs[col]] = [rhs[col]!, rhs[p]!];
    }
    const pivotRow = w[col]!;
    const pivotRhs = rhs[col]!;
    const scale = INV[pivotRow[col]!]!;
    scaleRow(pivotRow, scale);
    scaleRow(pivotRhs, scale);
    for (let i = 0; i < n; i++) {
      const c = w[i]![col]!;
      if (i === col || c === 0) continue;
      addScaledRow(w[i]!, c, pivotRow, col);
      addScaledRow(rhs[i]!, c, pivotRhs, 0);
    }
  }
  return rhs;
}

/**
 * The indices of a maximal set of linearly independent rows, chosen greedily in order: row `i`
 * is taken when it is independent of the rows taken before it, and the scan stops once `want`
 * rows are taken. So the result is the lexicographically first basis of the row space (or of a
 * `want`-dimensional part of it), which lets a decoder prefer the blocks listed first (e.g.
 * local or systematic ones). Its length is the rank when `want` is not reached.
 *
 * @example
 * ```ts
 * import { independentRows } from "./matrix.ts";
 * const m = [Uint8Array.of(1, 0), Uint8Array.of(2, 0), Uint8Array.of(1, 1)];
 * console.log(independentRows(m)); // [ 0, 2 ]
 * ```
 *
 * @param m Any rectangular matrix.
 * @param want Stop after this many rows (default: no limit).
 * @returns Increasing row indices.
 * @throws {RangeError} When `m` is not rectangular.
 */
export function independentRows(m: Matrix, want = Infinity): number[] {
  const cols = columns(m);
  // Each basis row is normalised (1 at its pivot) and already reduced by every earlier basis
  // row, so reducing a candidate by the basis in order never reintroduces an earlier pivot.
  const basis: { row: Uint8Array; pivot: number }[] = [];
  const taken: number[] = [];
  for (let i = 0; i < m.length && taken.length < want; i++) {
    const r = m[i]!.slice();
    for (const b of basis) {
      const c = r[b.pivot]!;
      if (c !== 0) addScaledRow(r, c, b.row, 0);
    }
    let pivot = 0;
    while (pivot < cols && r[pivot] === 0) pivot++;
    if (pivot === cols) continue;
    scaleRow(r, INV[r[pivot]!]!);
    basis.push({ row: r, pivot });
    taken.push(i);
  }
  return taken;
}

/**
 * The rank of a matrix (the dimension of its row space).
 *
 * @example
 * ```ts
 * import { rank } from "./matrix.ts";
 * console.log(rank([Uint8Array.of(1, 2), Uint8Array.of(2, 4)])); // 1, since 2·(1,2) = (2,4)
 * ```
 *
 * @param m Any rectangular matrix.
 * @returns The rank.
 * @throws {RangeError} When `m` is not rectangular.
 */
export function rank(m: Matrix): number {
  return independentRows(m).length;
}

/**
 * A new matrix made of copies of the given rows of `m`, in the given order (repeats allowed).
 *
 * @example
 * ```ts
 * import { identity, subMatrix } from "./matrix.ts";
 * console.log(subMatrix(identity(3), [2, 0])); // [ [ 0, 0, 1 ], [ 1, 0, 0 ] ]
 * ```
 *
 * @param m The matrix.
 * @param rowIndices Indices of rows of `m`.
 * @returns The selected rows.
 * @throws {RangeError} When an index is not a row of `m`.
 */
export function subMatrix(m: Matrix, rowIndices: readonly number[]): Matrix {
  return rowIndices.map((i) => {
    const row = Number.isInteger(i) ? m[i] : undefined;
    if (row === undefined) {
      throw new RangeError(`row index ${i} is out of range for a matrix of ${m.length} rows`);
    }
    return row.slice();
  });
}

/**
 * The Vandermonde matrix `V[i][j] = iʲ` (with `0⁰ = 1`), for evaluation points 0..rows-1.
 * Any `cols` of its rows are independent; note that `[I; V]` is *not* systematic-MDS as is
 * (Jerasure first reduces it), so prefer {@linkcode systematicCauchyGenerator} for RS codes.
 *
 * @example
 * ```ts
 * import { vandermonde } from "./matrix.ts";
 * console.log(vandermonde(3, 3)[2]); // Uint8Array(3) [ 1, 2, 4 ]
 * ```
 *
 * @param rows The number of rows, at most 256 (the distinct points).
 * @param cols The number of columns.
 * @returns A new matrix.
 * @throws {RangeError} When `rows` exceeds 256 or a dimension is invalid.
 */
export function vandermonde(rows: number, cols: number): Matrix {
  const m = zeros(rows, cols);
  if (rows > 256) throw new RangeError(`a Vandermonde matrix has at most 256 rows, got ${rows}`);
  for (let i = 0; i < rows; i++) {
    let p = 1;
    for (let j = 0; j < cols; j++) {
      m[i]![j] = p;
      p = MUL_TABLE[p << 8 | i]!;
    }
  }
  return m;
}

/**
 * The Cauchy matrix `C[i][j] = 1 / (xᵢ + yⱼ)` with `xᵢ = cols + i` and `yⱼ = j`: all points
 * distinct, so `xᵢ + yⱼ` (XOR) is never 0 and every square submatrix is invertible. These are
 * the points of ISA-L's `gf_gen_cauchy1_matrix`, so parity built from it matches ISA-L.
 *
 * @example
 * ```ts
 * import { cauchy } from "./matrix.ts";
 * import { inv } from "./gf256.ts";
 * console.log(cauchy(1, 2)[0]![0] === inv(2)); // true: x₀ = 2, y₀ = 0
 * ```
 *
 * @param rows The number of rows (parity blocks).
 * @param cols The number of columns (data blocks); `rows + cols` at most 256.
 * @returns A new matrix.
 * @throws {RangeError} When `rows + cols` exceeds 256 or a dimension is invalid.
 */
export function cauchy(rows: number, cols: number): Matrix {
  const m = zeros(rows, cols);
  if (rows + cols > 256) {
    throw new RangeError(`a Cauchy matrix needs rows + cols <= 256, got ${rows} + ${cols}`);
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) m[i]![j] = INV[(cols + i) ^ j]!;
  }
  return m;
}

/**
 * The generator of a systematic Reed-Solomon code: `identity(k)` on top of `cauchy(m, k)`, so
 * block `i < k` is data block `i` and block `k + i` is parity `i`. Every `k` of its `k + m`
 * rows form an invertible matrix, so any `k` surviving blocks decode.
 *
 * @example
 * ```ts
 * import { systematicCauchyGenerator } from "./matrix.ts";
 * const g = systematicCauchyGenerator(11, 5);
 * console.log(g.length, g[0]!.length); // 16 11
 * ```
 *
 * @param k The number of data blocks, at least 1.
 * @param m The number of parity blocks; `k + m` at most 256.
 * @returns A new `(k + m)`×`k` matrix.
 * @throws {RangeError} When the sizes are invalid.
 */
export function systematicCauchyGenerator(k: number, m: number): Matrix {
  if (!Number.isSafeInteger(k) || k < 1) {
    throw new RangeError(`k must be a positive integer, got ${k}`);
  }
  return [...identity(k), ...cauchy(m, k)];
}

/**
 * The transpose of a matrix.
 *
 * @example
 * ```ts
 * import { transpose } from "./matrix.ts";
 * console.log(transpose([Uint8Array.of(1, 2)])); // [ Uint8Array(1) [ 1 ], Uint8Array(1) [ 2 ] ]
 * ```
 *
 * @param m Any rectangular matrix.
 * @returns A new matrix with `t[j][i] = m[i][j]`.
 * @throws {RangeError} When `m` is not rectangular.
 */
export function transpose(m: Matrix): Matrix {
  const cols = columns(m);
  const t = zeros(cols, m.length);
  for (let i = 0; i < m.length; i++) {
    for (let j = 0; j < cols; j++) t[j]![i] = m[i]![j]!;
  }
  return t;
}

/**
 * Whether two matrices have the same shape and entries.
 *
 * @example
 * ```ts
 * import { equals, identity } from "./matrix.ts";
 * console.log(equals(identity(2), [Uint8Array.of(1, 0), Uint8Array.of(0, 1)])); // true
 * ```
 *
 * @param a A matrix.
 * @param b A matrix.
 * @returns `true` when they are equal.
 */
export function equals(a: Matrix, b: Matrix): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const ra = a[i]!, rb = b[i]!;
    if (ra.length !== rb.length) return false;
    for (let j = 0; j < ra.length; j++) if (ra[j] !== rb[j]) return false;
  }
  return true;
}
