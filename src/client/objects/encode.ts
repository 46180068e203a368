/**
 * {@linkcode encodeObject}: runs a coding module's encode on the nodes of an object put with
 * `putParts` (put_parts.ts), records the coded blocks in its manifest and, asked to, drops
 * the part replicas ({@linkcode archiveObject}). The nodes do the coding (the CODING
 * operation); this side starts the programs, together in one run, and checks the result.
 *
 * @module
 */
import type { CodingModule } from "../../coding/lang/program.ts";
import { expandBlockName } from "../../coding/lang/validate.ts";
import { pushChain } from "../../coding/runtime/push_chain.ts";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import type { CommittedBlock } from "../../protocol/responses.ts";
import { archiveObject, type ArchiveResult } from "./archive.ts";
import type { CodedBlockRecord, ObjectManifest } from "./manifest.ts";
import { codingRequest, newRunId, ProgramRuns } from "./program_runs.ts";
import type { ProgressCallback } from "./progress.ts";
import { type ManifestUpdate, objectManifest, updateManifest } from "./state.ts";
import { checkTarget, type ObjectTarget } from "./target.ts";

/**
 * Options of {@linkcode encodeObject}.
 *
 * @example
 * ```ts
 * import type { EncodeOptions } from "./encode.ts";
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
 * import type { EncodeMode } from "./encode.ts";
 * const mode: EncodeMode = "push";
 * ```
 */
export type EncodeMode = "pull" | "push";

/**
 * One program a client started and what it reported.
 *
 * @example
 * ```ts
 * import type { ProgramReport } from "./encode.ts";
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
 * import type { EncodeResult } from "./encode.ts";
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
 * import { encodeObject } from "./encode.ts";
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
