/**
 * The coding layer: coding modules as data (`program.ts`), their validation and loading, the
 * byte interpreter and its per-run queues, and the in-process cluster.
 *
 * @example
 * ```ts
 * import { loadCodingModule, runLocal } from "./mod.ts";
 * const module = await loadCodingModule("rapidraid");
 * const blocks = new Map<string, Uint8Array>();
 * // ... fill blocks "<node>/<id>.part<j>" ...
 * await runLocal(module, module.encode, { objectId: "obj", blocks });
 * ```
 *
 * @module
 */

export * from "./program.ts";
export * from "./validate.ts";
export * from "./loader.ts";
export * from "./interpreter.ts";
export * from "./queues.ts";
export * from "./local_cluster.ts";
// Symbolic execution, field linear algebra, derived decoders and module-writing helpers.
export * from "./field_matrix.ts";
export * from "./symbolic.ts";
export * from "./decoder.ts";
export * from "./helpers.ts";
export * from "./push.ts";
