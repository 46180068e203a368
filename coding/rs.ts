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
 * at once.
 *
 * Other (k, m): a module file per code, e.g. `coding/rs_6_3.ts` containing
 * `export const codingModule = rsModule(6, 3);` (its name defaults to `rs_6_3`).
 *
 * @module
 */

import { systematicCauchyGenerator } from "../src/gf/matrix.ts";
import {
  codedBlock,
  partBlock,
  program,
  pull,
  readBlock,
  writeBlock,
} from "../src/coding/lang/helpers.ts";
import type { CodingModule, Instruction, Program } from "../src/coding/lang/program.ts";

/**
 * Builds a systematic Cauchy Reed-Solomon module with k data and m parity blocks.
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
  const parity = systematicCauchyGenerator(k, m).slice(k);
  const programs: Record<string, Program> = {};

  const instructions: Instruction[] = [];
  for (let j = 0; j < k; j++) instructions.push(["LOAD", `d${j}`, `data${j}`]);
  // Input-major order: every output starts with a MULT, then MULADDs from inputs that are
  // not outputs, which the interpreter executes as one dotProduct reading each input once.
  for (let p = 0; p < m; p++) instructions.push(["MULT", `p${p}`, parity[p]![0]!, "d0"]);
  for (let j = 1; j < k; j++) {
    for (let p = 0; p < m; p++) instructions.push(["MULADD", `p${p}`, parity[p]![j]!, `d${j}`]);
  }
  instructions.push(["WRITE", "p0", "parity0"]);
  for (let p = 1; p < m; p++) instructions.push(["PUSH", `parity${p}`, `p${p}`]);
  programs.encode_parity = program(k, [
    ...Array.from({ length: k }, (_, j) => readBlock(`data${j}`, partBlock(j), j)),
    writeBlock("parity0", codedBlock(k)),
  ], instructions);

  for (let p = 1; p < m; p++) {
    programs[`parity_out${p}`] = program(k, [], [["POP", `parity${p}`, "b"]], "b");
    programs[`store_parity${p}`] = program(
      k + p,
      [pull(`parity_out${p}`, "parity"), writeBlock("coded", codedBlock(k + p))],
      [["LOAD", "b", "parity"], ["WRITE", "b", "coded"]],
    );
  }
  for (let j = 0; j < k; j++) {
    programs[`copy_data${j}`] = program(
      j,
      [readBlock("part", partBlock(j)), writeBlock("coded", codedBlock(j))],
      [["LOAD", "b", "part"], ["WRITE", "b", "coded"]],
    );
  }
  return {
    name,
    description: `systematic Reed-Solomon (${k + m},${k}) with a Cauchy matrix in GF(2^8); MDS`,
    field: 8,
    n: k + m,
    k,
    parts: Array.from({ length: k }, (_, j) => ({ block: partBlock(j), nodes: [j] })),
    coded: Array.from({ length: k + m }, (_, i) => ({ block: codedBlock(i), node: i })),
    encode: [
      "encode_parity",
      ...Array.from({ length: m - 1 }, (_, p) => `store_parity${p + 1}`),
      ...Array.from({ length: k }, (_, j) => `copy_data${j}`),
    ],
    programs,
  };
}

/**
 * Reed-Solomon (16,11): 11 data parts, 5 parities.
 *
 * @example
 * ```ts
 * import { deriveDecodePlan } from "../src/coding/analysis/decoder.ts";
 * import { codingModule } from "./rs.ts";
 * // MDS: any 11 of the 16 coded blocks decode, e.g. the 5 parities and parts 6..11.
 * const plan = deriveDecodePlan(codingModule, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
 * console.log(plan.used.length); // 11
 * ```
 */
export const codingModule: CodingModule = rsModule(11, 5, "rs");
