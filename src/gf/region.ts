/**
 * The interface every GF(2^8) region kernel implements: the plain TypeScript reference
 * (`region_ref.ts`) and the WebAssembly SIMD kernel (`region_wasm.ts`). Kernels work in place
 * on `Uint8Array` regions; `dst === src` is allowed. All regions of one call must have the same
 * length, otherwise the kernel throws a `RangeError` naming the lengths.
 *
 * @module
 */

/**
 * A coefficient matrix over GF(2^8): one `Uint8Array` per row. Row `i` holds the coefficients
 * of output `i`, one per input.
 *
 * @example
 * ```ts
 * import type { Matrix } from "./region.ts";
 * const twoByThree: Matrix = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6)];
 * ```
 */
export type Matrix = Uint8Array[];

/**
 * In-place region arithmetic over GF(2^8) (polynomial 0x11D).
 *
 * @example
 * ```ts
 * import type { RegionKernels } from "./region.ts";
 * function parity(k: RegionKernels, p: Uint8Array, data: Uint8Array[]): void {
 *   p.fill(0);
 *   for (const d of data) k.xor(p, d);
 * }
 * ```
 */
export interface RegionKernels {
  /** A short name for reports, e.g. `"ts-reference"` or `"wasm-relaxed-simd"`. */
  readonly name: string;
  /** `dst ^= src`. */
  xor(dst: Uint8Array, src: Uint8Array): void;
  /** `dst = c · src` (operand order of the original MULT instruction). */
  mul(dst: Uint8Array, c: number, src: Uint8Array): void;
  /** `dst ^= c · src`. */
  mulAdd(dst: Uint8Array, c: number, src: Uint8Array): void;
  /**
   * `outs[i] = Σ_j coeffs[i][j] · ins[j]` for every output `i` (outputs are overwritten, not
   * accumulated). `coeffs` has `outs.length` rows of `ins.length` entries. This is one
   * Reed-Solomon encode: each input is read once for all outputs.
   */
  dotProduct(outs: readonly Uint8Array[], coeffs: Matrix, ins: readonly Uint8Array[]): void;
  /**
   * `outs[i] = froms[i] + Σ_j coeffs[i][j] · ins[j]` for every output `i`, where `froms`
   * defaults to `outs` (`outs[i] ^= ...`): `dotProduct` added to what the outputs, or other
   * regions, hold. A run of MULADDs into regions that already hold something (a pipelined code's
   * `stream = prev + ψ·local`, `prev += ξ·local`) in one pass: each input and from region read
   * once, each output written once. Outputs must not overlap inputs; `froms[i]` may be `outs[i]`
   * but must not overlap another output.
   */
  dotProductAdd(
    outs: readonly Uint8Array[],
    coeffs: Matrix,
    ins: readonly Uint8Array[],
    froms?: readonly Uint8Array[],
  ): void;
  /**
   * Whether `dotProductAdd` reads `froms` in the same pass as the sums (the WebAssembly
   * kernels). When not, it copies them into the outputs first, and a caller that could add to
   * a region in place instead is better off doing that.
   */
  readonly addsFromInOnePass?: boolean;
}
