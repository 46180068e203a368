/**
 * The coding layer: coding modules as data (`program.ts`), their validation and loading, the
 * byte interpreter and its per-run queues, and the in-process cluster.
 *
 * @example
 * ```ts
 * import { expandBlockName, loadCodingModule, runLocal } from "./mod.ts";
 * const module = await loadCodingModule("rapidraid");
 * // Every part j of object "obj" on each node that holds it, keyed "<node>/<block id>".
 * const blocks = new Map<string, Uint8Array>();
 * module.parts.forEach((part, j) => {
 *   const data = new Uint8Array(8192).fill(j);
 *   const id = expandBlockName(part.block, "obj");
 *   for (const node of part.nodes) blocks.set(`${node}/${id}`, data);
 * });
 * const options = { objectId: "obj", blocks, chunkSize: 4096 };
 * const result = await runLocal(module, module.encode, options);
 * console.log(result.blocks.size); // 16, the coded blocks
 * ```
 *
 * @module
 */

export * from "./program.ts";
export * from "./validate.ts";
export * from "./loader.ts";
export * from "../runtime/interpreter.ts";
export * from "../runtime/queues.ts";
export * from "../runtime/local_cluster.ts";
// Symbolic execution, field linear algebra, derived decoders and module-writing helpers.
export * from "../analysis/field_matrix.ts";
export * from "../analysis/symbolic.ts";
export * from "../analysis/decoder.ts";
export * from "./helpers.ts";
export * from "../runtime/push_chain.ts";
