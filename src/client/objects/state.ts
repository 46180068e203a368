/**
 * What an object is made of now, as the nodes tell it: its manifest (the newest copy:
 * {@linkcode readManifest}; rewritten everywhere by {@linkcode updateManifest}), where each
 * coded block lives ({@linkcode codedLocations}: the module's node, unless the manifest
 * recorded another, e.g. after `repair --to`), and which coded blocks can be read
 * ({@linkcode surveyCodedBlocks}).
 *
 * @module
 */
import type { CodingModule } from "../../coding/lang/program.ts";
import { expandBlockName } from "../../coding/lang/validate.ts";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import { DataNodeClient } from "../datanode_client.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { encodeManifest, manifestBlockId, type ObjectManifest, parseManifest } from "./manifest.ts";
import { MIN_CHUNK_SIZE } from "../../protocol/frame.ts";
import { MAX_CONCURRENT_STORES, runLimited } from "./concurrency.ts";
import { errorMessage } from "./error_message.ts";
import { retrieveSmall } from "./node_requests.ts";
import { checkManifest, checkTarget, type ObjectTarget } from "./target.ts";

/**
 * Reads an object's manifest from the nodes of the list (all are asked at once; unreachable
 * nodes and nodes without it are skipped) and returns the newest copy: the highest
 * `revision`, the first node's on a tie. Every reachable node is waited for, since a node
 * that missed an update (it was down) holds an older copy and may answer first.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { readManifest } from "./state.ts";
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
  const attempts = await Promise.allSettled(nodes.map(async (address, node) => {
    using connection = await DataNodeClient.connect(address, client);
    const bytes = await retrieveSmall(connection, block);
    return { manifest: parseManifest(bytes, `node ${node} (${connection.address})`), node };
  }));
  let newest: { manifest: ObjectManifest; node: number } | undefined;
  const errors: unknown[] = [];
  for (const attempt of attempts) {
    if (attempt.status === "rejected") {
      errors.push(attempt.reason);
    } else if (
      newest === undefined ||
      (attempt.value.manifest.revision ?? 0) > (newest.manifest.revision ?? 0)
    ) {
      newest = attempt.value;
    }
  }
  if (newest !== undefined) return newest;
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

/**
 * The manifest an operation on an object works with: the one given, or the newest copy the
 * nodes hold ({@linkcode readManifest}), checked against the module and the node list. With
 * `optional`, an object without a manifest (stored by hand) gives undefined.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { objectManifest } from "./state.ts";
 * const manifest = await objectManifest({ module, nodes, objectId: "movie" }, undefined);
 * console.log(manifest.partLength);
 * ```
 *
 * @param target Module, nodes, object id, client timeouts.
 * @param given The manifest, when the caller has it.
 * @param optional Whether an object without a manifest is allowed.
 * @returns The manifest (undefined only when optional and there is none).
 * @throws {CdfsError} NOT_FOUND (unless optional) or CORRUPT as {@linkcode readManifest};
 * BAD_REQUEST when the manifest names another module or node count.
 */
export async function objectManifest(
  target: ObjectTarget,
  given: ObjectManifest | undefined,
  optional?: false,
): Promise<ObjectManifest>;
/**
 * The same, for an object that may have no manifest: resolves to undefined then.
 *
 * @param target Module, nodes, object id, client timeouts.
 * @param given The manifest, when the caller has it.
 * @param optional `true`.
 * @returns The manifest, or undefined when there is none.
 */
export async function objectManifest(
  target: ObjectTarget,
  given: ObjectManifest | undefined,
  optional: true,
): Promise<ObjectManifest | undefined>;
export async function objectManifest(
  target: ObjectTarget,
  given: ObjectManifest | undefined,
  optional = false,
): Promise<ObjectManifest | undefined> {
  const { module, nodes, objectId } = target;
  const manifest = given ?? await readManifest(nodes, objectId, target.client).then(
    (found) => found.manifest,
    (error) => {
      if (optional && isCdfsError(error, "NOT_FOUND")) return undefined;
      throw error;
    },
  );
  if (manifest !== undefined) checkManifest(module, manifest, objectId, nodes.length);
  return manifest;
}

/**
 * A node that did not take a request, and why.
 *
 * @example
 * ```ts
 * import type { NodeFailure } from "./state.ts";
 * const down: NodeFailure = { node: 4, address: "127.0.0.1:13104", reason: "connection refused" };
 * ```
 */
export interface NodeFailure {
  /** The logical node. */
  readonly node: number;
  /** Its address. */
  readonly address: string;
  /** The error's message. */
  readonly reason: string;
}

/**
 * What {@linkcode updateManifest} wrote.
 *
 * @example
 * ```ts
 * import type { ManifestUpdate } from "./state.ts";
 * const show = (u: ManifestUpdate) =>
 *   `manifest revision ${u.manifest.revision} on ${u.written.length} nodes`;
 * ```
 */
export interface ManifestUpdate {
  /** The manifest written (its `revision` one higher than the one it replaced). */
  readonly manifest: ObjectManifest;
  /** The logical nodes that stored it. */
  readonly written: readonly number[];
  /** The nodes that did not (they keep an older copy, which readers pass over). */
  readonly failed: readonly NodeFailure[];
}

/**
 * Rewrites an object's manifest on every node of the list: `base` with `change` applied and
 * `revision` one higher, so that readers prefer it over copies the update did not reach.
 * Each node replaces its copy atomically (STORE with overwrite); a node that fails does not
 * stop the others.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { updateManifest } from "./state.ts";
 * const update = await updateManifest(target, manifest, { archived: { at, replicas: 22 } });
 * console.log(update.written.length, update.failed);
 * ```
 *
 * @param target Module, nodes, object.
 * @param base The manifest being updated (as read).
 * @param change The fields to set.
 * @returns What was written where.
 */
export async function updateManifest(
  target: ObjectTarget,
  base: ObjectManifest,
  change: Partial<ObjectManifest>,
): Promise<ManifestUpdate> {
  const manifest: ObjectManifest = { ...base, ...change, revision: (base.revision ?? 0) + 1 };
  const bytes = encodeManifest(manifest);
  const block = manifestBlockId(target.objectId);
  const outcomes = await runLimited(
    target.nodes.map((address, node) => async () => {
      try {
        using client = await DataNodeClient.connect(address, target.client);
        // The smallest chunk size, which every node serves: a manifest is a few hundred bytes.
        await client.store(block, [bytes], {
          length: bytes.length,
          chunkSize: MIN_CHUNK_SIZE,
          overwrite: true,
        });
        return { node };
      } catch (error) {
        return { node, failure: { node, address, reason: errorMessage(error) } };
      }
    }),
    MAX_CONCURRENT_STORES,
  );
  return {
    manifest,
    written: outcomes.filter((o) => o.failure === undefined).map((o) => o.node),
    failed: outcomes.flatMap((o) => o.failure === undefined ? [] : [o.failure]),
  };
}

/**
 * The logical node of each coded block: the one the manifest recorded (after an encode or a
 * repair), else the module's.
 *
 * @example
 * ```ts
 * import { codedLocations } from "./state.ts";
 * import { codingModule } from "../../../coding/replication.ts";
 * console.log(codedLocations(codingModule)); // [ 0, 1, 2 ]
 * ```
 *
 * @param module The coding module.
 * @param manifest The object's manifest, when known.
 * @returns Node index of coded block i at index i.
 */
export function codedLocations(module: CodingModule, manifest?: ObjectManifest): number[] {
  return module.coded.map((c, i) => manifest?.coded?.[i]?.node ?? c.node);
}

/**
 * The state of one coded block, as {@linkcode surveyCodedBlocks} found it.
 *
 * @example
 * ```ts
 * import type { CodedBlockState } from "./state.ts";
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
  /** The logical node that stores it (where it was found, else where it should be). */
  readonly node: number;
  /** That node's address. */
  readonly address: string;
  /** Whether it can be read. */
  readonly present: boolean;
  /** Its length, when present. */
  readonly length?: number;
  /** Why it is not usable, when it is not. */
  readonly reason?: string;
  /**
   * True when the node holds it but it failed verification (its file is damaged): found by
   * the survey (a damaged header) or by a decode or repair that read it.
   */
  readonly corrupt?: boolean;
}

/**
 * A coded block found damaged: a read of it failed its checksums on the node.
 *
 * @example
 * ```ts
 * import type { CorruptBlock } from "./state.ts";
 * const show = (c: CorruptBlock) =>
 *   `coded block ${c.index} (${c.block}) on node ${c.node} (${c.address}) is corrupt: ${c.reason}`;
 * ```
 */
export interface CorruptBlock {
  /** The coded block's index. */
  readonly index: number;
  /** Its block id. */
  readonly block: string;
  /** The logical node that holds it. */
  readonly node: number;
  /** That node's address. */
  readonly address: string;
  /** What the node reported (e.g. which chunk failed its checksum). */
  readonly reason: string;
}

/**
 * Finds which coded blocks of an object can be read: STATs each where it lives (all nodes at
 * once): on the node the manifest recorded for it (e.g. after `repair --to`), else on the
 * module's node; a block recorded elsewhere but not found there is looked for on the module's
 * node too. A block on an unreachable node, a missing block, a block whose header or footer
 * fails verification (`corrupt`) and (with a part length) a block of the wrong length are
 * lost. STAT does not read the data: damaged data is found by the run that reads it.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { surveyCodedBlocks } from "./state.ts";
 * const blocks = await surveyCodedBlocks({ module, nodes, objectId: "movie" }, manifest);
 * console.log(blocks.filter((b) => b.present).map((b) => b.index));
 * ```
 *
 * @param target Module, nodes and object.
 * @param expected The manifest (its part length and recorded locations), or the length every
 * coded block must have, when known.
 * @returns One entry per coded block, in index order.
 */
export async function surveyCodedBlocks(
  target: ObjectTarget,
  expected?: number | ObjectManifest,
): Promise<CodedBlockState[]> {
  const { module } = target;
  checkTarget(target);
  const manifest = typeof expected === "object" ? expected : undefined;
  const partLength = typeof expected === "object" ? expected.partLength : expected;
  const recorded = codedLocations(module, manifest);
  const states = await statCodedBlocks(target, recorded, partLength);
  // A block recorded on another node and not found there: its module node may still hold it
  // (the manifest copy read may be one a repair did not reach, or the old node came back).
  const elsewhere = states.flatMap((s, i) =>
    !s.present && !s.corrupt && module.coded[i]!.node !== recorded[i] ? [i] : []
  );
  if (elsewhere.length > 0) {
    const second = await statCodedBlocks(
      target,
      recorded.map((node, i) => elsewhere.includes(i) ? module.coded[i]!.node : node),
      partLength,
      elsewhere,
    );
    for (const i of elsewhere) if (second[i]!.present) states[i] = second[i]!;
  }
  return states;
}

/** STATs coded blocks `only` (default all) on the given nodes, one connection per node. */
async function statCodedBlocks(
  target: ObjectTarget,
  locations: readonly number[],
  partLength: number | undefined,
  only?: readonly number[],
): Promise<CodedBlockState[]> {
  const { module, nodes, objectId } = target;
  const byNode = new Map<number, number[]>();
  for (const i of only ?? module.coded.map((_, i) => i)) {
    byNode.set(locations[i]!, [...(byNode.get(locations[i]!) ?? []), i]);
  }
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
          if (isCdfsError(error, "NOT_FOUND")) {
            states[index] = state(index, { reason: "missing" });
          } else {
            const corrupt = isCdfsError(error, "CORRUPT") ? { corrupt: true } : {};
            states[index] = state(index, { reason: errorMessage(error), ...corrupt });
          }
        }
      }
    } finally {
      client.close();
    }
  }));
  return states;
}
