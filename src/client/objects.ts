/**
 * Object-level operations on a coded object, spread over an ordered node list (logical node i
 * of the coding module = `nodes[i]`): {@linkcode putParts} cuts a file into the module's k
 * parts and places them, {@linkcode encodeObject} runs the module's encode on the nodes,
 * {@linkcode decodeObject} rebuilds the file from whatever coded blocks survive, and
 * {@linkcode repairBlock} rebuilds one lost coded block. The nodes do the coding (the CODING
 * operation); this side starts the programs, moves the parts and checks the result.
 *
 * Every operation reports progress through an `onProgress(done, total)` callback (bytes) and
 * returns a summary; nothing here prints. Errors are {@linkcode CdfsError}s naming the node.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { deriveDecodePlan, deriveRepairProgram } from "../coding/decoder.ts";
import type { CodingModule, Program } from "../coding/program.ts";
import { pushChain } from "../coding/push.ts";
import { expandBlockName } from "../coding/validate.ts";
import { CdfsError, isCdfsError } from "../errors.ts";
import { type ByteReader, type ByteWriter, writeFully } from "./byte_io.ts";
import type { CodingRequest } from "../protocol/messages.ts";
import {
  type CodingResult,
  type CommittedBlock,
  DataNodeClient,
  type DataNodeClientOptions,
} from "./datanode_client.ts";
import {
  encodeManifest,
  manifestBlockId,
  MAX_MANIFEST_BYTES,
  type ObjectManifest,
  parseManifest,
  partLengthOf,
} from "./manifest.ts";

/** The default chunk size of the stores and of the coding runs, 1 MiB. */
const DEFAULT_CHUNK_SIZE = 1 << 20;
/**
 * How many STOREs run at once: each holds client buffers from a pool of 32 shared by the
 * process, so this stays well below that.
 */
const MAX_CONCURRENT_STORES = 12;
/** The buffer of local file reads (hashing, copying). */
const FILE_BUFFER_SIZE = 1 << 20;

/**
 * Reports the bytes done out of a total; called often, so it should only record or redraw.
 *
 * @example
 * ```ts
 * import type { ProgressCallback } from "./objects.ts";
 * const log: ProgressCallback = (done, total) => void [done, total];
 * ```
 */
export type ProgressCallback = (done: number, total: number) => void;

/**
 * What every object operation needs: the module, the node list and the object.
 *
 * @example
 * ```ts
 * import type { ObjectTarget } from "./objects.ts";
 * import { codingModule } from "../../coding/replication.ts";
 * const target: ObjectTarget = {
 *   module: codingModule,
 *   nodes: ["127.0.0.1:13100", "127.0.0.1:13101", "127.0.0.1:13102"],
 *   objectId: "photo",
 * };
 * ```
 */
export interface ObjectTarget {
  /** The coding module. */
  readonly module: CodingModule;
  /** `HOST:PORT` of every logical node, in order (as many as the module uses). */
  readonly nodes: readonly string[];
  /** The object id (`{id}` in the module's block templates). */
  readonly objectId: string;
  /** Connect and frame timeouts of the client connections. */
  readonly client?: DataNodeClientOptions;
}

/**
 * Options of {@linkcode putParts}.
 *
 * @example
 * ```ts
 * import type { PutPartsOptions } from "./objects.ts";
 * import { codingModule } from "../../coding/replication.ts";
 * const options: PutPartsOptions = {
 *   module: codingModule,
 *   nodes: ["127.0.0.1:13100", "127.0.0.1:13101", "127.0.0.1:13102"],
 *   objectId: "photo",
 *   file: "photo.jpg",
 * };
 * ```
 */
export interface PutPartsOptions extends ObjectTarget {
  /** The file to put. */
  readonly file: string;
  /** The chunk size the parts are stored with (default 1 MiB). */
  readonly chunkSize?: number;
  /** Replace existing parts and manifests instead of failing with EXISTS. */
  readonly overwrite?: boolean;
  /** Bytes sent to the nodes (every replica counts) out of all there are to send. */
  readonly onProgress?: ProgressCallback;
  /** The manifest's `created` time (default now). */
  readonly now?: () => Date;
}

/**
 * One block a put stored.
 *
 * @example
 * ```ts
 * import type { StoredPart } from "./objects.ts";
 * const part: StoredPart = { part: 0, block: "photo.part0", node: 0, address: "h:1", digest: "0123456789abcdef" };
 * ```
 */
export interface StoredPart {
  /** The part index. */
  readonly part: number;
  /** The block id. */
  readonly block: string;
  /** The logical node. */
  readonly node: number;
  /** Its address. */
  readonly address: string;
  /** The block digest the node confirmed. */
  readonly digest: string;
}

/**
 * What {@linkcode putParts} did.
 *
 * @example
 * ```ts
 * import type { PutPartsResult } from "./objects.ts";
 * const show = (r: PutPartsResult) => `${r.parts.length} part replicas of ${r.manifest.partLength} bytes`;
 * ```
 */
export interface PutPartsResult {
  /** The manifest written on every node. */
  readonly manifest: ObjectManifest;
  /** The manifest's block id. */
  readonly manifestBlock: string;
  /** Every part replica stored. */
  readonly parts: readonly StoredPart[];
  /** Bytes sent in all (parts and manifests). */
  readonly bytesSent: number;
}

/**
 * Cuts a file into the module's k parts of equal length (the last zero-padded; the padding is
 * recorded in the manifest as `objectLength`), stores part j on every node of
 * `module.parts[j].nodes` (concurrently), then the manifest `{id}.manifest` on every node of
 * the list. The file is read twice: once to hash it (SHA-256, recorded in the manifest), once
 * to send the parts. Without `overwrite`, a put that fails removes the parts it stored.
 *
 * @example
 * ```ts ignore
 * import { putParts } from "./objects.ts";
 * import { loadCodingModule } from "../coding/loader.ts";
 * const module = await loadCodingModule("rapidraid");
 * const nodes = Array.from({ length: 16 }, (_, i) => `127.0.0.1:${13100 + i}`);
 * const { manifest } = await putParts({ module, nodes, objectId: "movie", file: "movie.mkv" });
 * console.log(manifest.partLength);
 * ```
 *
 * @param options Module, nodes, object id, file, chunk size, overwrite, progress.
 * @returns The manifest and the stored parts.
 * @throws {CdfsError} NOT_FOUND for a missing file, EXISTS, UNAVAILABLE, BAD_REQUEST, etc.
 * naming the node; UNAVAILABLE when the file changed while it was read.
 */
export async function putParts(options: PutPartsOptions): Promise<PutPartsResult> {
  const { module, nodes, objectId } = options;
  checkTarget(options);
  const manifestBlock = manifestBlockId(objectId);
  const partBlocks = module.parts.map((p) => expandBlockName(p.block, objectId));
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const before = await statFile(options.file);
  const objectLength = before.size;
  const sha256 = await hashFile(options.file);
  const partLength = partLengthOf(objectLength, module.k, module.field);
  const manifest: ObjectManifest = {
    module: module.name,
    k: module.k,
    n: module.n,
    objectLength,
    partLength,
    sha256,
    created: (options.now?.() ?? new Date()).toISOString(),
  };
  const manifestBytes = encodeManifest(manifest);
  const stores = module.parts.flatMap((p, j) => p.nodes.map((node) => ({ part: j, node })));
  const progress = progressSum(
    stores.length * partLength + nodes.length * manifestBytes.length,
    options.onProgress,
  );
  const stored: { block: string; node: number }[] = [];
  const overwrite = options.overwrite === true;
  try {
    const parts = await runLimited(
      stores.map(({ part, node }) => async (): Promise<StoredPart> => {
        const block = partBlocks[part]!;
        const count = progress.counter();
        using file = await openFile(options.file);
        using client = await DataNodeClient.connect(nodes[node]!, options.client);
        const start = Math.min(objectLength, part * partLength);
        const end = Math.min(objectLength, (part + 1) * partLength);
        const result = await client.store(
          block,
          paddedRange(file, options.file, start, end, partLength),
          { length: partLength, chunkSize, overwrite, onProgress: count },
        );
        stored.push({ block, node });
        return { part, block, node, address: client.address, digest: result.digest };
      }),
      MAX_CONCURRENT_STORES,
    );
    const after = await statFile(options.file);
    if (after.size !== before.size || after.mtime?.getTime() !== before.mtime?.getTime()) {
      throw new CdfsError("UNAVAILABLE", `${options.file} changed while it was being put`);
    }
    await runLimited(
      nodes.map((address, node) => async () => {
        using client = await DataNodeClient.connect(address, options.client);
        await client.store(manifestBlock, [manifestBytes], {
          length: manifestBytes.length,
          chunkSize,
          overwrite,
          onProgress: progress.counter(),
        });
        stored.push({ block: manifestBlock, node });
      }),
      MAX_CONCURRENT_STORES,
    );
    return { manifest, manifestBlock, parts, bytesSent: progress.done() };
  } catch (error) {
    // Blocks stored here did not exist before (no overwrite): remove them, best effort, so a
    // failed put does not leave a half-placed object behind.
    if (!overwrite) await deleteQuietly(nodes, stored, options.client);
    throw error;
  }
}

/**
 * Reads an object's manifest from whichever node of the list answers with one first (all are
 * asked at once; unreachable nodes and nodes without it are skipped).
 *
 * @example
 * ```ts ignore
 * import { readManifest } from "./objects.ts";
 * const { manifest, node } = await readManifest(["127.0.0.1:13100", "127.0.0.1:13101"], "movie");
 * console.log(manifest.module, node);
 * ```
 *
 * @param nodes The node list.
 * @param objectId The object id.
 * @param client Client timeouts.
 * @returns The manifest and the logical node it came from.
 * @throws {CdfsError} NOT_FOUND when no reachable node has it (the message says how many
 * nodes were unreachable); CORRUPT when the only copies found are damaged.
 */
export async function readManifest(
  nodes: readonly string[],
  objectId: string,
  client?: DataNodeClientOptions,
): Promise<{ manifest: ObjectManifest; node: number }> {
  const block = manifestBlockId(objectId);
  const attempts = nodes.map(async (address, node) => {
    using connection = await DataNodeClient.connect(address, client);
    const bytes = await retrieveSmall(connection, block);
    return { manifest: parseManifest(bytes, `node ${node} (${connection.address})`), node };
  });
  try {
    return await Promise.any(attempts);
  } catch (error) {
    const errors = error instanceof AggregateError ? error.errors : [error];
    const corrupt = errors.find((e) => isCdfsError(e, "CORRUPT"));
    if (corrupt !== undefined) throw corrupt;
    const missing = errors.filter((e) => isCdfsError(e, "NOT_FOUND")).length;
    throw new CdfsError(
      "NOT_FOUND",
      `object '${objectId}' has no manifest (${block}) on any of the ${nodes.length} nodes` +
        (missing < errors.length ? ` (${errors.length - missing} of them unreachable)` : "") +
        ": was it put with put-parts?",
    );
  }
}

/**
 * The state of one coded block, as {@linkcode surveyCodedBlocks} found it.
 *
 * @example
 * ```ts
 * import type { CodedBlockState } from "./objects.ts";
 * const lost: CodedBlockState = {
 *   index: 3,
 *   block: "movie.coded3",
 *   node: 3,
 *   address: "127.0.0.1:13103",
 *   present: false,
 *   reason: "node unreachable",
 * };
 * ```
 */
export interface CodedBlockState {
  /** The coded block's index (row of the generator). */
  readonly index: number;
  /** Its block id. */
  readonly block: string;
  /** The logical node that stores it. */
  readonly node: number;
  /** That node's address. */
  readonly address: string;
  /** Whether it can be read. */
  readonly present: boolean;
  /** Its length, when present. */
  readonly length?: number;
  /** Why it is not usable, when it is not. */
  readonly reason?: string;
}

/**
 * Finds which coded blocks of an object can be read: STATs each on its node (all nodes at
 * once). A block on an unreachable node, a missing block and (with `partLength`) a block of
 * the wrong length are lost.
 *
 * @example
 * ```ts ignore
 * import { surveyCodedBlocks } from "./objects.ts";
 * const blocks = await surveyCodedBlocks({ module, nodes, objectId: "movie" });
 * console.log(blocks.filter((b) => b.present).map((b) => b.index));
 * ```
 *
 * @param target Module, nodes and object.
 * @param partLength The length every coded block must have, when known.
 * @returns One entry per coded block, in index order.
 */
export async function surveyCodedBlocks(
  target: ObjectTarget,
  partLength?: number,
): Promise<CodedBlockState[]> {
  const { module, nodes, objectId } = target;
  checkTarget(target);
  const byNode = new Map<number, number[]>();
  module.coded.forEach((c, i) => byNode.set(c.node, [...(byNode.get(c.node) ?? []), i]));
  const states: CodedBlockState[] = new Array(module.n);
  await Promise.all([...byNode].map(async ([node, indices]) => {
    const address = nodes[node]!;
    const state = (index: number, fields: Partial<CodedBlockState>): CodedBlockState => ({
      index,
      block: expandBlockName(module.coded[index]!.block, objectId),
      node,
      address,
      present: false,
      ...fields,
    });
    let client: DataNodeClient;
    try {
      client = await DataNodeClient.connect(address, target.client);
    } catch (error) {
      const reason = `node unreachable: ${errorMessage(error)}`;
      for (const index of indices) states[index] = state(index, { reason });
      return;
    }
    try {
      for (const index of indices) {
        const block = expandBlockName(module.coded[index]!.block, objectId);
        try {
          const { length } = await client.stat(block);
          states[index] = partLength === undefined || length === partLength
            ? state(index, { present: true, length })
            : state(index, { length, reason: `length ${length}, the manifest says ${partLength}` });
        } catch (error) {
          const reason = isCdfsError(error, "NOT_FOUND") ? "missing" : errorMessage(error);
          states[index] = state(index, { reason });
        }
      }
    } finally {
      client.close();
    }
  }));
  return states;
}

/**
 * Options of {@linkcode encodeObject}.
 *
 * @example
 * ```ts
 * import type { EncodeOptions } from "./objects.ts";
 * const options: Partial<EncodeOptions> = { chunkSize: 1 << 20, overwrite: false };
 * ```
 */
export interface EncodeOptions extends ObjectTarget {
  /** The run's chunk size (default 1 MiB). */
  readonly chunkSize?: number;
  /** Replace coded blocks that exist instead of failing with EXISTS. */
  readonly overwrite?: boolean;
  /** The run id (default: 16 random bytes in hex). */
  readonly runId?: string;
  /** Bytes of each coded block done by the slowest program started, out of the part length. */
  readonly onProgress?: ProgressCallback;
  /**
   * "pull" (default): the client starts the pipeline's last program, which pulls the rest.
   * "push": the client starts the first, and each node pushes its output to the next.
   */
  readonly mode?: EncodeMode;
}

/**
 * How an encode pipeline is driven ({@linkcode EncodeOptions.mode}).
 *
 * @example
 * ```ts
 * import type { EncodeMode } from "./objects.ts";
 * const mode: EncodeMode = "push";
 * ```
 */
export type EncodeMode = "pull" | "push";

/**
 * One program a client started and what it reported.
 *
 * @example
 * ```ts
 * import type { ProgramReport } from "./objects.ts";
 * const r: ProgramReport = { program: "enc_node15", node: 15, address: "h:1", length: 1024 };
 * ```
 */
export interface ProgramReport {
  /** The program's name. */
  readonly program: string;
  /** The logical node it ran on. */
  readonly node: number;
  /** That node's address. */
  readonly address: string;
  /** The run's stream length L. */
  readonly length: number;
}

/**
 * What {@linkcode encodeObject} did.
 *
 * @example
 * ```ts
 * import type { EncodeResult } from "./objects.ts";
 * const show = (r: EncodeResult) => `run ${r.runId}: ${r.length} bytes per coded block`;
 * ```
 */
export interface EncodeResult {
  /** The run id. */
  readonly runId: string;
  /** The length of each coded block. */
  readonly length: number;
  /** The programs started. */
  readonly programs: readonly ProgramReport[];
  /** The blocks the run made visible (the coded blocks), by node. */
  readonly committed: readonly CommittedBlock[];
  /** The manifest, when one was found (encode checks it names this module). */
  readonly manifest?: ObjectManifest;
}

/**
 * Encodes a put object: starts every program of `module.encode` at once, with one run id, on
 * its node; the nodes pull the rest of the pipeline. In push mode (`mode: "push"`) it starts
 * the first program of each pipeline instead, and each node pushes its output to the next
 * (the same coded blocks; src/coding/push.ts). First reads the manifest (from the node
 * of the first program) and refuses a module other than the one the object was put with; an
 * object without a manifest (parts stored by hand) is encoded all the same.
 *
 * @example
 * ```ts ignore
 * import { encodeObject } from "./objects.ts";
 * const { runId, length } = await encodeObject({ module, nodes, objectId: "movie" });
 * ```
 *
 * @param options Module, nodes, object, chunk size, overwrite, run id, progress.
 * @returns The run id, the coded block length and the programs.
 * @throws {CdfsError} BAD_REQUEST for a manifest of another module; the first error of any
 * program (naming the node where it happened); the other programs are then stopped.
 */
export async function encodeObject(options: EncodeOptions): Promise<EncodeResult> {
  const { module, nodes } = options;
  checkTarget(options);
  const ends = typeof module.encode === "string" ? [module.encode] : [...module.encode];
  // Push mode starts each pipeline at its first program instead of its last.
  const chains = options.mode === "push"
    ? ends.map((end) => pushChain(module.programs, end))
    : undefined;
  const entries = chains === undefined ? ends : chains.map((chain) => chain[0]!);
  let manifest: ObjectManifest | undefined;
  {
    const node = module.programs[entries[0]!]!.node;
    using client = await DataNodeClient.connect(nodes[node]!, options.client);
    try {
      const bytes = await retrieveSmall(client, manifestBlockId(options.objectId));
      manifest = parseManifest(bytes, `node ${node} (${client.address})`);
    } catch (error) {
      if (!isCdfsError(error, "NOT_FOUND")) throw error;
    }
    if (manifest !== undefined) checkManifest(module, manifest, options.objectId);
  }
  const runId = options.runId ?? newRunId();
  const runs = new ProgramRuns(options.client);
  const done = new Array<number>(entries.length).fill(0);
  let total: number | undefined;
  const lengths = entries.map((program, i) =>
    runs.start(nodes[module.programs[program]!.node]!, {
      op: "CODING",
      module: module.name,
      program,
      object: options.objectId,
      run: runId,
      nodes: [...nodes],
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      overwrite: options.overwrite === true,
      ...(chains === undefined ? {} : { push: { chain: chains[i]! } }),
    }, {
      onResponse: (response) => void (total ??= response.length),
      onProgress: (bytes) => {
        done[i] = bytes;
        options.onProgress?.(Math.min(...done), total ?? 0);
      },
      onData: (_chunk, length) => {
        done[i]! += length;
        options.onProgress?.(Math.min(...done), total ?? 0);
      },
    })
  );
  await runs.settle();
  const reports = await Promise.all(lengths);
  // The node reports progress at most ten times a second: the last bytes may go unreported.
  options.onProgress?.(reports[0]!.length, reports[0]!.length);
  return {
    runId,
    length: reports[0]!.length,
    programs: reports.map((r, i) => ({
      program: entries[i]!,
      node: module.programs[entries[i]!]!.node,
      address: nodes[module.programs[entries[i]!]!.node]!,
      length: r.length,
    })),
    committed: reports.flatMap((r) => r.committed).sort((a, b) => a.node - b.node),
    ...(manifest === undefined ? {} : { manifest }),
  };
}

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
  /** The run id (default: 16 random bytes in hex). */
  readonly runId?: string;
  /** Called with the survey once it is known, before any decoding (to show what was lost). */
  readonly onSurvey?: (blocks: readonly CodedBlockState[]) => void;
  /** Bytes of the object received, out of its length. */
  readonly onProgress?: ProgressCallback;
}

/**
 * What {@linkcode decodeObject} did.
 *
 * @example
 * ```ts
 * import type { DecodeResult } from "./objects.ts";
 * const show = (r: DecodeResult) => `decoded from ${r.used.join(",")} on node ${r.coordinator}`;
 * ```
 */
export interface DecodeResult {
  /** The manifest. */
  readonly manifest: ObjectManifest;
  /** Every coded block's state. */
  readonly blocks: readonly CodedBlockState[];
  /** The coded blocks the decode read. */
  readonly used: readonly number[];
  /** The logical node that decoded. */
  readonly coordinator: number;
  /** The run id. */
  readonly runId: string;
  /** Bytes of the object written (its length). */
  readonly length: number;
  /** Its SHA-256, equal to the manifest's. */
  readonly sha256: string;
}

/**
 * Decodes an object from its surviving coded blocks: reads the manifest (unless given), finds
 * the survivors ({@linkcode surveyCodedBlocks}), refuses an undecodable set up front (SINGULAR,
 * naming the lost blocks and the rank), derives a decode plan whose k part streams the
 * coordinator serves, pulls them concurrently and writes part j at offset j · partLength of a
 * temporary file, which is truncated to the object's length and checked against the
 * manifest's SHA-256 before it is renamed (or copied to the writer).
 *
 * @example
 * ```ts ignore
 * import { decodeObject } from "./objects.ts";
 * const result = await decodeObject({ module, nodes, objectId: "movie", output: "movie.mkv" });
 * console.log(result.sha256 === result.manifest.sha256); // true
 * ```
 *
 * @param options Module, nodes, object, output, manifest, chunk size, callbacks.
 * @returns The manifest, the survey, the plan's blocks and coordinator, the length and hash.
 * @throws {CdfsError} SINGULAR when the survivors do not decode; NOT_FOUND without a manifest;
 * BAD_REQUEST when the manifest names another module; CORRUPT when the result does not hash
 * to the manifest's SHA-256; errors of the run naming the node. No partial output is left.
 */
export async function decodeObject(options: DecodeOptions): Promise<DecodeResult> {
  const { module, nodes, objectId } = options;
  checkTarget(options);
  const manifest = options.manifest ??
    (await readManifest(nodes, objectId, options.client)).manifest;
  checkManifest(module, manifest, objectId);
  const blocks = await surveyCodedBlocks(options, manifest.partLength);
  options.onSurvey?.(blocks);
  const survivors = blocks.filter((b) => b.present).map((b) => b.index);
  const lost = blocks.filter((b) => !b.present).map((b) => b.index);
  const name = freeProgramName(module, "decode", module.k);
  let plan;
  try {
    plan = deriveDecodePlan(module, survivors, { output: "stream", name });
  } catch (error) {
    throw explainLoss(error, `object '${objectId}' cannot be decoded`, lost);
  }
  const { objectLength, partLength } = manifest;
  const runId = options.runId ?? newRunId();
  const writer = typeof options.output === "string" ? undefined : options.output;
  const path = typeof options.output === "string" ? options.output : undefined;
  const temp = path !== undefined
    ? join(dirname(path), `.${basename(path)}.${randomSuffix()}.part`)
    : await Deno.makeTempFile({ prefix: "cdfs-decode-", ...dirOption(options.tempDir) });
  let complete = false;
  try {
    if (path !== undefined) (await createFile(temp)).close();
    const progress = progressSum(objectLength, options.onProgress);
    const runs = new ProgramRuns(options.client);
    const coordinator = nodes[plan.coordinator]!;
    const request = (program: string): CodingRequest => ({
      op: "CODING",
      module: module.name,
      program,
      object: objectId,
      run: runId,
      nodes: [...nodes],
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
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
            await writeFully(file, chunk.subarray(0, to - from));
            count(to - start);
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
    const sha256 = await finishFile(temp, objectLength);
    if (sha256 !== manifest.sha256) {
      throw new CdfsError(
        "CORRUPT",
        `object '${objectId}' decoded to SHA-256 ${sha256}, the manifest says ${manifest.sha256}`,
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
    };
  } finally {
    if (!complete) await Deno.remove(temp).catch(() => {});
  }
}

/**
 * Options of {@linkcode repairBlock}.
 *
 * @example
 * ```ts
 * import type { RepairOptions } from "./objects.ts";
 * const options: Partial<RepairOptions> = { block: 3 };
 * ```
 */
export interface RepairOptions extends ObjectTarget {
  /** The index of the coded block to rebuild. */
  readonly block: number;
  /**
   * The logical node to rebuild it on (default: the node the module stores it on). `decode`
   * and later repairs look for coded block i on the module's node for it only, so a block
   * rebuilt elsewhere serves once the node list is rearranged accordingly.
   */
  readonly to?: number;
  /** The part length every survivor must have, when known (e.g. from the manifest). */
  readonly partLength?: number;
  /** The run's chunk size (default 1 MiB). */
  readonly chunkSize?: number;
  /** Replace the block on the target node if it exists there. */
  readonly overwrite?: boolean;
  /** The run id (default: 16 random bytes in hex). */
  readonly runId?: string;
  /** Bytes of the block rebuilt, out of its length. */
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
  /** The run id. */
  readonly runId: string;
  /** The block's length. */
  readonly length: number;
  /** The block digest the node committed it with. */
  readonly digest: string;
}

/**
 * Rebuilds one coded block from the surviving others: surveys the coded blocks, derives a
 * repair program (one combination of the survivors that need a nonzero coefficient) and runs
 * it on the target node, which writes the block under its usual name.
 *
 * @example
 * ```ts ignore
 * import { repairBlock } from "./objects.ts";
 * const result = await repairBlock({ module, nodes, objectId: "movie", block: 3 });
 * console.log(result.digest);
 * ```
 *
 * @param options Module, nodes, object, block, target node, chunk size, progress.
 * @returns What was rebuilt, where, from what.
 * @throws {CdfsError} SINGULAR when the block is not a combination of the survivors;
 * BAD_REQUEST for a block or node index outside the module; EXISTS when the target holds the
 * block already (without `overwrite`); errors of the run naming the node.
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
  const target = options.to ?? module.coded[index]!.node;
  if (!Number.isInteger(target) || target < 0 || target >= nodes.length) {
    throw new CdfsError(
      "BAD_REQUEST",
      `node index ${target} is not in the node list (0..${nodes.length - 1})`,
    );
  }
  const blocks = await surveyCodedBlocks(options, options.partLength);
  const survivors = blocks.filter((b) => b.present && b.index !== index).map((b) => b.index);
  const lost = blocks.filter((b) => !b.present && b.index !== index).map((b) => b.index);
  let program: Program;
  try {
    program = deriveRepairProgram(module, index, survivors, { node: target });
  } catch (error) {
    throw explainLoss(error, `coded block ${index} of '${objectId}' cannot be repaired`, lost);
  }
  const name = freeProgramName(module, "repair", 0);
  const runId = options.runId ?? newRunId();
  const runs = new ProgramRuns(options.client);
  let total = 0;
  const run = runs.start(nodes[target]!, {
    op: "CODING",
    module: module.name,
    program: name,
    object: objectId,
    run: runId,
    nodes: [...nodes],
    chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
    overwrite: options.overwrite === true,
    inline: { [name]: program },
  }, {
    onResponse: (response) => void (total = response.length),
    onProgress: (bytes) => options.onProgress?.(bytes, total),
  });
  await runs.settle();
  const { length, committed } = await run;
  options.onProgress?.(length, length);
  const block = expandBlockName(module.coded[index]!.block, objectId);
  const written = committed.find((b) => b.block === block);
  if (written === undefined) {
    throw new CdfsError(
      "INTERNAL",
      `node ${target} (${nodes[target]}): the repair run committed no block '${block}'`,
    );
  }
  const used = program.streams.flatMap((s) =>
    "read" in s && s.name.startsWith("coded") ? [Number(s.name.slice("coded".length))] : []
  );
  return {
    index,
    block,
    node: target,
    address: nodes[target]!,
    used,
    runId,
    length,
    digest: written.digest,
  };
}

/**
 * A fresh run id: 16 random bytes as 32 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { newRunId } from "./objects.ts";
 * console.log(/^[0-9a-f]{32}$/.test(newRunId())); // true
 * ```
 *
 * @returns The run id.
 */
export function newRunId(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

// ---------------------------------------------------------------------------------------------
// Programs under way

/** What a started program reports. */
interface ProgramHandlers {
  onResponse?: (response: { length: number; stream: boolean }) => void;
  onData?: (bytes: Uint8Array, length: number) => void | Promise<void>;
  onProgress?: (bytesDone: number) => void;
  /** Called inside the task when the program is prepared, with L: may throw to fail the run. */
  onEnd?: (length: number) => void;
}

/**
 * The programs of one run, each on its own connection, committed together: a program that is
 * prepared (finished, its blocks written but not visible) waits until every program of the
 * run is, so that nothing becomes visible unless all of them succeeded. All programs must be
 * started before the event loop turns (in one synchronous loop), as the barrier counts them.
 *
 * The first failure (of a program or of the caller's handling) closes every connection, which
 * aborts the others on the nodes, and is the error {@linkcode ProgramRuns.settle} throws (the
 * later ones are its consequences).
 */
class ProgramRuns {
  readonly #client: DataNodeClientOptions | undefined;
  readonly #clients = new Set<DataNodeClient>();
  readonly #tasks: Promise<unknown>[] = [];
  readonly #allPrepared: Promise<void>;
  #resolvePrepared: () => void = () => {};
  #rejectPrepared: (error: unknown) => void = () => {};
  #prepared = 0;
  #failed = false;
  #error: unknown;

  constructor(client: DataNodeClientOptions | undefined) {
    this.#client = client;
    this.#allPrepared = new Promise<void>((resolve, reject) => {
      this.#resolvePrepared = resolve;
      this.#rejectPrepared = reject;
    });
    this.#allPrepared.catch(() => {}); // observed by every onPrepared; never "unhandled"
  }

  start(address: string, request: CodingRequest, handlers: ProgramHandlers): Promise<CodingResult> {
    const task = (async () => {
      const client = await DataNodeClient.connect(address, this.#client);
      this.#clients.add(client);
      try {
        if (this.#failed) throw this.#error;
        let length = -1;
        return await client.coding(request, {
          onResponse: (response) => {
            length = response.length;
            handlers.onResponse?.(response);
          },
          ...(handlers.onData === undefined ? {} : { onData: handlers.onData }),
          ...(handlers.onProgress === undefined ? {} : { onProgress: handlers.onProgress }),
          onPrepared: async () => {
            handlers.onEnd?.(length);
            if (++this.#prepared === this.#tasks.length) this.#resolvePrepared();
            await this.#allPrepared;
          },
        });
      } finally {
        this.#clients.delete(client);
        client.close();
      }
    })();
    this.#tasks.push(task.catch((error) => this.fail(error)));
    return task;
  }

  fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#rejectPrepared(error);
    for (const client of this.#clients) client.close();
  }

  async settle(): Promise<void> {
    await Promise.allSettled(this.#tasks);
    if (this.#failed) throw this.#error;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * The number of logical nodes a module uses: one more than the highest node index of its
 * parts, coded blocks and programs (n for every built-in module).
 *
 * @example
 * ```ts
 * import { moduleNodeCount } from "./objects.ts";
 * import { codingModule } from "../../coding/rapidraid.ts";
 * console.log(moduleNodeCount(codingModule)); // 16
 * ```
 *
 * @param module The coding module.
 * @returns How many addresses its node list must have.
 */
export function moduleNodeCount(module: CodingModule): number {
  let highest = -1;
  for (const part of module.parts) highest = Math.max(highest, ...part.nodes);
  for (const coded of module.coded) highest = Math.max(highest, coded.node);
  for (const program of Object.values(module.programs)) highest = Math.max(highest, program.node);
  return highest + 1;
}

function checkTarget(target: ObjectTarget): void {
  const { module, nodes, objectId } = target;
  manifestBlockId(objectId);
  const needed = moduleNodeCount(module);
  if (nodes.length !== needed) {
    throw new CdfsError("BAD_REQUEST", `${module.name} needs ${needed} nodes, got ${nodes.length}`);
  }
}

function checkManifest(module: CodingModule, manifest: ObjectManifest, objectId: string): void {
  if (manifest.module !== module.name || manifest.k !== module.k || manifest.n !== module.n) {
    throw new CdfsError(
      "BAD_REQUEST",
      `object '${objectId}' was put with ${manifest.module} (n = ${manifest.n}, k = ` +
        `${manifest.k}), not ${module.name} (n = ${module.n}, k = ${module.k})`,
    );
  }
  if (manifest.partLength !== partLengthOf(manifest.objectLength, module.k, module.field)) {
    throw new CdfsError(
      "CORRUPT",
      `object '${objectId}': the manifest's partLength ${manifest.partLength} does not match ` +
        `objectLength ${manifest.objectLength} in ${module.name}`,
    );
  }
}

/** A SINGULAR error of the decoder, prefixed with what failed and which blocks were lost. */
function explainLoss(error: unknown, what: string, lost: readonly number[]): unknown {
  if (!isCdfsError(error, "SINGULAR")) return error;
  const lostText = lost.length === 0 ? "none lost" : `lost coded blocks {${lost.join(", ")}}`;
  return new CdfsError("SINGULAR", `${what} (${lostText}): ${error.message}`, { cause: error });
}

/** A program name not used by the module (nor, with aux programs, `<name>_part<j>`). */
function freeProgramName(module: CodingModule, base: string, auxCount: number): string {
  const taken = (name: string) =>
    Object.hasOwn(module.programs, name) ||
    Array.from({ length: auxCount }, (_, j) => `${name}_part${j}`).some((aux) =>
      Object.hasOwn(module.programs, aux)
    );
  let name = base;
  for (let i = 1; taken(name); i++) name = `${base}${i}`;
  return name;
}

/** Runs tasks with at most `limit` at a time; after a failure starts no more, then throws it. */
async function runLimited<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < tasks.length) {
      const i = next++;
      try {
        results[i] = await tasks[i]!();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

/** Sums the progress of several transfers, each reporting its own running total. */
function progressSum(
  total: number,
  onProgress: ProgressCallback | undefined,
): { counter(): (bytes: number) => void; done(): number } {
  let sum = 0;
  return {
    counter() {
      let mine = 0;
      return (bytes) => {
        sum += bytes - mine;
        mine = bytes;
        onProgress?.(sum, total);
      };
    },
    done: () => sum,
  };
}

/** Retrieves a small block (a manifest) into memory. */
async function retrieveSmall(client: DataNodeClient, block: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  await client.retrieve(block, (chunk) => {
    size += chunk.length;
    if (size > MAX_MANIFEST_BYTES) {
      throw new CdfsError("CORRUPT", `block '${block}' is larger than ${MAX_MANIFEST_BYTES} bytes`);
    }
    chunks.push(chunk.slice());
  });
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** Bytes [start, end) of a file, then zeros up to `length` bytes in all. */
function paddedRange(
  file: Deno.FsFile,
  path: string,
  start: number,
  end: number,
  length: number,
): ByteReader {
  let at = 0;
  let positioned = false;
  return {
    async read(view) {
      if (at >= length) return null;
      const want = Math.min(view.length, length - at);
      if (start + at < end) {
        if (!positioned) {
          await file.seek(start, Deno.SeekMode.Start);
          positioned = true;
        }
        const n = await file.read(view.subarray(0, Math.min(want, end - start - at)));
        if (n === null) throw new CdfsError("UNAVAILABLE", `${path} shrank while it was being put`);
        at += n;
        return n;
      }
      view.fill(0, 0, want);
      at += want;
      return want;
    },
  };
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await openFile(path);
  const buffer = new Uint8Array(FILE_BUFFER_SIZE);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) return hash.digest("hex");
    hash.update(buffer.subarray(0, n));
  }
}

/** Cuts the decoded file to the object's length, makes it durable and hashes it. */
async function finishFile(path: string, length: number): Promise<string> {
  {
    using file = await Deno.open(path, { write: true });
    await file.truncate(length);
    await file.syncData();
  }
  return await hashFile(path);
}

async function copyFile(path: string, writer: ByteWriter): Promise<void> {
  using file = await openFile(path);
  const buffer = new Uint8Array(FILE_BUFFER_SIZE);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) return;
    await writeFully(writer, buffer.subarray(0, n));
  }
}

async function statFile(path: string): Promise<Deno.FileInfo> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw localError(error, path, "read");
  }
  if (!info.isFile) throw new CdfsError("BAD_REQUEST", `${path} is not a regular file`);
  return info;
}

async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (error) {
    throw localError(error, path, "read");
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

/** A failure on a local file, as a CdfsError that says which file. */
function localError(error: unknown, path: string, verb: string): CdfsError {
  if (error instanceof CdfsError) return error;
  const reason = error instanceof Error ? error.message.replace(/ \(os error \d+\).*$/, "") : "";
  const code = error instanceof Deno.errors.NotFound ? "NOT_FOUND" : "UNAVAILABLE";
  return new CdfsError(code, `cannot ${verb} ${path}: ${reason}`, { cause: error });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function deleteQuietly(
  nodes: readonly string[],
  blocks: readonly { block: string; node: number }[],
  client: DataNodeClientOptions | undefined,
): Promise<void> {
  await Promise.allSettled(blocks.map(async ({ block, node }) => {
    using connection = await DataNodeClient.connect(nodes[node]!, client);
    await connection.delete(block);
  }));
}
