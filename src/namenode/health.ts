/**
 * A file's health from the state of its block copies: which committed copies cannot be read
 * (their datanode is dead, or its reports say the block is missing) and which roles still
 * have a readable copy. Pure functions; the decodability verdict comes from
 * `code_analysis.ts`.
 *
 * @module
 */
import type { Decodability } from "./code_analysis.ts";
import { type CodeLayout, resolveLayout, sharedDatanodes } from "./layout.ts";
import type { BlockRecord, BlockRole, FileRecord } from "./meta/model.ts";
import type { FileHealth, SharedDatanode, UnavailableBlock } from "./responses.ts";

/**
 * Where a file's committed copies stand.
 *
 * @example
 * ```ts
 * import type { CopyCensus } from "./health.ts";
 * const census: CopyCensus = { stored: 2, unavailable: [], available: [{ kind: "part", index: 0 }] };
 * ```
 */
export interface CopyCensus {
  /** How many committed copies the file has. */
  readonly stored: number;
  /** The committed copies that cannot be read. */
  readonly unavailable: readonly UnavailableBlock[];
  /** The roles with at least one readable committed copy. */
  readonly available: readonly BlockRole[];
}

/**
 * Counts a file's committed copies (pending ones are being written: they neither count nor
 * harm).
 *
 * @example
 * ```ts
 * import { censusOf } from "./health.ts";
 * const file = {
 *   fileId: 1, objectId: "f1", name: "a", code: "replication", length: 1, digest: null,
 *   state: "replicated" as const, created: 0, committed: 0, version: 2,
 *   blocks: [{ blockId: "f1.part0", role: { kind: "part" as const, index: 0 }, node: "dn0", state: "stored" as const }],
 * };
 * console.log(censusOf(file, () => null).available.length); // 1
 * ```
 *
 * @param file The file.
 * @param problem Why a copy cannot be read (`dead`, `missing`), or null when it can.
 * @returns The census.
 */
export function censusOf(
  file: FileRecord,
  problem: (copy: BlockRecord) => "dead" | "missing" | null,
): CopyCensus {
  const unavailable: UnavailableBlock[] = [];
  const available = new Map<string, BlockRole>();
  let stored = 0;
  for (const copy of file.blocks) {
    if (copy.state !== "stored") continue;
    stored++;
    const why = problem(copy);
    if (why === null) available.set(`${copy.role.kind}${copy.role.index}`, copy.role);
    else unavailable.push({ block: copy.blockId, node: copy.node, why });
  }
  return { stored, unavailable, available: [...available.values()] };
}

/**
 * The datanodes that are more than one logical node of the file's code, with the file's
 * copies on each: fewer datanode losses than the code promises take the file's blocks.
 *
 * @example
 * ```ts
 * import { sharedOf } from "./health.ts";
 * const layout = {
 *   n: 2,
 *   roles: [0, 1].map((i) => ({ role: { kind: "coded" as const, index: i }, nodes: [i] })),
 * };
 * const copy = (i: number) => ({
 *   blockId: `f1.coded${i}`, role: { kind: "coded" as const, index: i }, node: "dn0",
 *   state: "stored" as const,
 * });
 * const file = {
 *   fileId: 1, objectId: "f1", name: "a", code: "mine", length: 1, digest: null,
 *   state: "archived" as const, created: 0, committed: 0, version: 3, blocks: [copy(0), copy(1)],
 * };
 * console.log(sharedOf(file, layout)); // [{ node: "dn0", blocks: ["f1.coded0", "f1.coded1"] }]
 * ```
 *
 * @param file The file.
 * @param layout Its code's layout, or null when the code is not known here.
 * @returns The shared datanodes by id; empty without a layout, or when the record does not
 * follow it (then there are no logical nodes to speak of).
 */
export function sharedOf(file: FileRecord, layout: CodeLayout | null): SharedDatanode[] {
  if (layout === null) return [];
  let nodes: (string | null)[];
  try {
    nodes = resolveLayout(layout, file.blocks, file.name);
  } catch {
    return [];
  }
  return [...sharedDatanodes(nodes).keys()].sort().map((node) => ({
    node,
    blocks: file.blocks.filter((b) => b.node === node).map((b) => b.blockId),
  }));
}

/**
 * A file's health: healthy when every committed copy is readable, else degraded or lost by
 * the verdict (unknown when there is none).
 *
 * @example
 * ```ts
 * import { healthOf } from "./health.ts";
 * const file = {
 *   fileId: 1, objectId: "f1", name: "a", code: "replication", length: 1, digest: null,
 *   state: "replicated" as const, created: 0, committed: 0, version: 2, blocks: [],
 * };
 * const census = { stored: 2, unavailable: [{ block: "f1.part0", node: "dn0", why: "dead" as const }], available: [] };
 * console.log(healthOf(file, census, { decodable: false, note: null }).status); // "lost"
 * ```
 *
 * @param file The file.
 * @param census Its copies.
 * @param verdict Whether the available roles decode it (unused when nothing is unavailable).
 * @param shared The datanodes that are several of its logical nodes ({@linkcode sharedOf}).
 * @returns The health.
 */
export function healthOf(
  file: FileRecord,
  census: CopyCensus,
  verdict: Decodability,
  shared: readonly SharedDatanode[] = [],
): FileHealth {
  const base = {
    fileId: file.fileId,
    name: file.name,
    code: file.code,
    state: file.state,
    blocks: census.stored,
    unavailable: [...census.unavailable],
    shared: shared.map((s) => ({ node: s.node, blocks: [...s.blocks] })),
  };
  if (census.unavailable.length === 0) {
    return { ...base, status: "healthy", decodable: true, note: null };
  }
  if (verdict.decodable === null) {
    return { ...base, status: "unknown", decodable: null, note: verdict.note };
  }
  return {
    ...base,
    status: verdict.decodable ? "degraded" : "lost",
    decodable: verdict.decodable,
    note: null,
  };
}
