/**
 * {@linkcode decodeObject}: rebuilds an object from whichever coded blocks survive, reading
 * each where it lives now (the manifest's record, state.ts). A damaged block found by the
 * run is set aside and the run starts again from another decodable set of intact survivors
 * (survivors.ts), until one succeeds or none is left. The output is a temporary file until
 * it is complete and verified against the manifest's SHA-256.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { type DecodePlan, deriveDecodePlan } from "../../coding/analysis/decoder.ts";
import type { CodingModule } from "../../coding/lang/program.ts";
import { CdfsError } from "../../core/errors.ts";
import type { CodingRequest } from "../../protocol/requests.ts";
import { type ByteWriter, writeFully } from "../byte_io.ts";
import { copyFile, finishFile, localError } from "./local_file.ts";
import type { ObjectManifest } from "./manifest.ts";
import { OrderedFileDigest, partSpans } from "./ordered_digest.ts";
import { codingRequest, freeProgramName, newRunId, ProgramRuns } from "./program_runs.ts";
import { type ProgressCallback, progressSum } from "./progress.ts";
import {
  type CodedBlockState,
  type CorruptBlock,
  objectManifest,
  surveyCodedBlocks,
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
 * Options of {@linkcode decodeObject}.
 *
 * @example
 * ```ts
 * import type { DecodeOptions } from "./decode.ts";
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
 * import type { DecodeResult } from "./decode.ts";
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
 * import { decodeObject } from "./decode.ts";
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
        if (
          !await setAsideUnusable(
            options,
            runs.errors,
            plan.used,
            blocks,
            corrupt,
            options.onCorrupt,
          )
        ) throw error;
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
