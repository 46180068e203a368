/**
 * The client's validator of the STATUS reply, {@linkcode parseStatusReport}: every field the
 * client reads, its type and bounds. Fields it does not know are left out (a newer namenode
 * may report more), never passed on unchecked.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import {
  arrayField,
  checkedField,
  enumField,
  expectObject,
  integerField,
  type JsonObject,
  patternField,
  timeField,
} from "../protocol/json_fields.ts";
import type { LogValue, NameNodeLogRecord } from "./log.ts";
import { canonicalAddress, validateFileName, validateNodeId } from "./meta/validate_fields.ts";
import type {
  EndangeredFile,
  NodeStatus,
  NodeTrafficTotals,
  RepairItem,
  ScrubProgress,
  StatusReport,
} from "./status.ts";

const MAX = Number.MAX_SAFE_INTEGER;
const MAX_LIST = 10_000;
/** A printable one-line text (no control characters) of up to 1000 characters. */
// deno-lint-ignore no-control-regex
const TEXT = /^[^\x00-\x1f\x7f]{0,1000}$/;
const WORD = /^[\x21-\x7e]{1,300}$/;

function nullableObject<T>(o: JsonObject, what: string, key: string, read: (o: JsonObject) => T) {
  return o[key] === null || o[key] === undefined
    ? null
    : read(expectObject(o[key], `${what} ${key}`));
}

function traffic(o: JsonObject, what: string): NodeTrafficTotals {
  return {
    requests: integerField(o, what, "requests", 0, MAX),
    errors: integerField(o, what, "errors", 0, MAX),
    bytesIn: integerField(o, what, "bytesIn", 0, MAX),
    bytesOut: integerField(o, what, "bytesOut", 0, MAX),
  };
}

function scrub(o: JsonObject, what: string): ScrubProgress {
  return {
    checkedBytes: integerField(o, what, "checkedBytes", 0, MAX),
    totalBytes: o.totalBytes === null ? null : integerField(o, what, "totalBytes", 0, MAX),
    corrupt: integerField(o, what, "corrupt", 0, MAX),
    passes: integerField(o, what, "passes", 0, MAX),
    lastPassEnded: timeField(o, what, "lastPassEnded", true),
  };
}

function node(value: unknown, what: string): NodeStatus {
  const o = expectObject(value, what);
  return {
    node: checkedField(o, what, "node", validateNodeId),
    address: checkedField(o, what, "address", canonicalAddress),
    state: enumField(o, what, "state", ["alive", "dead"] as const),
    capacity: integerField(o, what, "capacity", 0, MAX),
    free: integerField(o, what, "free", 0, MAX),
    blocks: integerField(o, what, "blocks", 0, MAX),
    lastHeartbeat: timeField(o, what, "lastHeartbeat"),
    heartbeatAgeMs: integerField(o, what, "heartbeatAgeMs", 0, MAX),
    traffic: nullableObject(o, what, "traffic", (t) => traffic(t, `${what} traffic`)),
    trafficError: o.trafficError === null ? null : patternField(o, what, "trafficError", TEXT),
    scrub: nullableObject(o, what, "scrub", (s) => scrub(s, `${what} scrub`)),
  };
}

function endangered(value: unknown, what: string): EndangeredFile {
  const o = expectObject(value, what);
  return {
    name: checkedField(o, what, "name", validateFileName),
    code: patternField(o, what, "code", WORD),
    status: enumField(o, what, "status", ["degraded", "lost", "unknown"] as const),
    blocks: integerField(o, what, "blocks", 0, MAX),
    unavailable: integerField(o, what, "unavailable", 0, MAX),
  };
}

function repairItem(value: unknown, what: string): RepairItem {
  const o = expectObject(value, what);
  const progress = o.progress;
  if (progress !== null && (typeof progress !== "number" || !(progress >= 0 && progress <= 1))) {
    throw new CdfsError("BAD_REQUEST", `${what} "progress" must be null or 0..1`);
  }
  return {
    name: checkedField(o, what, "name", validateFileName),
    reason: patternField(o, what, "reason", TEXT),
    state: enumField(o, what, "state", ["queued", "running"] as const),
    progress,
  };
}

function isLogValue(value: unknown): value is LogValue {
  if (value === null || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value === "string") return value.length <= 10_000;
  return Array.isArray(value) && value.length <= 1000 &&
    value.every((v) => typeof v === "string" && v.length <= 1000);
}

function event(value: unknown, what: string): NameNodeLogRecord {
  const o = expectObject(value, what);
  const details: Record<string, LogValue> = {};
  for (const [key, detail] of Object.entries(o)) {
    if (key === "time" || key === "namenode" || key === "event") continue;
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(key) || !isLogValue(detail)) {
      throw new CdfsError("BAD_REQUEST", `${what} has a malformed detail`);
    }
    details[key] = detail;
  }
  return {
    time: timeField(o, what, "time"),
    namenode: patternField(o, what, "namenode", WORD),
    event: patternField(o, what, "event", /^[a-z][a-z0-9-]{0,63}$/),
    ...details,
  };
}

/**
 * Validates a STATUS reply.
 *
 * @example
 * ```ts
 * import { parseStatusReport } from "./status_parse.ts";
 * const r = parseStatusReport({
 *   namenode: "nn1", version: "0.1.0", time: "2026-01-01T00:00:00.000Z", deadAfterMs: 30000,
 *   nodes: [], files: { total: 0, healthy: 0, degraded: 0, lost: 0, unknown: 0 },
 *   endangered: [], repair: { queued: 0, items: [] }, events: [], truncated: false,
 * }, "STATUS response");
 * console.log(r.files.total); // 0
 * ```
 *
 * @param value The parsed JSON.
 * @param what Its name, for errors.
 * @returns The report, holding only validated values.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function parseStatusReport(value: unknown, what: string): StatusReport {
  const o = expectObject(value, what);
  const files = expectObject(o.files, `${what} files`);
  const repair = expectObject(o.repair, `${what} repair`);
  const count = (key: string) => integerField(files, `${what} files`, key, 0, MAX);
  if (typeof o.truncated !== "boolean") {
    throw new CdfsError("BAD_REQUEST", `${what} "truncated" must be a boolean`);
  }
  return {
    namenode: patternField(o, what, "namenode", WORD),
    version: patternField(o, what, "version", /^[0-9A-Za-z.+-]{1,64}$/),
    time: timeField(o, what, "time"),
    deadAfterMs: integerField(o, what, "deadAfterMs", 1, MAX),
    nodes: arrayField(o, what, "nodes", MAX_LIST).map((n, i) => node(n, `${what} node ${i}`)),
    files: {
      total: count("total"),
      healthy: count("healthy"),
      degraded: count("degraded"),
      lost: count("lost"),
      unknown: count("unknown"),
    },
    endangered: arrayField(o, what, "endangered", MAX_LIST).map((f, i) =>
      endangered(f, `${what} endangered ${i}`)
    ),
    repair: {
      queued: integerField(repair, `${what} repair`, "queued", 0, MAX),
      items: arrayField(repair, `${what} repair`, "items", MAX_LIST).map((r, i) =>
        repairItem(r, `${what} repair item ${i}`)
      ),
    },
    events: arrayField(o, what, "events", MAX_LIST).map((e, i) => event(e, `${what} event ${i}`)),
    truncated: o.truncated,
  };
}
