/**
 * A code's placement as a relation, never as fixed indexes. A {@linkcode CodeLayout} names the
 * code's `n` logical nodes and, for every block role, which logical nodes hold a copy
 * (RapidRAID: part j on logical nodes j and j+5, coded block i on logical node i). The
 * namenode maps logical nodes to datanodes when it places a file, and never stores that map:
 * a logical node is a set of roles, and its datanode is whichever datanode holds them.
 * {@linkcode resolveLayout} recovers the map from a file's block records by matching what each
 * datanode holds against what each logical node should hold, so it stays right after a repair
 * moves a node's blocks elsewhere, also when a repair that had no empty datanode left put two
 * logical nodes on one datanode ({@linkcode sharedDatanodes} finds those).
 *
 * @module
 */
import { quoteForMessage, typeName } from "../core/quote.ts";
import { CdfsError } from "../core/errors.ts";
import type { CodingModule } from "../coding/lang/program.ts";
import { type BlockPlacement, type BlockRole, MAX_BLOCKS_PER_FILE } from "./meta/model.ts";
import { validateRole } from "./meta/validate_fields.ts";
import { arrayField, expectObject, integerField, onlyFields } from "../protocol/json_fields.ts";

/**
 * The most logical nodes a layout may have (a GF(2^8) code has at most 256 coded blocks).
 */
export const MAX_LAYOUT_NODES = 256;

/**
 * One block role of a layout and the logical nodes that hold a copy of it.
 *
 * @example
 * ```ts
 * import type { LayoutRole } from "./layout.ts";
 * const part0: LayoutRole = { role: { kind: "part", index: 0 }, nodes: [0, 5] };
 * ```
 */
export interface LayoutRole {
  /** The block's role in its file. */
  readonly role: BlockRole;
  /** The logical nodes (0..n-1, distinct) that hold a copy. */
  readonly nodes: readonly number[];
}

/**
 * A code's placement relation: `n` logical nodes and the roles each holds. Placement puts
 * every logical node on a distinct datanode; only a repair short of datanodes puts two on one.
 *
 * @example
 * ```ts
 * import type { CodeLayout } from "./layout.ts";
 * const mirror: CodeLayout = {
 *   n: 2,
 *   roles: [{ role: { kind: "part", index: 0 }, nodes: [0, 1] }],
 * };
 * ```
 */
export interface CodeLayout {
  /** The number of logical nodes. */
  readonly n: number;
  /** The roles, each at most once. */
  readonly roles: readonly LayoutRole[];
}

/**
 * The key of a role in sets and messages: `part3`, `coded15`.
 *
 * @example
 * ```ts
 * import { roleKey } from "./layout.ts";
 * console.log(roleKey({ kind: "coded", index: 15 })); // "coded15"
 * ```
 *
 * @param role The role.
 * @returns Its key.
 */
export function roleKey(role: BlockRole): string {
  return `${role.kind}${role.index}`;
}

/**
 * The layout of a coding module: its parts on the nodes that hold their replicas before the
 * encode, its coded blocks on theirs. `which` keeps only the parts (what a put writes) or only
 * the coded blocks.
 *
 * @example
 * ```ts
 * import { layoutOfModule } from "./layout.ts";
 * import { loadCodingModule } from "../coding/lang/loader.ts";
 * const layout = layoutOfModule(await loadCodingModule("rapidraid"), "parts");
 * console.log(layout.n, layout.roles[0]?.nodes); // 16 [0, 5]
 * ```
 *
 * @param module The module.
 * @param which `all` (default), `parts` or `coded`.
 * @returns The layout.
 */
export function layoutOfModule(
  module: Pick<CodingModule, "n" | "parts" | "coded">,
  which: "all" | "parts" | "coded" = "all",
): CodeLayout {
  const roles: LayoutRole[] = [];
  if (which !== "coded") {
    module.parts.forEach((p, j) =>
      roles.push({ role: { kind: "part", index: j }, nodes: p.nodes })
    );
  }
  if (which !== "parts") {
    module.coded.forEach((c, i) =>
      roles.push({ role: { kind: "coded", index: i }, nodes: [c.node] })
    );
  }
  return { n: module.n, roles };
}

/**
 * Validates a layout as a request carries it: `{"n": N, "roles": [{"kind", "index", "nodes"}]}`.
 * Every role at most once, every node index in `0..n-1` and distinct within its role, 1 to
 * {@linkcode MAX_BLOCKS_PER_FILE} copies in all.
 *
 * @example
 * ```ts
 * import { parseLayout } from "./layout.ts";
 * const layout = parseLayout({ n: 2, roles: [{ kind: "part", index: 0, nodes: [0, 1] }] }, "layout");
 * console.log(layout.roles[0]?.role); // { kind: "part", index: 0 }
 * ```
 *
 * @param value The parsed JSON.
 * @param what How to call it in messages.
 * @returns The layout.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function parseLayout(value: unknown, what: string): CodeLayout {
  const object = expectObject(value, what);
  onlyFields(object, what, ["n", "roles"]);
  const n = integerField(object, what, "n", 1, MAX_LAYOUT_NODES);
  const raw = arrayField(object, what, "roles", MAX_BLOCKS_PER_FILE);
  if (raw.length === 0) throw new CdfsError("BAD_REQUEST", `${what} "roles" is empty`);
  const seen = new Set<string>();
  let copies = 0;
  const roles = raw.map((entry, r) => {
    const label = `${what} role ${r}`;
    const item = expectObject(entry, label);
    onlyFields(item, label, ["kind", "index", "nodes"]);
    const role = validateRole({ kind: item.kind, index: item.index });
    const key = roleKey(role);
    if (seen.has(key)) throw new CdfsError("BAD_REQUEST", `${what} lists ${key} twice`);
    seen.add(key);
    const nodes = arrayField(item, label, "nodes", n);
    if (nodes.length === 0) throw new CdfsError("BAD_REQUEST", `${label} (${key}) has no node`);
    const indexes = nodes.map((node) => {
      if (typeof node !== "number" || !Number.isInteger(node) || node < 0 || node >= n) {
        throw new CdfsError(
          "BAD_REQUEST",
          `${label} (${key}) "nodes" must hold integers in 0..${n - 1}, got ${
            typeof node === "number" ? node : typeName(node)
          }`,
        );
      }
      return node;
    });
    if (new Set(indexes).size !== indexes.length) {
      throw new CdfsError("BAD_REQUEST", `${label} (${key}) lists a node twice`);
    }
    copies += indexes.length;
    return { role, nodes: indexes };
  });
  if (copies > MAX_BLOCKS_PER_FILE) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} places ${copies} block copies, the limit is ${MAX_BLOCKS_PER_FILE}`,
    );
  }
  return { n, roles };
}

/**
 * The layout as a request carries it (the inverse of {@linkcode parseLayout}).
 *
 * @example
 * ```ts
 * import { layoutToJson } from "./layout.ts";
 * console.log(layoutToJson({ n: 1, roles: [{ role: { kind: "part", index: 0 }, nodes: [0] }] }));
 * // { n: 1, roles: [{ kind: "part", index: 0, nodes: [0] }] }
 * ```
 *
 * @param layout The layout.
 * @returns Plain JSON.
 */
export function layoutToJson(
  layout: CodeLayout,
): { n: number; roles: { kind: string; index: number; nodes: number[] }[] } {
  return {
    n: layout.n,
    roles: layout.roles.map((r) => ({
      kind: r.role.kind,
      index: r.role.index,
      nodes: [...r.nodes],
    })),
  };
}

/**
 * The number of parts of a layout (at least 1): a block's expected size is the file's length
 * divided by it.
 *
 * @example
 * ```ts
 * import { partCount } from "./layout.ts";
 * console.log(partCount({ n: 2, roles: [{ role: { kind: "part", index: 1 }, nodes: [0] }] })); // 2
 * ```
 *
 * @param layout The layout.
 * @returns The highest part index plus one, or 1.
 */
export function partCount(layout: CodeLayout): number {
  let k = 0;
  for (const r of layout.roles) if (r.role.kind === "part") k = Math.max(k, r.role.index + 1);
  return Math.max(1, k);
}

/**
 * The bytes each logical node would store for the roles `adding` (a block of `blockLength`
 * bytes per copy).
 *
 * @example
 * ```ts
 * import { layoutNeeds } from "./layout.ts";
 * const layout = { n: 2, roles: [{ role: { kind: "part", index: 0 } as const, nodes: [0, 1] }] };
 * console.log(layoutNeeds(layout, new Set(["part0"]), 10)); // [10, 10]
 * ```
 *
 * @param layout The layout.
 * @param adding The keys of the roles being placed.
 * @param blockLength The bytes of one block.
 * @returns Bytes per logical node (0: nothing placed there).
 */
export function layoutNeeds(
  layout: CodeLayout,
  adding: ReadonlySet<string>,
  blockLength: number,
): number[] {
  const needs = new Array<number>(layout.n).fill(0);
  for (const r of layout.roles) {
    if (!adding.has(roleKey(r.role))) continue;
    for (const i of r.nodes) needs[i]! += blockLength;
  }
  return needs;
}

/**
 * The block placements of the roles `adding`, given the datanode of every logical node that
 * holds one of them.
 *
 * @example
 * ```ts
 * import { layoutPlacements } from "./layout.ts";
 * const layout = { n: 2, roles: [{ role: { kind: "part", index: 0 } as const, nodes: [0, 1] }] };
 * console.log(layoutPlacements(layout, ["dn3", "dn7"], new Set(["part0"])).map((p) => p.node));
 * // ["dn3", "dn7"]
 * ```
 *
 * @param layout The layout.
 * @param nodes The datanode of each logical node.
 * @param adding The keys of the roles placed.
 * @returns One placement per copy.
 * @throws {CdfsError} `INTERNAL` when a logical node that needs one has no datanode.
 */
export function layoutPlacements(
  layout: CodeLayout,
  nodes: readonly (string | null)[],
  adding: ReadonlySet<string>,
): BlockPlacement[] {
  const placements: BlockPlacement[] = [];
  for (const r of layout.roles) {
    if (!adding.has(roleKey(r.role))) continue;
    for (const i of r.nodes) {
      const node = nodes[i];
      if (node === null || node === undefined) {
        throw new CdfsError("INTERNAL", `logical node ${i} has no datanode for ${roleKey(r.role)}`);
      }
      placements.push({ role: r.role, node });
    }
  }
  return placements;
}

/**
 * How many datanodes' holdings {@linkcode resolveLayout} tries to match before it gives up. A
 * file follows its layout in a handful of steps (one per datanode, and a few more when a
 * datanode holds several logical nodes); a record that would need more is not one a client
 * or a repair made.
 */
const MAX_MATCH_STEPS = 100_000;

/**
 * Recovers which datanode is each logical node of `layout` from a file's block copies. A
 * logical node is a *role set*, not a machine: its *signature* is the set of its roles the
 * file has copies of. A datanode normally is one logical node and holds exactly that
 * signature; after a repair that found no datanode holding nothing of the file (`repair`'s
 * fallback, as HDFS and Ceph place a copy on a node that shares a failure domain when there
 * is no other), one datanode is several logical nodes and holds the union of their
 * signatures. So each datanode's holdings are split into signatures of distinct logical
 * nodes (an exact cover), every logical node with a signature on exactly one datanode;
 * logical nodes whose roles the file has no copy of are unassigned (null).
 *
 * The match is deterministic: datanodes are taken by id, each is split into as few logical
 * nodes as possible (one, when it holds one signature), and logical nodes with equal
 * signatures (interchangeable: a replication code's copies) are handed out in index order;
 * a choice that leaves a later datanode unmatched is undone and the next one tried.
 *
 * @example
 * ```ts
 * import { resolveLayout } from "./layout.ts";
 * const layout = {
 *   n: 3,
 *   roles: [
 *     { role: { kind: "part", index: 0 } as const, nodes: [0, 1] },
 *     { role: { kind: "part", index: 1 } as const, nodes: [1] },
 *     { role: { kind: "coded", index: 0 } as const, nodes: [2] },
 *   ],
 * };
 * const blocks = [
 *   { role: { kind: "part", index: 0 } as const, node: "b" },
 *   { role: { kind: "part", index: 0 } as const, node: "a" },
 *   { role: { kind: "part", index: 1 } as const, node: "a" },
 * ];
 * console.log(resolveLayout(layout, blocks, "f")); // ["b", "a", null]
 * // Logical nodes 0 and 2 on one datanode (a repair had nowhere else to put coded0):
 * const shared = [...blocks, { role: { kind: "coded", index: 0 } as const, node: "b" }];
 * console.log(resolveLayout(layout, shared, "f")); // ["b", "a", "b"]
 * ```
 *
 * @param layout The layout.
 * @param blocks The file's block copies (pending ones included).
 * @param fileName The file's name, for messages.
 * @returns The datanode of every logical node, or null; a datanode that is several logical
 * nodes appears at each of their indexes.
 * @throws {CdfsError} `BAD_REQUEST` when the file has a role the layout does not place;
 * `CONFLICT` when the copies do not follow the layout (a role with more or fewer copies than
 * the layout places, a datanode whose holdings are no union of logical nodes' signatures, or
 * holdings that cannot all be matched at once).
 */
export function resolveLayout(
  layout: CodeLayout,
  blocks: readonly BlockPlacement[],
  fileName: string,
): (string | null)[] {
  const what = `file ${quoteForMessage(fileName)}`;
  const placedCopies = new Map(layout.roles.map((r) => [roleKey(r.role), r.nodes.length]));
  const holdings = new Map<string, Set<string>>();
  const holders = new Map<string, Set<string>>();
  for (const b of blocks) {
    const key = roleKey(b.role);
    if (!placedCopies.has(key)) {
      throw new CdfsError("BAD_REQUEST", `${what} has ${key}, which the layout does not place`);
    }
    addTo(holdings, b.node, key);
    addTo(holders, key, b.node);
  }
  // Every copy of a role is one logical node's: as many copies as the layout places.
  for (const [key, nodes] of holders) {
    const expected = placedCopies.get(key)!;
    if (nodes.size !== expected) {
      throw new CdfsError(
        "CONFLICT",
        `${what} does not follow the layout: ${expected} of its logical nodes should each hold ` +
          `${key}, but ${nodes.size} datanodes do`,
      );
    }
  }
  const classes = signatureClasses(layout, holders);
  const byRole = new Map<string, number[]>();
  classes.forEach((c, index) => {
    for (const key of c.keys) byRole.set(key, [...(byRole.get(key) ?? []), index]);
  });
  const datanodes = [...holdings.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  const used = new Array<number>(classes.length).fill(0);
  const coversOf = (node: string) =>
    exactCovers([...holdings.get(node)!].sort(), classes, byRole, used);
  for (const node of datanodes) {
    if (coversOf(node).length === 0) {
      throw new CdfsError(
        "CONFLICT",
        `${what} does not follow the layout: datanode ${node} holds ${
          [...holdings.get(node)!].sort().join(", ")
        }, which no logical node of the layout holds, nor any set of them together`,
      );
    }
  }
  const chosen: number[][] = [];
  let steps = 0;
  const match = (t: number): boolean => {
    if (t === datanodes.length) return true;
    for (const cover of coversOf(datanodes[t]!)) {
      if (++steps > MAX_MATCH_STEPS) {
        throw new CdfsError(
          "CONFLICT",
          `${what}: its blocks cannot be matched to the layout in ${MAX_MATCH_STEPS} steps`,
        );
      }
      for (const c of cover) used[c]!++;
      chosen[t] = cover;
      if (match(t + 1)) return true;
      for (const c of cover) used[c]!--;
    }
    return false;
  };
  if (!match(0)) {
    throw new CdfsError(
      "CONFLICT",
      `${what} does not follow the layout: the blocks of its ${datanodes.length} datanodes ` +
        "cannot all be matched to logical nodes at once",
    );
  }
  const result = new Array<string | null>(layout.n).fill(null);
  const handedOut = new Array<number>(classes.length).fill(0);
  datanodes.forEach((node, t) => {
    for (const c of chosen[t]!) result[classes[c]!.logical[handedOut[c]!++]!] = node;
  });
  return result;
}

/**
 * The logical node a block copy is: of the logical nodes that hold its role, the one whose
 * datanode `node` is (a datanode that is several logical nodes holds each role for one of
 * them only).
 *
 * @example
 * ```ts
 * import { logicalNodeOfCopy } from "./layout.ts";
 * const layout = { n: 2, roles: [{ role: { kind: "part", index: 0 } as const, nodes: [0, 1] }] };
 * console.log(logicalNodeOfCopy(layout, ["a", "b"], { kind: "part", index: 0 }, "b")); // 1
 * ```
 *
 * @param layout The layout.
 * @param nodes The datanode of every logical node ({@linkcode resolveLayout}).
 * @param role The copy's role.
 * @param node The copy's datanode.
 * @returns The logical node, or -1 when the copy is none of the layout's.
 */
export function logicalNodeOfCopy(
  layout: CodeLayout,
  nodes: readonly (string | null)[],
  role: BlockRole,
  node: string,
): number {
  const key = roleKey(role);
  const placed = layout.roles.find((r) => roleKey(r.role) === key);
  return placed?.nodes.find((i) => nodes[i] === node) ?? -1;
}

/**
 * The datanodes that are more than one logical node, with their logical nodes in order: where
 * the code's fault tolerance is less than its layout promises (losing such a datanode loses
 * every block of those logical nodes at once).
 *
 * @example
 * ```ts
 * import { sharedDatanodes } from "./layout.ts";
 * console.log(sharedDatanodes(["a", "b", null, "a"])); // Map(1) { "a" => [0, 3] }
 * ```
 *
 * @param nodes The datanode of every logical node ({@linkcode resolveLayout}).
 * @returns Datanode id to its logical nodes, for the datanodes with two or more.
 */
export function sharedDatanodes(nodes: readonly (string | null)[]): Map<string, number[]> {
  const logical = new Map<string, number[]>();
  nodes.forEach((node, i) => {
    if (node !== null) logical.set(node, [...(logical.get(node) ?? []), i]);
  });
  for (const [node, list] of logical) if (list.length < 2) logical.delete(node);
  return logical;
}

/** Logical nodes with one signature (the roles of theirs the file has), interchangeable. */
interface SignatureClass {
  /** The roles' keys. */
  readonly keys: ReadonlySet<string>;
  /** The logical nodes, in index order. */
  readonly logical: readonly number[];
}

/** The logical nodes with a non-empty signature, grouped by signature, by first index. */
function signatureClasses(
  layout: CodeLayout,
  holders: ReadonlyMap<string, unknown>,
): SignatureClass[] {
  const expected: string[][] = Array.from({ length: layout.n }, () => []);
  for (const r of layout.roles) {
    const key = roleKey(r.role);
    if (holders.has(key)) { for (const i of r.nodes) expected[i]!.push(key); }
  }
  const bySignature = new Map<string, { keys: Set<string>; logical: number[] }>();
  expected.forEach((keys, i) => {
    if (keys.length === 0) return;
    const signature = [...keys].sort().join(",");
    const entry = bySignature.get(signature) ?? { keys: new Set(keys), logical: [] };
    entry.logical.push(i);
    bySignature.set(signature, entry);
  });
  return [...bySignature.values()];
}

/**
 * The ways to split `held` (sorted role keys) into signatures of classes with a logical node
 * left (`used` of each taken), each class at most once: fewest classes first.
 */
function exactCovers(
  held: readonly string[],
  classes: readonly SignatureClass[],
  byRole: ReadonlyMap<string, readonly number[]>,
  used: readonly number[],
): number[][] {
  const found: number[][] = [];
  const extend = (rest: ReadonlySet<string>, cover: number[]) => {
    if (rest.size === 0) {
      found.push([...cover]);
      return;
    }
    const first = held.find((key) => rest.has(key))!;
    for (const c of byRole.get(first) ?? []) {
      const { keys, logical } = classes[c]!;
      if (used[c]! >= logical.length || cover.includes(c)) continue;
      if (![...keys].every((key) => rest.has(key))) continue;
      extend(new Set([...rest].filter((key) => !keys.has(key))), [...cover, c]);
    }
  };
  extend(new Set(held), []);
  return found.sort((a, b) => a.length - b.length);
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, set = new Set());
  set.add(value);
}
