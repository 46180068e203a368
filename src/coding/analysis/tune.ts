/**
 * Coefficient tuning (`cdfs code tune`): a search over the free coefficients of a family member
 * (RapidRAID's xi and psi tables, {@linkcode FamilyTuning}) for the fewest undecodable k-subsets
 * of its coded blocks, and the count of *structural* ones, which no choice of coefficients
 * decodes.
 *
 * Structural: a k-subset is structural when the determinant of its rows, a polynomial in the
 * coefficients taken as independent symbols, is identically zero. Each draw of random nonzero
 * GF(2^16) coefficients that leaves the subset full rank proves it is not structural (certain);
 * a subset singular for all `draws` independent draws is counted structural. By Schwartz-Zippel
 * a nonzero determinant of total degree ≤ k·degree vanishes at a uniform draw from the 65535
 * nonzero elements with probability ≤ k·degree/65535, so a decodable-for-some-coefficients
 * subset is miscounted with probability ≤ (k·degree/65535)^draws, and the count is wrong with
 * probability ≤ C(n,k) times that (the `bound` reported). GF(2^16) and GF(2^8) have the same
 * characteristic, so the polynomial is the same one; with degree ≤ 1 in every single
 * coefficient (each appears in one column), a nonzero determinant also has nonzero values in
 * GF(2^8), so the structural count is the floor for both fields.
 *
 * The search: coordinate moves with an exact line search. When changing one coefficient x
 * changes one column of the generator, affinely, every subset's determinant is A + x·B; two
 * evaluations give A and B for all subsets at once, hence the number of undecodable subsets for
 * every value of x, and the move takes a value with the fewest (a random one of the ties, so
 * the search walks plateaus; never worse). Coefficients that do not enter the generator are
 * skipped; others get a random value kept if not worse. Sweeps over the coefficients in random
 * order until two sweeps in a row gain nothing, then a random restart; the best tables are
 * kept. Deterministic for a seed and an iteration cap; a time bound only cuts it short.
 *
 * @module
 */

import { nextSubset } from "../../core/arrays.ts";
import { CdfsError } from "../../core/errors.ts";
import type { FamilyTuning } from "../lang/family.ts";
import type { FieldWidth } from "../lang/program.ts";
import { type FieldArithmetic, fieldArithmetic, type FieldMatrix } from "./field_matrix.ts";
import { generatorMatrix } from "./symbolic.ts";

/** The most k-subsets a tune enumerates (each move evaluates all of them twice). */
export const MAX_TUNE_SUBSETS = 200_000;

/** A seeded generator of 32-bit integers (mulberry32). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Every k-subset of 0..n-1 in lexicographic order, k indices each, flat. */
function allSubsets(n: number, k: number): Uint8Array {
  const out: number[] = [];
  const s = Array.from({ length: k }, (_, i) => i);
  do out.push(...s); while (nextSubset(s, n));
  return Uint8Array.from(out);
}

/** The determinant of the rows `subset[at..at+k)` of g, by elimination in `work` (k·k). */
function determinant(
  f: FieldArithmetic,
  g: FieldMatrix,
  subsets: Uint8Array,
  at: number,
  k: number,
  work: Int32Array,
): number {
  for (let r = 0; r < k; r++) {
    const row = g[subsets[at + r]!]!;
    for (let c = 0; c < k; c++) work[r * k + c] = row[c]!;
  }
  let det = 1;
  for (let c = 0; c < k; c++) {
    let p = c;
    while (p < k && work[p * k + c] === 0) p++;
    if (p === k) return 0;
    if (p !== c) {
      for (let t = c; t < k; t++) {
        const x = work[c * k + t]!;
        work[c * k + t] = work[p * k + t]!;
        work[p * k + t] = x;
      }
    }
    const pivot = work[c * k + c]!;
    det = f.mul(det, pivot);
    const inv = f.inv(pivot);
    for (let r = c + 1; r < k; r++) {
      const lead = work[r * k + c]!;
      if (lead === 0) continue;
      const factor = f.mul(lead, inv);
      for (let t = c; t < k; t++) {
        work[r * k + t] = work[r * k + t]! ^ f.mul(factor, work[c * k + t]!);
      }
    }
  }
  return det;
}

/** The shape of a member's tables, as one flat coordinate list. */
interface Layout {
  readonly names: readonly string[];
  readonly lengths: readonly number[];
  readonly total: number;
}

function layoutOf(tuning: FamilyTuning, params: Readonly<Record<string, number>>): Layout {
  const shape = tuning.shape(params);
  return {
    names: shape.map((t) => t.name),
    lengths: shape.map((t) => t.length),
    total: shape.reduce((s, t) => s + t.length, 0),
  };
}

function toTables(layout: Layout, flat: readonly number[]): Record<string, number[]> {
  const tables: Record<string, number[]> = {};
  let at = 0;
  layout.names.forEach((name, i) => {
    tables[name] = flat.slice(at, at + layout.lengths[i]!);
    at += layout.lengths[i]!;
  });
  return tables;
}

function toFlat(layout: Layout, tables: Readonly<Record<string, readonly number[]>>): number[] {
  return layout.names.flatMap((name, i) => {
    const t = tables[name];
    if (t === undefined || t.length !== layout.lengths[i]) {
      throw new RangeError(`table ${name} must have ${layout.lengths[i]} entries`);
    }
    return [...t];
  });
}

/** Member (params) of a tunable family, ready to evaluate. */
class Member {
  readonly n: number;
  readonly k: number;
  readonly subsets: Uint8Array;
  readonly count: number;
  readonly layout: Layout;
  readonly #work: Int32Array;

  constructor(
    readonly tuning: FamilyTuning,
    readonly params: Readonly<Record<string, number>>,
    readonly name: string,
  ) {
    const probe = tuning.build(params, tuning.initial(params), 8, name);
    this.n = probe.n;
    this.k = probe.k;
    let c = 1;
    for (let i = 1; i <= this.k; i++) c = c * (this.n - this.k + i) / i;
    this.count = Math.round(c);
    if (this.count > MAX_TUNE_SUBSETS) {
      throw new CdfsError(
        "BAD_REQUEST",
        `code ${name}: C(${this.n}, ${this.k}) = ${this.count} subsets exceed the tuning limit ` +
          `of ${MAX_TUNE_SUBSETS}`,
      );
    }
    this.subsets = allSubsets(this.n, this.k);
    this.layout = layoutOf(tuning, params);
    this.#work = new Int32Array(this.k * this.k);
  }

  generator(flat: readonly number[], field: FieldWidth): FieldMatrix {
    return generatorMatrix(
      this.tuning.build(this.params, toTables(this.layout, flat), field, this.name),
    );
  }

  /** The determinant of every subset, in order. */
  determinants(f: FieldArithmetic, g: FieldMatrix): Int32Array {
    const out = new Int32Array(this.count);
    for (let s = 0; s < this.count; s++) {
      out[s] = determinant(f, g, this.subsets, s * this.k, this.k, this.#work);
    }
    return out;
  }

  undecodable(f: FieldArithmetic, g: FieldMatrix): number {
    let zero = 0;
    for (let s = 0; s < this.count; s++) {
      if (determinant(f, g, this.subsets, s * this.k, this.k, this.#work) === 0) zero++;
    }
    return zero;
  }

  subset(s: number): number[] {
    return Array.from(this.subsets.subarray(s * this.k, (s + 1) * this.k));
  }
}

/**
 * The structural undecodable k-subsets of a member, with the bound on the chance that the count
 * is wrong.
 *
 * @example
 * ```ts
 * import type { StructuralResult } from "./tune.ts";
 * const show = (r: StructuralResult) => `${r.subsets.length} structural (error ≤ ${r.bound})`;
 * ```
 */
export interface StructuralResult {
  /** The structural k-subsets (coded block indices), lexicographic. */
  readonly subsets: number[][];
  /** How many random GF(2^16) draws every one of them failed. */
  readonly draws: number;
  /** An upper bound on the probability that a non-structural subset is among them. */
  readonly bound: number;
}

/**
 * The k-subsets of a family member that are rank-deficient with its free coefficients as
 * independent symbols (see the module's documentation for the test and its bound).
 *
 * @example
 * ```ts
 * import { structuralSubsets } from "./tune.ts";
 * import { rapidRaidTuning } from "../../../coding/rapidraid.ts";
 * const r = structuralSubsets(rapidRaidTuning, { n: 8, k: 4 }, "rapidraid:n=8,k=4");
 * console.log(r.subsets); // [ [ 0, 1, 4, 5 ] ]
 * ```
 *
 * @param tuning The family's tuning hook.
 * @param params The member's parameters (checked).
 * @param name The member's name.
 * @param options `draws` (default 4) and `seed` (default 1) of the random coefficients.
 * @returns The structural subsets, the draws and the error bound.
 * @throws {CdfsError} BAD_REQUEST when the member has more than {@linkcode MAX_TUNE_SUBSETS}.
 */
export function structuralSubsets(
  tuning: FamilyTuning,
  params: Readonly<Record<string, number>>,
  name: string,
  options: { readonly draws?: number; readonly seed?: number } = {},
): StructuralResult {
  return structuralOf(new Member(tuning, params, name), options.draws ?? 4, options.seed ?? 1);
}

function structuralOf(m: Member, draws: number, seed: number): StructuralResult {
  const f = fieldArithmetic(16);
  const rng = random(seed ^ 0x5354);
  let left: number[] = Array.from({ length: m.count }, (_, s) => s);
  const work = new Int32Array(m.k * m.k);
  for (let d = 0; d < draws && left.length > 0; d++) {
    const flat = Array.from({ length: m.layout.total }, () => 1 + rng() % 65535);
    const g = m.generator(flat, 16);
    left = left.filter((s) => determinant(f, g, m.subsets, s * m.k, m.k, work) === 0);
  }
  const perSubset = Math.min(1, (m.k * m.tuning.degree) / 65535) ** draws;
  return {
    subsets: left.map((s) => m.subset(s)),
    draws,
    bound: Math.min(1, m.count * perSubset),
  };
}

/**
 * What to search, and for how long.
 *
 * @example
 * ```ts
 * import type { TuneOptions } from "./tune.ts";
 * const options: TuneOptions = { field: 8, seed: 1, iterations: 200 };
 * ```
 */
export interface TuneOptions {
  /** The field of the tables searched. */
  readonly field: 8 | 16;
  /** The seed of the search (and of the structural draws). */
  readonly seed: number;
  /** Stop after this many seconds (default 10). */
  readonly seconds?: number;
  /** Stop after this many coefficient moves (deterministic; default: no cap). */
  readonly iterations?: number;
  /** Called on every new best and every restart. */
  readonly onProgress?: (p: TuneProgress) => void;
  /** The clock, in milliseconds (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * A progress report of {@linkcode tuneCoefficients}.
 *
 * @example
 * ```ts
 * import type { TuneProgress } from "./tune.ts";
 * const line = (p: TuneProgress) => `restart ${p.restarts}: best ${p.best}`;
 * ```
 */
export interface TuneProgress {
  /** Undecodable subsets of the best tables so far. */
  readonly best: number;
  /** Of the tables being improved now. */
  readonly current: number;
  /** Restarts so far. */
  readonly restarts: number;
  /** Coefficient moves so far. */
  readonly moves: number;
  /** Milliseconds since the search began. */
  readonly elapsedMs: number;
}

/**
 * What {@linkcode tuneCoefficients} found.
 *
 * @example
 * ```ts
 * import type { TuneResult } from "./tune.ts";
 * const gain = (r: TuneResult) => r.before - r.after;
 * ```
 */
export interface TuneResult {
  /** The number of k-subsets, C(n, k). */
  readonly subsetCount: number;
  /** n and k. */
  readonly n: number;
  /** The number of parts. */
  readonly k: number;
  /** Undecodable subsets with the family's own tables, in the field searched. */
  readonly before: number;
  /** Undecodable subsets with the best tables found. */
  readonly after: number;
  /** The structural ones (a floor for every table). */
  readonly structural: StructuralResult;
  /** The best tables found. */
  readonly tables: Record<string, number[]>;
  /** Random restarts made. */
  readonly restarts: number;
  /** Coefficient moves made. */
  readonly moves: number;
  /** Milliseconds searched. */
  readonly elapsedMs: number;
  /** Why the search stopped. */
  readonly stopped: "floor" | "iterations" | "seconds";
}

type Kind = "unused" | "linear" | "other";

/** How coordinate c enters the generator at `flat`: not at all, affinely in one column, else. */
function kindOf(m: Member, flat: number[], c: number, field: FieldWidth): Kind {
  const f = fieldArithmetic(field);
  const at = (v: number): FieldMatrix => {
    const x = flat.slice();
    x[c] = v;
    return m.generator(x, field);
  };
  const g1 = at(1), g2 = at(2), g4 = at(4);
  const columns = new Set<number>();
  const inv3 = f.inv(3);
  for (let i = 0; i < m.n; i++) {
    for (let j = 0; j < m.k; j++) {
      const d = f.mul(g1[i]![j]! ^ g2[i]![j]!, inv3); // G(x) = G(1) + (x + 1)·d when affine
      if (d !== 0) columns.add(j);
      if ((g1[i]![j]! ^ f.mul(5, d)) !== g4[i]![j]!) return "other";
    }
  }
  return columns.size === 0 ? "unused" : columns.size === 1 ? "linear" : "other";
}

/**
 * Searches the free coefficients of a family member for the fewest undecodable k-subsets.
 *
 * @example
 * ```ts
 * import { tuneCoefficients } from "./tune.ts";
 * import { rapidRaidTuning } from "../../../coding/rapidraid.ts";
 * const r = tuneCoefficients(rapidRaidTuning, { n: 8, k: 5 }, "rapidraid:n=8,k=5", {
 *   field: 8,
 *   seed: 1,
 *   iterations: 100,
 * });
 * console.log(r.before, r.after, r.structural.subsets.length); // 2 0 0
 * ```
 *
 * @param tuning The family's tuning hook.
 * @param params The member's parameters (checked).
 * @param name The member's name (the spec).
 * @param options Field, seed and budget.
 * @returns Counts before and after, the structural floor and the best tables.
 * @throws {CdfsError} BAD_REQUEST when the member has more than {@linkcode MAX_TUNE_SUBSETS}.
 */
export function tuneCoefficients(
  tuning: FamilyTuning,
  params: Readonly<Record<string, number>>,
  name: string,
  options: TuneOptions,
): TuneResult {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const m = new Member(tuning, params, name);
  const { field } = options;
  const f = fieldArithmetic(field);
  const max = f.max;
  const structural = structuralOf(m, 4, options.seed);
  const floor = structural.subsets.length;
  const rng = random(options.seed);
  const deadline = start + (options.seconds ?? 10) * 1000;
  const cap = options.iterations ?? Infinity;

  let current = toFlat(m.layout, tuning.initial(params));
  let currentCount = m.undecodable(f, m.generator(current, field));
  const before = currentCount;
  let best = current.slice();
  let bestCount = currentCount;
  const kinds = current.map((_, c) => kindOf(m, current, c, field));
  const used = kinds.flatMap((kind, c) => kind === "unused" ? [] : [c]);
  const histogram = new Int32Array(max + 1);
  const inv3 = f.inv(3);
  let moves = 0, restarts = 0;
  let stopped: TuneResult["stopped"] = "floor";
  const report = () =>
    options.onProgress?.({
      best: bestCount,
      current: currentCount,
      restarts,
      moves,
      elapsedMs: now() - start,
    });

  const move = (c: number): void => {
    if (kinds[c] === "linear") {
      const at = (v: number): Int32Array => {
        const x = current.slice();
        x[c] = v;
        return m.determinants(f, m.generator(x, field));
      };
      const d1 = at(1), d2 = at(2);
      histogram.fill(0);
      let always = 0;
      for (let s = 0; s < m.count; s++) {
        const b = f.mul(d1[s]! ^ d2[s]!, inv3); // det(x) = a + x·b
        const a = d1[s]! ^ b;
        if (b === 0) {
          if (a === 0) always++;
        } else histogram[f.mul(a, f.inv(b))]!++;
      }
      let least = Infinity;
      let ties: number[] = [];
      for (let v = 1; v <= max; v++) {
        const h = histogram[v]!;
        if (h < least) {
          least = h;
          ties = [v];
        } else if (h === least) ties.push(v);
      }
      current[c] = ties[rng() % ties.length]!;
      currentCount = always + least;
    } else {
      const x = current.slice();
      x[c] = 1 + rng() % max;
      const count = m.undecodable(f, m.generator(x, field));
      if (count <= currentCount) {
        current = x;
        currentCount = count;
      }
    }
    moves++;
    if (currentCount < bestCount) {
      best = current.slice();
      bestCount = currentCount;
      report();
    }
  };

  search: while (bestCount > floor) {
    let stale = 0;
    while (stale < 2) {
      const atSweep = currentCount;
      const order = used.slice();
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng() % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const c of order) {
        if (moves >= cap) {
          stopped = "iterations";
          break search;
        }
        if (now() >= deadline) {
          stopped = "seconds";
          break search;
        }
        move(c);
        if (bestCount <= floor) break search;
      }
      stale = currentCount < atSweep ? 0 : stale + 1;
    }
    restarts++;
    current = current.map(() => 1 + rng() % max);
    currentCount = m.undecodable(f, m.generator(current, field));
    if (currentCount < bestCount) {
      best = current.slice();
      bestCount = currentCount;
    }
    report();
  }
  return {
    subsetCount: m.count,
    n: m.n,
    k: m.k,
    before,
    after: bestCount,
    structural,
    tables: toTables(m.layout, best),
    restarts,
    moves,
    elapsedMs: now() - start,
    stopped,
  };
}
