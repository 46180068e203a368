/**
 * What every object operation works on ({@linkcode ObjectTarget}: a coding module, an ordered
 * node list — logical node i of the module is `nodes[i]` — and an object id) and the checks
 * made before one starts: the node list's length and the manifest's fit.
 *
 * @module
 */
import type { CodingModule } from "../../coding/lang/program.ts";
import { CdfsError } from "../../core/errors.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { manifestBlockId, type ObjectManifest, partLengthOf } from "./manifest.ts";

/**
 * What every object operation needs: the module, the node list and the object.
 *
 * @example
 * ```ts
 * import type { ObjectTarget } from "./target.ts";
 * import { codingModule } from "../../../coding/replication.ts";
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
 * The number of logical nodes a module uses: one more than the highest node index of its
 * parts, coded blocks and programs (n for every built-in module).
 *
 * @example
 * ```ts
 * import { moduleNodeCount } from "./target.ts";
 * import { codingModule } from "../../../coding/rapidraid.ts";
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

/**
 * Checks an object id and that the node list has as many nodes as the module uses.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { checkTarget } from "./target.ts";
 * checkTarget({ module, nodes, objectId: "movie" });
 * ```
 *
 * @param target Module, nodes, object.
 * @throws {CdfsError} BAD_REQUEST.
 */
export function checkTarget(target: ObjectTarget): void {
  const { module, nodes, objectId } = target;
  manifestBlockId(objectId);
  const needed = moduleNodeCount(module);
  if (nodes.length !== needed) {
    throw new CdfsError("BAD_REQUEST", `${module.name} needs ${needed} nodes, got ${nodes.length}`);
  }
}

/**
 * Checks that a manifest is of this module and that its recorded coded block locations are
 * nodes of a list of `nodeCount`.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { checkManifest } from "./target.ts";
 * checkManifest(module, manifest, "movie", nodes.length);
 * ```
 *
 * @param module The coding module.
 * @param manifest The object's manifest.
 * @param objectId The object id, for messages.
 * @param nodeCount The node list's length.
 * @throws {CdfsError} BAD_REQUEST for another module; CORRUPT for lengths or locations that do
 * not fit.
 */
export function checkManifest(
  module: CodingModule,
  manifest: ObjectManifest,
  objectId: string,
  nodeCount: number,
): void {
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
  const stray = manifest.coded?.findIndex((c) => c.node >= nodeCount) ?? -1;
  if (stray >= 0) {
    throw new CdfsError(
      "CORRUPT",
      `object '${objectId}': the manifest puts coded block ${stray} on node ` +
        `${manifest.coded![stray]!.node}, the node list has nodes 0..${nodeCount - 1}`,
    );
  }
}
