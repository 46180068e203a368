/**
 * {@linkcode repairBlock}: rebuilds one coded block of an object from intact survivors, on
 * its module node or another one (then recorded in the manifest). A damaged survivor found by
 * the run is set aside and the run starts again without it (survivors.ts); the rebuilt block
 * becomes visible only at the run's commit.
 *
 * @module
 */
import { deriveRepairProgram } from "../../coding/analysis/decoder.ts";
import type { Program } from "../../coding/lang/program.ts";
import { CdfsError } from "../../core/errors.ts";
import type { ObjectManifest } from "./manifest.ts";
import { codingRequest, freeProgramName, newRunId, ProgramRuns } from "./program_runs.ts";
import type { ProgressCallback } from "./progress.ts";
import {
  type CodedBlockState,
  type CorruptBlock,
  type ManifestUpdate,
  objectManifest,
  surveyCodedBlocks,
  updateManifest,
} from "./state.ts";
import {
  corruptOf,
  explainLoss,
  refuseNeverEncoded,
  relocate,
  setAsideUnusable,
} from "./survivors.ts";
import { checkTarget, type ObjectTarget } from "./target.ts";

/**
 * Options of {@linkcode repairBlock}.
 *
 * @example
 * ```ts
 * import type { RepairOptions } from "./repair.ts";
 * const options: Partial<RepairOptions> = { block: 3, to: 15 };
 * ```
 */
export interface RepairOptions extends ObjectTarget {
  /** The index of the coded block to rebuild. */
  readonly block: number;
  /**
   * The logical node to rebuild it on (default: the node the module stores it on). A block
   * rebuilt on another node is recorded in the manifest, where `decode`, `repair` and the
   * survey look for it from then on.
   */
  readonly to?: number;
  /** The manifest, when the caller has read it already (default: read it). */
  readonly manifest?: ObjectManifest;
  /**
   * The part length every survivor must have, when known and no manifest is given (default:
   * the manifest's).
   */
  readonly partLength?: number;
  /** The run's chunk size (default 1 MiB). */
  readonly chunkSize?: number;
  /** Replace the block on the target node if it exists there (e.g. a corrupt one). */
  readonly overwrite?: boolean;
  /** The first run's id (default: 16 random bytes in hex); a retry gets a fresh one. */
  readonly runId?: string;
  /** Called when a run finds a damaged coded block, before the repair starts again. */
  readonly onCorrupt?: (block: CorruptBlock) => void;
  /** Bytes of the block rebuilt, out of its length (from 0 again after a retry). */
  readonly onProgress?: ProgressCallback;
}

/**
 * What {@linkcode repairBlock} did.
 *
 * @example
 * ```ts
 * import type { RepairResult } from "./repair.ts";
 * const show = (r: RepairResult) => `${r.block} rebuilt on ${r.address} from ${r.used.join(",")}`;
 * ```
 */
export interface RepairResult {
  /** The coded block's index. */
  readonly index: number;
  /** Its block id. */
  readonly block: string;
  /** The logical node it was written on. */
  readonly node: number;
  /** That node's address. */
  readonly address: string;
  /** The coded blocks read. */
  readonly used: readonly number[];
  /** The run id of the run that succeeded. */
  readonly runId: string;
  /** The block's length. */
  readonly length: number;
  /** The block digest the node committed it with. */
  readonly digest: string;
  /** The survivors found damaged, which the repair did without (see {@linkcode DecodeResult}). */
  readonly corrupt: readonly CorruptBlock[];
  /** How many runs were started. */
  readonly attempts: number;
  /**
   * The manifest update that records the block's node and digest (absent when there was
   * nothing to record: no manifest, or a manifest without records and the block rebuilt on
   * its module node). Nodes in `failed` keep an older copy, which readers pass over.
   */
  readonly manifestUpdate?: ManifestUpdate;
}

/**
 * Rebuilds one coded block from the surviving others: surveys the coded blocks (where they
 * live), derives a repair program (one combination of the intact survivors that need a
 * nonzero coefficient) and runs it on the target node, which writes the block under its
 * usual name; then records in the manifest where the block lives now and its digest, so that
 * a block rebuilt on another node (`to`) is found there. A run stopped by a damaged survivor
 * starts again without it, as in {@linkcode decodeObject}; nothing of a stopped run is
 * committed.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { repairBlock } from "./repair.ts";
 * const result = await repairBlock({ module, nodes, objectId: "movie", block: 3, to: 15 });
 * console.log(result.digest, result.corrupt);
 * ```
 *
 * @param options Module, nodes, object, block, target node, chunk size, progress.
 * @returns What was rebuilt, where, from what, the corrupt blocks found.
 * @throws {CdfsError} SINGULAR when the block is not a combination of the intact survivors
 * (naming the lost and corrupt ones); BAD_REQUEST for a block or node index outside the
 * module, or a block to rebuild on another node of an object without a manifest (nothing could
 * record where it went); EXISTS when the target holds the block already (without
 * `overwrite`); UNAVAILABLE when the block was rebuilt but no node took the manifest update
 * that records it elsewhere; errors of the run naming the node.
 */
export async function repairBlock(options: RepairOptions): Promise<RepairResult> {
  const { module, nodes, objectId } = options;
  checkTarget(options);
  const index = options.block;
  if (!Number.isInteger(index) || index < 0 || index >= module.n) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${module.name} has coded blocks 0..${module.n - 1}, not ${index}`,
    );
  }
  const home = module.coded[index]!.node;
  const target = options.to ?? home;
  if (!Number.isInteger(target) || target < 0 || target >= nodes.length) {
    throw new CdfsError(
      "BAD_REQUEST",
      `node index ${target} is not in the node list (0..${nodes.length - 1})`,
    );
  }
  // An object stored by hand (no put-parts) is repaired all the same, where the module puts
  // the block: then there is nothing to record.
  const manifest = await objectManifest(options, options.manifest, true);
  if (manifest === undefined && target !== home) {
    throw new CdfsError(
      "BAD_REQUEST",
      `object '${objectId}' has no manifest to record coded block ${index} on node ${target}: ` +
        `decode would not find it there (repair it on node ${home})`,
    );
  }
  const partLength = options.partLength ?? manifest?.partLength;
  const survey = await surveyCodedBlocks(options, manifest ?? partLength);
  if (manifest !== undefined) refuseNeverEncoded(objectId, manifest, survey);
  const blocks = [...survey];
  const others = (b: CodedBlockState) => b.index !== index;
  const corrupt: CorruptBlock[] = survey.filter((b) => b.corrupt === true && others(b)).map(
    corruptOf,
  );
  const block = blocks[index]!.block;
  const name = freeProgramName(module, "repair", 0);
  for (let attempt = 1;; attempt++) {
    const survivors = blocks.filter((b) => b.present && others(b)).map((b) => b.index);
    let program: Program;
    try {
      program = relocate(module, deriveRepairProgram(module, index, survivors, { node: target }), {
        locations: blocks.map((b) => b.node),
      });
    } catch (error) {
      throw explainLoss(
        error,
        `coded block ${index} of '${objectId}' cannot be repaired`,
        blocks.filter(others),
        manifest,
      );
    }
    const used = program.streams.flatMap((s) =>
      "read" in s && s.name.startsWith("coded") ? [Number(s.name.slice("coded".length))] : []
    );
    const runId = attempt === 1 && options.runId !== undefined ? options.runId : newRunId();
    const runs = new ProgramRuns(options.client);
    let total = 0;
    const request = codingRequest(options, {
      program: name,
      run: runId,
      chunkSize: options.chunkSize,
      overwrite: options.overwrite === true,
      inline: { [name]: program },
    });
    const run = runs.start(nodes[target]!, request, {
      onResponse: (response) => void (total = response.length),
      onProgress: (bytes) => options.onProgress?.(bytes, total),
    });
    try {
      await runs.settle();
    } catch (error) {
      if (
        !await setAsideUnusable(options, runs.errors, used, blocks, corrupt, options.onCorrupt)
      ) throw error;
      continue;
    }
    const { length, committed } = await run;
    options.onProgress?.(length, length);
    const written = committed.find((b) => b.block === block);
    if (written === undefined) {
      throw new CdfsError(
        "INTERNAL",
        `node ${target} (${nodes[target]}): the repair run committed no block '${block}'`,
      );
    }
    const manifestUpdate = await recordRepair(options, manifest, index, target, written.digest);
    return {
      index,
      block,
      node: target,
      address: nodes[target]!,
      used,
      runId,
      length,
      digest: written.digest,
      corrupt,
      attempts: attempt,
      ...(manifestUpdate === undefined ? {} : { manifestUpdate }),
    };
  }
}

/**
 * Records a repaired block's node and digest in the manifest, when there is something to
 * record: the block moved, or the manifest keeps records (then its digest changed too).
 */
async function recordRepair(
  target: ObjectTarget,
  manifest: ObjectManifest | undefined,
  index: number,
  node: number,
  digest: string,
): Promise<ManifestUpdate | undefined> {
  const { module, nodes, objectId } = target;
  if (manifest === undefined) return undefined;
  if (manifest.coded === undefined && node === module.coded[index]!.node) return undefined;
  const coded = module.coded.map((c, i) => manifest.coded?.[i] ?? { node: c.node });
  coded[index] = { node, digest };
  const update = await updateManifest(target, manifest, { coded });
  if (update.written.length === 0 && node !== module.coded[index]!.node) {
    throw new CdfsError(
      "UNAVAILABLE",
      `coded block ${index} of '${objectId}' was rebuilt on node ${node} (${nodes[node]}), but ` +
        `no node took the manifest update that records it there (${
          update.failed.map((f) => `node ${f.node}: ${f.reason}`).join("; ")
        }): repair it again once the nodes are back`,
    );
  }
  return update;
}
