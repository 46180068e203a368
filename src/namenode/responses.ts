/**
 * The replies of the namenode ops (docs/namenode.md): their types, exactly as they are on the
 * wire, and the client's strict validator {@linkcode parseNameNodeResponse}. Times are
 * ISO-8601 strings, as in the datanode protocol.
 *
 * @module
 */
import { validateBlockId } from "../core/block_id.ts";
import { CdfsError } from "../core/errors.ts";
import {
  type BlockState,
  canonicalAddress,
  type DatanodeState,
  FILE_STATES,
  type FileState,
  MAX_BLOCKS_PER_FILE,
  validateCodeName,
  validateDigest,
  validateFileName,
  validateNodeId,
} from "./meta/model.ts";
import { MAX_LAYOUT_NODES } from "./layout.ts";
import type { NameNodeOp } from "./requests.ts";
import {
  arrayField,
  booleanField,
  checkedField,
  enumField,
  expectObject,
  integerField,
  type JsonObject,
  onlyFields,
  patternField,
  timeField,
} from "../protocol/json_fields.ts";

/**
 * A datanode as replies name it: id and address.
 *
 * @example
 * ```ts
 * import type { NodeRef } from "./responses.ts";
 * const ref: NodeRef = { node: "dn3", address: "127.0.0.1:13103" };
 * ```
 */
export interface NodeRef {
  /** The datanode id. */
  node: string;
  /** Where clients reach it. */
  address: string;
}

/**
 * One block copy of a file, with where to find it.
 *
 * @example
 * ```ts
 * import type { BlockView } from "./responses.ts";
 * const block: BlockView = {
 *   block: "f7.part0",
 *   kind: "part",
 *   index: 0,
 *   node: "dn3",
 *   address: "127.0.0.1:13103",
 *   alive: true,
 *   state: "stored",
 * };
 * ```
 */
export interface BlockView {
  /** The block id on the datanode. */
  block: string;
  /** `part` or `coded`. */
  kind: "part" | "coded";
  /** The part or coded-block index. */
  index: number;
  /** The datanode holding the copy. */
  node: string;
  /** Its address (null if the namenode has no record of it). */
  address: string | null;
  /** Whether the datanode is alive now (heard from within the namenode's `deadAfterMs`). */
  alive: boolean;
  /** `pending` (being written) or `stored` (committed). */
  state: BlockState;
}

/**
 * What a file's record and its entry in a listing both say of it.
 *
 * @example
 * ```ts
 * import type { FileFacts } from "./responses.ts";
 * const facts: FileFacts = {
 *   fileId: 7,
 *   name: "a.bin",
 *   code: "replication",
 *   length: 10,
 *   digest: "ab".repeat(32),
 *   state: "replicated",
 *   created: "2026-01-01T00:00:00.000Z",
 *   committed: "2026-01-01T00:00:01.000Z",
 * };
 * ```
 */
export interface FileFacts {
  /** The file id. */
  fileId: number;
  /** The name. */
  name: string;
  /** The coding module. */
  code: string;
  /** The length in bytes (null until known). */
  length: number | null;
  /** The digest, lowercase hex (null until known). */
  digest: string | null;
  /** `pending`, `replicated`, `encoded` or `archived`. */
  state: FileState;
  /** When it was created. */
  created: string;
  /** When it was first committed (null while pending). */
  committed: string | null;
}

/**
 * A file with its blocks.
 *
 * @example
 * ```ts
 * import type { FileView } from "./responses.ts";
 * const file: FileView = {
 *   fileId: 7,
 *   objectId: "f7",
 *   name: "a.bin",
 *   code: "replication",
 *   length: 10,
 *   digest: "ab".repeat(32),
 *   state: "replicated",
 *   created: "2026-01-01T00:00:00.000Z",
 *   committed: "2026-01-01T00:00:01.000Z",
 *   version: 2,
 *   blocks: [],
 * };
 * ```
 */
export interface FileView extends FileFacts {
  /** `f<fileId>`: the `{id}` of its block ids in the coding modules' templates. */
  objectId: string;
  /** +1 at every change. */
  version: number;
  /** Its block copies, parts first, then by index and node. */
  blocks: BlockView[];
}

/**
 * A file in a listing (without its blocks).
 *
 * @example
 * ```ts
 * import type { FileSummary } from "./responses.ts";
 * const entry: FileSummary = {
 *   fileId: 7,
 *   name: "a.bin",
 *   code: "replication",
 *   length: 10,
 *   digest: "ab".repeat(32),
 *   state: "replicated",
 *   created: "2026-01-01T00:00:00.000Z",
 *   committed: "2026-01-01T00:00:01.000Z",
 *   blocks: 2,
 * };
 * ```
 */
export interface FileSummary extends FileFacts {
  /** How many block copies it has. */
  blocks: number;
}

/**
 * A datanode's record.
 *
 * @example
 * ```ts
 * import type { DatanodeView } from "./responses.ts";
 * const node: DatanodeView = {
 *   node: "dn0",
 *   address: "127.0.0.1:13100",
 *   capacity: 100,
 *   free: 90,
 *   registered: "2026-01-01T00:00:00.000Z",
 *   lastHeartbeat: "2026-01-01T00:00:03.000Z",
 *   state: "alive",
 * };
 * ```
 */
export interface DatanodeView {
  /** The id. */
  node: string;
  /** The address. */
  address: string;
  /** Capacity in bytes. */
  capacity: number;
  /** Free bytes at the last heartbeat. */
  free: number;
  /** When it first registered. */
  registered: string;
  /** When it was last heard from. */
  lastHeartbeat: string;
  /** Alive (heard from within `deadAfterMs`) or dead. */
  state: DatanodeState;
}

/**
 * Why a block copy cannot be read: its datanode is dead, or the datanode's reports say it
 * does not have the block.
 *
 * @example
 * ```ts
 * import type { UnavailableBlock } from "./responses.ts";
 * const lost: UnavailableBlock = { block: "f7.coded3", node: "dn3", why: "dead" };
 * ```
 */
export interface UnavailableBlock {
  /** The block id. */
  block: string;
  /** The datanode the file places it on. */
  node: string;
  /** `dead` or `missing`. */
  why: "dead" | "missing";
}

/**
 * A datanode that holds the blocks of more than one logical node of a file's code: a repair
 * that found no datanode holding nothing of the file put them together. Its loss takes all of
 * them at once, so the file survives fewer datanode losses than its code promises.
 *
 * @example
 * ```ts
 * import type { SharedDatanode } from "./responses.ts";
 * const shared: SharedDatanode = { node: "dn15", blocks: ["f7.coded3", "f7.coded15"] };
 * ```
 */
export interface SharedDatanode {
  /** The datanode. */
  node: string;
  /** The file's block copies on it, in the record's order. */
  blocks: string[];
}

/**
 * The health of a file. `healthy`: every committed copy is available. `degraded`: some are
 * not, but the available ones decode the file. `lost`: they do not. `unknown`: some copies are
 * unavailable and the namenode cannot load the file's code to tell (see `note`).
 *
 * @example
 * ```ts
 * import type { FileHealth } from "./responses.ts";
 * const health: FileHealth = {
 *   fileId: 7,
 *   name: "a.bin",
 *   code: "rapidraid",
 *   state: "archived",
 *   status: "degraded",
 *   decodable: true,
 *   blocks: 16,
 *   unavailable: [{ block: "f7.coded3", node: "dn3", why: "dead" }],
 *   note: null,
 *   shared: [],
 * };
 * ```
 */
export interface FileHealth {
  /** The file id. */
  fileId: number;
  /** The name. */
  name: string;
  /** The coding module. */
  code: string;
  /** The file's state. */
  state: FileState;
  /** See above. */
  status: "healthy" | "degraded" | "lost" | "unknown";
  /** Whether the available copies decode the file (null when it could not be decided). */
  decodable: boolean | null;
  /** How many committed copies the file has. */
  blocks: number;
  /** The copies that cannot be read. */
  unavailable: UnavailableBlock[];
  /** Why the status is `unknown`, else null. */
  note: string | null;
  /**
   * The datanodes that are several logical nodes of the file's code (empty when none, or when
   * the namenode cannot load the code). Whatever the status: a healthy file can have them.
   */
  shared: SharedDatanode[];
}

/**
 * A block copy no file places on the datanode that reported it.
 *
 * @example
 * ```ts
 * import type { OrphanView } from "./responses.ts";
 * const orphan: OrphanView = {
 *   node: "dn0",
 *   address: "127.0.0.1:13100",
 *   block: "f9.part0",
 *   length: 10,
 *   firstSeen: "2026-01-01T00:00:00.000Z",
 * };
 * ```
 */
export interface OrphanView {
  /** The datanode holding it. */
  node: string;
  /** Its address. */
  address: string | null;
  /** The block id. */
  block: string;
  /** Its length as reported. */
  length: number;
  /** When the datanode first reported it. */
  firstSeen: string;
}

/**
 * The reply of each op.
 *
 * @example
 * ```ts
 * import type { NameNodeResponseOf } from "./responses.ts";
 * const ping: NameNodeResponseOf["PING"] = { service: "namenode", version: "0.1.0", id: "nn1" };
 * ```
 */
export interface NameNodeResponseOf {
  /** Who answers. */
  PING: { service: "namenode"; version: string; id: string };
  /** The registration, and how often the datanode should heartbeat and report. */
  REGISTER: {
    node: string;
    address: string;
    state: "alive";
    deadAfterMs: number;
    heartbeatIntervalMs: number;
    blockReportIntervalMs: number;
  };
  /** The heartbeat was recorded. */
  HEARTBEAT: { node: string; state: "alive" };
  /** The datanode is dead from now on (until it registers or heartbeats again). */
  LEAVE: { node: string; state: "dead" };
  /** What the report told the namenode: copies it lacks, blocks no file places on it. */
  BLOCK_REPORT: {
    node: string;
    kind: "full" | "incremental";
    blocks: number;
    missing: number;
    unknown: number;
  };
  /** The file (pending) and the datanode of each logical node of the layout. */
  CREATE_FILE: { file: FileView; nodes: (NodeRef | null)[] };
  /** The committed file. */
  COMMIT_FILE: { file: FileView };
  /** What is left of the file (null: a pending file was removed). */
  ABORT_FILE: { fileId: number; file: FileView | null };
  /** The file. */
  GET_FILE: { file: FileView };
  /** One page of files; `next` is the `after` of the next page, null on the last. */
  LIST_FILES: { files: FileSummary[]; next: string | null };
  /** The file's last record (its blocks are now to be deleted from the datanodes). */
  DELETE_FILE: { file: FileView };
  /** The file after the move. */
  MOVE_BLOCK: { file: FileView };
  /** The file with its new pending blocks; with a layout, the datanode of each logical node. */
  ADD_BLOCKS: { file: FileView; nodes: (NodeRef | null)[] | null };
  /** The file after the drop. */
  DROP_BLOCKS: { file: FileView };
  /** One page of datanodes. */
  LIST_DATANODES: { datanodes: DatanodeView[]; next: string | null };
  /** One page of file healths. */
  FSCK: { files: FileHealth[]; next: string | null };
  /** One page of orphans; `next` is the `after` of the next page. */
  ORPHANS: { orphans: OrphanView[]; next: { block: string; node: string } | null };
}

const VERSION = /^[0-9A-Za-z.+-]{1,64}$/;
const MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** More entries than fit in a 64 KiB RESPONSE. */
const MAX_PAGE = 10_000;

/**
 * Validates a parsed RESPONSE payload against the op it answers.
 *
 * @example
 * ```ts
 * import { parseNameNodeResponse } from "./responses.ts";
 * const r = parseNameNodeResponse("HEARTBEAT", { node: "dn0", state: "alive" });
 * console.log(r.state); // "alive"
 * ```
 *
 * @param op The op of the request.
 * @param value The parsed JSON.
 * @returns The reply, holding only validated values.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function parseNameNodeResponse<K extends NameNodeOp>(
  op: K,
  value: unknown,
): NameNodeResponseOf[K] {
  const what = `${op} response`;
  const o = expectObject(value, what);
  const parsers: { [P in NameNodeOp]: () => NameNodeResponseOf[P] } = {
    PING: () => {
      onlyFields(o, what, ["service", "version", "id"]);
      enumField(o, what, "service", ["namenode"] as const);
      return {
        service: "namenode",
        version: patternField(o, what, "version", VERSION),
        id: patternField(o, what, "id", /^[\x21-\x7e]{1,300}$/),
      };
    },
    REGISTER: () => {
      onlyFields(o, what, [
        "node",
        "address",
        "state",
        "deadAfterMs",
        "heartbeatIntervalMs",
        "blockReportIntervalMs",
      ]);
      return {
        node: checkedField(o, what, "node", validateNodeId),
        address: checkedField(o, what, "address", canonicalAddress),
        state: enumField(o, what, "state", ["alive"] as const),
        deadAfterMs: integerField(o, what, "deadAfterMs", 1, MAX_BYTES),
        heartbeatIntervalMs: integerField(o, what, "heartbeatIntervalMs", 1, MAX_BYTES),
        blockReportIntervalMs: integerField(o, what, "blockReportIntervalMs", 1, MAX_BYTES),
      };
    },
    HEARTBEAT: () => {
      onlyFields(o, what, ["node", "state"]);
      return {
        node: checkedField(o, what, "node", validateNodeId),
        state: enumField(o, what, "state", ["alive"] as const),
      };
    },
    LEAVE: () => {
      onlyFields(o, what, ["node", "state"]);
      return {
        node: checkedField(o, what, "node", validateNodeId),
        state: enumField(o, what, "state", ["dead"] as const),
      };
    },
    BLOCK_REPORT: () => {
      onlyFields(o, what, ["node", "kind", "blocks", "missing", "unknown"]);
      return {
        node: checkedField(o, what, "node", validateNodeId),
        kind: enumField(o, what, "kind", ["full", "incremental"] as const),
        blocks: integerField(o, what, "blocks", 0, MAX_BYTES),
        missing: integerField(o, what, "missing", 0, MAX_BYTES),
        unknown: integerField(o, what, "unknown", 0, MAX_BYTES),
      };
    },
    CREATE_FILE: () => {
      onlyFields(o, what, ["file", "nodes"]);
      return { file: parseFileView(o.file, `${what} file`), nodes: parseNodes(o, what) };
    },
    COMMIT_FILE: () => fileOnly(o, what),
    ABORT_FILE: () => {
      onlyFields(o, what, ["fileId", "file"]);
      return {
        fileId: integerField(o, what, "fileId", 1, MAX_BYTES),
        file: o.file === null ? null : parseFileView(o.file, `${what} file`),
      };
    },
    GET_FILE: () => fileOnly(o, what),
    LIST_FILES: () => {
      const { entries, next } = parsePage(o, what, "files", parseSummary, validateFileName);
      return { files: entries, next };
    },
    DELETE_FILE: () => fileOnly(o, what),
    MOVE_BLOCK: () => fileOnly(o, what),
    ADD_BLOCKS: () => {
      onlyFields(o, what, ["file", "nodes"]);
      return {
        file: parseFileView(o.file, `${what} file`),
        nodes: o.nodes === null ? null : parseNodes(o, what),
      };
    },
    DROP_BLOCKS: () => fileOnly(o, what),
    LIST_DATANODES: () => {
      const { entries, next } = parsePage(o, what, "datanodes", parseDatanode, validateNodeId);
      return { datanodes: entries, next };
    },
    FSCK: () => {
      const { entries, next } = parsePage(o, what, "files", parseHealth, validateFileName);
      return { files: entries, next };
    },
    ORPHANS: () => {
      onlyFields(o, what, ["orphans", "next"]);
      let next: { block: string; node: string } | null = null;
      if (o.next !== null) {
        const cursor = expectObject(o.next, `${what} next`);
        onlyFields(cursor, `${what} next`, ["block", "node"]);
        next = {
          block: checkedField(cursor, `${what} next`, "block", validateBlockId),
          node: checkedField(cursor, `${what} next`, "node", validateNodeId),
        };
      }
      return {
        orphans: arrayField(o, what, "orphans", MAX_PAGE).map((e, i) =>
          parseOrphan(e, `${what} orphan ${i}`)
        ),
        next,
      };
    },
  };
  const parse = parsers[op];
  if (parse === undefined) throw new CdfsError("BAD_REQUEST", `unknown op ${op}`);
  return parse();
}

/**
 * A page of a listing: its entries under `key` (each named `<what> <entry> <i>` in errors,
 * where the entry is `key` without its plural s), and the cursor of the next page or null.
 */
function parsePage<T>(
  o: JsonObject,
  what: string,
  key: "files" | "datanodes",
  parse: (value: unknown, what: string) => T,
  cursor: (value: unknown) => string,
): { entries: T[]; next: string | null } {
  onlyFields(o, what, [key, "next"]);
  const entry = key.slice(0, -1);
  return {
    entries: arrayField(o, what, key, MAX_PAGE).map((v, i) => parse(v, `${what} ${entry} ${i}`)),
    next: o.next === null ? null : checkedField(o, what, "next", cursor),
  };
}

function fileOnly(o: JsonObject, what: string): { file: FileView } {
  onlyFields(o, what, ["file"]);
  return { file: parseFileView(o.file, `${what} file`) };
}

function parseNodes(o: JsonObject, what: string): (NodeRef | null)[] {
  return arrayField(o, what, "nodes", MAX_LAYOUT_NODES).map((entry, i) => {
    if (entry === null) return null;
    const label = `${what} node ${i}`;
    const item = expectObject(entry, label);
    onlyFields(item, label, ["node", "address"]);
    return {
      node: checkedField(item, label, "node", validateNodeId),
      address: checkedField(item, label, "address", canonicalAddress),
    };
  });
}

function nullable<T>(o: JsonObject, key: string, read: () => T): T | null {
  return o[key] === null ? null : read();
}

function fileState(o: JsonObject, what: string): FileState {
  return enumField(o, what, "state", FILE_STATES);
}

/** The fields of {@linkcode FileFacts} but the id, in their order on the wire. */
const FILE_FACTS = ["name", "code", "length", "digest", "state", "created", "committed"] as const;

/** The fields of {@linkcode FileFacts} but the id (which comes first, checked by the caller). */
function fileFacts(o: JsonObject, what: string): Omit<FileFacts, "fileId"> {
  return {
    name: checkedField(o, what, "name", validateFileName),
    code: checkedField(o, what, "code", validateCodeName),
    length: nullable(o, "length", () => integerField(o, what, "length", 0, MAX_BYTES)),
    digest: nullable(o, "digest", () => checkedField(o, what, "digest", validateDigest)),
    state: fileState(o, what),
    created: timeField(o, what, "created"),
    committed: timeField(o, what, "committed", true),
  };
}

function parseFileView(value: unknown, what: string): FileView {
  const o = expectObject(value, what);
  onlyFields(o, what, ["fileId", "objectId", ...FILE_FACTS, "version", "blocks"]);
  const fileId = integerField(o, what, "fileId", 1, MAX_BYTES);
  if (o.objectId !== `f${fileId}`) {
    throw new CdfsError("BAD_REQUEST", `${what} "objectId" must be "f${fileId}"`);
  }
  return {
    fileId,
    objectId: `f${fileId}`,
    ...fileFacts(o, what),
    version: integerField(o, what, "version", 1, MAX_BYTES),
    blocks: arrayField(o, what, "blocks", MAX_BLOCKS_PER_FILE).map((b, i) =>
      parseBlockView(b, `${what} block ${i}`)
    ),
  };
}

function parseBlockView(value: unknown, what: string): BlockView {
  const o = expectObject(value, what);
  onlyFields(o, what, ["block", "kind", "index", "node", "address", "alive", "state"]);
  return {
    block: checkedField(o, what, "block", validateBlockId),
    kind: enumField(o, what, "kind", ["part", "coded"] as const),
    index: integerField(o, what, "index", 0, 65535),
    node: checkedField(o, what, "node", validateNodeId),
    address: nullable(o, "address", () => checkedField(o, what, "address", canonicalAddress)),
    alive: booleanField(o, what, "alive"),
    state: enumField(o, what, "state", ["pending", "stored"] as const),
  };
}

function parseSummary(value: unknown, what: string): FileSummary {
  const o = expectObject(value, what);
  onlyFields(o, what, ["fileId", ...FILE_FACTS, "blocks"]);
  return {
    fileId: integerField(o, what, "fileId", 1, MAX_BYTES),
    ...fileFacts(o, what),
    blocks: integerField(o, what, "blocks", 0, MAX_BLOCKS_PER_FILE),
  };
}

function parseDatanode(value: unknown, what: string): DatanodeView {
  const o = expectObject(value, what);
  onlyFields(o, what, [
    "node",
    "address",
    "capacity",
    "free",
    "registered",
    "lastHeartbeat",
    "state",
  ]);
  return {
    node: checkedField(o, what, "node", validateNodeId),
    address: checkedField(o, what, "address", canonicalAddress),
    capacity: integerField(o, what, "capacity", 0, MAX_BYTES),
    free: integerField(o, what, "free", 0, MAX_BYTES),
    registered: timeField(o, what, "registered"),
    lastHeartbeat: timeField(o, what, "lastHeartbeat"),
    state: enumField(o, what, "state", ["alive", "dead"] as const),
  };
}

function parseHealth(value: unknown, what: string): FileHealth {
  const o = expectObject(value, what);
  onlyFields(o, what, [
    "fileId",
    "name",
    "code",
    "state",
    "status",
    "decodable",
    "blocks",
    "unavailable",
    "note",
    "shared",
  ]);
  const decodable = o.decodable === null ? null : booleanField(o, what, "decodable");
  const note = o.note;
  if (note !== null && (typeof note !== "string" || note.length > 1000)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "note" must be a string of at most 1000 characters or null`,
    );
  }
  return {
    fileId: integerField(o, what, "fileId", 1, MAX_BYTES),
    name: checkedField(o, what, "name", validateFileName),
    code: checkedField(o, what, "code", validateCodeName),
    state: fileState(o, what),
    status: enumField(o, what, "status", ["healthy", "degraded", "lost", "unknown"] as const),
    decodable,
    blocks: integerField(o, what, "blocks", 0, MAX_BLOCKS_PER_FILE),
    unavailable: arrayField(o, what, "unavailable", MAX_BLOCKS_PER_FILE).map((e, i) => {
      const label = `${what} unavailable ${i}`;
      const item = expectObject(e, label);
      onlyFields(item, label, ["block", "node", "why"]);
      return {
        block: checkedField(item, label, "block", validateBlockId),
        node: checkedField(item, label, "node", validateNodeId),
        why: enumField(item, label, "why", ["dead", "missing"] as const),
      };
    }),
    note,
    shared: arrayField(o, what, "shared", MAX_BLOCKS_PER_FILE).map((e, i) => {
      const label = `${what} shared ${i}`;
      const item = expectObject(e, label);
      onlyFields(item, label, ["node", "blocks"]);
      return {
        node: checkedField(item, label, "node", validateNodeId),
        blocks: arrayField(item, label, "blocks", MAX_BLOCKS_PER_FILE).map((block, j) =>
          validateBlockId(block, `${label} block ${j}`)
        ),
      };
    }),
  };
}

function parseOrphan(value: unknown, what: string): OrphanView {
  const o = expectObject(value, what);
  onlyFields(o, what, ["node", "address", "block", "length", "firstSeen"]);
  return {
    node: checkedField(o, what, "node", validateNodeId),
    address: nullable(o, "address", () => checkedField(o, what, "address", canonicalAddress)),
    block: checkedField(o, what, "block", validateBlockId),
    length: integerField(o, what, "length", 0, MAX_BYTES),
    firstSeen: timeField(o, what, "firstSeen"),
  };
}
