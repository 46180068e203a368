/**
 * Archiving an encoded object: {@linkcode archiveObject} drops its part replicas once every
 * coded block is confirmed, so that the object lives in its coded blocks only (the storage
 * saving the code is for). `encode` does it when asked (`EncodeOptions.dropReplicas`).
 *
 * The order is what keeps the object safe: (1) every coded block is confirmed on the node the
 * manifest records for it (STAT: present, the part length, the digest the encode or repair
 * committed); (2) the manifest records the archive on every node (so a later decode knows the
 * parts are gone on purpose); (3) only then are the replicas deleted. A failure in (1) or (2)
 * deletes nothing.
 *
 * @module
 */
import { expandBlockName } from "../../coding/lang/validate.ts";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import type { StatResponse } from "../../protocol/responses.ts";
import { DataNodeClient } from "../datanode_client.ts";
import type { ObjectManifest } from "./manifest.ts";
import { MAX_CONCURRENT_STORES, runLimited } from "./concurrency.ts";
import { errorMessage } from "./error_message.ts";
import { confirmByStat } from "./node_requests.ts";
import { checkTarget, type ObjectTarget } from "./target.ts";
import { type ManifestUpdate, objectManifest, updateManifest } from "./state.ts";

/**
 * Options of {@linkcode archiveObject}.
 *
 * @example
 * ```ts
 * import type { ArchiveOptions } from "./archive.ts";
 * const options: Partial<ArchiveOptions> = { now: () => new Date(0) };
 * ```
 */
export interface ArchiveOptions extends ObjectTarget {
  /** The manifest, when the caller has it (default: read it, the newest copy). */
  readonly manifest?: ObjectManifest;
  /** The archive's time in the manifest (default now). */
  readonly now?: () => Date;
}

/**
 * A coded block confirmed before the replicas were dropped.
 *
 * @example
 * ```ts
 * import type { ConfirmedBlock } from "./archive.ts";
 * const c: ConfirmedBlock = { index: 3, block: "big.coded3", node: 3, address: "h:1", length: 10, digest: "0123456789abcdef" };
 * ```
 */
export interface ConfirmedBlock {
  /** The coded block's index. */
  readonly index: number;
  /** Its block id. */
  readonly block: string;
  /** The logical node that holds it. */
  readonly node: number;
  /** That node's address. */
  readonly address: string;
  /** Its length (the part length). */
  readonly length: number;
  /** Its block digest, as recorded. */
  readonly digest: string;
}

/**
 * One replica of a part.
 *
 * @example
 * ```ts
 * import type { PartReplica } from "./archive.ts";
 * const r: PartReplica = { part: 0, block: "big.part0", node: 0, address: "127.0.0.1:13100" };
 * ```
 */
export interface PartReplica {
  /** The part index. */
  readonly part: number;
  /** The block id. */
  readonly block: string;
  /** The logical node. */
  readonly node: number;
  /** Its address. */
  readonly address: string;
}

/**
 * A replica that could not be deleted (the object is archived all the same: it is a leftover
 * that a later archive, or `cdfs block rm`, can remove).
 *
 * @example
 * ```ts
 * import type { KeptReplica } from "./archive.ts";
 * const r: KeptReplica = { part: 0, block: "big.part0", node: 0, address: "h:1", reason: "node unreachable" };
 * ```
 */
export interface KeptReplica extends PartReplica {
  /** Why the delete failed. */
  readonly reason: string;
}

/**
 * What {@linkcode archiveObject} did.
 *
 * @example
 * ```ts
 * import type { ArchiveResult } from "./archive.ts";
 * const show = (r: ArchiveResult) =>
 *   `confirmed ${r.confirmed.length} coded blocks, dropped ${r.dropped.length} part replicas`;
 * ```
 */
export interface ArchiveResult {
  /** Every coded block, confirmed. */
  readonly confirmed: readonly ConfirmedBlock[];
  /** The replicas gone now (deleted, or already absent). */
  readonly dropped: readonly PartReplica[];
  /** The replicas whose delete failed. */
  readonly kept: readonly KeptReplica[];
  /** The manifest update that records the archive (written on every node). */
  readonly manifestUpdate: ManifestUpdate;
}

/**
 * Drops the part replicas of an encoded object: confirms every coded block against the
 * manifest's records (STAT on the node it lives on: present, the part length, the recorded
 * digest), records the archive in the manifest on every node, then deletes every replica of
 * every part. Deletes nothing unless every coded block is confirmed and every node took the
 * manifest update. Archiving an archived object again removes replicas left over.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { archiveObject } from "./archive.ts";
 * const { dropped, kept } = await archiveObject({ module, nodes, objectId: "movie" });
 * console.log(`${dropped.length} replicas dropped, ${kept.length} left over`);
 * ```
 *
 * @param options Module, nodes, object, manifest, time.
 * @returns The blocks confirmed, the replicas dropped and kept, the manifest update.
 * @throws {CdfsError} BAD_REQUEST when the manifest records no encode (nothing to confirm the
 * blocks against); NOT_FOUND, CORRUPT or UNAVAILABLE when a coded block is not confirmed
 * (missing, another length or digest, its node unreachable: the message lists them all), or
 * UNAVAILABLE when a node did not take the manifest update: the replicas are then all kept.
 */
export async function archiveObject(options: ArchiveOptions): Promise<ArchiveResult> {
  const { module, nodes, objectId } = options;
  checkTarget(options);
  const manifest = await objectManifest(options, options.manifest);
  const records = manifest.coded;
  if (manifest.encoded === undefined || records === undefined) {
    throw new CdfsError(
      "BAD_REQUEST",
      `object '${objectId}': its manifest records no encode, so its coded blocks cannot be ` +
        "confirmed: its part replicas are kept (encode it first)",
    );
  }
  const confirmed = await confirmCodedBlocks(options, manifest);
  const replicas = module.parts.flatMap((p, part) =>
    p.nodes.map((node): PartReplica => ({
      part,
      block: expandBlockName(p.block, objectId),
      node,
      address: nodes[node]!,
    }))
  );
  const manifestUpdate = await updateManifest(options, manifest, {
    archived: { at: (options.now?.() ?? new Date()).toISOString(), replicas: replicas.length },
  });
  if (manifestUpdate.failed.length > 0) {
    // A node left with the old copy would not know the parts are gone on purpose.
    throw new CdfsError(
      "UNAVAILABLE",
      `object '${objectId}': its part replicas are kept: the manifest recording the archive ` +
        `did not reach ${
          manifestUpdate.failed.map((f) => `node ${f.node} (${f.address}): ${f.reason}`).join("; ")
        }`,
    );
  }
  const outcomes = await runLimited(
    replicas.map((replica) => async () => {
      try {
        using client = await DataNodeClient.connect(replica.address, options.client);
        await client.delete(replica.block);
        return replica;
      } catch (error) {
        if (isCdfsError(error, "NOT_FOUND")) return replica;
        return { ...replica, reason: errorMessage(error) };
      }
    }),
    MAX_CONCURRENT_STORES,
  );
  return {
    confirmed,
    dropped: outcomes.filter((o) => !("reason" in o)),
    kept: outcomes.filter((o): o is KeptReplica => "reason" in o),
    manifestUpdate,
  };
}

/**
 * STATs every coded block where the manifest records it and checks its length and digest.
 *
 * @throws {CdfsError} Naming every block not confirmed; the code of the first.
 */
async function confirmCodedBlocks(
  target: ObjectTarget,
  manifest: ObjectManifest,
): Promise<ConfirmedBlock[]> {
  const { module, nodes, objectId } = target;
  const checks = module.coded.map((c, index) => {
    const record = manifest.coded![index]!;
    const block = expandBlockName(c.block, objectId);
    const address = nodes[record.node]!;
    return {
      index,
      block,
      address,
      node: record.node,
      where: `coded block ${index} (${block}) on node ${record.node} (${address})`,
      mismatch: (stat: StatResponse) =>
        stat.length !== manifest.partLength
          ? `length ${stat.length}, the manifest says ${manifest.partLength}`
          : record.digest === undefined || stat.digest !== record.digest
          ? `digest ${stat.digest}, the manifest records ${record.digest ?? "none"}`
          : undefined,
    };
  });
  const confirmed = await confirmByStat(
    checks,
    target.client,
    `object '${objectId}': its part replicas are kept`,
  );
  return confirmed.map(({ check, stat }) => ({
    index: check.index,
    block: check.block,
    node: check.node,
    address: check.address,
    length: stat.length,
    digest: stat.digest,
  }));
}
