/**
 * The placement policy, as a pure function: which datanode becomes each logical node of a
 * code's layout that receives blocks.
 *
 * - **Distinct**: every logical node is a different datanode, and a new one is none of the
 *   datanodes that already hold the file (the strongest form of the layout's relation: the
 *   copies of a replicated part, and the coded blocks, never share a node).
 * - **Free space**: a datanode is chosen only if its free bytes cover everything its logical
 *   node will store.
 * - **Spread**: the "power of two choices" (Mitzenmacher; what load balancers and Sparrow use):
 *   for each logical node, two eligible datanodes at random, the one with more free space
 *   wins. Random choice spreads files over all nodes even between two heartbeats (when free
 *   space is stale); comparing two leans towards emptier nodes without always piling onto the
 *   single emptiest one, as a pure "most free first" rule would.
 *
 * Logical nodes are served largest need first: every datanode that fits a larger need fits a
 * smaller one, so this order never fails when some assignment exists.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { formatBytes } from "../format/bytes.ts";

/**
 * A live datanode and the bytes it can take.
 *
 * @example
 * ```ts
 * import type { NodeSpace } from "./placement.ts";
 * const node: NodeSpace = { id: "dn3", free: 8 << 30 };
 * ```
 */
export interface NodeSpace {
  /** The datanode id. */
  readonly id: string;
  /** Its free bytes (as last reported, less what was placed on it since). */
  readonly free: number;
}

/**
 * What {@linkcode placeNodes} is asked.
 *
 * @example
 * ```ts
 * import type { PlacementRequest } from "./placement.ts";
 * const request: PlacementRequest = {
 *   needs: [100, 100, 0],
 *   nodes: [{ id: "a", free: 1000 }, { id: "b", free: 1000 }],
 * };
 * ```
 */
export interface PlacementRequest {
  /** Bytes each logical node will store now (0: it receives nothing now). */
  readonly needs: readonly number[];
  /** The live datanodes. */
  readonly nodes: readonly NodeSpace[];
  /** Logical nodes that are a datanode already (a file's existing blocks), or null. */
  readonly assigned?: readonly (string | null)[];
  /** Datanodes that may not be chosen for a new logical node (they hold the file already). */
  readonly exclude?: Iterable<string>;
  /** Uniform numbers in [0, 1) (default `Math.random`; tests pass a seeded generator). */
  readonly random?: () => number;
}

/**
 * Chooses the datanode of every logical node that receives blocks.
 *
 * @example
 * ```ts
 * import { placeNodes } from "./placement.ts";
 * const nodes = ["a", "b", "c", "d"].map((id) => ({ id, free: 1 << 20 }));
 * const chosen = placeNodes({ needs: [1000, 1000, 0], nodes });
 * console.log(chosen[0] !== chosen[1], chosen[2]); // true null
 * ```
 *
 * @param request Needs, live nodes, existing assignments, exclusions, random source.
 * @returns The datanode of each logical node: the assigned one, a new one, or null for a
 * logical node that is not assigned and receives nothing.
 * @throws {CdfsError} `UNAVAILABLE` naming how many datanodes were needed and how many were
 * available (and with how much free space); `BAD_REQUEST` for a malformed request.
 */
export function placeNodes(request: PlacementRequest): (string | null)[] {
  const { needs, nodes } = request;
  const random = request.random ?? Math.random;
  const assigned = request.assigned ?? [];
  if (assigned.length > needs.length) {
    throw new CdfsError("BAD_REQUEST", "more assigned logical nodes than logical nodes");
  }
  for (const need of needs) {
    if (!Number.isSafeInteger(need) || need < 0) {
      throw new CdfsError("BAD_REQUEST", `a logical node's need must be a byte count, got ${need}`);
    }
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const result = needs.map((_, i) => assigned[i] ?? null);
  // Logical nodes that are a datanode already: it must be live and have room. A datanode that
  // is several logical nodes (a repair short of datanodes put them together) needs room for
  // all of theirs.
  const assignedNeeds = new Map<string, { bytes: number; logical: number[] }>();
  result.forEach((id, i) => {
    if (id === null || needs[i] === 0) return;
    const entry = assignedNeeds.get(id) ?? { bytes: 0, logical: [] };
    entry.bytes += needs[i]!;
    entry.logical.push(i);
    assignedNeeds.set(id, entry);
  });
  for (const [id, { bytes, logical }] of assignedNeeds) {
    const node = byId.get(id);
    const which = `logical node${logical.length === 1 ? "" : "s"} ${logical.join(", ")}`;
    if (node === undefined) {
      throw new CdfsError(
        "UNAVAILABLE",
        `datanode ${id} (${which} of the layout) is not live: its new blocks cannot be placed`,
      );
    }
    if (node.free < bytes) {
      throw new CdfsError(
        "UNAVAILABLE",
        `datanode ${id} (${which} of the layout) has ${formatBytes(node.free)} free, ` +
          `its new blocks need ${formatBytes(bytes)}`,
      );
    }
  }
  const taken = new Set<string>([...(request.exclude ?? []), ...result.filter(isId)]);
  const candidates = nodes.filter((n) => !taken.has(n.id));
  const slots = needs.map((need, i) => ({ i, need }))
    .filter((s) => s.need > 0 && result[s.i] === null)
    .sort((a, b) => b.need - a.need || a.i - b.i);
  if (slots.length === 0) return result;
  const besides = taken.size > 0 ? ` besides the ${taken.size} holding the file` : "";
  if (candidates.length < slots.length) {
    throw new CdfsError(
      "UNAVAILABLE",
      `the layout needs ${slots.length} distinct live datanodes${besides}, ${
        countOf(candidates.length)
      } available`,
    );
  }
  const used = new Set<string>();
  for (const slot of slots) {
    const eligible = candidates.filter((n) => !used.has(n.id) && n.free >= slot.need);
    if (eligible.length === 0) {
      const withNeed = slots.filter((s) => s.need >= slot.need).length;
      const have = candidates.filter((n) => n.free >= slot.need).length;
      const share = formatBytes(slot.need);
      throw new CdfsError(
        "UNAVAILABLE",
        `the layout needs ${slots.length} distinct live datanodes${besides}${
          withNeed === slots.length
            ? ` with at least ${share} free`
            : `, ${withNeed} of them with at least ${share} free`
        }; ${countOf(candidates.length)} available, ${have} of them with that much free`,
      );
    }
    const chosen = twoChoices(eligible, random);
    used.add(chosen.id);
    result[slot.i] = chosen.id;
  }
  return result;
}

/** Of two eligible nodes drawn at random (distinct when there are two), the one with more free. */
function twoChoices(eligible: readonly NodeSpace[], random: () => number): NodeSpace {
  const a = pick(eligible.length, random);
  if (eligible.length === 1) return eligible[a]!;
  let b = pick(eligible.length - 1, random);
  if (b >= a) b++;
  const first = eligible[a]!;
  const second = eligible[b]!;
  return second.free > first.free ? second : first;
}

function pick(count: number, random: () => number): number {
  return Math.min(count - 1, Math.floor(random() * count));
}

function isId(id: string | null): id is string {
  return id !== null;
}

function countOf(n: number): string {
  return n === 1 ? "1 is" : `${n} are`;
}
