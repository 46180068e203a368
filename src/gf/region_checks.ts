/**
 * The argument checks every GF(2^8) region kernel makes, so the reference, the WebAssembly and
 * the ISA-L kernels reject exactly the same calls with the same messages.
 *
 * @module
 */
import type { Matrix } from "./region.ts";

/**
 * Throws unless `c` is an integer in 0..255.
 *
 * @example
 * ```ts
 * import { checkCoefficient } from "./region_checks.ts";
 * checkCoefficient(141); // fine
 * ```
 *
 * @param c The coefficient.
 * @throws {RangeError} Naming the value.
 */
export function checkCoefficient(c: number): void {
  if (!Number.isInteger(c) || c < 0 || c > 255) {
    throw new RangeError(`coefficient must be an integer in 0..255, got ${c}`);
  }
}

/**
 * Throws unless the two regions have the same length.
 *
 * @example
 * ```ts
 * import { checkSameLength } from "./region_checks.ts";
 * checkSameLength(new Uint8Array(4), new Uint8Array(4)); // fine
 * ```
 *
 * @param dst The destination region.
 * @param src The source region.
 * @throws {RangeError} Naming both lengths.
 */
export function checkSameLength(dst: Uint8Array, src: Uint8Array): void {
  if (dst.length !== src.length) {
    throw new RangeError(
      `region lengths differ: destination has ${dst.length} bytes, source has ${src.length}`,
    );
  }
}

/**
 * Throws unless `coeffs` has one row of `ins.length` valid coefficients per output and every
 * region has the same length.
 *
 * @example
 * ```ts
 * import { checkDotProduct } from "./region_checks.ts";
 * checkDotProduct([new Uint8Array(8)], [Uint8Array.of(1, 2)], [new Uint8Array(8), new Uint8Array(8)]);
 * ```
 *
 * @param outs The output regions.
 * @param coeffs The coefficient matrix.
 * @param ins The input regions.
 * @throws {RangeError} Naming the shape or length that does not fit.
 */
export function checkDotProduct(
  outs: readonly Uint8Array[],
  coeffs: Matrix,
  ins: readonly Uint8Array[],
): void {
  if (coeffs.length !== outs.length) {
    throw new RangeError(
      `coefficient matrix has ${coeffs.length} rows but there are ${outs.length} outputs`,
    );
  }
  for (let i = 0; i < coeffs.length; i++) {
    const row = coeffs[i]!;
    if (row.length !== ins.length) {
      throw new RangeError(
        `coefficient row ${i} has ${row.length} entries but there are ${ins.length} inputs`,
      );
    }
    // Uint8Array entries are always in 0..255; this guards plain arrays cast to Matrix.
    for (const c of row) checkCoefficient(c);
  }
  const n = outs[0]?.length ?? ins[0]?.length;
  for (const r of [...outs, ...ins]) {
    if (r.length !== n) {
      throw new RangeError(`region lengths differ: ${n} bytes and ${r.length} bytes`);
    }
  }
}

/**
 * Checks a dot product's arguments ({@linkcode checkDotProduct}) and does the calls that need
 * no kernel: with empty regions or no outputs nothing, with no inputs the outputs zeroed (left
 * as they are by `dotProductAdd`, which `adds` says).
 *
 * @example
 * ```ts
 * import { startDotProduct } from "./region_checks.ts";
 * const out = Uint8Array.of(7, 7);
 * console.log(startDotProduct([out], [new Uint8Array(0)], [])); // 0
 * console.log(out); // Uint8Array(2) [ 0, 0 ]
 * ```
 *
 * @param outs The output regions.
 * @param coeffs The coefficient matrix.
 * @param ins The input regions.
 * @param adds Whether the products are added to the outputs (`dotProductAdd`) instead of
 * overwriting them.
 * @param froms What `dotProductAdd` adds to when not the outputs themselves: checked to match
 * the outputs, and copied into them when there is no input.
 * @returns The regions' length when a kernel still has work to do, else 0 (the call is done).
 * @throws {RangeError} Naming the shape or length that does not fit.
 */
export function startDotProduct(
  outs: readonly Uint8Array[],
  coeffs: Matrix,
  ins: readonly Uint8Array[],
  adds = false,
  froms?: readonly Uint8Array[],
): number {
  checkDotProduct(outs, coeffs, ins);
  const n = outs[0]?.length ?? 0;
  if (froms !== undefined) {
    if (froms.length !== outs.length) {
      throw new RangeError(`${froms.length} from regions for ${outs.length} outputs`);
    }
    for (const r of froms) {
      if (r.length !== n) {
        throw new RangeError(`region lengths differ: ${n} bytes and ${r.length} bytes`);
      }
    }
  }
  if (n === 0) return 0;
  if (ins.length === 0) {
    if (!adds) { for (const out of outs) out.fill(0); }
    else if (froms !== undefined) copyFroms(outs, froms);
    return 0;
  }
  return n;
}

/**
 * Copies each from region of a `dotProductAdd` into its output, unless they are the same
 * bytes: how a kernel that cannot read them in the same pass as the sums starts.
 *
 * @example
 * ```ts
 * import { copyFroms } from "./region_checks.ts";
 * const out = new Uint8Array(2);
 * copyFroms([out], [Uint8Array.of(4, 5)]);
 * console.log(out); // Uint8Array(2) [ 4, 5 ]
 * ```
 *
 * @param outs The output regions.
 * @param froms What each output is added to, one per output.
 */
export function copyFroms(outs: readonly Uint8Array[], froms: readonly Uint8Array[]): void {
  froms.forEach((from, i) => {
    const out = outs[i]!;
    if (from.buffer !== out.buffer || from.byteOffset !== out.byteOffset) out.set(from);
  });
}
