/**
 * The JSON messages of wire format v1: the REQUEST of each operation, the RESPONSE to it and
 * the body of an ERROR frame, with strict validators. A validator accepts exactly the fields
 * its message defines (an unknown field is an error, not something to ignore), checks every
 * type and integer range, and throws {@linkcode CdfsError} `BAD_REQUEST` naming the field. The
 * server validates requests and the client validates responses: each side trusts only itself.
 *
 * @module
 */
import { CdfsError, ERROR_CODES, type ErrorCode } from "../errors.ts";
import { MAX_BLOCK_ID_LENGTH, validateBlockId, validateBlockIdFragment } from "../block_id.ts";
import { quoteForMessage, typeName } from "../describe.ts";
import { MAX_CHUNK_SIZE, MAX_JSON_PAYLOAD, MIN_CHUNK_SIZE } from "./frame.ts";

/**
 * The operations of v1.
 *
 * @example
 * ```ts
 * import { OPS } from "./messages.ts";
 * console.log(OPS.includes("STORE")); // true
 * ```
 */
export const OPS = ["PING", "STORE", "RETRIEVE", "DELETE", "STAT", "LIST"] as const;

/**
 * One of {@linkcode OPS}.
 *
 * @example
 * ```ts
 * import type { Op } from "./messages.ts";
 * const op: Op = "STAT";
 * ```
 */
export type Op = typeof OPS[number];

/**
 * The default number of entries of a LIST page.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIST_LIMIT } from "./messages.ts";
 * console.log(DEFAULT_LIST_LIMIT); // 1000
 * ```
 */
export const DEFAULT_LIST_LIMIT = 1000;

/**
 * The largest `limit` a LIST request may ask for.
 *
 * @example
 * ```ts
 * import { MAX_LIST_LIMIT } from "./messages.ts";
 * console.log(MAX_LIST_LIMIT); // 10000
 * ```
 */
export const MAX_LIST_LIMIT = 10000;

/**
 * `{"op":"PING"}`: is the node there, and how full is it.
 *
 * @example
 * ```ts
 * import type { PingRequest } from "./messages.ts";
 * const ping: PingRequest = { op: "PING" };
 * ```
 */
export interface PingRequest {
  /** The operation. */
  op: "PING";
}

/**
 * Stores a block from the DATA frames that follow.
 *
 * @example
 * ```ts
 * import type { StoreRequest } from "./messages.ts";
 * const store: StoreRequest = { op: "STORE", block: "b1", chunkSize: 1048576, length: 10 };
 * ```
 */
export interface StoreRequest {
  /** The operation. */
  op: "STORE";
  /** The block id. */
  block: string;
  /** The size of every DATA frame but the last. */
  chunkSize: number;
  /** The total length, when the sender knows it in advance. */
  length?: number;
  /** Replace an existing block of that id instead of failing with EXISTS. */
  overwrite?: boolean;
}

/**
 * Reads a block, or `length` bytes of it from `offset`.
 *
 * @example
 * ```ts
 * import type { RetrieveRequest } from "./messages.ts";
 * const range: RetrieveRequest = { op: "RETRIEVE", block: "b1", offset: 4096, length: 100 };
 * ```
 */
export interface RetrieveRequest {
  /** The operation. */
  op: "RETRIEVE";
  /** The block id. */
  block: string;
  /** The first byte to send (default 0). */
  offset?: number;
  /** How many bytes to send (default: to the end of the block). */
  length?: number;
}

/**
 * Deletes a block.
 *
 * @example
 * ```ts
 * import type { DeleteRequest } from "./messages.ts";
 * const del: DeleteRequest = { op: "DELETE", block: "b1" };
 * ```
 */
export interface DeleteRequest {
  /** The operation. */
  op: "DELETE";
  /** The block id. */
  block: string;
}

/**
 * Describes a block.
 *
 * @example
 * ```ts
 * import type { StatRequest } from "./messages.ts";
 * const stat: StatRequest = { op: "STAT", block: "b1" };
 * ```
 */
export interface StatRequest {
  /** The operation. */
  op: "STAT";
  /** The block id. */
  block: string;
}

/**
 * Lists blocks in code-unit order, one page at a time.
 *
 * @example
 * ```ts
 * import type { ListRequest } from "./messages.ts";
 * const list: ListRequest = { op: "LIST", prefix: "file7.", limit: 100 };
 * ```
 */
export interface ListRequest {
  /** The operation. */
  op: "LIST";
  /** Only ids starting with this. */
  prefix?: string;
  /** Only ids after this one (the `next` of the previous page). */
  after?: string;
  /** At most this many entries (default 1000, at most 10000). */
  limit?: number;
}

/**
 * Any request of v1.
 *
 * @example
 * ```ts
 * import type { Request } from "./messages.ts";
 * function blockOf(r: Request): string | undefined {
 *   return "block" in r ? r.block : undefined;
 * }
 * ```
 */
export type Request =
  | PingRequest
  | StoreRequest
  | RetrieveRequest
  | DeleteRequest
  | StatRequest
  | ListRequest;

/**
 * The reply to PING.
 *
 * @example
 * ```ts
 * import type { PingResponse } from "./messages.ts";
 * const r: PingResponse = { node: "dn1", version: "0.1.0", freeBytes: 1e9, blocks: 3 };
 * ```
 */
export interface PingResponse {
  /** The node id given at `cdfs datanode serve --id`. */
  node: string;
  /** The cdfs version of the node. */
  version: string;
  /** Free bytes in the node's data directory. */
  freeBytes: number;
  /** How many blocks the node holds. */
  blocks: number;
}

/**
 * The reply to STORE, sent once the block is durable.
 *
 * @example
 * ```ts
 * import type { StoreResponse } from "./messages.ts";
 * const r: StoreResponse = { block: "b1", length: 10, digest: "0123456789abcdef" };
 * ```
 */
export interface StoreResponse {
  /** The block id. */
  block: string;
  /** The stored length. */
  length: number;
  /** The block digest, 16 hex digits. */
  digest: string;
}

/**
 * The reply to RETRIEVE, followed by DATA frames and END.
 *
 * @example
 * ```ts
 * import type { RetrieveResponse } from "./messages.ts";
 * const r: RetrieveResponse = {
 *   block: "b1",
 *   length: 10,
 *   blockLength: 10,
 *   chunkSize: 1048576,
 *   digest: "0123456789abcdef",
 * };
 * ```
 */
export interface RetrieveResponse {
  /** The block id. */
  block: string;
  /** The number of bytes that follow. */
  length: number;
  /** The length of the whole block. */
  blockLength: number;
  /** The chunk size of the stored block, and the largest DATA frame that follows. */
  chunkSize: number;
  /** The digest of the whole block, 16 hex digits. */
  digest: string;
}

/**
 * The reply to DELETE.
 *
 * @example
 * ```ts
 * import type { DeleteResponse } from "./messages.ts";
 * const r: DeleteResponse = { block: "b1", deleted: true };
 * ```
 */
export interface DeleteResponse {
  /** The block id. */
  block: string;
  /** Always true (a missing block is an ERROR NOT_FOUND). */
  deleted: true;
}

/**
 * The reply to STAT.
 *
 * @example
 * ```ts
 * import type { StatResponse } from "./messages.ts";
 * const r: StatResponse = {
 *   block: "b1",
 *   length: 10,
 *   chunkSize: 1048576,
 *   digest: "0123456789abcdef",
 *   created: "2025-01-01T00:00:00.000Z",
 * };
 * ```
 */
export interface StatResponse {
  /** The block id. */
  block: string;
  /** The length. */
  length: number;
  /** The chunk size the block was stored with. */
  chunkSize: number;
  /** The block digest, 16 hex digits. */
  digest: string;
  /** When the block was stored, ISO-8601. */
  created: string;
}

/**
 * One entry of a LIST page.
 *
 * @example
 * ```ts
 * import type { ListEntry } from "./messages.ts";
 * const e: ListEntry = { block: "b1", length: 10, created: "2025-01-01T00:00:00.000Z" };
 * ```
 */
export interface ListEntry {
  /** The block id. */
  block: string;
  /** The length. */
  length: number;
  /** When the block was stored, ISO-8601. */
  created: string;
}

/**
 * The reply to LIST.
 *
 * @example
 * ```ts
 * import type { ListResponse } from "./messages.ts";
 * const r: ListResponse = { blocks: [], next: null };
 * ```
 */
export interface ListResponse {
  /** The entries of this page, in code-unit order of their ids. */
  blocks: ListEntry[];
  /** The `after` of the next page, or null when this is the last page. */
  next: string | null;
}

/**
 * The RESPONSE type of each operation.
 *
 * @example
 * ```ts
 * import type { ResponseOf } from "./messages.ts";
 * const r: ResponseOf["DELETE"] = { block: "x", deleted: true };
 * ```
 */
export interface ResponseOf {
  /** Reply to PING. */
  PING: PingResponse;
  /** Reply to STORE. */
  STORE: StoreResponse;
  /** Reply to RETRIEVE. */
  RETRIEVE: RetrieveResponse;
  /** Reply to DELETE. */
  DELETE: DeleteResponse;
  /** Reply to STAT. */
  STAT: StatResponse;
  /** Reply to LIST. */
  LIST: ListResponse;
}

/**
 * The JSON body of an ERROR frame.
 *
 * @example
 * ```ts
 * import type { ErrorBody } from "./messages.ts";
 * const e: ErrorBody = { code: "NOT_FOUND", message: "block \"x\" does not exist" };
 * ```
 */
export interface ErrorBody {
  /** A stable code. */
  code: ErrorCode;
  /** One line for a person. */
  message: string;
}

type JsonObject = Record<string, unknown>;

/**
 * Validates a parsed REQUEST payload.
 *
 * @example
 * ```ts
 * import { parseRequest } from "./messages.ts";
 * const r = parseRequest({ op: "STAT", block: "b1" });
 * console.log(r.op); // "STAT"
 * ```
 *
 * @param value The parsed JSON.
 * @returns The request, holding only validated fields.
 * @throws {CdfsError} `BAD_REQUEST` naming the field or the unknown op.
 */
export function parseRequest(value: unknown): Request {
  const object = expectObject(value, "request");
  const op = object.op;
  if (op === undefined) throw new CdfsError("BAD_REQUEST", `request has no "op"`);
  if (typeof op !== "string") {
    throw new CdfsError("BAD_REQUEST", `request "op" must be a string, got ${typeName(op)}`);
  }
  switch (op) {
    case "PING":
      onlyFields(object, op, ["op"]);
      return { op };
    case "STORE": {
      onlyFields(object, op, ["op", "block", "chunkSize", "length", "overwrite"]);
      const request: StoreRequest = {
        op,
        block: validateBlockId(object.block),
        chunkSize: integerField(object, op, "chunkSize", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
      };
      if (object.length !== undefined) {
        request.length = integerField(object, op, "length", 0, Number.MAX_SAFE_INTEGER);
      }
      if (object.overwrite !== undefined) {
        request.overwrite = booleanField(object, op, "overwrite");
      }
      return request;
    }
    case "RETRIEVE": {
      onlyFields(object, op, ["op", "block", "offset", "length"]);
      const request: RetrieveRequest = { op, block: validateBlockId(object.block) };
      if (object.offset !== undefined) {
        request.offset = integerField(object, op, "offset", 0, Number.MAX_SAFE_INTEGER);
      }
      if (object.length !== undefined) {
        request.length = integerField(object, op, "length", 0, Number.MAX_SAFE_INTEGER);
      }
      return request;
    }
    case "DELETE":
    case "STAT":
      onlyFields(object, op, ["op", "block"]);
      return { op, block: validateBlockId(object.block) };
    case "LIST": {
      onlyFields(object, op, ["op", "prefix", "after", "limit"]);
      const request: ListRequest = { op };
      if (object.prefix !== undefined) {
        request.prefix = validateBlockIdFragment(object.prefix, `LIST "prefix"`, 0);
      }
      if (object.after !== undefined) {
        request.after = validateBlockIdFragment(object.after, `LIST "after"`, 1);
      }
      if (object.limit !== undefined) {
        request.limit = integerField(object, op, "limit", 1, MAX_LIST_LIMIT);
      }
      return request;
    }
    default:
      throw new CdfsError("BAD_REQUEST", `unknown op ${quoteForMessage(op)}`);
  }
}

/**
 * Validates a parsed RESPONSE payload against the operation it answers.
 *
 * @example
 * ```ts
 * import { parseResponse } from "./messages.ts";
 * const r = parseResponse("DELETE", { block: "b1", deleted: true });
 * console.log(r.deleted); // true
 * ```
 *
 * @param op The operation of the request.
 * @param value The parsed JSON.
 * @returns The response, holding only validated fields.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function parseResponse<K extends Op>(op: K, value: unknown): ResponseOf[K] {
  const object = expectObject(value, `${op} response`);
  const what = `${op} response`;
  const parsers: { [P in Op]: () => ResponseOf[P] } = {
    PING: () => {
      onlyFields(object, what, ["node", "version", "freeBytes", "blocks"]);
      return {
        node: validateNodeId(object.node),
        version: versionField(object, what),
        freeBytes: integerField(object, what, "freeBytes", 0, Number.MAX_SAFE_INTEGER),
        blocks: integerField(object, what, "blocks", 0, Number.MAX_SAFE_INTEGER),
      };
    },
    STORE: () => {
      onlyFields(object, what, ["block", "length", "digest"]);
      return {
        block: validateBlockId(object.block),
        length: integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER),
        digest: digestField(object, what),
      };
    },
    RETRIEVE: () => {
      onlyFields(object, what, ["block", "length", "blockLength", "chunkSize", "digest"]);
      const response: RetrieveResponse = {
        block: validateBlockId(object.block),
        length: integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER),
        blockLength: integerField(object, what, "blockLength", 0, Number.MAX_SAFE_INTEGER),
        chunkSize: integerField(object, what, "chunkSize", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
        digest: digestField(object, what),
      };
      if (response.length > response.blockLength) {
        throw new CdfsError(
          "BAD_REQUEST",
          `${what} "length" ${response.length} exceeds "blockLength" ${response.blockLength}`,
        );
      }
      return response;
    },
    DELETE: () => {
      onlyFields(object, what, ["block", "deleted"]);
      if (object.deleted !== true) {
        throw new CdfsError("BAD_REQUEST", `${what} "deleted" must be true`);
      }
      return { block: validateBlockId(object.block), deleted: true };
    },
    STAT: () => {
      onlyFields(object, what, ["block", "length", "chunkSize", "digest", "created"]);
      return {
        block: validateBlockId(object.block),
        length: integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER),
        chunkSize: integerField(object, what, "chunkSize", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
        digest: digestField(object, what),
        created: timestampField(object, what),
      };
    },
    LIST: () => {
      onlyFields(object, what, ["blocks", "next"]);
      if (!Array.isArray(object.blocks)) {
        throw new CdfsError(
          "BAD_REQUEST",
          `${what} "blocks" must be an array, got ${typeName(object.blocks)}`,
        );
      }
      if (object.blocks.length > MAX_LIST_LIMIT) {
        throw new CdfsError("BAD_REQUEST", `${what} has more than ${MAX_LIST_LIMIT} entries`);
      }
      const blocks = object.blocks.map((entry: unknown, i: number): ListEntry => {
        const where = `${what} entry ${i}`;
        const item = expectObject(entry, where);
        onlyFields(item, where, ["block", "length", "created"]);
        return {
          block: validateBlockId(item.block),
          length: integerField(item, where, "length", 0, Number.MAX_SAFE_INTEGER),
          created: timestampField(item, where),
        };
      });
      const next = object.next === null ? null : validateBlockId(object.next, `${what} "next"`);
      return { blocks, next };
    },
  };
  const parse = Object.hasOwn(parsers, op) ? parsers[op] : undefined;
  if (parse === undefined) {
    throw new CdfsError("BAD_REQUEST", `unknown op ${quoteForMessage(String(op))}`);
  }
  return parse();
}

/**
 * Validates the parsed body of an ERROR frame. A well-formed code that this side does not know
 * (a newer peer may add codes) becomes `INTERNAL` with the original code in the message;
 * control characters in the message become spaces, so it stays one line.
 *
 * @example
 * ```ts
 * import { parseErrorBody } from "./messages.ts";
 * console.log(parseErrorBody({ code: "EXISTS", message: "block \"b\" exists" }).code); // "EXISTS"
 * ```
 *
 * @param value The parsed JSON.
 * @returns The code and message.
 * @throws {CdfsError} `BAD_REQUEST` when the body is malformed.
 */
export function parseErrorBody(value: unknown): ErrorBody {
  const object = expectObject(value, "error");
  onlyFields(object, "error", ["code", "message"]);
  const { code, message } = object;
  if (typeof code !== "string" || !/^[A-Z][A-Z0-9_]{0,31}$/.test(code)) {
    throw new CdfsError("BAD_REQUEST", `error "code" must be an upper-case name`);
  }
  if (typeof message !== "string") {
    throw new CdfsError(
      "BAD_REQUEST",
      `error "message" must be a string, got ${typeName(message)}`,
    );
  }
  const line = oneLine(message);
  if ((ERROR_CODES as readonly string[]).includes(code)) {
    return { code: code as ErrorCode, message: line };
  }
  return { code: "INTERNAL", message: `${code}: ${line}` };
}

/**
 * Makes the body of an ERROR frame that fits its 4 KiB bound: the message is cut to 1000
 * characters and control characters become spaces.
 *
 * @example
 * ```ts
 * import { errorBody } from "./messages.ts";
 * console.log(errorBody("TIMEOUT", "idle\nfor 60 s").message); // "idle for 60 s"
 * ```
 *
 * @param code The code.
 * @param message The message.
 * @returns The body to send.
 */
export function errorBody(code: ErrorCode, message: string): ErrorBody {
  const line = oneLine(message);
  return { code, message: line.length > 1000 ? `${line.slice(0, 997)}...` : line };
}

/**
 * Validates a node id (the `--id` of a datanode): 1 to 200 characters from
 * `[A-Za-z0-9._:@-]`.
 *
 * @example
 * ```ts
 * import { validateNodeId } from "./messages.ts";
 * console.log(validateNodeId("dn-1@rack2")); // "dn-1@rack2"
 * ```
 *
 * @param id The candidate.
 * @returns `id`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateNodeId(id: unknown): string {
  if (typeof id !== "string" || !/^[A-Za-z0-9._:@-]{1,200}$/.test(id)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `node id must be 1 to 200 characters from A-Z a-z 0-9 . _ : @ -, got ${
        typeof id === "string" ? quoteForMessage(id) : typeName(id)
      }`,
    );
  }
  return id;
}

/**
 * Builds a LIST page from the candidate entries (those after `after` with the prefix, in
 * order): at most `limit` of them and, whatever `limit` says, no more than fit the RESPONSE
 * bound of 64 KiB, so a page of 10000 entries with long ids is cut short rather than failing.
 * `next` is set when any candidate was left out. Pass at least `limit + 1` candidates when
 * there are that many, so the last page is recognised.
 *
 * @example
 * ```ts
 * import { buildListResponse } from "./messages.ts";
 * const created = "2025-01-01T00:00:00.000Z";
 * const page = buildListResponse([
 *   { block: "a", length: 1, created },
 *   { block: "b", length: 2, created },
 * ], 1);
 * console.log(page.next); // "a"
 * ```
 *
 * @param candidates Entries in code-unit order of their ids.
 * @param limit The most entries to include.
 * @param maxBytes The bound of the encoded JSON.
 * @returns The page.
 */
export function buildListResponse(
  candidates: readonly ListEntry[],
  limit: number,
  maxBytes: number = MAX_JSON_PAYLOAD,
): ListResponse {
  // Ids and timestamps are ASCII, so string length is byte length. Reserve room for the
  // envelope and the longest possible `next`.
  let size = `{"blocks":[],"next":""}`.length + MAX_BLOCK_ID_LENGTH;
  const blocks: ListEntry[] = [];
  for (const candidate of candidates) {
    if (blocks.length >= limit) break;
    const entry = { block: candidate.block, length: candidate.length, created: candidate.created };
    const entrySize = JSON.stringify(entry).length + (blocks.length > 0 ? 1 : 0);
    if (size + entrySize > maxBytes) break;
    blocks.push(entry);
    size += entrySize;
  }
  const last = blocks[blocks.length - 1];
  return { blocks, next: blocks.length < candidates.length && last ? last.block : null };
}

function expectObject(value: unknown, what: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CdfsError("BAD_REQUEST", `${what} must be a JSON object, got ${typeName(value)}`);
  }
  return value as JsonObject;
}

function onlyFields(object: JsonObject, what: string, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new CdfsError("BAD_REQUEST", `${what} has an unknown field ${quoteForMessage(key)}`);
    }
  }
}

function integerField(
  object: JsonObject,
  what: string,
  key: string,
  min: number,
  max: number,
): number {
  const value = object[key];
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const got = typeof value === "number" ? String(value) : typeName(value);
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "${key}" must be an integer in ${min}..${max}, got ${got}`,
    );
  }
  return value;
}

function booleanField(object: JsonObject, what: string, key: string): boolean {
  const value = object[key];
  if (typeof value !== "boolean") {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "${key}" must be true or false, got ${typeName(value)}`,
    );
  }
  return value;
}

function digestField(object: JsonObject, what: string): string {
  const value = object.digest;
  if (typeof value !== "string" || !/^[0-9a-f]{16}$/.test(value)) {
    throw new CdfsError("BAD_REQUEST", `${what} "digest" must be 16 lower-case hex digits`);
  }
  return value;
}

function versionField(object: JsonObject, what: string): string {
  const value = object.version;
  if (typeof value !== "string" || !/^[0-9A-Za-z.+-]{1,64}$/.test(value)) {
    throw new CdfsError("BAD_REQUEST", `${what} "version" must be a version string`);
  }
  return value;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function timestampField(object: JsonObject, what: string): string {
  const value = object.created;
  if (typeof value !== "string" || !ISO_8601.test(value) || Number.isNaN(Date.parse(value))) {
    throw new CdfsError("BAD_REQUEST", `${what} "created" must be an ISO-8601 date-time`);
  }
  return value;
}

function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ");
}
