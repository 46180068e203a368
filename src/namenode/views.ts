/**
 * The namenode's records as replies carry them: addresses and liveness joined in, times as
 * ISO-8601, and pages cut to fit a 64 KiB RESPONSE frame. Pure functions.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { MAX_JSON_PAYLOAD } from "../protocol/frame.ts";
import type { DatanodeRecord, FileRecord, ReportedBlock } from "./meta/model.ts";
import type {
  BlockView,
  DatanodeView,
  FileFacts,
  FileSummary,
  FileView,
  NodeRef,
  OrphanView,
} from "./responses.ts";

/**
 * The bytes of entries a page may hold: the RESPONSE bound less room for the reply's own
 * fields (`next` may be a 1 KiB name, escaped).
 *
 * @example
 * ```ts
 * import { PAGE_BUDGET } from "./views.ts";
 * console.log(PAGE_BUDGET < 65536); // true
 * ```
 */
export const PAGE_BUDGET = MAX_JSON_PAYLOAD - 4096;

/**
 * What a view needs to know about datanodes: their records by id, and whether one is alive.
 *
 * @example
 * ```ts
 * import type { NodeDirectory } from "./views.ts";
 * const none: NodeDirectory = { byId: new Map(), isAlive: () => false };
 * ```
 */
export interface NodeDirectory {
  /** Every datanode record, by id. */
  readonly byId: ReadonlyMap<string, DatanodeRecord>;
  /** Whether a datanode is alive now. */
  isAlive(node: DatanodeRecord): boolean;
}

/**
 * An ISO-8601 time from ms since the epoch.
 *
 * @example
 * ```ts
 * import { isoTime } from "./views.ts";
 * console.log(isoTime(0)); // "1970-01-01T00:00:00.000Z"
 * ```
 *
 * @param ms Milliseconds since the epoch.
 * @returns The ISO form.
 */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * A file with addresses and liveness of its blocks' datanodes.
 *
 * @example
 * ```ts
 * import { fileView } from "./views.ts";
 * const view = fileView({
 *   fileId: 1, objectId: "f1", name: "a", code: "replication", length: 1, digest: null,
 *   state: "pending", created: 0, committed: null, version: 1, blocks: [],
 * }, { byId: new Map(), isAlive: () => true });
 * console.log(view.created); // "1970-01-01T00:00:00.000Z"
 * ```
 *
 * @param file The record.
 * @param nodes The datanodes.
 * @returns The view.
 */
export function fileView(file: FileRecord, nodes: NodeDirectory): FileView {
  const { fileId, ...facts } = fileFacts(file);
  return {
    fileId,
    objectId: file.objectId,
    ...facts,
    version: file.version,
    blocks: file.blocks.map((b): BlockView => {
      const node = nodes.byId.get(b.node);
      return {
        block: b.blockId,
        kind: b.role.kind,
        index: b.role.index,
        node: b.node,
        address: node?.address ?? null,
        alive: node !== undefined && nodes.isAlive(node),
        state: b.state,
      };
    }),
  };
}

/**
 * A file in a listing.
 *
 * @example
 * ```ts
 * import { fileSummary } from "./views.ts";
 * const entry = fileSummary({
 *   fileId: 1, objectId: "f1", name: "a", code: "replication", length: 1, digest: null,
 *   state: "pending", created: 0, committed: null, version: 1, blocks: [],
 * });
 * console.log(entry.blocks); // 0
 * ```
 *
 * @param file The record.
 * @returns The summary.
 */
export function fileSummary(file: FileRecord): FileSummary {
  return { ...fileFacts(file), blocks: file.blocks.length };
}

/** What a file's view and its summary both say of it, from its record. */
function fileFacts(file: FileRecord): FileFacts {
  return {
    fileId: file.fileId,
    name: file.name,
    code: file.code,
    length: file.length,
    digest: file.digest,
    state: file.state,
    created: isoTime(file.created),
    committed: file.committed === null ? null : isoTime(file.committed),
  };
}

/**
 * A datanode's record, its state as the namenode judges it now.
 *
 * @example
 * ```ts
 * import { datanodeView } from "./views.ts";
 * const view = datanodeView({
 *   id: "dn0", address: "127.0.0.1:1", capacity: 2, free: 1, registered: 0, lastHeartbeat: 0,
 *   state: "alive",
 * }, false);
 * console.log(view.state); // "dead"
 * ```
 *
 * @param node The record.
 * @param alive Whether it is alive now.
 * @returns The view.
 */
export function datanodeView(node: DatanodeRecord, alive: boolean): DatanodeView {
  return {
    node: node.id,
    address: node.address,
    capacity: node.capacity,
    free: node.free,
    registered: isoTime(node.registered),
    lastHeartbeat: isoTime(node.lastHeartbeat),
    state: alive ? "alive" : "dead",
  };
}

/**
 * The datanode of each logical node, as replies carry it.
 *
 * @example
 * ```ts
 * import { nodeRefs } from "./views.ts";
 * console.log(nodeRefs([null], new Map())); // [null]
 * ```
 *
 * @param ids The datanode id of each logical node, or null.
 * @param byId The datanode records.
 * @returns Id and address of each, or null.
 * @throws {CdfsError} `INTERNAL` for an id without a record (placement only uses registered ones).
 */
export function nodeRefs(
  ids: readonly (string | null)[],
  byId: ReadonlyMap<string, DatanodeRecord>,
): (NodeRef | null)[] {
  return ids.map((id) => {
    if (id === null) return null;
    const node = byId.get(id);
    if (node === undefined) throw new CdfsError("INTERNAL", `datanode ${id} has no record`);
    return { node: id, address: node.address };
  });
}

/**
 * An orphan block copy.
 *
 * @example
 * ```ts
 * import { orphanView } from "./views.ts";
 * console.log(orphanView({ node: "dn0", blockId: "x", length: 1, firstSeen: 0 }, new Map()).address); // null
 * ```
 *
 * @param orphan The reported copy.
 * @param byId The datanode records.
 * @returns The view.
 */
export function orphanView(
  orphan: ReportedBlock,
  byId: ReadonlyMap<string, DatanodeRecord>,
): OrphanView {
  return {
    node: orphan.node,
    address: byId.get(orphan.node)?.address ?? null,
    block: orphan.blockId,
    length: orphan.length,
    firstSeen: isoTime(orphan.firstSeen),
  };
}

/**
 * Cuts a page to what fits in {@linkcode PAGE_BUDGET} bytes of JSON: the entries that fit, in
 * order, and the cursor of the next page (the last entry kept, when more may follow).
 *
 * @example
 * ```ts
 * import { fitPage } from "./views.ts";
 * const page = fitPage(["a", "b"], true, (s) => s);
 * console.log(page); // { entries: ["a", "b"], next: "b" }
 * ```
 *
 * @param entries The entries read, in order.
 * @param more Whether more entries may follow them (the read returned as many as asked).
 * @param cursorOf The cursor an entry stands for.
 * @param budget The bytes the entries may take.
 * @returns The entries kept and the next cursor, or null on the last page.
 * @throws {CdfsError} `INTERNAL` when not even one entry fits (the bounds make this impossible).
 */
export function fitPage<T, C>(
  entries: readonly T[],
  more: boolean,
  cursorOf: (entry: T) => C,
  budget: number = PAGE_BUDGET,
): { entries: T[]; next: C | null } {
  const encoder = new TextEncoder();
  const kept: T[] = [];
  let used = 0;
  for (const entry of entries) {
    used += encoder.encode(JSON.stringify(entry)).length + 1;
    if (used > budget) {
      if (kept.length === 0) throw new CdfsError("INTERNAL", "one entry exceeds a page");
      return { entries: kept, next: cursorOf(kept[kept.length - 1]!) };
    }
    kept.push(entry);
  }
  return { entries: kept, next: more && kept.length > 0 ? cursorOf(kept[kept.length - 1]!) : null };
}
