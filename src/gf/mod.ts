/**
 * Galois-field arithmetic for cdfs: GF(2^8) and GF(2^16) scalars, matrices over GF(2^8), and
 * in-place region kernels. The two fields share function names, so each is exported as a
 * namespace.
 *
 * @example
 * ```ts
 * import { gf256, referenceKernels, systematicCauchyGenerator } from "./mod.ts";
 * const parity = new Uint8Array(4);
 * referenceKernels.mulAdd(parity, gf256.inv(141), Uint8Array.of(1, 2, 3, 4));
 * console.log(systematicCauchyGenerator(11, 5).length); // 16
 * ```
 *
 * @module
 */

export * as gf256 from "./gf256.ts";
export * as gf65536 from "./gf65536.ts";
export * from "./matrix.ts";
export type { Matrix, RegionKernels } from "./region.ts";
export { referenceKernels } from "./region_ref.ts";
export { mul16, mulAdd16, xor16 } from "./region16.ts";
// WebAssembly kernel exports (region_wasm.ts) are added below by its owner.
