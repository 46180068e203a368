/**
 * Derived decoders: programs, computed from a module's generator matrix, that rebuild the k
 * parts (or one lost coded block) from any decodable set of surviving coded blocks. Nobody
 * writes decoders by hand: the generator comes from symbolic execution of the encode
 * (`symbolic.ts`), k independent survivor rows are chosen and inverted, and the inverse is
 * emitted as MULT/MULADD instructions (in the order the interpreter fuses into one
 * `dotProduct`: every output's MULT first, then the MULADDs input by input).
 *
 * A plan's programs are plain data like a module's; {@linkcode withPrograms} adds them to the
 * module so that they run (and validate) exactly like the module's own programs.
 *
 * @module
 */

import { CdfsError, isCdfsError } from "../../core/errors.ts";
import {
  combinationOf,
  fieldIndependentRows,
  fieldInvert,
  type FieldMatrix,
  type FieldVector,
} from "./field_matrix.ts";
import { origBlock, program as makeProgram } from "../lang/helpers.ts";
import type { CodingModule, Instruction, Program, StreamDeclaration } from "../lang/program.ts";
import { generatorMatrix } from "./symbolic.ts";
import { cheapestRepair, type RepairPlan } from "./repair.ts";

/**
 * Options of {@linkcode deriveDecodePlan}.
 *
 * @example
 * ```ts
 * import type { DecodePlanOptions } from "./decoder.ts";
 * const options: DecodePlanOptions = { coordinator: 3, output: "stream" };
 * ```
 */
export interface DecodePlanOptions {
  /**
   * The node that reads the survivors and computes the parts (default: the node storing the
   * most used survivors, the first such on a tie).
   */
  readonly coordinator?: number;
  /**
   * `"parts"` (default): one local program writes the k parts as blocks `{id}.orig<j>` on the
   * coordinator. `"stream"`: the decode program PUSHes part j to queue `part<j>` and k aux
   * stream programs `<name>_part<j>` stream them; the client pulls all k at once (they advance
   * together, each queue holds only a few buffers) and writes part j at offset j · partLength.
   */
  readonly output?: "parts" | "stream";
  /** The decode program's name (default `"decode"`); aux programs are `<name>_part<j>`. */
  readonly name?: string;
}

/**
 * A derived decode: which survivors it reads, the decoding matrix and the programs.
 *
 * @example
 * ```ts
 * import { type DecodePlan, deriveDecodePlan } from "./decoder.ts";
 * import { codingModule } from "../../../coding/rs.ts";
 * const plan: DecodePlan = deriveDecodePlan(codingModule, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
 * console.log(`node ${plan.coordinator} reads coded blocks ${plan.used.join(", ")}`);
 * ```
 */
export interface DecodePlan {
  /** The coded-block indices read, in the order of the decoding matrix's columns. */
  readonly used: readonly number[];
  /** D (k×k): part j = Σ_t D[j][t] · coded block `used[t]`; D = G_used⁻¹. */
  readonly decodeMatrix: FieldMatrix;
  /** The node that runs the decode program. */
  readonly coordinator: number;
  /** The output mode. */
  readonly output: "parts" | "stream";
  /** The decode program's name. */
  readonly name: string;
  /** The decode program. */
  readonly program: Program;
  /** Every program of the plan, by name (the decode program and, for "stream", the aux ones). */
  readonly programs: Readonly<Record<string, Program>>;
  /** The programs a client starts, all at once. */
  readonly entries: readonly string[];
  /**
   * Where part j ends up: the block template written on the coordinator (`"parts"`), or the
   * name of the stream program whose output is part j (`"stream"`).
   */
  readonly partOutputs: readonly string[];
}

function badRequest(module: CodingModule, message: string): never {
  throw new CdfsError("BAD_REQUEST", `coding module "${module.name}": ${message}`);
}

function checkNode(module: CodingModule, node: number, what: string): number {
  if (!Number.isInteger(node) || node < 0 || node >= module.n) {
    badRequest(module, `${what} ${node} is not a node of the code (0..${module.n - 1})`);
  }
  return node;
}

function checkSurvivors(module: CodingModule, survivors: readonly number[]): number[] {
  const seen = new Set<number>();
  for (const s of survivors) {
    if (!Number.isInteger(s) || s < 0 || s >= module.n) {
      badRequest(module, `coded block ${s} does not exist (0..${module.n - 1})`);
    }
    if (seen.has(s)) badRequest(module, `coded block ${s} is listed twice among the survivors`);
    seen.add(s);
  }
  return [...survivors];
}

function showSet(blocks: readonly number[]): string {
  return `{${blocks.join(", ")}}`;
}

/**
 * Emits `out_j = Σ_t coefficients[j][t] · inputs[t]` for every output j: every output's MULT
 * first, then the MULADDs input by input (the form the interpreter fuses). An output equal to
 * one input (coefficient 1, nothing else) is that input's buffer itself, with no arithmetic.
 * Returns the buffer holding each output.
 */
function combine(
  instructions: Instruction[],
  inputs: readonly string[],
  coefficients: readonly FieldVector[],
  outputName: (j: number) => string,
): string[] {
  const firsts = coefficients.map((row) => row.findIndex((c) => c !== 0));
  const buffers = coefficients.map((row, j) => {
    const t = firsts[j]!;
    const alone = row.every((c, u) => u === t || c === 0);
    return alone && row[t] === 1 ? inputs[t]! : outputName(j);
  });
  coefficients.forEach((row, j) => {
    if (buffers[j] === outputName(j)) {
      instructions.push(["MULT", buffers[j]!, row[firsts[j]!]!, inputs[firsts[j]!]!]);
    }
  });
  inputs.forEach((input, t) => {
    coefficients.forEach((row, j) => {
      if (buffers[j] !== outputName(j) || t === firsts[j] || row[t] === 0) return;
      instructions.push(["MULADD", buffers[j]!, row[t]!, input]);
    });
  });
  return buffers;
}

/** The read declaration of coded block i for a program running on `node`. */
function readCoded(module: CodingModule, i: number, node: number): StreamDeclaration {
  const c = module.coded[i]!;
  return {
    name: `coded${i}`,
    read: c.node === node ? { block: c.block } : { block: c.block, node: c.node },
  };
}

/**
 * Derives the programs that decode an object from surviving coded blocks.
 *
 * @example
 * ```ts
 * import { deriveDecodePlan } from "./decoder.ts";
 * import { codingModule } from "../../../coding/rapidraid.ts";
 * const plan = deriveDecodePlan(codingModule, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15]);
 * console.log(plan.used.length, plan.entries); // 11 [ "decode" ]
 * ```
 *
 * @param module The coding module.
 * @param survivors Indices of the coded blocks that can be read; when more than k, the first
 * independent ones in this order are used (list preferred blocks first).
 * @param options Coordinator node, output mode, program name.
 * @returns The plan.
 * @throws {CdfsError} SINGULAR when the survivors have rank < k; BAD_REQUEST for an unknown or
 * repeated survivor or coordinator.
 */
export function deriveDecodePlan(
  module: CodingModule,
  survivors: readonly number[],
  options: DecodePlanOptions = {},
): DecodePlan {
  const list = checkSurvivors(module, survivors);
  const output = options.output ?? "parts";
  const name = options.name ?? "decode";
  const k = module.k;
  const g = generatorMatrix(module);
  const rows = list.map((i) => g[i]!);
  const independent = fieldIndependentRows(module.field, rows, k);
  if (independent.length < k) {
    throw new CdfsError(
      "SINGULAR",
      `coding module "${module.name}": coded blocks ${showSet(list)} have rank ` +
        `${independent.length} < k = ${k}: not decodable`,
    );
  }
  const used = independent.map((t) => list[t]!);
  const decodeMatrix = fieldInvert(module.field, used.map((i) => g[i]!));

  let coordinator: number;
  if (options.coordinator !== undefined) {
    coordinator = checkNode(module, options.coordinator, "coordinator");
  } else {
    // Fewest network reads: the node that stores the most of the used blocks.
    const counts = new Map<number, number>();
    for (const i of used) {
      const node = module.coded[i]!.node;
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    coordinator = module.coded[used[0]!]!.node;
    for (const [node, count] of counts) {
      if (count > counts.get(coordinator)!) coordinator = node;
    }
  }

  const streams: StreamDeclaration[] = used.map((i) => readCoded(module, i, coordinator));
  const instructions: Instruction[] = used.map((i) => ["LOAD", `c${i}`, `coded${i}`]);
  const buffers = combine(instructions, used.map((i) => `c${i}`), decodeMatrix, (j) => `o${j}`);
  const programs: Record<string, Program> = {};
  let partOutputs: string[];
  if (output === "parts") {
    partOutputs = Array.from({ length: k }, (_, j) => origBlock(j));
    partOutputs.forEach((block, j) => {
      streams.push({ name: `orig${j}`, write: block });
      instructions.push(["WRITE", buffers[j]!, `orig${j}`]);
    });
  } else {
    partOutputs = Array.from({ length: k }, (_, j) => `${name}_part${j}`);
    partOutputs.forEach((aux, j) => {
      instructions.push(["PUSH", `part${j}`, buffers[j]!]);
      programs[aux] = makeProgram(coordinator, [], [["POP", `part${j}`, "b"]], "b");
    });
  }
  const decode = makeProgram(coordinator, streams, instructions);
  return {
    used,
    decodeMatrix,
    coordinator,
    output,
    name,
    program: decode,
    programs: { [name]: decode, ...programs },
    entries: output === "parts" ? [name] : [name, ...partOutputs],
    partOutputs,
  };
}

/**
 * Derives a program that rebuilds one lost coded block from surviving ones: coded block
 * `lost` = Σ x_i · coded block i, with `x · G_survivors = G[lost]`, by the cheapest plan
 * (`cheapestRepair` of `repair.ts`: the fewest survivors read, the ones listed first on a tie;
 * for an LRC's data block, its local group). Only survivors with a nonzero coefficient are read. The program writes the block under its own name on `node`
 * (default: the node the module stores it on).
 *
 * @example
 * ```ts
 * import { deriveRepairProgram } from "./decoder.ts";
 * import { codingModule } from "../../../coding/rs.ts";
 * const repair = deriveRepairProgram(codingModule, 13, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
 * console.log(repair.node, repair.streams.length); // 13 12
 * ```
 *
 * @param module The coding module.
 * @param lost The index of the coded block to rebuild.
 * @param survivors Indices of coded blocks that can be read (preferred ones first).
 * @param options `node`: where to run the program and write the block.
 * @returns A local program.
 * @throws {CdfsError} SINGULAR when the lost block is not a combination of the survivors;
 * BAD_REQUEST for unknown blocks or nodes, or when `lost` is among the survivors.
 */
export function deriveRepairProgram(
  module: CodingModule,
  lost: number,
  survivors: readonly number[],
  options: { readonly node?: number } = {},
): Program {
  const list = checkSurvivors(module, survivors);
  if (!Number.isInteger(lost) || lost < 0 || lost >= module.n) {
    badRequest(module, `coded block ${lost} does not exist (0..${module.n - 1})`);
  }
  if (list.includes(lost)) badRequest(module, `coded block ${lost} is among the survivors`);
  const node = checkNode(module, options.node ?? module.coded[lost]!.node, "node");
  const { used, coefficients } = repairCombination(module, lost, list);
  const streams: StreamDeclaration[] = used.map((i) => readCoded(module, i, node));
  const instructions: Instruction[] = used.map((i) => ["LOAD", `c${i}`, `coded${i}`]);
  const [buffer] = combine(instructions, used.map((i) => `c${i}`), [coefficients], () => "r");
  streams.push({ name: "repaired", write: module.coded[lost]!.block });
  instructions.push(["WRITE", buffer!, "repaired"]);
  return makeProgram(node, streams, instructions);
}

/** The cheapest combination of survivors giving block `lost` (see `repair.ts`). */
function repairCombination(
  module: CodingModule,
  lost: number,
  list: readonly number[],
): { used: number[]; coefficients: FieldVector } {
  let plan: RepairPlan | undefined;
  let searched = true;
  try {
    plan = cheapestRepair(module, lost, list);
  } catch (error) {
    // A code too large for the circuit search: the first combination found will do.
    if (!isCdfsError(error, "BAD_REQUEST")) throw error;
    searched = false;
  }
  if (plan !== undefined && plan.read.length === 0) {
    badRequest(module, `coded block ${lost} is all zeros: nothing to repair`);
  }
  if (plan !== undefined) {
    return { used: [...plan.read], coefficients: Uint16Array.from(plan.coefficients) };
  }
  const g = generatorMatrix(module);
  const x = searched ? undefined : combinationOf(module.field, list.map((i) => g[i]!), g[lost]!);
  if (x === undefined) {
    if (g[lost]!.every((c) => c === 0)) {
      badRequest(module, `coded block ${lost} is all zeros: nothing to repair`);
    }
    const rank = fieldIndependentRows(module.field, list.map((i) => g[i]!)).length;
    throw new CdfsError(
      "SINGULAR",
      `coding module "${module.name}": coded block ${lost} is not a combination of coded ` +
        `blocks ${showSet(list)} (rank ${rank}): cannot be repaired from them`,
    );
  }
  const used = list.filter((_, t) => x[t] !== 0);
  if (used.length === 0) badRequest(module, `coded block ${lost} is all zeros: nothing to repair`);
  return { used, coefficients: Uint16Array.from(used.map((i) => x[list.indexOf(i)]!)) };
}

/**
 * A copy of a module with programs added (a decode plan's, a repair program), so they run,
 * validate and execute symbolically like the module's own.
 *
 * @example
 * ```ts
 * import { deriveDecodePlan, withPrograms } from "./decoder.ts";
 * import { codingModule } from "../../../coding/rs.ts";
 * const plan = deriveDecodePlan(codingModule, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
 * const module = withPrograms(codingModule, plan.programs);
 * console.log(Object.hasOwn(module.programs, "decode")); // true
 * ```
 *
 * @param module The coding module.
 * @param programs Programs to add, by name.
 * @returns The extended module.
 * @throws {CdfsError} BAD_REQUEST when a name is already a program of the module.
 */
export function withPrograms(
  module: CodingModule,
  programs: Readonly<Record<string, Program>>,
): CodingModule {
  for (const name of Object.keys(programs)) {
    if (Object.hasOwn(module.programs, name)) {
      badRequest(module, `program "${name}" already exists`);
    }
  }
  return { ...module, programs: { ...module.programs, ...programs } };
}
