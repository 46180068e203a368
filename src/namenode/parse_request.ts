/**
 * The server's strict validator of namenode requests, {@linkcode parseNameNodeRequest}: the
 * op, exactly its fields, every type, range and bound (the types are in `requests.ts`).
 *
 * @module
 */
import { validateBlockId } from "../core/block_id.ts";
import { quoteForMessage } from "../core/quote.ts";
import { CdfsError } from "../core/errors.ts";
import { MIN_CHUNK_SIZE } from "../protocol/frame.ts";
import { parseLayout } from "./layout.ts";
import {
  type BlockRef,
  MAX_BLOCKS_PER_FILE,
  MAX_FULL_REPORT,
  MAX_INCREMENTAL_REPORT,
} from "./meta/model.ts";
import {
  canonicalAddress,
  validateCodeName,
  validateCommittedState,
  validateDigest,
  validateFileName,
  validateNamePrefix,
  validateNodeId,
  validateRole,
} from "./meta/validate_fields.ts";
import { validateFileId } from "./meta/validate_args.ts";
import {
  arrayField,
  checkedField,
  enumField,
  expectObject,
  integerField,
  type JsonObject,
  onlyFields,
  optionalInteger,
  requestOp,
} from "../protocol/json_fields.ts";
import {
  type AddBlocksRequest,
  type FullReportRequest,
  type IncrementalReportRequest,
  MAX_REPORT_CHUNK,
  MAX_REPORT_LINE,
  type NameNodeRequest,
  PAGE_LIMITS,
} from "./requests.ts";

const MAX_BYTES = Number.MAX_SAFE_INTEGER;

/**
 * Validates a parsed REQUEST payload: the op, exactly its fields, every type, range and bound.
 *
 * @example
 * ```ts
 * import { parseNameNodeRequest } from "./parse_request.ts";
 * const r = parseNameNodeRequest({ op: "GET_FILE", name: "a.bin" });
 * console.log(r.op); // "GET_FILE"
 * ```
 *
 * @param value The parsed JSON.
 * @returns The request, holding only validated values.
 * @throws {CdfsError} `BAD_REQUEST` naming the field (or `unknown op "X"`).
 */
export function parseNameNodeRequest(value: unknown): NameNodeRequest {
  const { object, op } = requestOp(value);
  switch (op) {
    case "PING":
      onlyFields(object, op, ["op"]);
      return { op };
    case "REGISTER":
      onlyFields(object, op, ["op", "node", "address", "capacity", "free"]);
      return {
        op,
        node: checkedField(object, op, "node", validateNodeId),
        address: checkedField(object, op, "address", canonicalAddress),
        capacity: integerField(object, op, "capacity", 0, MAX_BYTES),
        free: integerField(object, op, "free", 0, MAX_BYTES),
      };
    case "HEARTBEAT": {
      onlyFields(object, op, ["op", "node", "free", "capacity"]);
      const capacity = optionalInteger(object, op, "capacity", 0, MAX_BYTES);
      return {
        op,
        node: checkedField(object, op, "node", validateNodeId),
        free: integerField(object, op, "free", 0, MAX_BYTES),
        ...(capacity === undefined ? {} : { capacity }),
      };
    }
    case "LEAVE":
      onlyFields(object, op, ["op", "node"]);
      return { op, node: checkedField(object, op, "node", validateNodeId) };
    case "BLOCK_REPORT":
      return parseReport(object);
    case "CREATE_FILE": {
      onlyFields(object, op, ["op", "name", "code", "length", "digest", "layout", "blockLength"]);
      const blockLength = optionalInteger(object, op, "blockLength", 0, MAX_BYTES);
      return {
        op,
        name: checkedField(object, op, "name", validateFileName),
        code: checkedField(object, op, "code", validateCodeName),
        length: integerField(object, op, "length", 0, MAX_BYTES),
        ...(object.digest === undefined
          ? {}
          : { digest: checkedField(object, op, "digest", validateDigest) }),
        layout: parseLayout(object.layout, `${op} "layout"`),
        ...(blockLength === undefined ? {} : { blockLength }),
      };
    }
    case "COMMIT_FILE": {
      onlyFields(object, op, ["op", "fileId", "length", "digest", "state"]);
      const length = optionalInteger(object, op, "length", 0, MAX_BYTES);
      return {
        op,
        fileId: checkedField(object, op, "fileId", validateFileId),
        ...(length === undefined ? {} : { length }),
        ...(object.digest === undefined
          ? {}
          : { digest: checkedField(object, op, "digest", validateDigest) }),
        ...(object.state === undefined
          ? {}
          : { state: checkedField(object, op, "state", validateCommittedState) }),
      };
    }
    case "ABORT_FILE":
      onlyFields(object, op, ["op", "fileId"]);
      return { op, fileId: checkedField(object, op, "fileId", validateFileId) };
    case "GET_FILE":
      onlyFields(object, op, ["op", "name", "fileId"]);
      if ((object.name === undefined) === (object.fileId === undefined)) {
        throw new CdfsError("BAD_REQUEST", `${op} needs exactly one of "name" and "fileId"`);
      }
      return object.name !== undefined
        ? { op, name: checkedField(object, op, "name", validateFileName) }
        : { op, fileId: checkedField(object, op, "fileId", validateFileId) };
    case "LIST_FILES": {
      onlyFields(object, op, ["op", "prefix", "after", "limit"]);
      return { op, ...nameCursor(object, op, PAGE_LIMITS.LIST_FILES.max) };
    }
    case "DELETE_FILE":
      onlyFields(object, op, ["op", "name"]);
      return { op, name: checkedField(object, op, "name", validateFileName) };
    case "MOVE_BLOCK":
      onlyFields(object, op, ["op", "fileId", "block", "from", "to"]);
      return {
        op,
        fileId: checkedField(object, op, "fileId", validateFileId),
        blockId: checkedField(object, op, "block", validateBlockId),
        from: checkedField(object, op, "from", validateNodeId),
        to: checkedField(object, op, "to", validateNodeId),
      };
    case "ADD_BLOCKS":
      return parseAddBlocks(object);
    case "DROP_BLOCKS": {
      onlyFields(object, op, ["op", "fileId", "blocks", "state"]);
      const blocks = arrayField(object, op, "blocks", MAX_BLOCKS_PER_FILE).map((entry, i) =>
        parseBlockRef(entry, `${op} block ${i}`)
      );
      if (blocks.length === 0) throw new CdfsError("BAD_REQUEST", `${op} "blocks" is empty`);
      return {
        op,
        fileId: checkedField(object, op, "fileId", validateFileId),
        blocks,
        ...(object.state === undefined
          ? {}
          : { state: checkedField(object, op, "state", validateCommittedState) }),
      };
    }
    case "LIST_DATANODES": {
      onlyFields(object, op, ["op", "after", "limit"]);
      const limit = optionalInteger(object, op, "limit", 1, PAGE_LIMITS.LIST_DATANODES.max);
      return {
        op,
        ...(object.after === undefined
          ? {}
          : { after: checkedField(object, op, "after", validateNodeId) }),
        ...(limit === undefined ? {} : { limit }),
      };
    }
    case "FSCK":
      onlyFields(object, op, ["op", "name", "prefix", "after", "limit"]);
      if (object.name !== undefined) {
        if (
          object.prefix !== undefined || object.after !== undefined || object.limit !== undefined
        ) {
          throw new CdfsError(
            "BAD_REQUEST",
            `${op} takes "name" or a page (prefix, after, limit), not both`,
          );
        }
        return { op, name: checkedField(object, op, "name", validateFileName) };
      }
      return { op, ...nameCursor(object, op, PAGE_LIMITS.FSCK.max) };
    case "ORPHANS": {
      onlyFields(object, op, ["op", "graceMs", "after", "limit"]);
      const graceMs = optionalInteger(object, op, "graceMs", 0, MAX_BYTES);
      const limit = optionalInteger(object, op, "limit", 1, PAGE_LIMITS.ORPHANS.max);
      return {
        op,
        ...(graceMs === undefined ? {} : { graceMs }),
        ...(object.after === undefined
          ? {}
          : { after: parseBlockRef(object.after, `${op} "after"`) }),
        ...(limit === undefined ? {} : { limit }),
      };
    }
    case "STATUS":
      onlyFields(object, op, ["op"]);
      return { op };
    default:
      throw new CdfsError("BAD_REQUEST", `unknown op ${quoteForMessage(op)}`);
  }
}

function parseReport(object: JsonObject): IncrementalReportRequest | FullReportRequest {
  const op = "BLOCK_REPORT";
  const kind = enumField(object, op, "kind", ["full", "incremental"] as const);
  const node = checkedField(object, op, "node", validateNodeId);
  if (kind === "full") {
    onlyFields(object, op, ["op", "node", "kind", "count", "length", "chunkSize"]);
    const count = integerField(object, op, "count", 0, MAX_FULL_REPORT);
    return {
      op,
      node,
      kind,
      count,
      length: integerField(object, op, "length", 0, count * MAX_REPORT_LINE),
      chunkSize: integerField(object, op, "chunkSize", MIN_CHUNK_SIZE, MAX_REPORT_CHUNK),
    };
  }
  onlyFields(object, op, ["op", "node", "kind", "added", "removed"]);
  const added = arrayField(object, op, "added", MAX_INCREMENTAL_REPORT).map((entry, i) => {
    const label = `${op} added ${i}`;
    const item = expectObject(entry, label);
    onlyFields(item, label, ["block", "length"]);
    return {
      blockId: checkedField(item, label, "block", validateBlockId),
      length: integerField(item, label, "length", 0, MAX_BYTES),
    };
  });
  const removed = arrayField(object, op, "removed", MAX_INCREMENTAL_REPORT).map((id, i) =>
    validateBlockId(id, `${op} removed ${i}`)
  );
  if (added.length + removed.length > MAX_INCREMENTAL_REPORT) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${op} has ${added.length + removed.length} entries, the limit of an incremental ` +
        `report is ${MAX_INCREMENTAL_REPORT} (send a full report)`,
    );
  }
  return { op, node, kind, added, removed };
}

function parseAddBlocks(object: JsonObject): AddBlocksRequest {
  const op = "ADD_BLOCKS";
  onlyFields(object, op, ["op", "fileId", "layout", "blockLength", "placements"]);
  const fileId = checkedField(object, op, "fileId", validateFileId);
  if ((object.layout === undefined) === (object.placements === undefined)) {
    throw new CdfsError("BAD_REQUEST", `${op} needs exactly one of "layout" and "placements"`);
  }
  if (object.layout !== undefined) {
    const blockLength = optionalInteger(object, op, "blockLength", 0, MAX_BYTES);
    return {
      op,
      fileId,
      layout: parseLayout(object.layout, `${op} "layout"`),
      ...(blockLength === undefined ? {} : { blockLength }),
    };
  }
  if (object.blockLength !== undefined) {
    throw new CdfsError("BAD_REQUEST", `${op} "blockLength" goes with "layout" only`);
  }
  const placements = arrayField(object, op, "placements", MAX_BLOCKS_PER_FILE).map((entry, i) => {
    const label = `${op} placement ${i}`;
    const item = expectObject(entry, label);
    onlyFields(item, label, ["kind", "index", "node"]);
    return {
      role: validateRole({ kind: item.kind, index: item.index }),
      node: checkedField(item, label, "node", validateNodeId),
    };
  });
  if (placements.length === 0) throw new CdfsError("BAD_REQUEST", `${op} "placements" is empty`);
  return { op, fileId, placements };
}

function parseBlockRef(value: unknown, what: string): BlockRef {
  const item = expectObject(value, what);
  onlyFields(item, what, ["block", "node"]);
  return {
    blockId: checkedField(item, what, "block", validateBlockId),
    node: checkedField(item, what, "node", validateNodeId),
  };
}

function nameCursor(
  object: JsonObject,
  op: string,
  maxLimit: number,
): { prefix?: string; after?: string; limit?: number } {
  const limit = optionalInteger(object, op, "limit", 1, maxLimit);
  return {
    ...(object.prefix === undefined
      ? {}
      : { prefix: checkedField(object, op, "prefix", (v) => validateNamePrefix(v, "prefix")) }),
    ...(object.after === undefined
      ? {}
      : { after: checkedField(object, op, "after", (v) => validateNamePrefix(v, "after")) }),
    ...(limit === undefined ? {} : { limit }),
  };
}
