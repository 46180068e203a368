/**
 * Where a repair rebuilds the blocks of one logical node of a file's code (a dead datanode's,
 * or one of them when it was several). The namenode has no op that places a single copy, so
 * the client chooses from LIST_DATANODES, as the namenode's placement would: live, with room,
 * and by preference holding no block of the file, so that no two logical nodes share a
 * machine, which the code's fault tolerance assumes; of those the emptiest.
 *
 * When every live datanode with room holds some block of the file (a 16-block file on the 11
 * datanodes left of 16), the repair does not give up: like HDFS, which places a replica on a
 * node of the same rack when no other rack has room, and Ceph, whose CRUSH falls back to a
 * smaller failure domain, it puts the blocks on the live datanode holding the fewest blocks
 * of the file (then the emptiest). A block there still counts for every loss that spares
 * that datanode, so the file is protected again as far as the machines allow; the choice is
 * reported (`shares`) and FSCK notes the datanode until a later rebalancing spreads it out.
 *
 * One rule is never bent: a block does not go to a datanode whose blocks already carry its
 * data. A second copy of a block there, or a replication code's copy next to another copy
 * (`f1.coded1` beside `f1.coded2`: other ids, the same bytes), is lost with the first and
 * adds nothing. "Carries its data" is decided by the code's symbolic analysis: the block's
 * coding vector (part j: e_j; coded block i: row i of the generator) lies in the span of the
 * vectors of the blocks on the datanode.
 *
 * @module
 */
import type { FieldWidth } from "../../coding/lang/program.ts";
import { fieldRank, type FieldVector } from "../../coding/analysis/field_matrix.ts";
import { CdfsError } from "../../core/errors.ts";
import type { NameNodeClient } from "../../namenode/client.ts";
import type { DatanodeView } from "../../namenode/responses.ts";
import { formatBytes } from "../../format/bytes.ts";

/**
 * Every datanode the namenode knows, page after page.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { listDatanodes } from "./spare.ts";
 * const alive = (await listDatanodes(namenode)).filter((d) => d.state === "alive");
 * ```
 *
 * @param namenode The namenode.
 * @returns The datanodes, by id.
 */
export function listDatanodes(namenode: NameNodeClient): Promise<DatanodeView[]> {
  return Array.fromAsync(namenode.datanodes());
}

/**
 * A block copy of a file and the data it carries, as the code's symbolic analysis sees it.
 *
 * @example
 * ```ts
 * import type { CopyVector } from "./spare.ts";
 * const part1: CopyVector = { block: "f7.part1", node: "dn3", vector: Uint8Array.of(0, 1) };
 * ```
 */
export interface CopyVector {
  /** The block id. */
  readonly block: string;
  /** The datanode it is on (or is being placed on). */
  readonly node: string;
  /** Its coding vector: what combination of the file's k parts it holds. */
  readonly vector: FieldVector;
}

/**
 * What {@linkcode chooseTarget} is asked.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import type { TargetRequest } from "./spare.ts";
 * const request: TargetRequest = { datanodes, copies, rebuilding, bytes: 4096, field: 8 };
 * ```
 */
export interface TargetRequest {
  /** The datanodes, with the free bytes they have left for this repair. */
  readonly datanodes: readonly DatanodeView[];
  /** The file's copies where they are now (those this repair placed already included). */
  readonly copies: readonly CopyVector[];
  /** The copies to rebuild together, one logical node's (their `node` is the old place). */
  readonly rebuilding: readonly CopyVector[];
  /** The room they need. */
  readonly bytes: number;
  /** The code's field (for the span test). */
  readonly field: FieldWidth;
}

/**
 * Where {@linkcode chooseTarget} puts a logical node's copies.
 *
 * @example
 * ```ts
 * import type { TargetChoice } from "./spare.ts";
 * const show = (c: TargetChoice) =>
 *   c.shares.length === 0 ? c.datanode.node : `${c.datanode.node}, with ${c.shares.join(", ")}`;
 * ```
 */
export interface TargetChoice {
  /** The datanode. */
  readonly datanode: DatanodeView;
  /**
   * The blocks of the file it holds already: empty for a datanode that held nothing of the
   * file (the preferred choice), else those its new blocks share it with.
   */
  readonly shares: readonly string[];
}

/**
 * Chooses the datanode for one logical node's copies: a live datanode with room that holds
 * nothing of the file, the one with the most free space; when there is none, the live
 * datanode with room holding the fewest blocks of the file (then the most free space) whose
 * blocks do not already carry the data of any copy being rebuilt. Ties go to the first in
 * `datanodes` (by id, as LIST_DATANODES orders them).
 *
 * @example
 * ```ts
 * import { chooseTarget } from "./spare.ts";
 * const node = (id: string, free: number) => ({
 *   node: id, address: `${id}:1`, capacity: 100, free, registered: "", lastHeartbeat: "",
 *   state: "alive" as const,
 * });
 * const copy = (block: string, node: string, ...vector: number[]) =>
 *   ({ block, node, vector: Uint8Array.from(vector) });
 * const copies = [copy("f1.coded0", "a", 1, 0), copy("f1.coded1", "b", 0, 1)];
 * const rebuilding = [copy("f1.coded2", "gone", 1, 1)];
 * const choice = chooseTarget({
 *   datanodes: [node("a", 10), node("b", 50)], copies, rebuilding, bytes: 5, field: 8,
 * });
 * console.log(choice.datanode.node, choice.shares); // "b" [ "f1.coded1" ]
 * ```
 *
 * @param request Datanodes, the file's copies, the copies to place, the room, the field.
 * @returns The datanode and the file's blocks it holds already.
 * @throws {CdfsError} `UNAVAILABLE` naming, for the live datanodes, why none qualifies (too
 * little free space; its blocks carry the data already: then there is no datanode to
 * re-replicate to).
 */
export function chooseTarget(request: TargetRequest): TargetChoice {
  const { datanodes, copies, rebuilding, bytes, field } = request;
  const held = new Map<string, CopyVector[]>();
  for (const c of copies) held.set(c.node, [...(held.get(c.node) ?? []), c]);
  const alive = datanodes.filter((d) => d.state === "alive");
  const roomy = alive.filter((d) => d.free >= bytes);
  const empty = roomy.filter((d) => (held.get(d.node) ?? []).length === 0);
  if (empty.length > 0) {
    return { datanode: empty.reduce((best, d) => d.free > best.free ? d : best), shares: [] };
  }
  const carriers = new Map<string, CopyVector[]>();
  const useful = roomy.filter((d) => {
    const mine = held.get(d.node)!;
    const vectors = mine.map((c) => c.vector);
    const rank = fieldRank(field, vectors);
    const carried = rebuilding.filter((r) =>
      mine.some((c) => c.block === r.block) || fieldRank(field, [...vectors, r.vector]) === rank
    );
    if (carried.length > 0) carriers.set(d.node, mine);
    return carried.length === 0;
  });
  if (useful.length > 0) {
    const count = (d: DatanodeView) => held.get(d.node)!.length;
    const best = useful.reduce((best, d) =>
      count(d) < count(best) || (count(d) === count(best) && d.free > best.free) ? d : best
    );
    return { datanode: best, shares: held.get(best.node)!.map((c) => c.block) };
  }
  throw new CdfsError("UNAVAILABLE", noTargetMessage(request, alive, roomy, carriers));
}

/** Why no datanode can take the copies, with the numbers: room, or data there already. */
function noTargetMessage(
  request: TargetRequest,
  alive: readonly DatanodeView[],
  roomy: readonly DatanodeView[],
  carriers: ReadonlyMap<string, readonly CopyVector[]>,
): string {
  const what = request.rebuilding.map((c) => c.block).join(", ");
  const room = `${formatBytes(request.bytes)} free`;
  if (carriers.size === 0) {
    return `no live datanode has ${room} for ${what} (${alive.length} live datanodes, of ` +
      `${request.datanodes.length})`;
  }
  const holding = [...carriers].map(([node, mine]) =>
    `${node} holds ${mine.map((c) => c.block).join(", ")}`
  ).join("; ");
  const lacking = alive.length - roomy.length;
  return `no datanode to re-replicate ${what} to: ` +
    (lacking === 0
      ? `every live datanode (${alive.length}) already carries its data`
      : `of the ${alive.length} live datanodes, ${lacking} lack ${room} and the other ` +
        `${carriers.size} already carry its data`) +
    ` (${holding}), and a second copy on one datanode is lost with the first; add a ` +
    "datanode and repair again";
}
