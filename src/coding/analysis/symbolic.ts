/**
 * Symbolic execution of coding programs: the same programs the interpreter runs on bytes, run
 * once over coefficient vectors instead. Every buffer of a step is a linear combination of the
 * object's k data parts, written as its k coefficients: LOAD of part j gives the unit vector
 * e_j, MULT/MULADD/IADD/COPY compute in the module's field, a `{program}` source gives that
 * program's output vector, PUSH/POP move vectors through FIFO queues per (node, queue). Because
 * every step of a run applies the same linear map to its chunk, one symbolic step describes
 * the whole run: the vector written to coded block i is row i of the code's generator matrix.
 *
 * Besides the generator, a symbolic run checks what would deadlock or be nondeterministic on
 * bytes: pull cycles, queues without a pusher or popper (or with two), unbalanced PUSH/POP
 * counts, a stream loaded or written twice in one step, a block read from a node that does not
 * hold it, a block written twice. The run itself is `symbolic_run.ts`; this module derives the
 * generator matrix and the code's properties from it.
 *
 * @module
 */

import { nextSubset } from "../../core/arrays.ts";
import { CdfsError } from "../../core/errors.ts";
import { type FieldMatrix, fieldRank, type FieldVector, unitVector } from "./field_matrix.ts";
import type { CodingModule, FieldWidth, Program } from "../lang/program.ts";
import { executeSymbolically, type SymbolicRun, type SymbolicRunOptions } from "./symbolic_run.ts";

function fail(module: CodingModule, message: string): never {
  throw new CdfsError("BAD_REQUEST", `coding module "${module.name}": ${message}`);
}

const generators = new WeakMap<CodingModule, FieldMatrix>();

function generatorOf(module: CodingModule): FieldMatrix {
  const cached = generators.get(module);
  if (cached !== undefined) return cached;
  if (module.parts.length !== module.k) {
    fail(module, `k = ${module.k} but ${module.parts.length} parts are listed`);
  }
  if (module.coded.length !== module.n) {
    fail(module, `n = ${module.n} but ${module.coded.length} coded blocks are listed`);
  }
  const seen = new Set<string>();
  for (const c of module.coded) {
    if (seen.has(c.block)) fail(module, `coded block "${c.block}" is listed twice`);
    seen.add(c.block);
  }
  const run = executeSymbolically(module, module.encode, {}, undefined);
  const rows = module.coded.map((c, i) => {
    const w = run.written.get(c.block);
    if (w !== undefined) {
      if (w.node !== c.node) {
        fail(
          module,
          `coded block ${i} ("${c.block}") is written on node ${w.node} by "${w.program}", but ` +
            `the module stores it on node ${c.node}`,
        );
      }
      return w.vector;
    }
    // A coded block may be a part itself (kept in place by the encode).
    const j = module.parts.findIndex((p) => p.block === c.block);
    if (j >= 0 && module.parts[j]!.nodes.includes(c.node)) {
      return unitVector(module.field, module.k, j);
    }
    fail(module, `coded block ${i} ("${c.block}") is never written by the encode programs`);
  });
  generators.set(module, rows);
  return rows;
}

/**
 * Runs programs of a module symbolically: the entries and every program they pull, one step
 * each, in dependency order.
 *
 * @example
 * ```ts
 * import { runSymbolic } from "./symbolic.ts";
 * import { codingModule } from "../../../coding/rapidraid.ts";
 * const run = runSymbolic(codingModule, "enc_node15");
 * console.log(run.written.get("{id}.coded0")?.vector[0]); // 141 (c0 = xis[0]·o0)
 * ```
 *
 * @param module The coding module.
 * @param entries The programs a client would start.
 * @param options Extra readable blocks and extra programs.
 * @returns The written blocks and stream outputs.
 * @throws {CdfsError} BAD_REQUEST naming the module and program when the run is not well
 * formed (unknown programs or blocks, cycles, unbalanced queues, ...).
 */
export function runSymbolic(
  module: CodingModule,
  entries: string | readonly string[],
  options: SymbolicRunOptions = {},
): SymbolicRun {
  return executeSymbolically(module, entries, options, () => generatorOf(module));
}

/**
 * The generator matrix of a module's encode: n rows (in `module.coded` order) of k
 * coefficients; coded block i = Σ_j G[i][j] · part j. In GF(2^8) the rows are `Uint8Array`s
 * (a `Matrix` of `src/gf/matrix.ts`), in GF(2^16) `Uint16Array`s.
 *
 * @example
 * ```ts
 * import { generatorMatrix } from "./symbolic.ts";
 * import { codingModule } from "../../../coding/rs.ts";
 * console.log(generatorMatrix(codingModule)[0]); // e_0: RS is systematic
 * ```
 *
 * @param module The coding module.
 * @returns A new n×k matrix.
 * @throws {CdfsError} BAD_REQUEST when a coded block is never written, written twice or on the
 * wrong node, or the encode is not well formed.
 */
export function generatorMatrix(module: CodingModule): FieldMatrix {
  return generatorOf(module).map((r) => r.slice());
}

/**
 * What {@linkcode analyze} finds out about a code.
 *
 * @example
 * ```ts
 * import type { CodeAnalysis } from "./symbolic.ts";
 * function summary(a: CodeAnalysis): string {
 *   return `${a.decodableCount} of ${a.subsetCount} ${a.k}-subsets decode`;
 * }
 * ```
 */
export interface CodeAnalysis {
  /** Number of coded blocks. */
  readonly n: number;
  /** Number of parts. */
  readonly k: number;
  /** The field. */
  readonly field: FieldWidth;
  /** The generator matrix (see {@linkcode generatorMatrix}). */
  readonly generator: FieldMatrix;
  /** The rank of the whole generator (k unless the code loses data). */
  readonly rank: number;
  /** Whether every k-subset of the coded blocks decodes. */
  readonly isMds: boolean;
  /** Every k-subset of coded-block indices whose rows have rank < k, in lexicographic order. */
  readonly undecodableSubsets: number[][];
  /** How many k-subsets decode. */
  readonly decodableCount: number;
  /** C(n, k), the number of k-subsets. */
  readonly subsetCount: number;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = r * (n - k + i) / i;
  return Math.round(r);
}

/**
 * Analyses a module's code: its generator and, by one rank computation per k-subset of the n
 * coded blocks, exactly which k-subsets cannot be decoded.
 *
 * @example
 * ```ts
 * import { analyze } from "./symbolic.ts";
 * import { codingModule } from "../../../coding/rs.ts";
 * console.log(analyze(codingModule).isMds); // true
 * ```
 *
 * @param module The coding module.
 * @param options `maxSubsets`: refuse codes with more k-subsets than this (default 2,000,000).
 * @returns The analysis.
 * @throws {CdfsError} BAD_REQUEST when the encode is not well formed or C(n, k) is too large.
 */
export function analyze(
  module: CodingModule,
  options: { readonly maxSubsets?: number } = {},
): CodeAnalysis {
  const generator = generatorMatrix(module);
  const { n, k, field } = module;
  const subsetCount = binomial(n, k);
  const max = options.maxSubsets ?? 2_000_000;
  if (subsetCount > max) {
    fail(module, `C(${n}, ${k}) = ${subsetCount} subsets exceed the limit of ${max}`);
  }
  const undecodableSubsets: number[][] = [];
  const subset = Array.from({ length: k }, (_, i) => i);
  if (k <= n) {
    do {
      if (fieldRank(field, subset.map((i) => generator[i]!)) < k) {
        undecodableSubsets.push(subset.slice());
      }
    } while (nextSubset(subset, n));
  }
  return {
    n,
    k,
    field,
    generator,
    rank: fieldRank(field, generator),
    isMds: k <= n && undecodableSubsets.length === 0,
    undecodableSubsets,
    decodableCount: subsetCount - undecodableSubsets.length,
    subsetCount,
  };
}

/**
 * Runs one program (by name, or a program object such as a derived decoder) symbolically and
 * returns its output vector and every block its run writes. By default the run may read the
 * module's parts (unit vectors) and coded blocks (rows of the generator), so a decoder's
 * `{id}.orig<j>` must come out as e_j.
 *
 * @example
 * ```ts
 * import { programOutputs } from "./symbolic.ts";
 * import { deriveDecodePlan, withPrograms } from "./decoder.ts";
 * import { codingModule } from "../../../coding/rapidraid.ts";
 * const plan = deriveDecodePlan(codingModule, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
 * const { written } = programOutputs(withPrograms(codingModule, plan.programs), "decode");
 * console.log([...written.keys()]); // the k parts the decoder writes
 * ```
 *
 * @param module The coding module.
 * @param program A program name of the module, or a program (run under the name `"(given)"`).
 * @param inputVectors Vectors of readable blocks by template (they win over parts and coded).
 * @returns The output vector (for a stream program) and the written blocks by template.
 * @throws {CdfsError} BAD_REQUEST when the run is not well formed.
 */
export function programOutputs(
  module: CodingModule,
  program: string | Program,
  inputVectors?: ReadonlyMap<string, FieldVector> | Readonly<Record<string, FieldVector>>,
): { output: FieldVector | undefined; written: Map<string, FieldVector> } {
  const name = typeof program === "string" ? program : "(given)";
  const blocks = inputVectors === undefined
    ? undefined
    : inputVectors instanceof Map
    ? inputVectors
    : new Map(Object.entries(inputVectors));
  const run = runSymbolic(module, name, {
    ...(blocks === undefined ? {} : { blocks }),
    ...(typeof program === "string" ? {} : { programs: { [name]: program } }),
  });
  const written = new Map<string, FieldVector>();
  for (const [block, w] of run.written) written.set(block, w.vector);
  return { output: run.outputs.get(name), written };
}
