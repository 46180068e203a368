/**
 * Systematic Reed-Solomon in GF(2^8) with a Cauchy parity matrix (the construction of ISA-L's
 * `gf_gen_cauchy1_matrix`, `systematicCauchyGenerator` of `src/gf/matrix.ts`): the baseline the
 * RapidRAID paper compares against, run the classical way. MDS: any k of the n = k + m coded
 * blocks decode.
 *
 * Placement: data part j on node j (j < k); coded block j on node j for every j < n. For
 * j < k the coded block `{id}.coded<j>` is a copy of part j written by `copy_data<j>` (so every
 * module names its coded blocks alike and the parts can be dropped after the encode), and
 * parity p is coded block k + p on node k + p.
 *
 * Encode: one coordinator, node k, runs `encode_parity`: it reads the k parts from their nodes,
 * computes all m parities in one pass (a run of MULTs then MULADDs that the interpreter fuses
 * into one `dotProduct`), writes parity 0 locally and PUSHes parities 1..m-1 to queues
 * `parity<p>`; the aux programs `parity_out<p>` on node k stream them, and `store_parity<p>` on
 * node k + p pulls `parity_out<p>` and writes it. The client starts every program of `encode`
 * at once. This is the encode {@linkcode linearModule} derives from any generator matrix.
 *
 * Other (k, m): the family, `--code rs:k=6,m=3` ({@linkcode codingFamily}; the module is named
 * `rs:k=6,m=3`), or a module file per code, e.g. `coding/rs_6_3.ts` containing
 * `export const codingModule = rsModule(6, 3);` (its name defaults to `rs_6_3`).
 *
 * Interoperable with ISA-L: the blocks of `rs:k=K,m=M` are what ISA-L's `ec_encode_data` makes
 * with `gf_gen_cauchy1_matrix(a, K+M, K)` (coded block j < K is part j, coded block K + p is its
 * parity p), so either side decodes the other's blocks (tests/coding/rs_isal_interop_test.ts runs
 * both directions against Debian's ISA-L). The plain `rs` module is `rs:k=11,m=5` under its own
 * name: the same programs, the same bytes.
 *
 * @module
 */

import {
  type CodingFamily,
  type CodingModule,
  linearModule,
  systematicCauchyGenerator,
} from "cdfs/coding";

/**
 * Builds a systematic Cauchy Reed-Solomon module with k data and m parity blocks: the
 * generator [I; Cauchy] with coded block i on node i, by {@linkcode linearModule}.
 *
 * @example
 * ```ts
 * import { rsModule } from "./rs.ts";
 * const m = rsModule(6, 3);
 * console.log(m.name, m.n, m.encode); // rs_6_3 9 [ "encode_parity", "store_parity1", ... ]
 * ```
 *
 * @param k The number of data parts, at least 1.
 * @param m The number of parity blocks, at least 1; k + m at most 256.
 * @param name The module name (default `rs_<k>_<m>`).
 * @returns The module.
 * @throws {RangeError} When k or m is invalid.
 */
export function rsModule(k: number, m: number, name = `rs_${k}_${m}`): CodingModule {
  if (!Number.isSafeInteger(m) || m < 1) {
    throw new RangeError(`m must be a positive integer, got ${m}`);
  }
  return linearModule(systematicCauchyGenerator(k, m), {
    coded: Array.from({ length: k + m }, (_, i) => i),
  }, {
    name,
    description: `systematic Reed-Solomon (${k + m},${k}) with a Cauchy matrix in GF(2^8); MDS`,
  });
}

/**
 * Reed-Solomon (16,11): 11 data parts, 5 parities.
 *
 * @example
 * ```ts
 * import { deriveDecodePlan } from "cdfs/coding";
 * import { codingModule } from "./rs.ts";
 * // MDS: any 11 of the 16 coded blocks decode, e.g. the 5 parities and parts 6..11.
 * const plan = deriveDecodePlan(codingModule, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
 * console.log(plan.used.length); // 11
 * ```
 */
export const codingModule: CodingModule = rsModule(11, 5, "rs");

/**
 * The family `rs:k=..,m=..`: systematic Cauchy Reed-Solomon with k data and m parity blocks,
 * k + m at most 256 (the elements of GF(2^8)).
 *
 * @example
 * ```ts
 * import { loadCodingModule } from "cdfs/coding";
 * const m = await loadCodingModule("rs:k=10,m=4");
 * console.log(m.name, m.n, m.k); // "rs:k=10,m=4" 14 10
 * ```
 */
export const codingFamily: CodingFamily = {
  name: "rs",
  description: "systematic Reed-Solomon (k+m,k), Cauchy parities in GF(2^8); MDS",
  parameters: [
    { name: "k", description: "data blocks", min: 1, max: 255 },
    { name: "m", description: "parity blocks", min: 1, max: 255 },
  ],
  check: ({ k, m }) =>
    k! + m! > 256 ? `k + m must be at most 256 (GF(2^8) Cauchy), got ${k! + m!}` : undefined,
  build: ({ k, m }, name) => rsModule(k!, m!, name),
};
