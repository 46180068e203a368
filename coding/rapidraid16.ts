/**
 * RapidRAID (16,11) in GF(2^16): the same pipeline, programs and placement as
 * `coding/rapidraid.ts`, with the GF(2^16) coefficient tables of the original's INFOCOM
 * experiment (SPEC §5.1). Words are little-endian 16-bit, so every part must have an even
 * length (the interpreter rejects odd lengths rather than corrupting the last byte, §3.4).
 *
 * @module
 */

import type { CodingModule } from "../src/coding/lang/program.ts";
import { rapidRaidModule } from "./rapidraid.ts";

/**
 * The RapidRAID (16,11) code in GF(2^16).
 *
 * @example
 * ```ts
 * import { analyze } from "../src/coding/analysis/symbolic.ts";
 * import { codingModule } from "./rapidraid16.ts";
 * // Only the 21 structural undecodable subsets are left (47 with the GF(2^8) tables).
 * console.log(analyze(codingModule).undecodableSubsets.length); // 21
 * ```
 */
export const codingModule: CodingModule = rapidRaidModule(16);
