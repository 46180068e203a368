/**
 * Pipelined codes (RapidRAID, L. Pamies-Juarez, A. Datta, F. Oggier, IEEE INFOCOM 2013): the
 * encode is one chain through the n nodes. Node 0 streams s_0 = Σ ψ·(its parts) to node 1; node
 * i receives s_{i-1}, forwards s_i = s_{i-1} + Σ ψ·(its parts) and stores coded block i =
 * s_{i-1} + Σ ξ·(its parts); the last node only stores. The client starts the last node's
 * program, which pulls the one before, down to node 0, so all nodes work at once on consecutive
 * chunks. {@linkcode pipelinedModule} builds any such code from what each node holds;
 * {@linkcode rapidRaidModule} is RapidRAID's placement (every part on two nodes) over it.
 *
 * @module
 */

import { defineProgram } from "./builders.ts";
import { codedBlock, partBlock, pull, readBlock, writeBlock } from "./helpers.ts";
import type { CodingModule, FieldWidth, Instruction, Program } from "./program.ts";
import { validateModule } from "./validate.ts";

/**
 * A part a node of a pipeline holds, and its two coefficients there.
 *
 * @example
 * ```ts
 * import type { PipelineReplica } from "./pipelined_module.ts";
 * const held: PipelineReplica = { part: 0, psi: 129, xi: 141 };
 * ```
 */
export interface PipelineReplica {
  /** The part's index, 0..k-1. */
  readonly part: number;
  /** Its coefficient in the stream the node forwards. */
  readonly psi: number;
  /** Its coefficient in the coded block the node stores. */
  readonly xi: number;
}

/**
 * The module's name and description, and the field.
 *
 * @example
 * ```ts
 * import type { PipelinedModuleOptions } from "./pipelined_module.ts";
 * const options: PipelinedModuleOptions = { name: "rapidraid", field: 8 };
 * ```
 */
export interface PipelinedModuleOptions {
  /** The module's name: its file must be `<name>.ts`. */
  readonly name: string;
  /** One line for `cdfs code list` (default: "pipelined (n,k) code in GF(2^w)"). */
  readonly description?: string;
  /** The field of the coefficients (default 8). */
  readonly field?: FieldWidth;
}

/** `enc_node<i>`: node 0 starts the stream, the others extend it, the last one only stores. */
function encodeProgram(i: number, held: readonly PipelineReplica[], last: boolean): Program {
  if (i === 0 && held.length === 1) {
    const { part, psi, xi } = held[0]!;
    return defineProgram({
      node: 0,
      streams: [readBlock(`part${part}`, partBlock(part)), writeBlock("coded0", codedBlock(0))],
      buffers: ["temp", "stream"],
      ...(last ? {} : { output: "stream" }),
    }, (op) => [
      op.load("temp", `part${part}`),
      ...(last ? [] : [op.mult("stream", psi, "temp")]), // s_0 = ψ·o, streamed to node 1
      op.mult("temp", xi, "temp"), // c_0 = ξ·o
      op.write("temp", "coded0"),
    ]);
  }
  // Buffer names of the original: "local" for one part, "local<j>" for several.
  const local = (part: number): `local${string}` => held.length === 1 ? "local" : `local${part}`;
  return defineProgram({
    node: i,
    streams: [
      // Declared in the original's order: the last part loaded first.
      ...[...held].reverse().map((h) => readBlock(`part${h.part}`, partBlock(h.part))),
      writeBlock(`coded${i}`, codedBlock(i)),
      ...(i === 0 ? [] : [pull(`enc_node${i - 1}`)]),
    ],
    buffers: ["prev", "stream", ...held.map((h) => local(h.part))],
    ...(last ? {} : { output: "stream" }),
  }, (op) => {
    const step: Instruction[] = held.map((h) => op.load(local(h.part), `part${h.part}`));
    if (i > 0) step.push(op.load("prev", `enc_node${i - 1}`));
    // Node 0 (several parts) starts from the first part's terms instead of a received stream.
    const [first, ...rest] = held;
    const from = i === 0 ? rest : held;
    if (!last) {
      // Forward what was received before `prev` gets the ξ terms.
      if (i === 0) step.push(op.mult("stream", first!.psi, local(first!.part)));
      else step.push(op.copy("stream", "prev"));
      for (const h of from) step.push(op.muladd("stream", h.psi, local(h.part)));
    }
    if (i === 0) step.push(op.mult("prev", first!.xi, local(first!.part)));
    for (const h of from) step.push(op.muladd("prev", h.xi, local(h.part)));
    step.push(op.write("prev", `coded${i}`));
    return step;
  });
}

/**
 * Builds a pipelined code: `nodes[i]` lists the parts node i holds before encoding (in the order
 * its program loads them) with their coefficients; coded block i is written on node i; node 0
 * must hold a part. The module is validated before it is returned.
 *
 * @example
 * ```ts
 * import { pipelinedModule } from "./pipelined_module.ts";
 * // (3,2): node 0 holds part 0, node 1 part 1, node 2 both.
 * const m = pipelinedModule(2, [
 *   [{ part: 0, psi: 1, xi: 1 }],
 *   [{ part: 1, psi: 1, xi: 1 }],
 *   [{ part: 0, psi: 0, xi: 2 }, { part: 1, psi: 0, xi: 3 }],
 * ], { name: "tiny_pipeline" });
 * console.log(m.encode, m.parts[0]!.nodes); // enc_node2 [ 0, 2 ]
 * ```
 *
 * @param k The number of parts.
 * @param nodes What each node holds (n entries).
 * @param options The module's name and description, and the field (default GF(2^8)).
 * @returns The validated module.
 * @throws {RangeError} When a part index is outside 0..k-1, a part is held by no node, or node 0
 * holds nothing.
 * @throws {CdfsError} `BAD_REQUEST` when the module fails validation (e.g. a coefficient outside
 * the field).
 */
export function pipelinedModule(
  k: number,
  nodes: readonly (readonly PipelineReplica[])[],
  options: PipelinedModuleOptions,
): CodingModule {
  const field = options.field ?? 8;
  const n = nodes.length;
  if (n === 0 || nodes[0]!.length === 0) throw new RangeError("node 0 must hold a part");
  const holders: number[][] = Array.from({ length: k }, () => []);
  nodes.forEach((held, i) => {
    for (const { part } of held) {
      if (!Number.isInteger(part) || part < 0 || part >= k) {
        throw new RangeError(`node ${i} holds part ${part}, not a part of 0..${k - 1}`);
      }
      holders[part]!.push(i);
    }
  });
  holders.forEach((h, j) => {
    if (h.length === 0) throw new RangeError(`part ${j} is held by no node`);
  });
  const programs: Record<string, Program> = {};
  nodes.forEach((held, i) => programs[`enc_node${i}`] = encodeProgram(i, held, i === n - 1));
  return validateModule({
    name: options.name,
    description: options.description ?? `pipelined (${n},${k}) code in GF(2^${field})`,
    field,
    n,
    k,
    parts: holders.map((h, j) => ({ block: partBlock(j), nodes: h })),
    coded: nodes.map((_, i) => ({ block: codedBlock(i), node: i })),
    encode: `enc_node${n - 1}`,
    programs,
  }, `pipelinedModule(${options.name})`);
}

/**
 * RapidRAID's placement: part j on nodes j and j + (n - k), and the replica index r of each
 * (part, node) pair, counted node by node, parts in increasing order on a node. For (16,11): r = 0
 * on node 0, i on nodes 1..4, 2i-5 (part i-5) and 2i-4 (part i) on nodes 5..10, i+6 on 11..15.
 *
 * @example
 * ```ts
 * import { rapidRaidPlacement } from "./pipelined_module.ts";
 * console.log(rapidRaidPlacement(16, 11)[5]); // [ { part: 0, r: 5 }, { part: 5, r: 6 } ]
 * ```
 *
 * @param n The number of nodes (coded blocks).
 * @param k The number of parts, with k ≤ n ≤ 2k.
 * @returns For every node, the parts it holds and their replica indices (2k in all).
 * @throws {RangeError} When not k ≤ n ≤ 2k.
 */
export function rapidRaidPlacement(n: number, k: number): { part: number; r: number }[][] {
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 1 || n < k || n > 2 * k) {
    throw new RangeError(`RapidRAID needs 1 ≤ k ≤ n ≤ 2k, got n = ${n}, k = ${k}`);
  }
  let r = 0;
  return Array.from({ length: n }, (_, i) => {
    const parts = [i - (n - k), i].filter((j) => j >= 0 && j < k);
    return [...new Set(parts)].map((part) => ({ part, r: r++ }));
  });
}

/**
 * A RapidRAID code: {@linkcode rapidRaidPlacement} with coefficient tables indexed by replica
 * (2k entries each; `psis` of the last node's parts are unused: it forwards nothing).
 *
 * @example
 * ```ts
 * import { rapidRaidModule } from "./pipelined_module.ts";
 * const xis = Array.from({ length: 8 }, (_, r) => r + 1);
 * const psis = Array.from({ length: 8 }, (_, r) => r + 11);
 * const m = rapidRaidModule(6, 4, { xis, psis }, { name: "rapidraid_6_4" });
 * console.log(m.n, m.k, m.parts[1]!.nodes); // 6 4 [ 1, 3 ]
 * ```
 *
 * @param n The number of nodes (coded blocks).
 * @param k The number of parts.
 * @param tables `xis` and `psis`, 2k entries each.
 * @param options The module's name and description, and the field.
 * @returns The validated module.
 * @throws {RangeError} When the sizes or tables do not fit.
 */
export function rapidRaidModule(
  n: number,
  k: number,
  tables: { readonly xis: readonly number[]; readonly psis: readonly number[] },
  options: PipelinedModuleOptions,
): CodingModule {
  const placement = rapidRaidPlacement(n, k);
  for (const name of ["xis", "psis"] as const) {
    if (tables[name].length !== 2 * k) {
      throw new RangeError(
        `${name} has ${tables[name].length} entries, RapidRAID needs 2k = ${2 * k}`,
      );
    }
  }
  const nodes = placement.map((held) =>
    held.map(({ part, r }) => ({ part, psi: tables.psis[r]!, xi: tables.xis[r]! }))
  );
  return pipelinedModule(k, nodes, options);
}
