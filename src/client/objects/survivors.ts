/**
 * What decode and repair share about the coded blocks that survive: reads placed where each
 * block lives now ({@linkcode relocate}), the damaged or vanished blocks a failed run read
 * ({@linkcode damagedBlocks}, {@linkcode setAsideUnusable}), and the words for an object that
 * cannot be rebuilt.
 *
 * @module
 */
import type { CodingModule, Program } from "../../coding/lang/program.ts";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import { DataNodeClient } from "../datanode_client.ts";
import { runLimited } from "./concurrency.ts";
import { errorMessage } from "./error_message.ts";
import type { ObjectManifest } from "./manifest.ts";
import type { CodedBlockState, CorruptBlock } from "./state.ts";
import type { ObjectTarget } from "./target.ts";

/**
 * A program whose reads of coded blocks go to the node each block lives on (the derived
 * programs read coded block i from the module's node for it).
 *
 * @example
 * Not run by `deno test --doc`: it needs a derived program (`src/coding/analysis/decoder.ts`).
 * ```ts ignore
 * import { relocate } from "./survivors.ts";
 * const moved = relocate(module, program, { locations: blocks.map((b) => b.node) });
 * ```
 *
 * @param module The coding module.
 * @param program A program derived for the module's own placement.
 * @param locations The logical node of each coded block, by index.
 * @returns The program reading each coded block from its node.
 */
export function relocate(
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

/** The message of a block store's verification failure: `block '<id>': ...` / `... chunk N`. */
const STORE_DAMAGE = /block '([^']+)'(?=: | chunk \d)/g;

/**
 * Which of the coded blocks a failed run read are damaged: those a CORRUPT error of the run
 * names (the node that read a block reports the block store's own message); when the run
 * failed with CORRUPT without naming one (e.g. a stream that ended short), each block read is
 * read through once more, whole, and those the node refuses with CORRUPT are. Empty when the
 * run did not fail for a damaged block.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { damagedBlocks } from "./survivors.ts";
 * const found = await damagedBlocks(target, runs.errors, plan.used, blocks);
 * ```
 *
 * @param target Module, nodes, object, client options.
 * @param errors The errors of the failed run.
 * @param used The indices of the coded blocks the run read.
 * @param blocks The state of every coded block.
 * @returns The damaged blocks found.
 */
export async function damagedBlocks(
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

/** The block store's words for a block it does not hold: `block '<id>' does not exist`. */
const STORE_MISSING = /block '([^']+)' does not exist/g;

/**
 * Sets aside the coded blocks a failed run could not use, so that the next run plans without
 * them: those gone since the survey (a NOT_FOUND of the run names them: a scrub quarantined
 * the block, or a repair moved it, between the survey and the read), marked missing, and the
 * damaged ones ({@linkcode damagedBlocks}), marked corrupt, added to `corrupt` and told to
 * `onCorrupt`. Each call that returns true removes at least one used block from the
 * candidates, so a decode or repair retrying on it ends.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { setAsideUnusable } from "./survivors.ts";
 * if (!(await setAsideUnusable(target, runs.errors, plan.used, blocks, corrupt))) throw error;
 * ```
 *
 * @param target Module, nodes, object, client options.
 * @param errors The errors of the failed run.
 * @param used The indices of the coded blocks the run read.
 * @param blocks The state of every coded block, updated in place.
 * @param corrupt The damaged blocks found so far, appended to.
 * @param onCorrupt Told of each damaged block found.
 * @returns Whether any block was set aside (false: the run failed for another reason).
 */
export async function setAsideUnusable(
  target: ObjectTarget,
  errors: readonly unknown[],
  used: readonly number[],
  blocks: CodedBlockState[],
  corrupt: CorruptBlock[],
  onCorrupt?: (block: CorruptBlock) => void,
): Promise<boolean> {
  const byId = new Map(used.map((i) => [blocks[i]!.block, i]));
  let setAside = 0;
  for (const report of errors.filter((e): e is CdfsError => isCdfsError(e, "NOT_FOUND"))) {
    for (const match of report.message.matchAll(STORE_MISSING)) {
      const index = byId.get(match[1]!);
      if (index === undefined || !blocks[index]!.present) continue;
      const { length: _length, ...rest } = blocks[index]!;
      blocks[index] = { ...rest, present: false, reason: `gone since the survey (${match[0]})` };
      setAside++;
    }
  }
  for (const damaged of await damagedBlocks(target, errors, used, blocks)) {
    corrupt.push(damaged);
    blocks[damaged.index] = markCorrupt(blocks[damaged.index]!, damaged.reason);
    onCorrupt?.(damaged);
    setAside++;
  }
  return setAside > 0;
}

/**
 * The report of a coded block found corrupt.
 *
 * @example
 * ```ts
 * import { corruptOf } from "./survivors.ts";
 * const state = { index: 2, block: "o.coded2", node: 2, address: "h:2", present: false };
 * console.log(corruptOf(state).reason); // corrupt
 * ```
 *
 * @param state The block's state.
 * @returns Its index, id, node, address and reason.
 */
export function corruptOf(state: CodedBlockState): CorruptBlock {
  const { index, block, node, address } = state;
  return { index, block, node, address, reason: state.reason ?? "corrupt" };
}

/**
 * A coded block's state once it is set aside as corrupt: not present, with the reason.
 *
 * @example
 * ```ts
 * import { markCorrupt } from "./survivors.ts";
 * const state = { index: 2, block: "o.coded2", node: 2, address: "h:2", present: true };
 * console.log(markCorrupt(state, "chunk 3 checksum").present); // false
 * ```
 *
 * @param state The block's state.
 * @param reason Why it is corrupt.
 * @returns The new state.
 */
export function markCorrupt(state: CodedBlockState, reason: string): CodedBlockState {
  const { length: _length, ...rest } = state;
  return { ...rest, present: false, corrupt: true, reason };
}

/**
 * An object without a single coded block whose manifest records no encode was put but never
 * encoded: that, in one line, rather than a rank-0 SINGULAR.
 *
 * @example
 * Not run by `deno test --doc`: it needs a survey of running datanodes.
 * ```ts ignore
 * import { refuseNeverEncoded } from "./survivors.ts";
 * refuseNeverEncoded("movie", manifest, await surveyCodedBlocks(target, manifest));
 * ```
 *
 * @param objectId The object id, for the message.
 * @param manifest Its manifest.
 * @param blocks The state of every coded block.
 * @throws {CdfsError} NOT_FOUND for an object put but never encoded.
 */
export function refuseNeverEncoded(
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
 *
 * @example
 * ```ts
 * import { explainLoss } from "./survivors.ts";
 * import { CdfsError } from "../../core/errors.ts";
 * const lost = { index: 0, block: "o.coded0", node: 0, address: "h:0", present: false };
 * const e = explainLoss(new CdfsError("SINGULAR", "rank 0"), "o cannot be decoded", [lost], undefined);
 * console.log((e as Error).message); // o cannot be decoded (lost coded blocks {0}): rank 0
 * ```
 *
 * @param error The decoder's error (any other passes unchanged).
 * @param what What failed.
 * @param blocks The state of the coded blocks that count.
 * @param manifest The object's manifest, if any.
 * @returns The error to throw.
 */
export function explainLoss(
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
