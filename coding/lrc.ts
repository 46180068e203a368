/**
 * Locally repairable codes (Azure LRC, HDFS-Xorbas style): k data parts in l local groups
 * (sizes differing by at most one, consecutive parts), each group with one XOR local parity,
 * plus r global parities, rows of a Cauchy matrix over all k parts in GF(2^8). n = k + l + r
 * coded blocks, one per node: data part j is coded block j, the local parity of group g is
 * coded block k + g, global parity p is coded block k + l + p.
 *
 * Global coefficients: the Cauchy matrix `cauchy(r, k)`, its columns scaled by the first of a
 * fixed series of multipliers (none first) for which the code is *maximally recoverable*: every
 * erasure pattern the structure allows (see {@linkcode lrcStructurallyDecodable}) decodes,
 * checked by rank over every k-subset when there are at most 20,000 (else plain Cauchy). For
 * LRC(10,2,2) plain Cauchy leaves 4 such patterns undecodable; a later entry of the series none.
 *
 * A lost data block or local parity is rebuilt from its group: k/l blocks read instead of k
 * (`cdfs code inspect lrc` shows the repair traffic) for (l + r) / k extra storage. Any r + 1
 * losses decode; more decode as long as, per group with losses, one is covered by its local
 * parity and the rest, with the lost global parities, number at most r.
 *
 * Built with `linearModule`: the encode is the derived one (`encode_parity` on node k computes
 * all l + r parities in one pass), decode and repair programs are derived from the generator.
 *
 * @module
 */

import {
  cauchy,
  type CodingFamily,
  type CodingModule,
  fieldArithmetic,
  fieldRank,
  linearModule,
} from "cdfs/coding";

/**
 * The groups of an LRC: group g holds consecutive parts, sizes differing by at most one.
 *
 * @example
 * ```ts
 * import { lrcGroups } from "./lrc.ts";
 * console.log(lrcGroups(5, 2)); // [ [ 0, 1, 2 ], [ 3, 4 ] ]
 * ```
 *
 * @param k The number of data parts.
 * @param l The number of groups, 1..k.
 * @returns The parts of each group.
 */
export function lrcGroups(k: number, l: number): number[][] {
  const groups: number[][] = [];
  let next = 0;
  for (let g = 0; g < l; g++) {
    const size = Math.floor(k / l) + (g < k % l ? 1 : 0);
    groups.push(Array.from({ length: size }, (_, t) => next + t));
    next += size;
  }
  return groups;
}

/**
 * Builds an LRC module: k data parts, l XOR local parities, r Cauchy global parities.
 *
 * @example
 * ```ts
 * import { lrcModule } from "./lrc.ts";
 * const m = lrcModule(6, 2, 2);
 * console.log(m.name, m.n, m.k); // "lrc:k=6,l=2,r=2" 10 6
 * ```
 *
 * @param k The number of data parts, at least 1.
 * @param l The number of local groups, 1..k.
 * @param r The number of global parities, at least 0; k + l + r at most 256.
 * @param name The module's name (default: the canonical spec `lrc:k=..,l=..,r=..`).
 * @returns The module.
 * @throws {RangeError} When the parameters do not fit.
 */
export function lrcModule(
  k: number,
  l: number,
  r: number,
  name = `lrc:k=${k},l=${l},r=${r}`,
): CodingModule {
  const problem = checkLrc({ k, l, r });
  if (problem !== undefined) throw new RangeError(problem);
  const data = Array.from(
    { length: k },
    (_, j) => Array.from({ length: k }, (_, t) => t === j ? 1 : 0),
  );
  const local = lrcGroups(k, l).map((group) =>
    Array.from({ length: k }, (_, t) => group.includes(t) ? 1 : 0)
  );
  const global = globalRows(k, l, r, [...data, ...local]);
  return linearModule([...data, ...local, ...global], {
    coded: Array.from({ length: k + l + r }, (_, i) => i),
  }, {
    name,
    description: `LRC (${k + l + r},${k}): ${l} local XOR groups, ${r} global Cauchy parities, ` +
      "GF(2^8)",
  });
}

/**
 * Whether the k-subset `survivors` of an LRC's coded blocks can decode in some LRC of this
 * structure: per group with losses (data or local parity), one is covered by the local parity;
 * the others and the lost global parities must number at most r.
 *
 * @example
 * ```ts
 * import { lrcStructurallyDecodable } from "./lrc.ts";
 * // LRC(6,2,2): losing parts 0, 1 and 2 (one group) needs 2 global parities: possible.
 * console.log(lrcStructurallyDecodable(6, 2, 2, [3, 4, 5, 6, 8, 9])); // true
 * console.log(lrcStructurallyDecodable(6, 2, 2, [3, 4, 5, 7, 8, 9])); // false
 * ```
 *
 * @param k Data parts.
 * @param l Local groups.
 * @param r Global parities.
 * @param survivors Coded-block indices.
 * @returns Whether the structure allows the pattern to decode.
 */
export function lrcStructurallyDecodable(
  k: number,
  l: number,
  r: number,
  survivors: readonly number[],
): boolean {
  const alive = new Set(survivors);
  let need = 0;
  lrcGroups(k, l).forEach((group, g) => {
    const lost = group.filter((j) => !alive.has(j)).length + (alive.has(k + g) ? 0 : 1);
    need += Math.max(0, lost - 1);
  });
  for (let p = 0; p < r; p++) if (!alive.has(k + l + p)) need++;
  return need <= r;
}

/** Whether every structurally decodable k-subset decodes with these rows (a full search). */
function maximallyRecoverable(k: number, l: number, r: number, rows: number[][]): boolean {
  const n = rows.length;
  const vectors = rows.map((row) => Uint8Array.from(row));
  const subset = Array.from({ length: k }, (_, i) => i);
  while (true) {
    if (
      lrcStructurallyDecodable(k, l, r, subset) &&
      fieldRank(8, subset.map((i) => vectors[i]!)) < k
    ) {
      return false;
    }
    let t = k - 1;
    while (t >= 0 && subset[t] === n - k + t) t--;
    if (t < 0) return true;
    subset[t]!++;
    for (let u = t + 1; u < k; u++) subset[u] = subset[u - 1]! + 1;
  }
}

function subsets(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = c * (n - k + i) / i;
  return c;
}

/** The global parities' rows: Cauchy, columns scaled by the first multipliers that make it MR. */
function globalRows(k: number, l: number, r: number, top: number[][]): number[][] {
  if (r === 0) return [];
  const base = cauchy(r, k).map((row) => Array.from(row));
  if (subsets(k + l + r, k) > 20_000) return base;
  const f = fieldArithmetic(8);
  for (let attempt = 0; attempt < 64; attempt++) {
    // Multiplier of column j: 1 first, then powers of 2 in a fixed pattern per attempt.
    let power = 1;
    const scales = Array.from({ length: k }, (_, j) => {
      if (attempt === 0) return 1;
      for (let e = 0; e < (attempt * (j + 1)) % 255; e++) power = f.mul(power, 2);
      return power;
    });
    const rows = base.map((row) => row.map((c, j) => f.mul(c, scales[j]!)));
    if (maximallyRecoverable(k, l, r, [...top, ...rows])) return rows;
  }
  return base;
}

function checkLrc(
  { k, l, r }: { readonly k?: number; readonly l?: number; readonly r?: number },
): string | undefined {
  if (!Number.isSafeInteger(k) || k! < 1) return `k must be a positive integer, got ${k}`;
  if (!Number.isSafeInteger(l) || l! < 1 || l! > k!) {
    return `l must be in 1..k = 1..${k} (local groups of at least one part), got ${l}`;
  }
  if (!Number.isSafeInteger(r) || r! < 0) return `r must be a non-negative integer, got ${r}`;
  if (k! + l! + r! > 256) return `k + l + r must be at most 256 (GF(2^8)), got ${k! + l! + r!}`;
  return undefined;
}

/**
 * The family `lrc:k=..,l=..,r=..`.
 *
 * @example
 * ```ts
 * import { loadCodingModule } from "cdfs/coding";
 * const m = await loadCodingModule("lrc:k=12,l=2,r=2");
 * console.log(m.n, m.k); // 16 12
 * ```
 */
export const codingFamily: CodingFamily = {
  name: "lrc",
  description: "locally repairable code: k data, l XOR local groups, r global parities (GF(2^8))",
  parameters: [
    { name: "k", description: "data blocks", min: 1, max: 254 },
    { name: "l", description: "local groups, each with an XOR parity", min: 1, max: 254 },
    { name: "r", description: "global parities", min: 0, max: 254 },
  ],
  check: checkLrc,
  build: ({ k, l, r }, name) => lrcModule(k!, l!, r!, name),
};

/**
 * LRC (14,10): 10 data blocks in 2 groups of 5, 2 global parities (the Xorbas comparison with
 * RS(14,10): a lost data block is rebuilt from 5 blocks instead of 10).
 *
 * @example
 * ```ts
 * import { codingModule } from "./lrc.ts";
 * console.log(codingModule.name, codingModule.n); // "lrc" 14
 * ```
 */
export const codingModule: CodingModule = lrcModule(10, 2, 2, "lrc");
