/**
 * The client's validation of RESPONSE payloads against the operation they answer. A validator
 * accepts exactly the fields its message defines (an unknown field is an error, not something
 * to ignore), checks every type and integer range, and throws {@linkcode CdfsError}
 * `BAD_REQUEST` naming the field: the client trusts only itself.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { validateBlockId } from "../core/block_id.ts";
import { quoteForMessage, typeName } from "../core/quote.ts";
import { MAX_CHUNK_SIZE, MAX_JSON_PAYLOAD, MIN_CHUNK_SIZE } from "./frame.ts";
import {
  booleanField,
  expectObject,
  integerField,
  type JsonObject,
  onlyFields,
  timeField,
} from "./json_fields.ts";
import { PROGRAM_NAME_PATTERN } from "../core/names.ts";
import { nameField, RUN_ID_PATTERN } from "./name_fields.ts";
import { validateNodeId } from "./node_id.ts";
import { parseScrubResponse, parseScrubStatus } from "./scrub_messages.ts";
import { MAX_CODING_NODES, MAX_LIST_LIMIT, type Op } from "./requests.ts";
import type {
  CodingResponse,
  CommittedBlock,
  ListEntry,
  OpTraffic,
  PeerTraffic,
  PingResponse,
  ResponseOf,
  RetrieveResponse,
  RunTimes,
  RunTraffic,
  StatsResponse,
  StoreResponse,
} from "./responses.ts";

/**
 * Validates a parsed RESPONSE payload against the operation it answers.
 *
 * @example
 * ```ts
 * import { parseResponse } from "./response_validation.ts";
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
      onlyFields(object, what, [
        "node",
        "version",
        "freeBytes",
        "blocks",
        "pool",
        "connections",
        "gfBackend",
      ]);
      const ping: PingResponse = {
        node: validateNodeId(object.node),
        version: versionField(object, what),
        freeBytes: integerField(object, what, "freeBytes", 0, Number.MAX_SAFE_INTEGER),
        blocks: integerField(object, what, "blocks", 0, Number.MAX_SAFE_INTEGER),
      };
      if (object.pool !== undefined) {
        const pool = counts(object.pool, `${what} pool`, ["inUse", "size", "waiting"]);
        ping.pool = { inUse: pool.inUse!, size: pool.size!, waiting: pool.waiting! };
      }
      if (object.connections !== undefined) {
        const c = counts(object.connections, `${what} connections`, ["open", "max"]);
        ping.connections = { open: c.open!, max: c.max! };
      }
      if (object.gfBackend !== undefined) {
        const backend = object.gfBackend;
        if (typeof backend !== "string" || !/^[a-z0-9-]{1,32}$/.test(backend)) {
          throw new CdfsError("BAD_REQUEST", `${what} "gfBackend" must be a short lowercase name`);
        }
        ping.gfBackend = backend;
      }
      return ping;
    },
    STORE: () => {
      onlyFields(object, what, ["block", "length", "digest", "existed"]);
      const response: StoreResponse = {
        block: validateBlockId(object.block),
        length: integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER),
        digest: digestField(object, what),
      };
      if (object.existed !== undefined) {
        if (object.existed !== true) {
          throw new CdfsError("BAD_REQUEST", `${what} "existed" must be true when present`);
        }
        response.existed = true;
      }
      return response;
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
        created: timeField(object, what, "created"),
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
          created: timeField(item, where, "created"),
        };
      });
      const next = object.next === null ? null : validateBlockId(object.next, `${what} "next"`);
      return { blocks, next };
    },
    CODING: () => parseCodingResponse(object, what),
    STATS: () => parseStatsResponse(object, what),
    SCRUB: () => parseScrubResponse(object, what),
  };
  const parse = Object.hasOwn(parsers, op) ? parsers[op] : undefined;
  if (parse === undefined) {
    throw new CdfsError("BAD_REQUEST", `unknown op ${quoteForMessage(String(op))}`);
  }
  return parse();
}

function parseCodingResponse(object: JsonObject, what: string): CodingResponse {
  if ("program" in object) {
    onlyFields(object, what, ["program", "length", "stream"]);
    return {
      program: nameField(object, what, "program", PROGRAM_NAME_PATTERN),
      length: integerField(object, what, "length", 0, Number.MAX_SAFE_INTEGER),
      stream: booleanField(object, what, "stream"),
    };
  }
  if ("progress" in object) {
    onlyFields(object, what, ["progress"]);
    return { progress: integerField(object, what, "progress", 0, Number.MAX_SAFE_INTEGER) };
  }
  if ("prepared" in object) {
    onlyFields(object, what, ["prepared"]);
    if (object.prepared !== true) {
      throw new CdfsError("BAD_REQUEST", `${what} "prepared" must be true`);
    }
    return { prepared: true };
  }
  if ("committed" in object) {
    onlyFields(object, what, ["committed"]);
    const list = object.committed;
    if (!Array.isArray(list) || list.length > MAX_JSON_PAYLOAD / 64) {
      throw new CdfsError(
        "BAD_REQUEST",
        `${what} "committed" must be an array of blocks, got ${typeName(list)}`,
      );
    }
    return {
      committed: list.map((entry: unknown, i: number): CommittedBlock => {
        const where = `${what} "committed"[${i}]`;
        const item = expectObject(entry, where);
        onlyFields(item, where, ["node", "block", "length", "digest"]);
        return {
          node: integerField(item, where, "node", 0, MAX_CODING_NODES - 1),
          block: validateBlockId(item.block),
          length: integerField(item, where, "length", 0, Number.MAX_SAFE_INTEGER),
          digest: digestField(item, where),
        };
      }),
    };
  }
  throw new CdfsError(
    "BAD_REQUEST",
    `${what} must be a start ("program"), "progress", "prepared" or "committed" reply`,
  );
}

function parseStatsResponse(object: JsonObject, what: string): StatsResponse {
  onlyFields(object, what, ["node", "since", "total", "ops", "runs", "scrub"]);
  const since = timeField(object, what, "since");
  const ops: Record<string, OpTraffic> = {};
  for (const [op, counters] of Object.entries(expectObject(object.ops, `${what} "ops"`))) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(op)) {
      throw new CdfsError("BAD_REQUEST", `${what} names an invalid op ${quoteForMessage(op)}`);
    }
    defineEntry(ops, op, opTraffic(counters, `${what} op ${op}`));
  }
  const runs: Record<string, RunTraffic> = {};
  for (const [run, value] of Object.entries(expectObject(object.runs, `${what} "runs"`))) {
    if (!RUN_ID_PATTERN.test(run)) {
      throw new CdfsError("BAD_REQUEST", `${what} names an invalid run ${quoteForMessage(run)}`);
    }
    const where = `${what} run ${run}`;
    const entry = expectObject(value, where);
    onlyFields(entry, where, ["served", "upstream", "times"]);
    const upstream: Record<string, PeerTraffic> = {};
    for (const [address, peer] of Object.entries(expectObject(entry.upstream, where))) {
      if (address.length < 1 || address.length > 300) {
        throw new CdfsError("BAD_REQUEST", `${where} names an invalid node address`);
      }
      const at = `${where} upstream ${quoteForMessage(address)}`;
      const fields = expectObject(peer, at);
      onlyFields(fields, at, ["connections", "bytesIn", "bytesOut"]);
      defineEntry(upstream, address, {
        connections: integerField(fields, at, "connections", 0, Number.MAX_SAFE_INTEGER),
        bytesIn: integerField(fields, at, "bytesIn", 0, Number.MAX_SAFE_INTEGER),
        bytesOut: integerField(fields, at, "bytesOut", 0, Number.MAX_SAFE_INTEGER),
      });
    }
    const traffic: RunTraffic = { served: opTraffic(entry.served, `${where} served`), upstream };
    if (entry.times !== undefined) traffic.times = runTimes(entry.times, `${where} times`);
    defineEntry(runs, run, traffic);
  }
  return {
    node: validateNodeId(object.node),
    since,
    total: opTraffic(object.total, `${what} "total"`),
    ops,
    runs,
    ...(object.scrub === undefined ? {} : { scrub: parseScrubStatus(object.scrub, what) }),
  };
}

function runTimes(value: unknown, what: string): RunTimes {
  const object = expectObject(value, what);
  const names = ["startedAt", "firstStepAt", "lastStepAt", "endedAt"] as const;
  onlyFields(object, what, names);
  const times: RunTimes = { startedAt: integerField(object, what, "startedAt", 0, 2 ** 50) };
  for (const name of names.slice(1)) {
    if (object[name] !== undefined) times[name] = integerField(object, what, name, 0, 2 ** 50);
  }
  return times;
}

function opTraffic(value: unknown, what: string): OpTraffic {
  const object = expectObject(value, what);
  onlyFields(object, what, ["requests", "errors", "bytesIn", "bytesOut", "ms"]);
  const ms = object.ms;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    throw new CdfsError("BAD_REQUEST", `${what} "ms" must be a number of milliseconds`);
  }
  return {
    requests: integerField(object, what, "requests", 0, Number.MAX_SAFE_INTEGER),
    errors: integerField(object, what, "errors", 0, Number.MAX_SAFE_INTEGER),
    bytesIn: integerField(object, what, "bytesIn", 0, Number.MAX_SAFE_INTEGER),
    bytesOut: integerField(object, what, "bytesOut", 0, Number.MAX_SAFE_INTEGER),
    ms,
  };
}

/** Sets a key that came from the peer without going through a `__proto__` setter. */
function defineEntry<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true });
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

/** An object of exactly `keys`, each a non-negative safe integer. */
function counts(value: unknown, what: string, keys: readonly string[]): Record<string, number> {
  const object = expectObject(value, what);
  onlyFields(object, what, keys);
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = integerField(object, what, key, 0, Number.MAX_SAFE_INTEGER);
  return out;
}
