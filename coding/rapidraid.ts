/**
 * RapidRAID (16,11) in GF(2^8): the pipelined erasure code of L. Pamies-Juarez, A. Datta and
 * F. Oggier, "RapidRAID: Pipelined Erasure Codes for Fast Data Archival in Distributed Storage
 * Systems" (IEEE INFOCOM 2013, arXiv:1207.6744), as the original ClusterDFS implements it in
 * `clusterdfs/rapidraid.py` (github.com/llpamies/ClusterDFS). The worked example of
 * coding/README.md: a module is data, built here by a loop over the nodes with the SDK
 * (`cdfs/coding`).
 *
 * An object is cut into 11 parts; part j is replicated on nodes j and j+5 before encoding.
 * Encoding is one pipeline through the 16 nodes: node 0 streams s_0 = psis[0]·o_0 to node 1,
 * node i adds its local part(s) times psis to what it received and forwards it, and writes
 * coded block i = (what it received) + xis·(its local parts). The client starts `enc_node15`,
 * which pulls `enc_node14`, ... down to `enc_node0`. Coefficient index r (the *replica*) is 0
 * on node 0, i on nodes 1..4, 2i-5 (part i-5) and 2i-4 (part i) on nodes 5..10, i+6 on nodes
 * 11..15.
 *
 * Decision: node 0 stores c_0 = xis[0]·o_0, the paper's form and that of the original's commit
 * 5b0e818 ("rapidraid working for enc and dec"). From commit 76e0449 on, the original's
 * `enc_node0` no longer multiplies by xis[0] while its `dec_node0` still divides by it, so its
 * decoder gets every part wrong.
 * Decoders are not written here: cdfs derives them from the generator matrix for any decodable
 * set of survivors (`deriveDecodePlan`). The original's hand-written decoders `dec_node0..10`
 * live on as a test fixture (`tests/coding/fixtures/decoders/rapidraid_original_decoders.ts`)
 * that checks the derived ones against them.
 *
 * The code is not MDS: some 11-subsets of the 16 coded blocks do not decode
 * (`analyze(codingModule)` lists them).
 *
 * The programs are built by the SDK's `rapidRaidModule` (a pipelined code, `pipelinedModule`,
 * with RapidRAID's placement); this file holds the coefficient tables, one line each. The GF(2^16)
 * variant of the original's INFOCOM experiment is the separate module `coding/rapidraid16.ts`.
 *
 * The family `rapidraid:n=..,k=..` ({@linkcode codingFamily}) is the paper's construction for any
 * k < n ≤ 2k (n ≤ 32) in GF(2^8): part j on nodes j and j + (n - k), the same pipeline, with
 * tables drawn from a fixed seed ({@linkcode rapidRaidTables}); `rapidraid:n=16,k=11` is this
 * module with the published tables.
 *
 * @module
 */

import {
  type CodingFamily,
  type CodingModule,
  coefficientTable,
  type FamilyTuning,
  rapidRaidModule,
} from "cdfs/coding";

/** The published tables, by replica r = 0..21. */
// deno-fmt-ignore
const TABLES = {
  //     r = 0   1   2   3   4   5   6   7   8   9  10  11  12  13  14  15  16  17  18  19  20  21
  xis:  "141 139  79 152 152 243   2  37 149 189 174 149 237  31 198  15  45 138 246 100 101  16",
  psis: "129 207 158  56 171 247 145 139 137 211 190 230 140 177  75  47  94  60 244  69 190 167",
  xisi: "105  45 147  11  11 234 142  86 188 154 190 188  33  42 163 150 139  39 211 185 196 216",
};

/**
 * The GF(2^8) coefficient tables of the original (`clusterdfs/rapidraid.py`, active at its HEAD),
 * indexed by replica r (22 entries): `xis` multiplies a node's part(s) into its coded block,
 * `psis` into the stream it forwards, and `xisi[r] = xis[r]⁻¹` (published with them; the
 * original's hand-written decoders used it).
 *
 * @example
 * ```ts
 * import { RAPIDRAID_COEFFICIENTS } from "./rapidraid.ts";
 * console.log(RAPIDRAID_COEFFICIENTS.xis[0], RAPIDRAID_COEFFICIENTS.psis[0]); // 141 129
 * ```
 */
export const RAPIDRAID_COEFFICIENTS: {
  readonly xis: readonly number[];
  readonly psis: readonly number[];
  readonly xisi: readonly number[];
} = {
  xis: coefficientTable(8, "xis", TABLES.xis),
  psis: coefficientTable(8, "psis", TABLES.psis),
  xisi: coefficientTable(8, "xisi", TABLES.xisi),
};

/**
 * The RapidRAID (16,11) code in GF(2^8).
 *
 * @example
 * ```ts
 * import { analyze } from "cdfs/coding";
 * import { codingModule } from "./rapidraid.ts";
 * const { isMds, undecodableSubsets, subsetCount } = analyze(codingModule);
 * console.log(isMds, undecodableSubsets.length, subsetCount); // false 47 4368
 * ```
 */
export const codingModule: CodingModule = rapidRaidModule(16, 11, RAPIDRAID_COEFFICIENTS, {
  name: "rapidraid",
  description: "RapidRAID (16,11) pipelined code of ClusterDFS in GF(2^8); not MDS",
  field: 8,
});

/** The largest n of the family: 32 nodes (C(32,16) k-subsets is already far past the analyzer). */
const MAX_N = 32;

/**
 * The coefficient tables of the family member (n, k), 2k entries each, indexed by replica r
 * like {@linkcode RAPIDRAID_COEFFICIENTS}: for (16,11) the published tables; otherwise nonzero
 * GF(2^8) elements drawn by xorshift32 from a fixed seed mixed with n and k (`xis` first, then
 * `psis`), so every node builds the same tables for the same spec.
 *
 * @example
 * ```ts
 * import { RAPIDRAID_COEFFICIENTS, rapidRaidTables } from "./rapidraid.ts";
 * console.log(rapidRaidTables(16, 11).xis === RAPIDRAID_COEFFICIENTS.xis); // true
 * console.log(rapidRaidTables(6, 4).psis.length); // 8
 * ```
 *
 * @param n The number of coded blocks.
 * @param k The number of parts.
 * @returns `xis` and `psis`.
 */
export function rapidRaidTables(
  n: number,
  k: number,
): { readonly xis: readonly number[]; readonly psis: readonly number[] } {
  if (n === 16 && k === 11) return RAPIDRAID_COEFFICIENTS;
  let s = (0x52415044 ^ (n * 64 + k)) >>> 0; // "RAPD"
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return 1 + (s % 255);
  };
  const xis = Array.from({ length: 2 * k }, next);
  const psis = Array.from({ length: 2 * k }, next);
  return { xis: coefficientTable(8, "xis", xis), psis: coefficientTable(8, "psis", psis) };
}

function checkRapidRaid({ n, k }: Readonly<Record<string, number>>): string | undefined {
  if (n! <= k! || n! > 2 * k!) {
    return `parameter n must be in k+1..2k = ${k! + 1}..${2 * k!} (RapidRAID places every ` +
      `part on two nodes: k < n ≤ 2k), got ${n}`;
  }
  return undefined;
}

/** The text of a module file that builds RapidRAID (n, k) with these tables. */
function tunedSource(
  { n, k }: Readonly<Record<string, number>>,
  tables: Readonly<Record<string, readonly number[]>>,
  field: 8 | 16,
  name: string,
  comment: string,
): string {
  // The comment's words, wrapped at 96 columns.
  const lines: string[] = [];
  for (const paragraph of comment.split("\n")) {
    let line = " *";
    for (const word of paragraph.split(" ")) {
      if (line.length + word.length > 96 && line !== " *") {
        lines.push(line);
        line = " *";
      }
      line += ` ${word}`;
    }
    lines.push(line);
  }
  const header = lines.join("\n");
  const list = (t: string): string => tables[t]!.join(" ");
  return `/**
 * RapidRAID (${n},${k}) in GF(2^${field}), pipelined, part j on nodes j and j+${n! - k!}.
${header}
 *
 * @module
 */

import { type CodingModule, coefficientTable, rapidRaidModule } from "cdfs/coding";

/** The xi/psi tables by replica r = 0..${2 * k! - 1}. */
// deno-fmt-ignore
const TABLES = {
  xis: "${list("xis")}",
  psis: "${list("psis")}",
};

/** RapidRAID (${n},${k}) with the tables above. */
export const codingModule: CodingModule = rapidRaidModule(${n}, ${k}, {
  xis: coefficientTable(${field}, "xis", TABLES.xis),
  psis: coefficientTable(${field}, "psis", TABLES.psis),
}, {
  name: ${JSON.stringify(name)},
  description: "RapidRAID (${n},${k}) pipelined code in GF(2^${field}), tuned tables; not MDS",
  field: ${field},
});
`;
}

/**
 * The free coefficients of a member: its `xis` and `psis` (2k each), for `cdfs code tune`.
 * Every generator entry is a sum of coefficients (degree 1).
 *
 * @example
 * ```ts
 * import { rapidRaidTuning } from "./rapidraid.ts";
 * console.log(rapidRaidTuning.shape({ n: 8, k: 5 })); // [ { name: "xis", length: 10 }, { name: "psis", length: 10 } ]
 * ```
 */
export const rapidRaidTuning: FamilyTuning = {
  shape: ({ k }) => [{ name: "xis", length: 2 * k! }, { name: "psis", length: 2 * k! }],
  initial: ({ n, k }) => rapidRaidTables(n!, k!),
  degree: 1,
  build: ({ n, k }, tables, field, name) =>
    rapidRaidModule(n!, k!, { xis: tables.xis!, psis: tables.psis! }, {
      name,
      description: `RapidRAID (${n},${k}) pipelined code in GF(2^${field}); not MDS`,
      field,
    }),
  source: tunedSource,
};

/**
 * The family `rapidraid:n=..,k=..`: the pipelined RapidRAID code (n, k) of the paper's
 * construction in GF(2^8), for k < n ≤ 2k and n ≤ 32; tables by {@linkcode rapidRaidTables}.
 * `rapidraid:n=16,k=11` is {@linkcode codingModule} under its spec name.
 *
 * @example
 * ```ts
 * import { analyze, loadCodingModule } from "cdfs/coding";
 * const m = await loadCodingModule("rapidraid:n=6,k=4");
 * console.log(m.name, m.encode, m.parts[1]!.nodes); // "rapidraid:n=6,k=4" enc_node5 [ 1, 3 ]
 * console.log(analyze(m).subsetCount); // 15
 * ```
 */
export const codingFamily: CodingFamily = {
  name: "rapidraid",
  description: "pipelined RapidRAID (n,k), k < n <= 2k, part j on nodes j and j+n-k, GF(2^8)",
  parameters: [
    { name: "n", description: "coded blocks (nodes), k+1..2k", min: 2, max: MAX_N },
    { name: "k", description: "parts", min: 1, max: MAX_N - 1 },
  ],
  check: checkRapidRaid,
  tunable: rapidRaidTuning,
  build: ({ n, k }, name) =>
    rapidRaidModule(n!, k!, rapidRaidTables(n!, k!), {
      name,
      description: `RapidRAID (${n},${k}) pipelined code in GF(2^8); not MDS`,
      field: 8,
    }),
};
