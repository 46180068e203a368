/**
 * {@linkcode putParts}: cuts a file into a coding module's k parts and stores each on its
 * nodes, with the object's manifest (manifest.ts) on every node of the list.
 *
 * @module
 */
import { expandBlockName } from "../../coding/lang/validate.ts";
import { CdfsError } from "../../core/errors.ts";
import type { ByteReader } from "../byte_io.ts";
import { DataNodeClient } from "../datanode_client.ts";
import { MAX_CONCURRENT_STORES, runLimited } from "./concurrency.ts";
import { hashFile } from "../../core/file_hash.ts";
import { openFile, statFile } from "./local_file.ts";
import { encodeManifest, manifestBlockId, type ObjectManifest, partLengthOf } from "./manifest.ts";
import { deleteQuietly } from "./node_requests.ts";
import { DEFAULT_CHUNK_SIZE } from "./program_runs.ts";
import { type ProgressCallback, progressSum } from "./progress.ts";
import { checkTarget, type ObjectTarget } from "./target.ts";

/**
 * Options of {@linkcode putParts}.
 *
 * @example
 * ```ts
 * import type { PutPartsOptions } from "./put_parts.ts";
 * import { codingModule } from "../../../coding/replication.ts";
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
 * import type { StoredPart } from "./put_parts.ts";
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
 * import type { PutPartsResult } from "./put_parts.ts";
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
 * import { putParts } from "./put_parts.ts";
 * import { loadCodingModule } from "../../coding/lang/loader.ts";
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
