/**
 * The coding SDK: everything a coding module (`coding/<name>.ts`, or a file of a `--coding-dir`)
 * and a researcher studying a code need, under one stable specifier. A module outside the
 * repository imports it as `cdfs/coding` (the import map of cdfs's `deno.json`, which applies to
 * the modules cdfs loads); the package exports it as `./coding`.
 *
 * - Writing a module: the types of {@linkcode CodingModule} and {@linkcode Program}, block
 *   names ({@linkcode partBlock}, {@linkcode codedBlock}), stream declarations
 *   ({@linkcode readBlock}, {@linkcode pull}, {@linkcode writeBlock}), typed instruction
 *   builders ({@linkcode defineProgram}) and checked coefficient tables
 *   ({@linkcode coefficientTable}).
 * - A linear code from its generator matrix: {@linkcode linearModule} (with generators such as
 *   {@linkcode systematicCauchyGenerator}); a pipelined code (RapidRAID) from what each node
 *   holds: {@linkcode pipelinedModule}, {@linkcode rapidRaidModule}.
 * - Studying it: {@linkcode validateModule}, {@linkcode generatorMatrix}, {@linkcode analyze}
 *   (undecodable subsets, MDS), derived decoders and repairs ({@linkcode deriveDecodePlan},
 *   {@linkcode deriveRepairProgram}, {@linkcode withPrograms}), runs on bytes in one process
 *   ({@linkcode runLocal}) and field linear algebra.
 *
 * @example
 * ```ts
 * import { analyze, linearModule, runLocal, systematicCauchyGenerator } from "./mod.ts";
 * // Reed-Solomon (6,4): coded block i on node i.
 * const rs = linearModule(systematicCauchyGenerator(4, 2), { coded: [0, 1, 2, 3, 4, 5] }, {
 *   name: "rs_4_2",
 * });
 * console.log(analyze(rs).isMds); // true
 * // Encode one object in this process: part j is on node j.
 * const blocks = new Map(rs.parts.map((p, j) => [`${p.nodes[0]}/obj.part${j}`, new Uint8Array(64).fill(j + 1)]));
 * const result = await runLocal(rs, rs.encode, { objectId: "obj", blocks, chunkSize: 32 });
 * console.log(result.blocks.has("5/obj.coded5")); // true
 * ```
 *
 * @module
 */

export type {
  CodingModule,
  CopyInstruction,
  FieldWidth,
  IaddInstruction,
  Instruction,
  LoadInstruction,
  MuladdInstruction,
  MultInstruction,
  PopInstruction,
  Program,
  PushInstruction,
  StreamDeclaration,
  StreamSource,
  WriteInstruction,
} from "./lang/program.ts";
export { OPCODES } from "./lang/program.ts";
export {
  codedBlock,
  coefficientTable,
  type InputStream,
  inverseTable,
  origBlock,
  type OutputStream,
  partBlock,
  program,
  pull,
  readBlock,
  writeBlock,
} from "./lang/helpers.ts";
export {
  defineProgram,
  type InputNames,
  type InstructionBuilders,
  type OutputNames,
  type ProgramSpec,
} from "./lang/builders.ts";
export {
  pipelinedModule,
  type PipelinedModuleOptions,
  type PipelineReplica,
  rapidRaidModule,
  rapidRaidPlacement,
} from "./lang/pipelined_module.ts";
export { expandBlockName, validateModule } from "./lang/validate.ts";
export type { CodingFamily, FamilyParameter, FamilyTuning } from "./lang/family.ts";
export {
  type CodingModuleListing,
  type CodingModuleSearch,
  listCodingModules,
  loadCodingFamily,
  loadCodingModule,
} from "./lang/loader.ts";
export {
  linearModule,
  type LinearModuleOptions,
  type LinearPlacement,
} from "./analysis/linear_module.ts";
export {
  analyze,
  type CodeAnalysis,
  generatorMatrix,
  programOutputs,
  runSymbolic,
} from "./analysis/symbolic.ts";
export type {
  SymbolicBlock,
  SymbolicRun,
  SymbolicRunOptions,
  WrittenBlock,
} from "./analysis/symbolic_run.ts";
export {
  type DecodePlan,
  type DecodePlanOptions,
  deriveDecodePlan,
  deriveRepairProgram,
  withPrograms,
} from "./analysis/decoder.ts";
export {
  combinationOf,
  type FieldArithmetic,
  fieldArithmetic,
  fieldIdentity,
  fieldIndependentRows,
  fieldInvert,
  type FieldMatrix,
  fieldMultiply,
  fieldRank,
  type FieldVector,
  unitVector,
} from "./analysis/field_matrix.ts";
export { cauchy, type Matrix, systematicCauchyGenerator, vandermonde } from "../gf/matrix.ts";
export { type LocalRunOptions, type LocalRunResult, runLocal } from "./runtime/local_cluster.ts";
