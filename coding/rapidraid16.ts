/**
 * RapidRAID (16,11) in GF(2^16): the same pipeline, programs and placement as
 * `coding/rapidraid.ts`, with the GF(2^16) coefficient tables of the original's INFOCOM
 * experiment (`clusterdfs/rapidraid.py` at commit 76e0449, github.com/llpamies/ClusterDFS; a
 * comment at HEAD). Words are little-endian 16-bit, so every part must have an even length (the
 * interpreter rejects odd lengths; the original's `galois_w16_region_multiply`, Jerasure's
 * `galois.c`, works on whole words and leaves the last byte of an odd length wrong).
 *
 * @module
 */

import { type CodingModule, coefficientTable, rapidRaidModule } from "cdfs/coding";

/** The published tables, by replica r: 0..10 on the first line, 11..21 on the second. */
// deno-fmt-ignore
const TABLES = {
  xis:  `48386 55077 40589 63304 49062 47871 17507 49390 54054 45897 55796
         27611 50294 30336   882 60087 56842 14836  7618 32265 22869 38138`,
  psis: `11950 26509 16377 40200 35199  3729 10098 16621  3878 45829  1937
         60293 38528 31094  7594 45107 15330 63820 41913 20615 58324 16983`,
  xisi: `15748 20308 20626 63764 63644 26972 27999 47342 10956 10780 36355
         16304 47805 37304 44207 32175 23548 29691 49597 52531 10592 53038`,
};

/**
 * The GF(2^16) coefficient tables of the original's INFOCOM experiment (`clusterdfs/rapidraid.py`
 * at commit 76e0449), indexed by replica r (22 entries), like `RAPIDRAID_COEFFICIENTS` of
 * `rapidraid.ts` for GF(2^8).
 *
 * @example
 * ```ts
 * import { RAPIDRAID16_COEFFICIENTS } from "./rapidraid16.ts";
 * console.log(RAPIDRAID16_COEFFICIENTS.xis[0]); // 48386
 * ```
 */
export const RAPIDRAID16_COEFFICIENTS: {
  readonly xis: readonly number[];
  readonly psis: readonly number[];
  readonly xisi: readonly number[];
} = {
  xis: coefficientTable(16, "xis", TABLES.xis),
  psis: coefficientTable(16, "psis", TABLES.psis),
  xisi: coefficientTable(16, "xisi", TABLES.xisi),
};

/**
 * The RapidRAID (16,11) code in GF(2^16).
 *
 * @example
 * ```ts
 * import { analyze } from "cdfs/coding";
 * import { codingModule } from "./rapidraid16.ts";
 * // Only the 21 structural undecodable subsets are left (47 with the GF(2^8) tables).
 * console.log(analyze(codingModule).undecodableSubsets.length); // 21
 * ```
 */
export const codingModule: CodingModule = rapidRaidModule(16, 11, RAPIDRAID16_COEFFICIENTS, {
  name: "rapidraid16",
  description: "RapidRAID (16,11) pipelined code of ClusterDFS in GF(2^16); not MDS",
  field: 16,
});
