/**
 * A coding module from a generator matrix: give the n×k matrix G of a linear code (coded block
 * i = Σ_j G[i][j] · part j) and where its blocks live, and {@linkcode linearModule} writes the
 * encode programs. Decode and repair programs need nothing more: cdfs derives them from the
 * generator that symbolic execution reads back from these programs (`decoder.ts`). So a new
 * linear code (another Reed-Solomon, an LRC) is a matrix and a placement.
 *
 * The encode is the classical one (the `rs` module is built this way):
 * - a row that is a unit vector e_j is a copy of part j: `copy_data<j>` on that block's node
 *   reads the part (locally when the node holds it) and writes the coded block;
 * - every other row is computed in one pass by `encode_parity` on the coordinator, which reads
 *   the parts it needs and emits every row's MULT, then the MULADDs input by input (the form
 *   the interpreter fuses into one `dotProduct` reading each part once). Row number p among
 *   them is written by the coordinator itself when it stores that block, else PUSHed to queue
 *   `parity<p>`, streamed by `parity_out<p>` on the coordinator and written by
 *   `store_parity<p>` on the block's node.
 *
 * @module
 */

import { fieldRank, type FieldVector } from "./field_matrix.ts";
import { defineProgram } from "../lang/builders.ts";
import { codedBlock, partBlock, pull, readBlock, writeBlock } from "../lang/helpers.ts";
import type { CodingModule, FieldWidth, Instruction, Program } from "../lang/program.ts";
import { validateModule } from "../lang/validate.ts";

/**
 * Where a linear code's blocks live, as logical node indices (0..n-1).
 *
 * @example
 * ```ts
 * import type { LinearPlacement } from "./linear_module.ts";
 * // (4,2): coded block i on node i, the two parts on nodes 0 and 1, parities computed on 3.
 * const placement: LinearPlacement = { coded: [0, 1, 2, 3], parts: [[0], [1]], coordinator: 3 };
 * ```
 */
export interface LinearPlacement {
  /** `coded[i]`: the node storing coded block i (one entry per row of the generator). */
  readonly coded: readonly number[];
  /**
   * `parts[j]`: the nodes holding part j before encoding (`put-parts` places it there). Default:
   * the node of the first coded block that is a copy of part j, else node j.
   */
  readonly parts?: readonly (readonly number[])[];
  /** The node that computes the non-copy blocks (default: the node of the first of them). */
  readonly coordinator?: number;
}

/**
 * The module's name and description, and the field.
 *
 * @example
 * ```ts
 * import type { LinearModuleOptions } from "./linear_module.ts";
 * const options: LinearModuleOptions = { name: "lrc_6_2_2", description: "an LRC" };
 * ```
 */
export interface LinearModuleOptions {
  /** The module's name: its file must be `<name>.ts`. */
  readonly name: string;
  /** One line for `cdfs code list` (default: "linear (n,k) code in GF(2^w)"). */
  readonly description?: string;
  /** The field of the coefficients (default 8: GF(2^8)). */
  readonly field?: FieldWidth;
}

/** The part a row copies (coefficient 1 in one place, 0 elsewhere), or -1. */
function copiedPart(row: readonly number[]): number {
  const nonzero = row.flatMap((c, j) => c === 0 ? [] : [j]);
  return nonzero.length === 1 && row[nonzero[0]!] === 1 ? nonzero[0]! : -1;
}

function checkNode(what: string, node: unknown, n: number): number {
  if (!Number.isInteger(node) || (node as number) < 0 || (node as number) >= n) {
    throw new RangeError(`${what} is ${node}, not a node of the code (0..${n - 1})`);
  }
  return node as number;
}

/** The generator as rows of numbers, checked: n rows of k field elements, no zero row, rank k. */
function checkGenerator(generator: readonly ArrayLike<number>[], field: FieldWidth): number[][] {
  const rows = generator.map((row) => Array.from(row));
  const k = rows[0]?.length ?? 0;
  if (rows.length === 0 || k === 0) throw new RangeError("the generator matrix is empty");
  const max = field === 8 ? 255 : 65535;
  rows.forEach((row, i) => {
    if (row.length !== k) {
      throw new RangeError(`generator row ${i} has ${row.length} entries, row 0 has ${k}`);
    }
    row.forEach((c, j) => {
      if (!Number.isInteger(c) || c < 0 || c > max) {
        throw new RangeError(`generator[${i}][${j}] = ${c} is not an element of GF(2^${field})`);
      }
    });
    if (row.every((c) => c === 0)) throw new RangeError(`generator row ${i} is zero`);
  });
  const vectors: FieldVector[] = rows.map((r) =>
    field === 8 ? Uint8Array.from(r) : Uint16Array.from(r)
  );
  const rank = fieldRank(field, vectors);
  if (rank < k) {
    throw new RangeError(`the generator has rank ${rank} < k = ${k}: no set of blocks decodes`);
  }
  return rows;
}

/** `encode_parity` and, for each row it does not store itself, its queue's aux and store programs. */
function parityPrograms(
  g: readonly number[][],
  rows: readonly number[],
  coded: readonly number[],
  parts: readonly (readonly number[])[],
  coordinator: number,
): { programs: Record<string, Program>; entries: string[] } {
  const k = g[0]!.length;
  const used = Array.from({ length: k }, (_, j) => j).filter((j) =>
    rows.some((i) => g[i]![j] !== 0)
  );
  const reads = used.map((j) =>
    readBlock(`data${j}`, partBlock(j), parts[j]!.includes(coordinator) ? undefined : parts[j]![0])
  );
  const local = rows.flatMap((i, p) => coded[i] === coordinator ? [p] : []);
  const writes = local.map((p) => writeBlock(`parity${p}`, codedBlock(rows[p]!)));
  const encode = defineProgram({ node: coordinator, streams: [...reads, ...writes] }, (op) => {
    const out: Instruction[] = used.map((j) => op.load(`d${j}`, `data${j}`));
    const firsts = rows.map((i) => g[i]!.findIndex((c) => c !== 0));
    rows.forEach((i, p) => out.push(op.mult(`p${p}`, g[i]![firsts[p]!]!, `d${firsts[p]}`)));
    for (const j of used) {
      rows.forEach((i, p) => {
        if (j !== firsts[p] && g[i]![j] !== 0) out.push(op.muladd(`p${p}`, g[i]![j]!, `d${j}`));
      });
    }
    rows.forEach((_, p) => {
      out.push(
        local.includes(p) ? op.write(`p${p}`, `parity${p}`) : op.push(`parity${p}`, `p${p}`),
      );
    });
    return out;
  });
  const programs: Record<string, Program> = { encode_parity: encode };
  const entries = ["encode_parity"];
  rows.forEach((i, p) => {
    if (local.includes(p)) return;
    programs[`parity_out${p}`] = defineProgram(
      { node: coordinator, streams: [], buffers: ["b"], queues: [`parity${p}`], output: "b" },
      (op) => [op.pop(`parity${p}`, "b")],
    );
    programs[`store_parity${p}`] = defineProgram({
      node: coded[i]!,
      streams: [pull(`parity_out${p}`, "parity"), writeBlock("coded", codedBlock(i))],
      buffers: ["b"],
    }, (op) => [op.load("b", "parity"), op.write("b", "coded")]);
    entries.push(`store_parity${p}`);
  });
  return { programs, entries };
}

/**
 * Builds a coding module for the linear code with generator `generator` (n rows of k
 * coefficients: coded block i = Σ_j generator[i][j] · part j), placed as `placement` says. The
 * module is validated (`validateModule`) before it is returned, so a module file can simply
 * `export const codingModule = linearModule(...)`.
 *
 * @example
 * ```ts
 * import { linearModule } from "./linear_module.ts";
 * import { generatorMatrix } from "./symbolic.ts";
 * // An LRC with 4 data parts, one XOR parity per pair (local) and one global parity.
 * const lrc = linearModule([
 *   [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1],
 *   [1, 1, 0, 0], [0, 0, 1, 1], // local parities: a lost part is rebuilt from 2 blocks
 *   [1, 2, 4, 8],               // global parity
 * ], { coded: [0, 1, 2, 3, 4, 5, 6] }, { name: "lrc_4_2_1" });
 * console.log(lrc.n, lrc.k, lrc.encode); // 7 4 [ "encode_parity", "store_parity1", ... ]
 * console.log(Array.from(generatorMatrix(lrc)[6]!)); // [ 1, 2, 4, 8 ]
 * ```
 *
 * @param generator The n×k generator matrix (numbers or typed-array rows).
 * @param placement The node of every coded block; optionally the nodes of the parts and the
 * coordinator of the parity computation.
 * @param options The module's name and description, and the field (default GF(2^8)).
 * @returns The validated module.
 * @throws {RangeError} When the generator is not an n×k matrix of field elements of rank k
 * with no zero row, or the placement does not fit it.
 * @throws {CdfsError} `BAD_REQUEST` when the module fails validation (e.g. a bad name).
 */
export function linearModule(
  generator: readonly ArrayLike<number>[],
  placement: LinearPlacement,
  options: LinearModuleOptions,
): CodingModule {
  const field = options.field ?? 8;
  const g = checkGenerator(generator, field);
  const n = g.length, k = g[0]!.length;
  if (placement.coded.length !== n) {
    throw new RangeError(
      `the placement has ${placement.coded.length} coded blocks, the generator ${n} rows`,
    );
  }
  const coded = placement.coded.map((node, i) =>
    checkNode(`the node of coded block ${i}`, node, n)
  );
  const copies = g.map(copiedPart);
  const parts = Array.from({ length: k }, (_, j) => {
    const nodes = placement.parts?.[j] ?? [copies.includes(j) ? coded[copies.indexOf(j)]! : j];
    if (nodes.length === 0) throw new RangeError(`part ${j} is placed on no node`);
    return nodes.map((node) => checkNode(`a node of part ${j}`, node, n));
  });
  if (placement.parts !== undefined && placement.parts.length !== k) {
    throw new RangeError(
      `the placement has ${placement.parts.length} parts, the generator ${k} columns`,
    );
  }
  const rows = copies.flatMap((j, i) => j < 0 ? [i] : []);
  const coordinator = placement.coordinator === undefined
    ? coded[rows[0] ?? 0]!
    : checkNode("the coordinator", placement.coordinator, n);

  const programs: Record<string, Program> = {};
  const encode: string[] = [];
  if (rows.length > 0) {
    const parity = parityPrograms(g, rows, coded, parts, coordinator);
    Object.assign(programs, parity.programs);
    encode.push(...parity.entries);
  }
  copies.forEach((j, i) => {
    if (j < 0) return;
    const name = Object.hasOwn(programs, `copy_data${j}`) ? `copy_data${j}_${i}` : `copy_data${j}`;
    const node = coded[i]!;
    programs[name] = defineProgram({
      node,
      streams: [
        readBlock("part", partBlock(j), parts[j]!.includes(node) ? undefined : parts[j]![0]),
        writeBlock("coded", codedBlock(i)),
      ],
      buffers: ["b"],
    }, (op) => [op.load("b", "part"), op.write("b", "coded")]);
    encode.push(name);
  });
  return validateModule({
    name: options.name,
    description: options.description ?? `linear (${n},${k}) code in GF(2^${field})`,
    field,
    n,
    k,
    parts: parts.map((nodes, j) => ({ block: partBlock(j), nodes })),
    coded: coded.map((node, i) => ({ block: codedBlock(i), node })),
    encode,
    programs,
  }, `linearModule(${options.name})`);
}
