/**
 * `repair` of a file by name: every block copy the namenode calls unavailable (FSCK: its
 * datanode dead, or its reports say the block is missing) is rebuilt, and its new place
 * recorded.
 *
 * The copies of each logical node of a dead datanode (one, or several when an earlier repair
 * doubled up) go together to one live datanode with room (`spare.ts`), which thereby becomes
 * that logical node of the code (a logical node is a set of roles, held by whichever datanode
 * holds its blocks; the layout relation stays true). By preference it holds nothing of the
 * file; when every live datanode holds something, the one holding the fewest blocks of the
 * file takes them (never one whose blocks carry their data already), and the copy says so
 * (`shares`). A copy missing on a live datanode is rebuilt there. A coded block is rebuilt
 * from the surviving coded blocks (`repairBlock`, which goes around a damaged one); a part is
 * copied from a surviving copy (`copyPart`), node to node. Each rebuilt block is visible on
 * its datanode only once its run committed, and only then does MOVE_BLOCK record it; a crash
 * before leaves the old record (the file as degraded as before) and at most an orphan on the
 * spare.
 *
 * @module
 */
import { type FieldVector, unitVector } from "../../coding/analysis/field_matrix.ts";
import type { CodingModule } from "../../coding/lang/program.ts";
import { generatorMatrix } from "../../coding/analysis/symbolic.ts";
import { CdfsError } from "../../core/errors.ts";
import { type NameNodeClient } from "../../namenode/client.ts";
import { nodesOfFile } from "../../namenode/nodes_of_file.ts";
import { type CodeLayout, layoutOfModule, logicalNodeOfCopy } from "../../namenode/layout.ts";
import type {
  BlockView,
  DatanodeView,
  FileHealth,
  FileView,
  NodeRef,
  UnavailableBlock,
} from "../../namenode/responses.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { errorMessage } from "../objects/error_message.ts";
import { type ProgressCallback, progressSum } from "../objects/progress.ts";
import { repairBlock } from "../objects/repair.ts";
import type { CorruptBlock } from "../objects/state.ts";
import { copyPart } from "./copy_part.ts";
import { fileManifest, filePartLength, quoteName, UNPLACED } from "./file_target.ts";
import { chooseTarget, type CopyVector, listDatanodes } from "./spare.ts";

/**
 * Options of {@linkcode repairFile}.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import type { RepairFileOptions } from "./repair.ts";
 * const options: RepairFileOptions = { namenode, file: await namenode.getFile("big"), module };
 * ```
 */
export interface RepairFileOptions {
  /** The namenode. */
  readonly namenode: NameNodeClient;
  /** The file, as read from the namenode. */
  readonly file: FileView;
  /** Its code. */
  readonly module: CodingModule;
  /** The runs' chunk size (default 1 MiB). */
  readonly chunkSize?: number;
  /** The stall timeout of the runs, ms. */
  readonly timeoutMs?: number;
  /** Connect and frame timeouts. */
  readonly client?: DataNodeClientOptions;
  /** Bytes rebuilt, out of all there are to rebuild. */
  readonly onProgress?: ProgressCallback;
  /** A surviving coded block found damaged (the repair goes on without it). */
  readonly onCorrupt?: (block: CorruptBlock) => void;
}

/**
 * A block copy rebuilt.
 *
 * @example
 * ```ts
 * import type { RebuiltCopy } from "./repair.ts";
 * const r: RebuiltCopy = {
 *   block: "f7.coded3", kind: "coded", index: 3, from: "dn3", to: "dn16",
 *   address: "127.0.0.1:13116", length: 1024, digest: "0123456789abcdef", sources: ["coded0"],
 *   shares: [],
 * };
 * ```
 */
export interface RebuiltCopy {
  /** The block id. */
  readonly block: string;
  /** `part` or `coded`. */
  readonly kind: "part" | "coded";
  /** Its index. */
  readonly index: number;
  /** The datanode the record placed it on. */
  readonly from: string;
  /** The datanode it is on now (the same one when it was missing on a live datanode). */
  readonly to: string;
  /** That datanode's address. */
  readonly address: string;
  /** Its length. */
  readonly length: number;
  /** The block digest it was committed with. */
  readonly digest: string;
  /** What it was rebuilt from: `coded<i>` blocks, or the datanode of the part copy. */
  readonly sources: readonly string[];
  /**
   * The file's other blocks on `to` when it was chosen, because no live datanode holding
   * nothing of the file had room: they now share that datanode, and its loss takes them
   * together. Empty when `to` held nothing of the file, or for a copy rebuilt in place.
   */
  readonly shares: readonly string[];
}

/**
 * A copy that could not be rebuilt.
 *
 * @example
 * ```ts
 * import type { UnrepairedCopy } from "./repair.ts";
 * const u: UnrepairedCopy = { block: "f7.part3", node: "dn3", reason: "no surviving copy" };
 * ```
 */
export interface UnrepairedCopy {
  /** The block id. */
  readonly block: string;
  /** The datanode the record places it on. */
  readonly node: string;
  /** Why. */
  readonly reason: string;
}

/**
 * What {@linkcode repairFile} did.
 *
 * @example
 * ```ts
 * import type { RepairFileResult } from "./repair.ts";
 * const show = (r: RepairFileResult) => `${r.rebuilt.length} rebuilt, ${r.failed.length} not`;
 * ```
 */
export interface RepairFileResult {
  /** The file now. */
  readonly file: FileView;
  /** Its health before the repair. */
  readonly health: FileHealth;
  /** The copies rebuilt (and recorded). */
  readonly rebuilt: readonly RebuiltCopy[];
  /** The copies that could not be. */
  readonly failed: readonly UnrepairedCopy[];
}

/**
 * Rebuilds a file's unavailable block copies on live datanodes and records where they are.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { repairFile } from "./repair.ts";
 * const { rebuilt, failed } = await repairFile({ namenode, file, module });
 * ```
 *
 * @param options Namenode, file, code, run settings, callbacks.
 * @returns The health before, the copies rebuilt and those not.
 * @throws {CdfsError} `SINGULAR` for a lost file (what survives does not decode it); the
 * namenode's errors. A copy that cannot be rebuilt is in `failed`, not thrown.
 */
export async function repairFile(options: RepairFileOptions): Promise<RepairFileResult> {
  const { namenode, module } = options;
  let file = options.file;
  const [health] = (await namenode.fsck({ name: file.name })).files;
  if (health === undefined) {
    throw new CdfsError("NOT_FOUND", `there is no file ${quoteName(file.name)}`);
  }
  if (health.unavailable.length === 0) return { file, health, rebuilt: [], failed: [] };
  if (health.status === "lost") {
    throw new CdfsError(
      "SINGULAR",
      `file ${quoteName(file.name)} is lost: its available blocks do not decode it (unavailable: ` +
        `${health.unavailable.map((u) => `${u.block} on ${u.node} (${u.why})`).join(", ")})`,
    );
  }
  const partLength = filePartLength(file, module);
  const layout = layoutOfModule(module);
  const refs = nodesOfFile(file, layout);
  const datanodes = await listDatanodes(namenode);
  const plan = planTargets(file, module, layout, refs, health.unavailable, datanodes, partLength);
  const progress = progressSum(partLength * health.unavailable.length, options.onProgress);
  const unavailable = new Set(health.unavailable.map((u) => `${u.block}@${u.node}`));
  const rebuilt: RebuiltCopy[] = [];
  const failed: UnrepairedCopy[] = [...plan.failed];
  // The datanode of every logical node as this repair goes: a logical node rebuilt elsewhere
  // is found there by the next ones (a later coded block may read it).
  const current = refs.map((r) => r === null ? null : { ...r });
  for (const target of plan.targets) {
    // The node list with the target in the dead datanode's place: the code's logical node.
    const nodes = current.map((r) => r?.address ?? UNPLACED);
    nodes[target.logical] = target.spare.address;
    let placed = 0;
    for (const copy of target.copies) {
      const view = file.blocks.find((b) => b.block === copy.block && b.node === copy.node)!;
      const count = progress.counter();
      const common = {
        module,
        nodes,
        objectId: file.objectId,
        ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.client === undefined ? {} : { client: options.client }),
        onProgress: (done: number) => count(done),
      };
      try {
        let made: { length: number; digest: string; sources: string[] };
        if (view.kind === "coded") {
          if (module.coded[view.index]?.node !== target.logical) {
            // repairBlock would then record the block elsewhere in a manifest, which files lack.
            throw new CdfsError(
              "CONFLICT",
              `${copy.block} is on logical node ${target.logical}, ${module.name} puts it on ` +
                `${module.coded[view.index]?.node}`,
            );
          }
          const r = await repairBlock({
            ...common,
            block: view.index,
            to: target.logical,
            manifest: fileManifest(file, module),
            ...(options.onCorrupt === undefined ? {} : { onCorrupt: options.onCorrupt }),
          });
          made = { length: r.length, digest: r.digest, sources: r.used.map((i) => `coded${i}`) };
        } else {
          made = await copyFromSurvivor(
            file,
            view,
            // Any logical node of the source's datanode names it: the part is read by id.
            (node) => current.findIndex((r, i) => r?.node === node && i !== target.logical),
            unavailable,
            (from) => copyPart({ ...common, part: view.index, from, to: target.logical }),
          );
        }
        if (target.spare.node !== copy.node) {
          file = await namenode.moveBlock(file.fileId, copy.block, copy.node, target.spare.node);
        }
        rebuilt.push({
          block: copy.block,
          kind: view.kind,
          index: view.index,
          from: copy.node,
          to: target.spare.node,
          address: target.spare.address,
          ...made,
          shares: target.shares,
        });
        placed++;
      } catch (error) {
        failed.push({ block: copy.block, node: copy.node, reason: errorMessage(error) });
      }
    }
    // A logical node only partly rebuilt keeps its old place in the node list, so that later
    // runs do not take the new datanode for it while it lacks some of its blocks.
    if (placed === target.copies.length) current[target.logical] = { ...target.spare };
  }
  return { file, health, rebuilt, failed };
}

/** Where the copies of one logical node are rebuilt: a spare (or their datanode itself). */
interface RepairTarget {
  /** The logical node. */
  readonly logical: number;
  /** The datanode the copies go to. */
  readonly spare: NodeRef;
  /** The file's blocks on it already, from other logical nodes (see `RebuiltCopy.shares`). */
  readonly shares: readonly string[];
  /** Its copies to rebuild. */
  readonly copies: readonly UnavailableBlock[];
}

/**
 * Groups the unavailable copies by logical node (a datanode that was several logical nodes
 * has a group for each, which may go to different datanodes) and picks where each group
 * goes: a live datanode missing blocks keeps them; a dead one's go to a target chosen by
 * `chooseTarget`, in logical node order, each choice counting the blocks and bytes the
 * previous ones placed.
 */
function planTargets(
  file: FileView,
  module: CodingModule,
  layout: CodeLayout,
  refs: readonly (NodeRef | null)[],
  unavailable: readonly UnavailableBlock[],
  datanodes: readonly DatanodeView[],
  partLength: number,
): { targets: RepairTarget[]; failed: UnrepairedCopy[] } {
  const ids = refs.map((r) => r?.node ?? null);
  const vectorOf = copyVectors(module);
  const groups = new Map<number, UnavailableBlock[]>();
  const failed: UnrepairedCopy[] = [];
  for (const u of unavailable) {
    const view = file.blocks.find((b) => b.block === u.block && b.node === u.node);
    const logical = view === undefined
      ? -1
      : logicalNodeOfCopy(layout, ids, { kind: view.kind, index: view.index }, u.node);
    if (logical < 0) {
      const reason = `no logical node of ${module.name} holds it on ${u.node}`;
      failed.push({ block: u.block, node: u.node, reason });
      continue;
    }
    groups.set(logical, [...(groups.get(logical) ?? []), u]);
  }
  const copies: CopyVector[] = file.blocks.map((b) => ({
    block: b.block,
    node: b.node,
    vector: vectorOf(b),
  }));
  const free = new Map(datanodes.map((d) => [d.node, d.free]));
  const targets: RepairTarget[] = [];
  for (const [logical, group] of [...groups].sort(([a], [b]) => a - b)) {
    const node = group[0]!.node;
    const inPlace = group.every((c) => c.why === "missing") &&
      datanodes.some((d) => d.node === node && d.state === "alive");
    const bytes = partLength * group.length;
    try {
      if (inPlace) {
        targets.push({ logical, spare: refs[logical]!, shares: [], copies: group });
        continue;
      }
      const rebuilding = group.map((u) =>
        copies.find((c) => c.block === u.block && c.node === node)!
      );
      const choice = chooseTarget({
        datanodes: datanodes.map((d) => ({ ...d, free: free.get(d.node)! })),
        copies,
        rebuilding,
        bytes,
        field: module.field,
      });
      const spare = choice.datanode;
      free.set(spare.node, free.get(spare.node)! - bytes);
      for (const c of rebuilding) copies.push({ ...c, node: spare.node });
      targets.push({
        logical,
        spare: { node: spare.node, address: spare.address },
        shares: choice.shares,
        copies: group,
      });
    } catch (error) {
      for (const c of group) {
        failed.push({ block: c.block, node: c.node, reason: errorMessage(error) });
      }
    }
  }
  return { targets, failed };
}

/**
 * The coding vector of a block of the module, from its symbolic analysis: part j is e_j,
 * coded block i row i of the generator (computed once, on the first coded block).
 */
function copyVectors(module: CodingModule): (block: BlockView) => FieldVector {
  let generator: readonly FieldVector[] | undefined;
  return (block) => {
    if (block.kind === "part") return unitVector(module.field, module.k, block.index);
    generator ??= generatorMatrix(module);
    const row = generator[block.index];
    if (row === undefined) {
      throw new CdfsError("CONFLICT", `${module.name} has no coded block ${block.index}`);
    }
    return row;
  };
}

/**
 * Copies a part from the first surviving copy that works (a copy the namenode calls
 * unavailable is not tried; a damaged one fails its run and the next is tried).
 */
async function copyFromSurvivor(
  file: FileView,
  view: BlockView,
  logicalOf: (node: string) => number,
  unavailable: ReadonlySet<string>,
  copy: (from: number) => Promise<{ length: number; digest: string }>,
): Promise<{ length: number; digest: string; sources: string[] }> {
  const sources = file.blocks.filter((b) =>
    b.kind === "part" && b.index === view.index && b.state === "stored" && b.alive &&
    !unavailable.has(`${b.block}@${b.node}`)
  );
  const errors: string[] = [];
  for (const source of sources) {
    const from = logicalOf(source.node);
    if (from < 0) {
      // A copy an unfinished group of this repair placed: its datanode is no logical node yet.
      errors.push(`from ${source.node}: not a logical node of the file's layout`);
      continue;
    }
    try {
      const made = await copy(from);
      return { length: made.length, digest: made.digest, sources: [source.node] };
    } catch (error) {
      errors.push(`from ${source.node}: ${errorMessage(error)}`);
    }
  }
  throw new CdfsError(
    "NOT_FOUND",
    sources.length === 0
      ? `part ${view.index} has no surviving copy to copy from` +
        (file.blocks.some((b) => b.kind === "coded")
          ? " (its coded blocks still decode the file; archiving it drops the parts)"
          : "")
      : `no copy of part ${view.index} could be copied (${errors.join("; ")})`,
  );
}
