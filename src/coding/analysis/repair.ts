/**
 * Repair traffic: how many blocks a repair reads. Every coded block has the same length, so
 * the blocks read to rebuild one block are also the bytes read per byte repaired.
 *
 * The cheapest repair of block b from a set S of survivors is the smallest R ⊆ S whose rows
 * span row b of the generator. R ∪ {b} is then a *circuit* of the code (a minimal set of
 * dependent rows), the support of a dual codeword y (y · G = 0) with y_b ≠ 0, and block b =
 * y_b⁻¹ · Σ_{i ∈ R} y_i · block i. The circuits are found from the dual code: with a basis B of
 * the dual (n − rank rows), every set Z of n − rank − 1 positions on which B has full rank
 * leaves one dual codeword (up to a factor) that vanishes on Z, and the supports of those are
 * exactly the circuits. That is C(n, n − rank − 1) small eliminations (1,820 for a (16,11)
 * code), done once per module.
 *
 * @module
 */

import { nextSubset } from "../../core/arrays.ts";
import { CdfsError } from "../../core/errors.ts";
import { combinationOf, fieldArithmetic, fieldIndependentRows } from "./field_matrix.ts";
import type { FieldVector } from "./field_matrix.ts";
import type { CodingModule } from "../lang/program.ts";
import { generatorMatrix } from "./symbolic.ts";

/**
 * A minimal dependent set of coded blocks and its dependency: Σ_{i ∈ blocks} y_i · block i = 0.
 *
 * @example
 * ```ts
 * import type { RepairCircuit } from "./repair.ts";
 * const c: RepairCircuit = { blocks: [0, 1, 2], y: [1, 1, 1] }; // block 2 = block 0 + block 1
 * ```
 */
export interface RepairCircuit {
  /** The blocks, increasing. */
  readonly blocks: readonly number[];
  /** The dependency's coefficient of each of `blocks` (nonzero). */
  readonly y: readonly number[];
}

/**
 * One repair: which blocks it reads and with what coefficients.
 *
 * @example
 * ```ts
 * import type { RepairPlan } from "./repair.ts";
 * const plan: RepairPlan = { lost: 2, read: [0, 1], coefficients: [1, 1] };
 * ```
 */
export interface RepairPlan {
  /** The block rebuilt. */
  readonly lost: number;
  /** The blocks read (blocks read per block repaired = `read.length`). */
  readonly read: readonly number[];
  /** Block `lost` = Σ_t coefficients[t] · block read[t]. */
  readonly coefficients: readonly number[];
}

/**
 * The repair traffic of a code (see {@linkcode repairTraffic}).
 *
 * @example
 * ```ts
 * import type { RepairTraffic } from "./repair.ts";
 * const show = (t: RepairTraffic) => `${t.average.toFixed(2)} blocks read per block repaired`;
 * ```
 */
export interface RepairTraffic {
  /** For every coded block, its cheapest repair when it alone is lost (absent: none). */
  readonly single: readonly (RepairPlan | undefined)[];
  /** The average blocks read over the repairable blocks. */
  readonly average: number;
  /** The average over the blocks that are copies of a part (systematic rows), if any. */
  readonly averageData?: number;
  /** Two blocks lost: the costliest single repair (block `lost` with `other` lost too). */
  readonly double?: {
    /** The worst case: the most blocks read to rebuild one block while another is lost. */
    readonly worst?: RepairPlan & { readonly other: number };
    /** The average blocks read over every (lost, other) pair that can be repaired. */
    readonly average: number;
    /** Ordered pairs (lost, other) where `lost` cannot be rebuilt from the n − 2 others. */
    readonly unrepairable: number;
  };
}

const circuitCache = new WeakMap<CodingModule, readonly RepairCircuit[]>();

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = r * (n - k + i) / i;
  return Math.round(r);
}

/**
 * Every circuit of the code (minimal sets of dependent coded blocks), smallest first.
 *
 * @example
 * ```ts
 * import { repairCircuits } from "./repair.ts";
 * import { codingModule } from "../../../coding/replication.ts";
 * console.log(repairCircuits(codingModule).map((c) => c.blocks)); // [ [ 0, 1 ], [ 0, 2 ], [ 1, 2 ] ]
 * ```
 *
 * @param module The coding module.
 * @param options `maxSubsets`: refuse codes needing more eliminations (default 500,000).
 * @returns The circuits, by size then lexicographically.
 * @throws {CdfsError} BAD_REQUEST when the encode is not well formed or the search too large.
 */
export function repairCircuits(
  module: CodingModule,
  options: { readonly maxSubsets?: number } = {},
): readonly RepairCircuit[] {
  const cached = circuitCache.get(module);
  if (cached !== undefined) return cached;
  const g = generatorMatrix(module);
  const { n, field } = module;
  const f = fieldArithmetic(field);
  const info = fieldIndependentRows(field, g);
  const rest = Array.from({ length: n }, (_, i) => i).filter((i) => !info.includes(i));
  const r = rest.length;
  // Dual basis: for j outside the information set, G_j = Σ_t a_t · G_info[t].
  const basis: FieldVector[] = rest.map((j) => {
    const a = combinationOf(field, info.map((i) => g[i]!), g[j]!)!;
    const y = f.zeros(n);
    y[j] = 1;
    info.forEach((i, t) => y[i] = a[t]!);
    return y;
  });
  const found = new Map<string, RepairCircuit>();
  const add = (y: FieldVector): void => {
    const blocks = Array.from(y.keys()).filter((i) => y[i] !== 0);
    const key = blocks.join(",");
    if (blocks.length > 0 && !found.has(key)) {
      found.set(key, { blocks, y: blocks.map((i) => y[i]!) });
    }
  };
  if (r === 1) add(basis[0]!);
  if (r > 1) {
    const count = binomial(n, r - 1);
    const max = options.maxSubsets ?? 500_000;
    if (count > max) {
      throw new CdfsError(
        "BAD_REQUEST",
        `coding module "${module.name}": repair analysis needs C(${n}, ${r - 1}) = ${count} ` +
          `eliminations, over the limit of ${max}`,
      );
    }
    const z = Array.from({ length: r - 1 }, (_, i) => i);
    do {
      const rows = basis.map((b) => {
        const row = f.zeros(r - 1);
        z.forEach((i, t) => row[t] = b[i]!);
        return row;
      });
      const independent = fieldIndependentRows(field, rows);
      if (independent.length === r - 1) {
        const t = basis.findIndex((_, i) => !independent.includes(i));
        const x = combinationOf(field, independent.map((i) => rows[i]!), rows[t]!)!;
        const y = basis[t]!.slice();
        independent.forEach((i, s) => {
          const c = x[s]!;
          if (c === 0) return;
          const b = basis[i]!;
          for (let p = 0; p < n; p++) if (b[p] !== 0) y[p] = y[p]! ^ f.mul(c, b[p]!);
        });
        add(y);
      }
    } while (nextSubset(z, n));
  }
  const circuits = [...found.values()].sort((a, b) =>
    a.blocks.length - b.blocks.length || compareLists(a.blocks, b.blocks)
  );
  circuitCache.set(module, circuits);
  return circuits;
}

function compareLists(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/**
 * The cheapest repair of one block from the survivors: the fewest blocks read; on a tie, the
 * survivors listed first are preferred.
 *
 * @example
 * ```ts
 * import { cheapestRepair } from "./repair.ts";
 * import { codingModule } from "../../../coding/lrc.ts";
 * // LRC(14,10): part 0 is rebuilt from its group (parts 1..4 and local parity 10).
 * console.log(cheapestRepair(codingModule, 0)?.read); // [ 1, 2, 3, 4, 10 ]
 * ```
 *
 * @param module The coding module.
 * @param lost The block to rebuild.
 * @param survivors The blocks that can be read, preferred first (default: every other block).
 * @returns The plan, or `undefined` when the survivors do not span the block.
 * @throws {CdfsError} BAD_REQUEST as {@linkcode repairCircuits}.
 */
export function cheapestRepair(
  module: CodingModule,
  lost: number,
  survivors?: readonly number[],
): RepairPlan | undefined {
  const list = survivors ?? Array.from({ length: module.n }, (_, i) => i).filter((i) => i !== lost);
  const rank = new Map(list.map((b, t) => [b, t]));
  let best: { circuit: RepairCircuit; order: number[] } | undefined;
  for (const circuit of repairCircuits(module)) {
    if (best !== undefined && circuit.blocks.length > best.circuit.blocks.length) break;
    if (!circuit.blocks.includes(lost)) continue;
    const others = circuit.blocks.filter((b) => b !== lost);
    if (!others.every((b) => rank.has(b))) continue;
    const order = others.map((b) => rank.get(b)!).sort((a, b) => a - b);
    if (best === undefined || compareLists(order, best.order) < 0) best = { circuit, order };
  }
  if (best === undefined) return undefined;
  const f = fieldArithmetic(module.field);
  const { blocks, y } = best.circuit;
  const scale = f.inv(y[blocks.indexOf(lost)]!);
  const read = best.order.map((t) => list[t]!);
  return { lost, read, coefficients: read.map((b) => f.mul(scale, y[blocks.indexOf(b)]!)) };
}

/**
 * The repair traffic of a code: every block's cheapest repair when it alone is lost, their
 * average (and over the data blocks), and with two blocks lost the worst single repair.
 *
 * @example
 * ```ts
 * import { repairTraffic } from "./repair.ts";
 * import { codingModule } from "../../../coding/lrc.ts";
 * const t = repairTraffic(codingModule);
 * console.log(t.averageData, t.double?.worst?.read.length); // 5 10
 * ```
 *
 * @param module The coding module.
 * @returns The figures.
 * @throws {CdfsError} BAD_REQUEST as {@linkcode repairCircuits}.
 */
export function repairTraffic(module: CodingModule): RepairTraffic {
  const { n } = module;
  const blocks = Array.from({ length: n }, (_, i) => i);
  const single = blocks.map((b) => cheapestRepair(module, b));
  const mean = (values: number[]): number =>
    values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
  const g = generatorMatrix(module);
  const data = blocks.filter((i) => {
    const nonzero = Array.from(g[i]!).filter((c) => c !== 0);
    return nonzero.length === 1 && nonzero[0] === 1;
  });
  const cost = (i: number): number[] => single[i] === undefined ? [] : [single[i]!.read.length];
  let worst: (RepairPlan & { other: number }) | undefined;
  const costs: number[] = [];
  let unrepairable = 0;
  for (const lost of blocks) {
    for (const other of blocks) {
      if (other === lost) continue;
      const plan = cheapestRepair(module, lost, blocks.filter((b) => b !== lost && b !== other));
      if (plan === undefined) {
        unrepairable++;
        continue;
      }
      costs.push(plan.read.length);
      if (worst === undefined || plan.read.length > worst.read.length) worst = { ...plan, other };
    }
  }
  return {
    single,
    average: mean(blocks.flatMap(cost)),
    ...(data.length === 0 ? {} : { averageData: mean(data.flatMap(cost)) }),
    ...(n < 2 ? {} : {
      double: { ...(worst === undefined ? {} : { worst }), average: mean(costs), unrepairable },
    }),
  };
}
