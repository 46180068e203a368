/**
 * Plain replication: the object is one part (k = 1) held by node 0, and the encode writes n
 * copies of it, `{id}.coded<i>` on node i. Node 0 copies its part locally; nodes 1..n-1 each
 * read it from node 0 at the same time. Any one copy decodes.
 *
 * @module
 */

import {
  codedBlock,
  type CodingFamily,
  type CodingModule,
  defineProgram,
  partBlock,
  type Program,
  readBlock,
  writeBlock,
} from "cdfs/coding";

/**
 * Builds a replication module with `copies` copies.
 *
 * @example
 * ```ts
 * import { replicationModule } from "./replication.ts";
 * const m = replicationModule(5, "replication5");
 * console.log(m.n, m.k, m.encode.length); // 5 1 5
 * ```
 *
 * @param copies The number of copies n, at least 1.
 * @param name The module name (default `"replication"`).
 * @returns The module.
 * @throws {RangeError} When `copies` is not a positive integer.
 */
export function replicationModule(copies: number, name = "replication"): CodingModule {
  if (!Number.isSafeInteger(copies) || copies < 1) {
    throw new RangeError(`the number of copies must be a positive integer, got ${copies}`);
  }
  const programs: Record<string, Program> = {};
  for (let i = 0; i < copies; i++) {
    programs[`copy${i}`] = defineProgram({
      node: i,
      streams: [
        readBlock("part", partBlock(0), i === 0 ? undefined : 0),
        writeBlock("copy", codedBlock(i)),
      ],
      buffers: ["b"],
    }, (op) => [op.load("b", "part"), op.write("b", "copy")]);
  }
  return {
    name,
    description: `replication: ${copies} copies of the object`,
    field: 8,
    n: copies,
    k: 1,
    parts: [{ block: partBlock(0), nodes: [0] }],
    coded: Array.from({ length: copies }, (_, i) => ({ block: codedBlock(i), node: i })),
    encode: Object.keys(programs),
    programs,
  };
}

/**
 * Three-way replication.
 *
 * @example
 * ```ts
 * import { deriveRepairProgram } from "cdfs/coding";
 * import { codingModule } from "./replication.ts";
 * // A lost copy is rebuilt on its node from one surviving copy.
 * const repair = deriveRepairProgram(codingModule, 2, [0, 1]);
 * console.log(repair.node, repair.streams.length); // 2 2
 * ```
 */
export const codingModule: CodingModule = replicationModule(3);

/**
 * The family `replication:n=..`: n copies of the object, one per node.
 *
 * @example
 * ```ts
 * import { loadCodingModule } from "cdfs/coding";
 * const m = await loadCodingModule("replication:n=5");
 * console.log(m.name, m.n, m.k); // "replication:n=5" 5 1
 * ```
 */
export const codingFamily: CodingFamily = {
  name: "replication",
  description: "n copies of the object, copy i on node i",
  parameters: [{ name: "n", description: "copies", min: 1, max: 64 }],
  build: ({ n }, name) => replicationModule(n!, name),
};
