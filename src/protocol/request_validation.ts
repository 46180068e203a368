/**
 * The server's validation of REQUEST payloads, and of the commit decision of a CODING
 * exchange. A validator accepts exactly the fields its message defines (an unknown field is an
 * error, not something to ignore), checks every type and integer range, and throws
 * {@linkcode CdfsError} `BAD_REQUEST` naming the field: the server trusts only itself.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { parseNodeAddress } from "../core/address.ts";
import { validateBlockId, validateBlockIdFragment } from "../core/block_id.ts";
import { CODING_MODULE_SPEC_PATTERN, PROGRAM_NAME_PATTERN } from "../core/names.ts";
import { quoteForMessage, typeName } from "../core/quote.ts";
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from "./frame.ts";
import {
  booleanField,
  expectObject,
  integerField,
  type JsonObject,
  onlyFields,
  patternField,
  requestOp,
} from "./json_fields.ts";
import { nameField, RUN_ID_PATTERN, runIdField } from "./name_fields.ts";
import { parseScrubRequest } from "./scrub_messages.ts";
import {
  type CodingCommitRequest,
  type CodingPush,
  type CodingRequest,
  type DeleteRequest,
  type ListRequest,
  MAX_CODING_NODES,
  MAX_CODING_TIMEOUT_MS,
  MAX_INLINE_PROGRAMS,
  MAX_LIST_LIMIT,
  MIN_CODING_TIMEOUT_MS,
  type Request,
  type RetrieveRequest,
  type StatsRequest,
  type StoreRequest,
} from "./requests.ts";

/** A block digest: 16 lower-case hex digits (the `formatChecksum` form). */
const DIGEST_PATTERN = /^[0-9a-f]{16}$/;

/**
 * Validates a parsed REQUEST payload.
 *
 * @example
 * ```ts
 * import { parseRequest } from "./request_validation.ts";
 * const r = parseRequest({ op: "STAT", block: "b1" });
 * console.log(r.op); // "STAT"
 * ```
 *
 * @param value The parsed JSON.
 * @returns The request, holding only validated fields.
 * @throws {CdfsError} `BAD_REQUEST` naming the field or the unknown op.
 */
export function parseRequest(value: unknown): Request {
  const { object, op } = requestOp(value);
  switch (op) {
    case "PING":
      onlyFields(object, op, ["op"]);
      return { op };
    case "STORE": {
      onlyFields(object, op, ["op", "block", "chunkSize", "length", "overwrite", "digest"]);
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
      if (object.digest !== undefined) {
        request.digest = patternField(object, op, "digest", DIGEST_PATTERN);
        if (request.length === undefined) {
          throw new CdfsError("BAD_REQUEST", `STORE "digest" needs "length" too`);
        }
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
    case "DELETE": {
      onlyFields(object, op, ["op", "block", "request"]);
      const request: DeleteRequest = { op, block: validateBlockId(object.block) };
      if (object.request !== undefined) {
        request.request = patternField(object, op, "request", RUN_ID_PATTERN);
      }
      return request;
    }
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
    case "CODING":
      return parseCodingRequest(object);
    case "STATS": {
      onlyFields(object, op, ["op", "run"]);
      const request: StatsRequest = { op };
      if (object.run !== undefined) request.run = runIdField(object, op);
      return request;
    }
    case "SCRUB":
      return parseScrubRequest(object);
    default:
      throw new CdfsError("BAD_REQUEST", `unknown op ${quoteForMessage(op)}`);
  }
}

/**
 * Validates the commit decision of a CODING exchange (a REQUEST frame's JSON).
 *
 * @example
 * ```ts
 * import { parseCodingCommit } from "./request_validation.ts";
 * const run = "0123456789abcdef0123456789abcdef";
 * console.log(parseCodingCommit({ op: "COMMIT", run }, run).op); // "COMMIT"
 * ```
 *
 * @param value The parsed JSON.
 * @param run The run id of the CODING request it must name.
 * @returns The decision.
 * @throws {CdfsError} `BAD_REQUEST` when it is anything else.
 */
export function parseCodingCommit(value: unknown, run: string): CodingCommitRequest {
  const object = expectObject(value, "CODING commit");
  onlyFields(object, "CODING commit", ["op", "run"]);
  if (object.op !== "COMMIT") {
    throw new CdfsError(
      "BAD_REQUEST",
      `expected the CODING commit {"op": "COMMIT"}, got op ${
        typeof object.op === "string" ? quoteForMessage(object.op) : typeName(object.op)
      }`,
    );
  }
  const got = runIdField(object, "CODING commit");
  if (got !== run) {
    throw new CdfsError("BAD_REQUEST", `CODING commit names run ${got}, not the run ${run}`);
  }
  return { op: "COMMIT", run: got };
}

/** The module names a CODING request may carry (the loader's rule). */

function parseCodingRequest(object: JsonObject): CodingRequest {
  const what = "CODING";
  onlyFields(object, what, [
    "op",
    "module",
    "program",
    "object",
    "run",
    "nodes",
    "chunkSize",
    "overwrite",
    "inline",
    "push",
    "timeoutMs",
  ]);
  const nodes = object.nodes;
  if (!Array.isArray(nodes) || nodes.length < 1 || nodes.length > MAX_CODING_NODES) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "nodes" must be an array of 1..${MAX_CODING_NODES} addresses, got ${
        Array.isArray(nodes) ? `${nodes.length} entries` : typeName(nodes)
      }`,
    );
  }
  const request: CodingRequest = {
    op: "CODING",
    module: nameField(object, what, "module", CODING_MODULE_SPEC_PATTERN),
    program: nameField(object, what, "program", PROGRAM_NAME_PATTERN),
    object: validateBlockId(object.object, `${what} "object"`),
    run: runIdField(object, what),
    nodes: nodes.map((node: unknown, i: number) => {
      const where = `${what} "nodes"[${i}]`;
      if (typeof node !== "string") {
        throw new CdfsError("BAD_REQUEST", `${where} must be a string, got ${typeName(node)}`);
      }
      parseNodeAddress(node, { what: where, code: "BAD_REQUEST" });
      return node;
    }),
    chunkSize: integerField(object, what, "chunkSize", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
  };
  if (object.overwrite !== undefined) request.overwrite = booleanField(object, what, "overwrite");
  if (object.inline !== undefined) {
    const inline = expectObject(object.inline, `${what} "inline"`);
    const names = Object.keys(inline);
    if (names.length < 1 || names.length > MAX_INLINE_PROGRAMS) {
      throw new CdfsError(
        "BAD_REQUEST",
        `${what} "inline" must hold 1..${MAX_INLINE_PROGRAMS} programs, got ${names.length}`,
      );
    }
    for (const name of names) {
      if (!PROGRAM_NAME_PATTERN.test(name)) {
        throw new CdfsError(
          "BAD_REQUEST",
          `${what} "inline" program name ${
            quoteForMessage(name)
          } must match ${PROGRAM_NAME_PATTERN.source}`,
        );
      }
      expectObject(inline[name], `${what} "inline" program '${name}'`);
    }
    request.inline = inline as Record<string, object>;
  }
  if (object.push !== undefined) request.push = parseCodingPush(object.push, request.program);
  if (object.timeoutMs !== undefined) {
    request.timeoutMs = integerField(
      object,
      what,
      "timeoutMs",
      MIN_CODING_TIMEOUT_MS,
      MAX_CODING_TIMEOUT_MS,
    );
  }
  return request;
}

/** The `push` of a CODING request: a chain of distinct program names holding `program`. */
function parseCodingPush(value: unknown, program: string): CodingPush {
  const what = `CODING "push"`;
  const object = expectObject(value, what);
  onlyFields(object, what, ["chain", "length"]);
  const chain = object.chain;
  if (!Array.isArray(chain) || chain.length < 2 || chain.length > MAX_CODING_NODES) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "chain" must be an array of 2..${MAX_CODING_NODES} program names, got ${
        Array.isArray(chain) ? `${chain.length} entries` : typeName(chain)
      }`,
    );
  }
  const names = chain.map((name: unknown, i: number) => {
    if (typeof name !== "string" || !PROGRAM_NAME_PATTERN.test(name)) {
      throw new CdfsError(
        "BAD_REQUEST",
        `${what} "chain"[${i}] must match ${PROGRAM_NAME_PATTERN.source}, got ${
          typeof name === "string" ? quoteForMessage(name) : typeName(name)
        }`,
      );
    }
    return name;
  });
  const at = names.indexOf(program);
  if (at < 0) {
    throw new CdfsError("BAD_REQUEST", `${what} "chain" does not name the program '${program}'`);
  }
  const push: CodingPush = { chain: names };
  if (object.length !== undefined) {
    push.length = integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER);
  }
  // The first program's request comes from the client; every other one from its producer,
  // which says how long the stream that follows is.
  if ((at === 0) !== (push.length === undefined)) {
    throw new CdfsError(
      "BAD_REQUEST",
      at === 0
        ? `${what} "length" must be absent for the chain's first program`
        : `${what} "length" is required for '${program}' (the length of the pushed stream)`,
    );
  }
  return push;
}
