/**
 * RapidRAID (16,11): the pipelined code of the original ClusterDFS (SPEC §5), in GF(2^8).
 *
 * An object is cut into 11 parts; part j is replicated on nodes j and j+5 before encoding.
 * Encoding is one pipeline through the 16 nodes: node 0 streams s_0 = psis[0]·o_0 to node 1,
 * node i adds its local part(s) times psis to what it received and forwards it, and writes
 * coded block i = (what it received) + xis·(its local parts). The client starts `enc_node15`,
 * which pulls `enc_node14`, ... down to `enc_node0`. Coefficient index r (the *replica*) is 0
 * on node 0, i on nodes 1..4, 2i-5 (part i-5) and 2i-4 (part i) on nodes 5..10, i+6 on nodes
 * 11..15.
 *
 * Decision (SPEC §9): node 0 stores c_0 = xis[0]·o_0 (variant (a) of §5.7, the paper's form).
 * The original hand-written decoders `dec_node0..10` (from coded blocks 0..10 only, a pipelined
 * forward substitution) and their aux tees `dec_node0_aux..dec_node5_aux` are included with
 * that fix; the other fix of §5.7 (WRITE then PUSH of one buffer) is the interpreter's
 * reference counting, so the programs are as in the original. Any other decodable set of
 * survivors is decoded by a derived program (`src/coding/analysis/decoder.ts`).
 *
 * The code is not MDS: some 11-subsets of the 16 coded blocks do not decode
 * (`analyze(codingModule)` in `src/coding/analysis/symbolic.ts` lists them).
 *
 * The GF(2^16) variant of the original's INFOCOM experiment is the separate module
 * `coding/rapidraid16.ts`, built by {@linkcode rapidRaidModule} from the same programs.
 *
 * @module
 */

import {
  codedBlock,
  coefficientTable,
  origBlock,
  partBlock,
  program,
  pull,
  readBlock,
  writeBlock,
} from "../src/coding/lang/helpers.ts";
import type {
  CodingModule,
  FieldWidth,
  Instruction,
  Program,
  StreamDeclaration,
} from "../src/coding/lang/program.ts";

/**
 * The coefficient tables of one field: `xis`, `psis` (22 entries, one per replica) and `xisi`
 * (the inverses of `xis`), as published in the original (SPEC §5.1).
 *
 * @example
 * ```ts
 * import type { RapidRaidCoefficients } from "./rapidraid.ts";
 * const first = (c: RapidRaidCoefficients) => [c.xis[0], c.psis[0], c.xisi[0]];
 * ```
 */
export interface RapidRaidCoefficients {
  /** Multiplies a node's local part(s) into its coded block. */
  readonly xis: readonly number[];
  /** Multiplies a node's local part(s) into the stream it forwards. */
  readonly psis: readonly number[];
  /** `xisi[r] = xis[r]⁻¹`, used by the hand-written decoders. */
  readonly xisi: readonly number[];
}

/**
 * The RapidRAID coefficient tables for GF(2^8) (active at the original's HEAD) and GF(2^16)
 * (its INFOCOM experiment).
 *
 * @example
 * ```ts
 * import { RAPIDRAID_COEFFICIENTS } from "./rapidraid.ts";
 * console.log(RAPIDRAID_COEFFICIENTS[8].xis[0], RAPIDRAID_COEFFICIENTS[16].xis[0]); // 141 48386
 * ```
 */
export const RAPIDRAID_COEFFICIENTS: Readonly<Record<FieldWidth, RapidRaidCoefficients>> = {
  8: {
    xis: coefficientTable(8, "xis", [
      141,
      139,
      79,
      152,
      152,
      243,
      2,
      37,
      149,
      189,
      174,
      149,
      237,
      31,
      198,
      15,
      45,
      138,
      246,
      100,
      101,
      16,
    ]),
    psis: coefficientTable(8, "psis", [
      129,
      207,
      158,
      56,
      171,
      247,
      145,
      139,
      137,
      211,
      190,
      230,
      140,
      177,
      75,
      47,
      94,
      60,
      244,
      69,
      190,
      167,
    ]),
    xisi: coefficientTable(8, "xisi", [
      105,
      45,
      147,
      11,
      11,
      234,
      142,
      86,
      188,
      154,
      190,
      188,
      33,
      42,
      163,
      150,
      139,
      39,
      211,
      185,
      196,
      216,
    ]),
  },
  16: {
    xis: coefficientTable(16, "xis", [
      48386,
      55077,
      40589,
      63304,
      49062,
      47871,
      17507,
      49390,
      54054,
      45897,
      55796,
      27611,
      50294,
      30336,
      882,
      60087,
      56842,
      14836,
      7618,
      32265,
      22869,
      38138,
    ]),
    psis: coefficientTable(16, "psis", [
      11950,
      26509,
      16377,
      40200,
      35199,
      3729,
      10098,
      16621,
      3878,
      45829,
      1937,
      60293,
      38528,
      31094,
      7594,
      45107,
      15330,
      63820,
      41913,
      20615,
      58324,
      16983,
    ]),
    xisi: coefficientTable(16, "xisi", [
      15748,
      20308,
      20626,
      63764,
      63644,
      26972,
      27999,
      47342,
      10956,
      10780,
      36355,
      16304,
      47805,
      37304,
      44207,
      32175,
      23548,
      29691,
      49597,
      52531,
      10592,
      53038,
    ]),
  },
};

/** Number of parts. */
const K = 11;
/** Number of coded blocks (= nodes). */
const N = 16;

/**
 * The parts node `i` holds and the replica index `r` of each, in the order its program loads
 * them (part i-5 before part i).
 */
function replicasOf(i: number): { part: number; r: number }[] {
  if (i === 0) return [{ part: 0, r: 0 }];
  if (i <= 4) return [{ part: i, r: i }];
  if (i <= 10) return [{ part: i - 5, r: 2 * i - 5 }, { part: i, r: 2 * i - 4 }];
  return [{ part: i - 5, r: i + 6 }];
}

/** `enc_node<i>`: SPEC §5.3, with c_0 = xis[0]·o_0 on node 0. */
function encodeProgram(i: number, c: RapidRaidCoefficients): Program {
  const held = replicasOf(i);
  if (i === 0) {
    return program(0, [readBlock("part0", partBlock(0)), writeBlock("coded0", codedBlock(0))], [
      ["LOAD", "temp", "part0"],
      ["MULT", "stream", c.psis[0]!, "temp"],
      ["MULT", "temp", c.xis[0]!, "temp"],
      ["WRITE", "temp", "coded0"],
    ], "stream");
  }
  // Buffer names as in the original: "local" for one part, "local<j>" for two.
  const local = (part: number) => held.length === 1 ? "local" : `local${part}`;
  // Declared stream order as in the original: part<i> before part<i-5> on nodes 5..10.
  const partStreams: StreamDeclaration[] = [...held].reverse().map((h) =>
    readBlock(`part${h.part}`, partBlock(h.part))
  );
  const streams = [
    ...partStreams,
    writeBlock(`coded${i}`, codedBlock(i)),
    pull(`enc_node${i - 1}`),
  ];
  const instructions: Instruction[] = [
    ...held.map((h): Instruction => ["LOAD", local(h.part), `part${h.part}`]),
    ["LOAD", "prev", `enc_node${i - 1}`],
  ];
  const last = i === N - 1;
  if (!last) {
    // Forward what was received before `prev` gets the xis terms.
    instructions.push(["COPY", "stream", "prev"]);
    for (const h of held) instructions.push(["MULADD", "stream", c.psis[h.r]!, local(h.part)]);
  }
  for (const h of held) instructions.push(["MULADD", "prev", c.xis[h.r]!, local(h.part)]);
  instructions.push(["WRITE", "prev", `coded${i}`]);
  return program(i, streams, instructions, last ? undefined : "stream");
}

/** `dec_node<i>`: SPEC §5.5 (decode from coded blocks 0..10; o_i written as orig<i>). */
function decodeProgram(i: number, c: RapidRaidCoefficients): Program {
  const own = [readBlock(`coded${i}`, codedBlock(i)), writeBlock(`orig${i}`, origBlock(i))];
  if (i === 0) {
    return program(0, own, [
      ["LOAD", "temp", "coded0"],
      ["MULT", "temp", c.xisi[0]!, "temp"], // o_0 = c_0 / xis[0] (c_0 = xis[0]·o_0)
      ["MULT", "stream", c.psis[0]!, "temp"], // s_0 = psis[0]·o_0
      ["WRITE", "temp", "orig0"],
      ["PUSH", "queue", "temp"], // for dec_node0_aux
    ], "stream");
  }
  const streams = [...own, pull(`dec_node${i - 1}`)];
  const instructions: Instruction[] = [
    ["LOAD", "temp", `coded${i}`],
    ["LOAD", "prev", `dec_node${i - 1}`], // s_{i-1}
  ];
  if (i <= 4) {
    instructions.push(
      ["IADD", "temp", "prev"], // c_i + s_{i-1} = xis[i]·o_i
      ["MULT", "temp", c.xisi[i]!, "temp"], // o_i
      ["WRITE", "temp", `orig${i}`],
      ["PUSH", "queue", "temp"], // for dec_node<i>_aux (node i+5 needs o_i again)
      ["COPY", "stream", "prev"],
      ["MULADD", "stream", c.psis[i]!, "temp"], // s_i
    );
    return program(i, streams, instructions, "stream");
  }
  // Nodes 5..10 also hold part i-5, decoded earlier on node i-5 and re-served by its aux tee.
  const rOld = 2 * i - 5, rNew = 2 * i - 4;
  streams.push(pull(`dec_node${i - 5}_aux`));
  instructions.push(
    ["LOAD", "prevaux", `dec_node${i - 5}_aux`], // o_{i-5}
    ["IADD", "temp", "prev"], // xis[r_old]·o_{i-5} + xis[r_new]·o_i
    ["MULADD", "temp", c.xis[rOld]!, "prevaux"], // xis[r_new]·o_i
    ["MULT", "temp", c.xisi[rNew]!, "temp"], // o_i
    ["WRITE", "temp", `orig${i}`],
  );
  if (i === 5) instructions.push(["PUSH", "queue", "temp"]); // for dec_node5_aux (node 10)
  if (i === K - 1) return program(i, streams, instructions);
  instructions.push(
    ["COPY", "stream", "prev"],
    ["MULADD", "stream", c.psis[rOld]!, "prevaux"],
    ["MULADD", "stream", c.psis[rNew]!, "temp"], // s_i
  );
  return program(i, streams, instructions, "stream");
}

/** `dec_node<j>_aux`: re-serves the o_j that `dec_node<j>` pushed (an in-process tee). */
function auxProgram(j: number): Program {
  return program(j, [], [["POP", "queue", "temp"], ["COPY", "stream", "temp"]], "stream");
}

/**
 * Builds the RapidRAID (16,11) module for a field.
 *
 * @example
 * ```ts
 * import { rapidRaidModule } from "./rapidraid.ts";
 * const m = rapidRaidModule(16);
 * console.log(m.name, m.field, Object.keys(m.programs).length); // rapidraid16 16 33
 * ```
 *
 * @param field 8 (module `rapidraid`) or 16 (module `rapidraid16`; blocks must have even length).
 * @returns The module.
 */
export function rapidRaidModule(field: FieldWidth): CodingModule {
  const c = RAPIDRAID_COEFFICIENTS[field];
  const programs: Record<string, Program> = {};
  for (let i = 0; i < N; i++) programs[`enc_node${i}`] = encodeProgram(i, c);
  for (let i = 0; i < K; i++) programs[`dec_node${i}`] = decodeProgram(i, c);
  for (let j = 0; j <= 5; j++) programs[`dec_node${j}_aux`] = auxProgram(j);
  return {
    name: field === 8 ? "rapidraid" : "rapidraid16",
    description: `RapidRAID (16,11) pipelined code of ClusterDFS in GF(2^${field}); not MDS`,
    field,
    n: N,
    k: K,
    parts: Array.from({ length: K }, (_, j) => ({ block: partBlock(j), nodes: [j, j + 5] })),
    coded: Array.from({ length: N }, (_, i) => ({ block: codedBlock(i), node: i })),
    encode: `enc_node${N - 1}`,
    programs,
  };
}

/**
 * The RapidRAID (16,11) code in GF(2^8).
 *
 * @example
 * ```ts
 * import { analyze } from "../src/coding/analysis/symbolic.ts";
 * import { codingModule } from "./rapidraid.ts";
 * const { isMds, undecodableSubsets, subsetCount } = analyze(codingModule);
 * console.log(isMds, undecodableSubsets.length, subsetCount); // false 47 4368
 * ```
 */
export const codingModule: CodingModule = rapidRaidModule(8);
