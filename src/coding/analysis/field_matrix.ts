/**
 * Vectors and matrices over the field of a coding module, GF(2^8) or GF(2^16): the linear
 * algebra of symbolic execution and derived decoders. A GF(2^8) vector is a `Uint8Array` and a
 * GF(2^8) matrix is exactly a `Matrix` of `src/gf/matrix.ts` (whose fast table-driven routines
 * do the work); a GF(2^16) vector is a `Uint16Array`, handled by a small generic elimination
 * here because `src/gf/matrix.ts` is GF(2^8) only.
 *
 * @module
 */

import * as gf256 from "../../gf/gf256.ts";
import * as gf65536 from "../../gf/gf65536.ts";
import {
  identity as identity8,
  independentRows as independentRows8,
  invert as invert8,
  type Matrix,
  multiply as multiply8,
  SingularMatrixError,
} from "../../gf/matrix.ts";
import type { FieldWidth } from "../lang/program.ts";

/**
 * A vector of field elements: `Uint8Array` in GF(2^8), `Uint16Array` in GF(2^16).
 *
 * @example
 * ```ts
 * import type { FieldVector } from "./field_matrix.ts";
 * const e0: FieldVector = Uint8Array.of(1, 0, 0);
 * ```
 */
export type FieldVector = Uint8Array | Uint16Array;

/**
 * A matrix as an array of rows of one field (all `Uint8Array` or all `Uint16Array`, all of the
 * same length). In GF(2^8) it is a `Matrix` of `src/gf/matrix.ts`.
 *
 * @example
 * ```ts
 * import type { FieldMatrix } from "./field_matrix.ts";
 * const g: FieldMatrix = [Uint16Array.of(1, 0), Uint16Array.of(4107, 2)];
 * ```
 */
export type FieldMatrix = FieldVector[];

/**
 * The scalar arithmetic of one field, enough for elimination.
 *
 * @example
 * ```ts
 * import { fieldArithmetic } from "./field_matrix.ts";
 * console.log(fieldArithmetic(16).mul(2, 32768)); // 4107
 * ```
 */
export interface FieldArithmetic {
  /** 8 or 16. */
  readonly width: FieldWidth;
  /** The largest element, `2^width - 1`. */
  readonly max: number;
  /** `a · b`. */
  mul(a: number, b: number): number;
  /** `a⁻¹` (a ≠ 0). */
  inv(a: number): number;
  /** A new zero vector of the given length. */
  zeros(length: number): FieldVector;
}

const GF256: FieldArithmetic = {
  width: 8,
  max: 255,
  mul: (a, b) => gf256.MUL_TABLE[a << 8 | b]!,
  inv: (a) => gf256.inv(a),
  zeros: (length) => new Uint8Array(length),
};

const GF65536: FieldArithmetic = {
  width: 16,
  max: 65535,
  mul: (a, b) => a === 0 || b === 0 ? 0 : gf65536.EXP[gf65536.LOG[a]! + gf65536.LOG[b]!]!,
  inv: (a) => gf65536.inv(a),
  zeros: (length) => new Uint16Array(length),
};

/**
 * The arithmetic of GF(2^8) or GF(2^16).
 *
 * @example
 * ```ts
 * import { fieldArithmetic } from "./field_matrix.ts";
 * console.log(fieldArithmetic(8).inv(141)); // 105
 * ```
 *
 * @param width 8 or 16.
 * @returns The field's arithmetic.
 * @throws {RangeError} When `width` is neither 8 nor 16.
 */
export function fieldArithmetic(width: FieldWidth): FieldArithmetic {
  if (width === 8) return GF256;
  if (width === 16) return GF65536;
  throw new RangeError(`field width must be 8 or 16, got ${width}`);
}

/**
 * The unit vector `e_j` of length `k`.
 *
 * @example
 * ```ts
 * import { unitVector } from "./field_matrix.ts";
 * console.log(unitVector(8, 3, 1)); // Uint8Array(3) [ 0, 1, 0 ]
 * ```
 *
 * @param width The field.
 * @param k The length.
 * @param j The position of the 1, in 0..k-1.
 * @returns A new vector.
 */
export function unitVector(width: FieldWidth, k: number, j: number): FieldVector {
  const v = fieldArithmetic(width).zeros(k);
  v[j] = 1;
  return v;
}

/**
 * The `n`×`n` identity matrix of the field.
 *
 * @example
 * ```ts
 * import { fieldIdentity } from "./field_matrix.ts";
 * console.log(fieldIdentity(16, 2)[1]); // Uint16Array(2) [ 0, 1 ]
 * ```
 *
 * @param width The field.
 * @param n The size.
 * @returns A new matrix.
 */
export function fieldIdentity(width: FieldWidth, n: number): FieldMatrix {
  if (width === 8) return identity8(n);
  return Array.from({ length: n }, (_, j) => unitVector(width, n, j));
}

/** `row ^= c · pivot`, for entries from `from` on. */
function addScaled(f: FieldArithmetic, row: FieldVector, c: number, pivot: FieldVector, from = 0) {
  for (let j = from; j < row.length; j++) {
    const p = pivot[j]!;
    if (p !== 0) row[j]! ^= f.mul(c, p);
  }
}

function scale(f: FieldArithmetic, row: FieldVector, c: number): void {
  for (let j = 0; j < row.length; j++) row[j] = f.mul(c, row[j]!);
}

function columnsOf(m: readonly FieldVector[]): number {
  const cols = m[0]?.length ?? 0;
  for (let i = 1; i < m.length; i++) {
    if (m[i]!.length !== cols) {
      throw new RangeError(
        `matrix is not rectangular: row ${i} has ${m[i]!.length} entries, row 0 has ${cols}`,
      );
    }
  }
  return cols;
}

/**
 * The indices of a maximal set of independent rows, chosen greedily in order (the
 * lexicographically first basis), stopping after `want` rows. Same contract as
 * `independentRows` of `src/gf/matrix.ts`, for either field.
 *
 * @example
 * ```ts
 * import { fieldIndependentRows } from "./field_matrix.ts";
 * const m = [Uint16Array.of(1, 0), Uint16Array.of(2, 0), Uint16Array.of(1, 1)];
 * console.log(fieldIndependentRows(16, m)); // [ 0, 2 ]
 * ```
 *
 * @param width The field.
 * @param m Any rectangular matrix of that field.
 * @param want Stop after this many rows (default: no limit).
 * @returns Increasing row indices.
 */
export function fieldIndependentRows(
  width: FieldWidth,
  m: readonly FieldVector[],
  want = Infinity,
): number[] {
  if (width === 8) return independentRows8(m as Matrix, want);
  const f = fieldArithmetic(width);
  const cols = columnsOf(m);
  const basis: { row: FieldVector; pivot: number }[] = [];
  const taken: number[] = [];
  for (let i = 0; i < m.length && taken.length < want; i++) {
    const r = m[i]!.slice();
    for (const b of basis) {
      const c = r[b.pivot]!;
      if (c !== 0) addScaled(f, r, c, b.row);
    }
    let pivot = 0;
    while (pivot < cols && r[pivot] === 0) pivot++;
    if (pivot === cols) continue;
    scale(f, r, f.inv(r[pivot]!));
    basis.push({ row: r, pivot });
    taken.push(i);
  }
  return taken;
}

/**
 * The rank of a matrix of either field.
 *
 * @example
 * ```ts
 * import { fieldRank } from "./field_matrix.ts";
 * console.log(fieldRank(16, [Uint16Array.of(1, 2), Uint16Array.of(2, 4)])); // 1
 * ```
 *
 * @param width The field.
 * @param m Any rectangular matrix of that field.
 * @returns The rank.
 */
export function fieldRank(width: FieldWidth, m: readonly FieldVector[]): number {
  return fieldIndependentRows(width, m).length;
}

/**
 * The inverse of a square matrix of either field, by Gauss-Jordan elimination.
 *
 * @example
 * ```ts
 * import { fieldInvert, fieldMultiply } from "./field_matrix.ts";
 * const m = [Uint16Array.of(1, 2), Uint16Array.of(3, 4)];
 * console.log(fieldMultiply(16, m, fieldInvert(16, m))); // the identity
 * ```
 *
 * @param width The field.
 * @param m A square matrix of that field.
 * @returns `m⁻¹`.
 * @throws {SingularMatrixError} When `m` is not invertible.
 * @throws {RangeError} When `m` is not square.
 */
export function fieldInvert(width: FieldWidth, m: readonly FieldVector[]): FieldMatrix {
  if (width === 8) return invert8(m as Matrix);
  const f = fieldArithmetic(width);
  const n = m.length;
  if (n > 0 && columnsOf(m) !== n) {
    throw new RangeError(`matrix must be square, got ${n}x${m[0]!.length}`);
  }
  const w = m.map((r) => r.slice());
  const rhs = fieldIdentity(width, n);
  for (let col = 0; col < n; col++) {
    let p = col;
    while (p < n && w[p]![col] === 0) p++;
    if (p === n) throw new SingularMatrixError(n, fieldRank(width, m));
    if (p !== col) {
      [w[p], w[col]] = [w[col]!, w[p]!];
      [rhs[p], rhs[col]] = [rhs[col]!, rhs[p]!];
    }
    const s = f.inv(w[col]![col]!);
    scale(f, w[col]!, s);
    scale(f, rhs[col]!, s);
    for (let i = 0; i < n; i++) {
      const c = w[i]![col]!;
      if (i === col || c === 0) continue;
      addScaled(f, w[i]!, c, w[col]!, col);
      addScaled(f, rhs[i]!, c, rhs[col]!);
    }
  }
  return rhs;
}

/**
 * The product `a · b` of two matrices of either field.
 *
 * @example
 * ```ts
 * import { fieldMultiply } from "./field_matrix.ts";
 * console.log(fieldMultiply(16, [Uint16Array.of(2)], [Uint16Array.of(32768)])); // [[4107]]
 * ```
 *
 * @param width The field.
 * @param a An `r`×`n` matrix.
 * @param b An `n`×`c` matrix.
 * @returns The `r`×`c` product.
 * @throws {RangeError} When the shapes do not fit.
 */
export function fieldMultiply(
  width: FieldWidth,
  a: readonly FieldVector[],
  b: readonly FieldVector[],
): FieldMatrix {
  if (width === 8) return multiply8(a as Matrix, b as Matrix);
  const f = fieldArithmetic(width);
  const inner = columnsOf(a);
  const cols = columnsOf(b);
  if (a.length > 0 && inner !== b.length) {
    throw new RangeError(
      `cannot multiply a ${a.length}x${inner} matrix by a ${b.length}x${cols} matrix`,
    );
  }
  return a.map((ai) => {
    const out = f.zeros(cols);
    for (let t = 0; t < inner; t++) {
      const c = ai[t]!;
      if (c !== 0) addScaled(f, out, c, b[t]!);
    }
    return out;
  });
}

/**
 * The coefficients `x` with `Σ_i x[i] · rows[i] = target`, when `target` lies in the span of
 * `rows` (which need not be independent: dependent rows get coefficient 0); `undefined` when it
 * does not. Used to rebuild one coded block from others.
 *
 * @example
 * ```ts
 * import { combinationOf } from "./field_matrix.ts";
 * const rows = [Uint8Array.of(1, 0), Uint8Array.of(0, 1)];
 * console.log(combinationOf(8, rows, Uint8Array.of(3, 5))); // [ 3, 5 ]
 * ```
 *
 * @param width The field.
 * @param rows Vectors of one length.
 * @param target A vector of that length.
 * @returns One coefficient per row, or `undefined`.
 */
export function combinationOf(
  width: FieldWidth,
  rows: readonly FieldVector[],
  target: FieldVector,
): number[] | undefined {
  const f = fieldArithmetic(width);
  const cols = target.length;
  columnsOf([...rows, target]);
  // Reduce each row against the basis while recording, for every basis row, which
  // combination of the original rows it is; then reduce the target the same way.
  const basis: { row: FieldVector; pivot: number; combo: FieldVector }[] = [];
  const reduce = (v: FieldVector, combo: FieldVector): void => {
    for (const b of basis) {
      const c = v[b.pivot]!;
      if (c !== 0) {
        addScaled(f, v, c, b.row);
        addScaled(f, combo, c, b.combo);
      }
    }
  };
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!.slice();
    const combo = f.zeros(rows.length);
    combo[i] = 1;
    reduce(r, combo);
    let pivot = 0;
    while (pivot < cols && r[pivot] === 0) pivot++;
    if (pivot === cols) continue;
    const s = f.inv(r[pivot]!);
    scale(f, r, s);
    scale(f, combo, s);
    // Keep the basis fully reduced, so reducing in basis order never reintroduces a pivot.
    for (const b of basis) {
      const c = b.row[pivot]!;
      if (c !== 0) {
        addScaled(f, b.row, c, r);
        addScaled(f, b.combo, c, combo);
      }
    }
    basis.push({ row: r, pivot, combo });
  }
  // target = Σ_b target[pivot_b] · basis_b when it is in the span (basis is reduced).
  const rest = target.slice();
  const x = f.zeros(rows.length);
  reduce(rest, x);
  if (rest.some((v) => v !== 0)) return undefined;
  // reduce() subtracted Σ c_b · basis_b from target; in characteristic 2, x = Σ c_b · combo_b.
  return Array.from(x);
}
