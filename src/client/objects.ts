/**
 * Object-level operations on a coded object, spread over an ordered node list (logical node i
 * of the coding module = `nodes[i]`): {@linkcode putParts} cuts a file into the module's k
 * parts and places them, {@linkcode encodeObject} runs the module's encode on the nodes (and,
 * asked to, drops the part replicas: {@linkcode archiveObject}), {@linkcode decodeObject}
 * rebuilds the file from whatever coded blocks survive, and {@linkcode repairBlock} rebuilds
 * one lost coded block. The nodes do the coding (the CODING operation); this side starts the
 * programs, moves the parts and checks the result.
 *
 * The manifest on the nodes (manifest.ts) says how the object was cut; encode, repair and
 * archive update it with where each coded block lives and whether the replicas are gone
 * ({@linkcode readManifest}, {@linkcode surveyCodedBlocks}). Decode and repair set aside a
 * coded block found damaged and start again from intact ones, reporting it.
 *
 * Every operation reports progress through an `onProgress(done, total)` callback (bytes) and
 * returns a summary; nothing here prints. Errors are {@linkcode CdfsError}s naming the node.
 * This module holds put and encode; decode and repair are in object_decode.ts, the survey
 * and the manifest's updates in object_state.ts, archiving in object_archive.ts, all
 * re-exported here.
 *
 * @module
 */
import type { CodingModule } from "../coding/lang/program.ts";
import { pushChain } from "../coding/runtime/push_chain.ts";
import { expandBlockName } from "../coding/lang/validate.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import type { ByteReader } from "./byte_io.ts";
import {
  type CommittedBlock,
  DataNodeClient,
  type DataNodeClientOptions,
} from "./datanode_client.ts";
import {
  type CodedBlockRecord,
  encodeManifest,
  manifestBlockId,
  type ObjectManifest,
  partLengthOf,
} from "./manifest.ts";
import { archiveObject, type ArchiveResult } from "./object_archive.ts";
import {
  checkTarget,
  codingRequest,
  DEFAULT_CHUNK_SIZE,
  deleteQuietly,
  hashFile,
  MAX_CONCURRENT_STORES,
  newRunId,
  openFile,
  ProgramRuns,
  type ProgressCallback,
  progressSum,
  runLimited,
  statFile,
} from "./object_common.ts";
import { type ManifestUpdate, objectManifest, updateManifest } from "./object_state.ts";

export { moduleNodeCount, newRunId, type ProgressCallback } from "./object_common.ts";
export {
  type CodedBlockState,
  codedLocations,
  type CorruptBlock,
  type ManifestUpdate,
  type NodeFailure,
  readManifest,
  surveyCodedBlocks,
} from "./object_state.ts";
export {
  decodeObject,
  type DecodeOptions,
  type DecodeResult,
  repairBlock,
  type RepairOptions,
  type RepairResult,
} from "./object_decode.ts";
export {
  archiveObject,
  type ArchiveOptions,
  type ArchiveResult,
  type ConfirmedBlock,
  type KeptReplica,
  type PartReplica,
} from "./object_archive.ts";

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
  /**
   * The stall timeout of every coding run the operation starts, in milliseconds (100..
   * 86400000; the CODING request's `timeoutMs`): the client and every node of the run give up
   * on a peer that sent nothing for this long (and connecting may take no longer), and the
   * error names the node that stalled. Default: each side's own idle timeout (a node's
   * `--idle-timeout`, 60 s by default; `client.idleTimeoutMs` here).
   */
  readonly timeoutMs?: number;
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
  /**
   * Whether to store the manifest on every node (default true). False when a namenode keeps
   * what it says (`cdfs put`): a manifest would be a block no file record names (an orphan),
   * and only the nodes that receive a part are contacted, so the entries of `nodes` for
   * logical nodes that hold no part are never used.
   */
  readonly writeManifest?: boolean;
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
 * the list (unless `writeManifest` is false). The file is read twice: once to hash it (SHA-256, recorded in the manifest), once
 * to send the parts. Without `overwrite`, a put that fails removes the parts it stored.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { putParts } from "./objects.ts";
 * import { loadCodingModule } from "../coding/lang/loader.ts";
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
  const manifestNodes = options.writeManifest === false ? [] : nodes;
  const progress = progressSum(
    stores.length * partLength + manifestNodes.length * manifestBytes.length,
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
      manifestNodes.map((address, node) => async () => {
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
 * Options of {@linkcode encodeObject}.
 *
 * @example
 * ```ts
 * import type { EncodeOptions } from "./objects.ts";
 * const options: Partial<EncodeOptions> = { chunkSize: 1 << 20, dropReplicas: true };
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
  /**
   * Once the encode committed, drop the part replicas ({@linkcode archiveObject}): only after
   * every coded block is confirmed on its node (present, the part length, the digest the
   * encode committed) and the manifest records the archive on every node; otherwise the
   * encode fails with the reason and every replica is kept. Needs a manifest (put-parts).
   */
  readonly dropReplicas?: boolean;
  /** The time recorded in the manifest (default now). */
  readonly now?: () => Date;
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
  /** The manifest as read before the encode, when there is one (it names this module). */
  readonly manifest?: ObjectManifest;
  /**
   * The manifest update that records the encode and where its coded blocks are, with their
   * digests (absent without a manifest). Nodes in `failed` keep an older copy.
   */
  readonly manifestUpdate?: ManifestUpdate;
  /** With `dropReplicas`: the coded blocks confirmed and the part replicas dropped. */
  readonly archive?: ArchiveResult;
}

/**
 * Encodes a put object: starts every program of `module.encode` at once, with one run id, on
 * its node; the nodes pull the rest of the pipeline. In push mode (`mode: "push"`) it starts
 * the first program of each pipeline instead, and each node pushes its output to the next
 * (the same coded blocks; src/coding/runtime/push_chain.ts). First reads the manifest (the newest copy) and
 * refuses a module other than the one the object was put with, or an archived object (its
 * parts are gone); an object without a manifest (parts stored by hand) is encoded all the
 * same. Once committed, the manifest records the encode: each coded block's node and digest
 * (so a block repaired elsewhere before is looked for at its module node again). With
 * `dropReplicas`, the part replicas are then dropped ({@linkcode archiveObject}).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { encodeObject } from "./objects.ts";
 * const { runId, length } = await encodeObject({ module, nodes, objectId: "movie" });
 * ```
 *
 * @param options Module, nodes, object, chunk size, overwrite, run id, progress, drop.
 * @returns The run id, the coded block length, the programs, the manifest update and what
 * was archived.
 * @throws {CdfsError} BAD_REQUEST for a manifest of another module, an archived object, or
 * `dropReplicas` without a manifest; the first error of any program (naming the node where it
 * happened); the other programs are then stopped. With `dropReplicas`, the error of the
 * archive (the encode committed, the replicas are kept; the message says so).
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
  const manifest = await objectManifest(options, undefined, true);
  if (manifest?.archived !== undefined) {
    throw new CdfsError(
      "BAD_REQUEST",
      `object '${options.objectId}' is archived: its part replicas were dropped ` +
        `(${manifest.archived.at}) after its encode; decode it, or put it again to re-encode`,
    );
  }
  if (manifest === undefined && options.dropReplicas === true) {
    throw new CdfsError(
      "BAD_REQUEST",
      `object '${options.objectId}' has no manifest: its part replicas cannot be dropped, as ` +
        "nothing would record what its coded blocks are (put it with put-parts)",
    );
  }
  const runId = options.runId ?? newRunId();
  const runs = new ProgramRuns(options.client);
  const done = new Array<number>(entries.length).fill(0);
  let total: number | undefined;
  const lengths = entries.map((program, i) =>
    runs.start(
      nodes[module.programs[program]!.node]!,
      codingRequest(options, {
        program,
        run: runId,
        chunkSize: options.chunkSize,
        overwrite: options.overwrite === true,
        ...(chains === undefined ? {} : { push: { chain: chains[i]! } }),
      }),
      {
        onResponse: (response) => void (total ??= response.length),
        onProgress: (bytes) => {
          done[i] = bytes;
          options.onProgress?.(Math.min(...done), total ?? 0);
        },
        onData: (_chunk, length) => {
          done[i]! += length;
          options.onProgress?.(Math.min(...done), total ?? 0);
        },
      },
    )
  );
  await runs.settle();
  const reports = await Promise.all(lengths);
  // The node reports progress at most ten times a second: the last bytes may go unreported.
  options.onProgress?.(reports[0]!.length, reports[0]!.length);
  const committed = reports.flatMap((r) => r.committed).sort((a, b) => a.node - b.node);
  const at = (options.now?.() ?? new Date()).toISOString();
  const manifestUpdate = manifest === undefined
    ? undefined
    : await updateManifest(options, manifest, {
      coded: codedRecords(module, options.objectId, committed),
      encoded: { run: runId, at },
    });
  let archive: ArchiveResult | undefined;
  if (options.dropReplicas === true) {
    try {
      archive = await archiveObject({ ...options, manifest: manifestUpdate!.manifest });
    } catch (error) {
      if (!isCdfsError(error)) throw error;
      throw new CdfsError(
        error.code,
        `the encode of '${options.objectId}' committed (run ${runId}), but ${error.message}`,
        { cause: error },
      );
    }
  }
  return {
    runId,
    length: reports[0]!.length,
    programs: reports.map((r, i) => ({
      program: entries[i]!,
      node: module.programs[entries[i]!]!.node,
      address: nodes[module.programs[entries[i]!]!.node]!,
      length: r.length,
    })),
    committed,
    ...(manifest === undefined ? {} : { manifest }),
    ...(manifestUpdate === undefined ? {} : { manifestUpdate }),
    ...(archive === undefined ? {} : { archive }),
  };
}

/**
 * The manifest's record of freshly encoded blocks: each on its module node, with the digest
 * the run committed it with.
 */
function codedRecords(
  module: CodingModule,
  objectId: string,
  committed: readonly CommittedBlock[],
): CodedBlockRecord[] {
  return module.coded.map((c) => {
    const block = expandBlockName(c.block, objectId);
    const made = committed.find((b) => b.node === c.node && b.block === block);
    return made === undefined ? { node: c.node } : { node: c.node, digest: made.digest };
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

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
