/**
 * The client's strict validator of namenode replies, {@linkcode parseNameNodeResponse}: every
 * field of the reply to each op, its type and bounds (the types are in `responses.ts`).
 *
 * @module
 */
import { validateBlockId } from "../core/block_id.ts";
import { CdfsError } from "../core/errors.ts";
import { FILE_STATES, type FileState, MAX_BLOCKS_PER_FILE } from "./meta/model.ts";
import {
  canonicalAddress,
  validateCodeName,
  validateDigest,
  validateFileName,
  validateNodeId,
} from "./meta/validate_fields.ts";
import { MAX_LAYOUT_NODES } from "./layout.ts";
import { parseStatusReport } from "./status_parse.ts";
import type { NameNodeOp } from "./requests.ts";
import type {
  BlockView,
  DatanodeView,
  FileFacts,
  FileHealth,
  FileSummary,
  FileView,
  NameNodeResponseOf,
  NodeRef,
  OrphanView,
} from "./responses.ts";
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

const VERSION = /^[0-9A-Za-z.+-]{1,64}$/;
const MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** More entries than fit in a 64 KiB RESPONSE. */
const MAX_PAGE = 10_000;

/**
 * Validates a parsed RESPONSE payload against the op it answers.
 *
 * @example
 * ```ts
 * import { parseNameNodeResponse } from "./parse_response.ts";
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
    STATUS: () => parseStatusReport(o, what),
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
