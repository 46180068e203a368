/**
 * Rebuilding from coded blocks: {@linkcode decodeObject} rebuilds the object from whichever
 * coded blocks survive, {@linkcode repairBlock} rebuilds one coded block. Both read each coded
 * block where it lives now (the manifest's record, object_state.ts), and both survive damaged
 * blocks: a node finds the damage when it reads the block (every chunk is checked against its
 * checksum) and fails the run with CORRUPT; the block is then set aside and the run starts
 * again from another decodable set of intact survivors, until one succeeds or none is left.
 * A run that fails leaves nothing behind: the decode's output is a temporary file until it is
 * complete and verified, and a repair's block becomes visible only at the run's commit.
 * Re-exported by objects.ts.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import {
  type DecodePlan,
  deriveDecodePlan,
  deriveRepairProgram,
} from "../coding/analysis/decoder.ts";
import type { CodingModule, Program } from "../coding/lang/program.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import type { CodingRequest } from "../protocol/messages.ts";
import { type ByteWriter, writeFully } from "./byte_io.ts";
import { DataNodeClient } from "./datanode_client.ts";
import type { ObjectManifest } from "./manifest.ts";
import { OrderedFileDigest, partSpans } from "./ordered_digest.ts";
import {
  checkTarget,
  codingRequest,
  errorMessage,
  FILE_BUFFER_SIZE,
  freeProgramName,
  hashFile,
  localError,
  newRunId,
  openFile,
  ProgramRuns,
  type ProgressCallback,
  progressSum,
  runLimited,
} from "./object_common.ts";
import {
  type CodedBlockState,
  type CorruptBlock,
  type ManifestUpdate,
  objectManifest,
  surveyCodedBlocks,
  updateManifest,
} from "./object_state.ts";
import type { ObjectTarget } from "./objects.ts";

/**
 * Options of {@linkcode decodeObject}.
 *
 * @example
 * ```ts
 * import type { DecodeOptions } from "./objects.ts";
 * const options: Partial<DecodeOptions> = { output: "movie.mkv", chunkSize: 1 << 20 };
 * ```
 */
export interface DecodeOptions extends ObjectTarget {
  /**
   * Where the object goes: a file path (written as a temporary file beside it, renamed over it
   * once complete and verified) or a writer (the object is first decoded into a temporary
   * file in `tempDir` and verified, then copied to the writer: the parts arrive concurrently,
   * not in order, and nothing unverified reaches the writer).
   */
  readonly output: string | ByteWriter;
  /** Where the temporary file for a writer goes (default the system's temp directory). */
  readonly tempDir?: string;
  /** The manifest, when the caller has read it already (default: read it). */
  readonly manifest?: ObjectManifest;
  /** The run's chunk size (default 1 MiB). */
  readonly chunkSize?: number;
  /** The first run's id (default: 16 random bytes in hex); a retry gets a fresh one. */
  readonly runId?: string;
  /** Called with the survey once it is known, before any decoding (to show what was lost). */
  readonly onSurvey?: (blocks: readonly CodedBlockState[]) => void;
  /** Called when a run finds a damaged coded block, before the decode starts again. */
  readonly onCorrupt?: (block: CorruptBlock) => void;
  /** Bytes of the object received, out of its length (from 0 again after a retry). */
  readonly onProgress?: ProgressCallback;
}

/**
 * What {@linkcode decodeObject} did.
 *
 * @example
 * ```ts
 * import type { DecodeResult } from "./objects.ts";
 * const show = (r: DecodeResult) =>
 *   `decoded from ${r.used.join(",")} on node ${r.coordinator}` +
 *   r.corrupt.map((c) => `; corrupt: coded block ${c.index} on node ${c.node} (${c.address})`).join("");
 * ```
 */
export interface DecodeResult {
  /** The manifest. */
  readonly manifest: ObjectManifest;
  /** Every coded block's state (the survey's, with the corrupt blocks found marked). */
  readonly blocks: readonly CodedBlockState[];
  /** The coded blocks the decode read. */
  readonly used: readonly number[];
  /** The logical node that decoded. */
  readonly coordinator: number;
  /** The run id of the run that succeeded. */
  readonly runId: string;
  /** Bytes of the object written (its length). */
  readonly length: number;
  /** Its SHA-256, equal to the manifest's. */
  readonly sha256: string;
  /**
   * The coded blocks found damaged (by the survey or by a run that read them), which the
   * decode did without; empty when there were none. They should be repaired (with
   * `overwrite`).
   */
  readonly corrupt: readonly CorruptBlock[];
  /** How many runs were started (1 + one per run stopped by a damaged block). */
  readonly attempts: number;
}

/**
 * Decodes an object from its surviving coded blocks: reads the manifest (unless given), finds
 * the survivors where they live ({@linkcode surveyCodedBlocks}), refuses an undecodable set up
 * front (SINGULAR, naming the lost and corrupt blocks and the rank; NOT_FOUND, in one line,
 * for an object that was put but never encoded), derives a decode plan whose k part streams
 * the coordinator serves, pulls them concurrently and writes part j at offset j · partLength
 * of a temporary file, which is truncated to the object's length and checked against the
 * manifest's SHA-256 before it is renamed (or copied to the writer).
 *
 * A run stopped by a damaged coded block (CORRUPT from the node that read it) starts again,
 * from scratch, with another decodable set that leaves the block out; the block is reported
 * in {@linkcode DecodeResult.corrupt}.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { decodeObject } from "./objects.ts";
 * const result = await decodeObject({ module, nodes, objectId: "movie", output: "movie.mkv" });
 * console.log(result.sha256 === result.manifest.sha256, result.corrupt); // true []
 * ```
 *
 * @param options Module, nodes, object, output, manifest, chunk size, callbacks.
 * @returns The manifest, the survey, the plan's blocks and coordinator, the length and hash,
 * the corrupt blocks found.
 * @throws {CdfsError} SINGULAR when the intact survivors do not decode; NOT_FOUND without a
 * manifest, or without any coded block of an object never encoded; BAD_REQUEST when the
 * manifest names another module; CORRUPT when the result does not hash to the manifest's
 * SHA-256; errors of the run naming the node. No partial output is left.
 */
export async function decodeObject(options: DecodeOptions): Promise<DecodeResult> {
  const { module, objectId } = options;
  checkTarget(options);
  const manifest = await objectManifest(options, options.manifest);
  const survey = await surveyCodedBlocks(options, manifest);
  options.onSurvey?.(survey);
  refuseNeverEncoded(objectId, manifest, survey);
  const blocks = [...survey];
  const corrupt: CorruptBlock[] = survey.filter((b) => b.corrupt === true).map(corruptOf);
  const name = freeProgramName(module, "decode", module.k);
  const { objectLength } = manifest;
  const writer = typeof options.output === "string" ? undefined : options.output;
  const path = typeof options.output === "string" ? options.output : undefined;
  const temp = path !== undefined
    ? join(dirname(path), `.${basename(path)}.${randomSuffix()}.part`)
    : await Deno.makeTempFile({ prefix: "cdfs-decode-", ...dirOption(options.tempDir) });
  let complete = false;
  try {
    if (path !== undefined) (await createFile(temp)).close();
    for (let attempt = 1;; attempt++) {
      let plan: DecodePlan;
      try {
        plan = locatedDecodePlan(module, blocks, name);
      } catch (error) {
        throw explainLoss(error, `object '${objectId}' cannot be decoded`, blocks, manifest);
      }
      const runId = attempt === 1 && options.runId !== undefined ? options.runId : newRunId();
      const runs = new ProgramRuns(options.client);
      // The file is hashed in order while the part streams arrive (`ordered_digest.ts`).
      const digest = new OrderedFileDigest(temp, partSpans(objectLength, manifest.partLength));
      try {
        await runDecodePlan(options, manifest, plan, runId, runs, temp, digest);
      } catch (error) {
        digest.close();
        const found = await damagedBlocks(options, runs.errors, plan.used, blocks);
        if (found.length === 0) throw error;
        for (const block of found) {
          corrupt.push(block);
          blocks[block.index] = markCorrupt(blocks[block.index]!, block.reason);
          options.onCorrupt?.(block);
        }
        // Nothing of the stopped run is kept: the next one writes every byte again.
        await Deno.truncate(temp, 0);
        continue;
      }
      const sha256 = await finishFile(temp, objectLength, digest).finally(() => digest.close());
      if (sha256 !== manifest.sha256) {
        throw new CdfsError(
          "CORRUPT",
          `object '${objectId}' decoded to SHA-256 ${sha256}, the manifest says ` +
            `${manifest.sha256}`,
        );
      }
      if (path !== undefined) {
        await Deno.rename(temp, path).catch((error) => {
          throw localError(error, path, "write");
        });
      } else {
        await copyFile(temp, writer!);
      }
      complete = path !== undefined;
      return {
        manifest,
        blocks,
        used: plan.used,
        coordinator: plan.coordinator,
        runId,
        length: objectLength,
        sha256,
        corrupt,
        attempts: attempt,
      };
    }
  } finally {
    if (!complete) await Deno.remove(temp).catch(() => {});
  }
}

/** One run of a decode plan: the k part streams into the temporary file. */
async function runDecodePlan(
  options: DecodeOptions,
  manifest: ObjectManifest,
  plan: DecodePlan,
  runId: string,
  runs: ProgramRuns,
  temp: string,
  digest: OrderedFileDigest,
): Promise<void> {
  const { nodes, objectId } = options;
  const { objectLength, partLength } = manifest;
  const progress = progressSum(objectLength, options.onProgress);
  const coordinator = nodes[plan.coordinator]!;
  const request = (program: string): CodingRequest =>
    codingRequest(options, {
      program,
      run: runId,
      chunkSize: options.chunkSize,
      overwrite: false,
      inline: plan.programs,
    });
  const files: Deno.FsFile[] = [];
  try {
    runs.start(coordinator, request(plan.name), {});
    plan.partOutputs.forEach((program, j) => {
      const start = Math.min(objectLength, j * partLength);
      const end = Math.min(objectLength, (j + 1) * partLength);
      const count = progress.counter();
      let received = 0;
      let file: Deno.FsFile | undefined;
      runs.start(coordinator, request(program), {
        onData: async (chunk, length) => {
          // The padding past the object's end is not written: the file ends at objectLength.
          const from = start + received;
          received += length;
          const to = Math.min(end, start + received);
          if (to <= from) return;
          if (file === undefined) {
            file = await Deno.open(temp, { write: true });
            files.push(file);
            await file.seek(start, Deno.SeekMode.Start);
          }
          const piece = chunk.subarray(0, to - from);
          // The write runs on another thread while the piece is hashed here (when its turn).
          const writing = writeFully(file, piece);
          digest.offer(j, from - start, piece);
          await writing;
          count(to - start);
          digest.written(j, to - start);
        },
        onEnd: (length) => {
          if (length !== partLength || received !== partLength) {
            throw new CdfsError(
              "CORRUPT",
              `node ${plan.coordinator} (${coordinator}): part ${j} of '${objectId}' came ` +
                `with ${received} bytes (length ${length}), the manifest says ${partLength}`,
            );
          }
        },
      });
    });
    await runs.settle();
  } finally {
    for (const file of files) file.close();
  }
}

/**
 * Options of {@linkcode repairBlock}.
 *
 * @example
 * ```ts
 * import type { RepairOptions } from "./objects.ts";
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
 * import type { RepairResult } from "./objects.ts";
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
 * import { repairBlock } from "./objects.ts";
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
      const found = await damagedBlocks(options, runs.errors, used, blocks);
      if (found.length === 0) throw error;
      for (const damaged of found) {
        corrupt.push(damaged);
        blocks[damaged.index] = markCorrupt(blocks[damaged.index]!, damaged.reason);
        options.onCorrupt?.(damaged);
      }
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

// ---------------------------------------------------------------------------------------------
// Plans where the blocks are

/**
 * A decode plan over the intact survivors that reads every coded block where the survey found
 * it, coordinated by the node that holds the most of the blocks it uses.
 */
function locatedDecodePlan(
  module: CodingModule,
  blocks: readonly CodedBlockState[],
  name: string,
): DecodePlan {
  const survivors = blocks.filter((b) => b.present).map((b) => b.index);
  const locations = blocks.map((b) => b.node);
  let plan = deriveDecodePlan(module, survivors, { output: "stream", name });
  // The decoder places the coordinator by the module's nodes: place it by the real ones.
  const counts = new Map<number, number>();
  for (const i of plan.used) counts.set(locations[i]!, (counts.get(locations[i]!) ?? 0) + 1);
  let coordinator = locations[plan.used[0]!]!;
  for (const [node, count] of counts) if (count > counts.get(coordinator)!) coordinator = node;
  if (coordinator !== plan.coordinator) {
    plan = deriveDecodePlan(module, survivors, { output: "stream", name, coordinator });
  }
  const programs = Object.fromEntries(
    Object.entries(plan.programs).map(([n, p]) => [n, relocate(module, p, { locations })]),
  );
  return { ...plan, program: programs[plan.name]!, programs };
}

/**
 * A program whose reads of coded blocks go to the node each block lives on (the derived
 * programs read coded block i from the module's node for it).
 */
function relocate(
  module: CodingModule,
  program: Program,
  { locations }: { readonly locations: readonly number[] },
): Program {
  const indexOf = new Map(module.coded.map((c, i) => [c.block, i]));
  return {
    ...program,
    streams: program.streams.map((s) => {
      if (!("read" in s) || !("block" in s.read)) return s;
      const i = indexOf.get(s.read.block);
      if (i === undefined) return s;
      const node = locations[i]!;
      return {
        name: s.name,
        read: node === program.node ? { block: s.read.block } : { block: s.read.block, node },
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Damaged blocks

/** The message of a block store's verification failure: `block '<id>': ...` / `... chunk N`. */
const STORE_DAMAGE = /block '([^']+)'(?=: | chunk \d)/g;

/**
 * Which of the coded blocks a failed run read are damaged: those a CORRUPT error of the run
 * names (the node that read a block reports the block store's own message); when the run
 * failed with CORRUPT without naming one (e.g. a stream that ended short), each block read is
 * read through once more, whole, and those the node refuses with CORRUPT are. Empty when the
 * run did not fail for a damaged block.
 */
async function damagedBlocks(
  target: ObjectTarget,
  errors: readonly unknown[],
  used: readonly number[],
  blocks: readonly CodedBlockState[],
): Promise<CorruptBlock[]> {
  const reports = errors.filter((e): e is CdfsError => isCdfsError(e, "CORRUPT"));
  if (reports.length === 0) return [];
  const byId = new Map(used.map((i) => [blocks[i]!.block, i]));
  const found = new Map<number, CorruptBlock>();
  for (const report of reports) {
    for (const match of report.message.matchAll(STORE_DAMAGE)) {
      const index = byId.get(match[1]!);
      if (index === undefined || found.has(index)) continue;
      // The store's words, without the context the nodes added on the way.
      const reason = report.message.slice(match.index).replace(/ \((?:block|program) '.*$/, "");
      found.set(index, corruptOf({ ...blocks[index]!, reason }));
    }
  }
  if (found.size > 0) return [...found.values()];
  const checks = await runLimited(
    used.map((index) => async () => {
      const state = blocks[index]!;
      try {
        using client = await DataNodeClient.connect(state.address, target.client);
        await client.retrieve(state.block, () => {});
        return undefined;
      } catch (error) {
        return isCdfsError(error, "CORRUPT")
          ? corruptOf({ ...state, reason: errorMessage(error) })
          : undefined;
      }
    }),
    4,
  );
  return checks.filter((c) => c !== undefined);
}

function corruptOf(state: CodedBlockState): CorruptBlock {
  const { index, block, node, address } = state;
  return { index, block, node, address, reason: state.reason ?? "corrupt" };
}

function markCorrupt(state: CodedBlockState, reason: string): CodedBlockState {
  const { length: _length, ...rest } = state;
  return { ...rest, present: false, corrupt: true, reason };
}

// ---------------------------------------------------------------------------------------------
// Explaining a loss

/**
 * An object without a single coded block whose manifest records no encode was put but never
 * encoded: that, in one line, rather than a rank-0 SINGULAR.
 */
function refuseNeverEncoded(
  objectId: string,
  manifest: ObjectManifest,
  blocks: readonly CodedBlockState[],
): void {
  if (manifest.encoded !== undefined) return;
  // Every coded block is missing where its node answered: an encode commits all or none.
  const missing = blocks.filter((b) => b.reason === "missing").length;
  const unreachable = blocks.filter((b) => b.reason?.startsWith("node unreachable") === true);
  if (missing === 0 || missing + unreachable.length !== blocks.length) return;
  const down = [...new Set(unreachable.map((b) => b.node))].sort((a, b) => a - b);
  throw new CdfsError(
    "NOT_FOUND",
    `object '${objectId}' has no coded blocks` +
      (down.length === 0 ? "" : ` on its reachable nodes (unreachable: ${down.join(", ")})`) +
      `: it was put but never encoded (run \`cdfs object encode ${objectId}\` first)`,
  );
}

/**
 * A SINGULAR error of the decoder, prefixed with what failed, which blocks were lost and which
 * were corrupt, and whether the part replicas were dropped on purpose.
 */
function explainLoss(
  error: unknown,
  what: string,
  blocks: readonly CodedBlockState[],
  manifest: ObjectManifest | undefined,
): unknown {
  if (!isCdfsError(error, "SINGULAR")) return error;
  const lost = blocks.filter((b) => !b.present && b.corrupt !== true).map((b) => b.index);
  const corrupt = blocks.filter((b) => b.corrupt === true).map((b) =>
    `${b.index} on node ${b.node} (${b.address})`
  );
  const parts = [
    ...(lost.length === 0 ? [] : [`lost coded blocks {${lost.join(", ")}}`]),
    ...(corrupt.length === 0 ? [] : [`corrupt coded blocks {${corrupt.join(", ")}}`]),
  ];
  const archived = manifest?.archived === undefined
    ? ""
    : `; its part replicas were dropped when it was archived (${manifest.archived.at})`;
  return new CdfsError(
    "SINGULAR",
    `${what} (${parts.length === 0 ? "none lost" : parts.join("; ")}): ${error.message}` +
      archived,
    { cause: error },
  );
}

// ---------------------------------------------------------------------------------------------
// Local files

/**
 * Cuts a file written out of order (parts at their offsets) to its length, makes it durable
 * and hashes it (SHA-256): the last step before it is checked and renamed into place. Also
 * used by the file reads of `files/`. With a digest that followed the writes
 * ({@linkcode OrderedFileDigest}), its end is awaited (while the file is synced) instead of a
 * pass over the whole file.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { finishFile } from "./object_decode.ts";
 * const sha256 = await finishFile(".movie.mkv.123.part", 1 << 20);
 * ```
 *
 * @param path The file.
 * @param length Its length.
 * @param digest The running digest of its parts, when one was kept.
 * @returns Its SHA-256, 64 lowercase hex digits.
 */
export async function finishFile(
  path: string,
  length: number,
  digest?: OrderedFileDigest,
): Promise<string> {
  using file = await Deno.open(path, { write: true });
  await file.truncate(length);
  if (digest === undefined) {
    await file.syncData();
    return await hashFile(path);
  }
  const [, sha256] = await Promise.all([file.syncData(), digest.digest()]);
  return sha256;
}

/**
 * Copies a (verified) local file to a writer: how a decoded object reaches standard output.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { copyFile } from "./object_decode.ts";
 * await copyFile("/tmp/cdfs-decode-123", Deno.stdout);
 * ```
 *
 * @param path The file.
 * @param writer Where its bytes go.
 */
export async function copyFile(path: string, writer: ByteWriter): Promise<void> {
  using file = await openFile(path);
  const buffer = new Uint8Array(FILE_BUFFER_SIZE);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) return;
    await writeFully(writer, buffer.subarray(0, n));
  }
}

async function createFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { write: true, createNew: true, mode: 0o666 });
  } catch (error) {
    throw localError(error, path, "create");
  }
}

function dirOption(dir: string | undefined): { dir?: string } {
  return dir === undefined ? {} : { dir };
}

function randomSuffix(): string {
  return crypto.getRandomValues(new Uint32Array(2)).join("");
}
