/**
 * The messages of a datanode's scrub (docs/protocol.md, SCRUB): the SCRUB request, its replies
 * (progress, then the summary of the pass), and the scrub progress a STATS reply carries.
 *
 * @module
 */
import { validateBlockId } from "../core/block_id.ts";
import { CdfsError } from "../core/errors.ts";
import {
  arrayField,
  booleanField,
  expectObject,
  integerField,
  type JsonObject,
  onlyFields,
  optionalInteger,
  timeField,
} from "./json_fields.ts";

/**
 * The most block ids a SCRUB summary names (the rest are counted, and each is in the node's
 * log): 200 ids of at most 200 characters keep the reply within one frame.
 */
export const MAX_SCRUB_LISTED = 200;

/**
 * The highest `rate` a SCRUB request may ask for: 1 TiB/s, i.e. as fast as the disk goes.
 */
export const MAX_SCRUB_RATE = 2 ** 40;

/**
 * `{"op":"SCRUB"}`: verify every block of the node now, one pass, quarantining the damaged
 * ones; `rate` caps its reads (bytes per second; default the node's `--scrub-rate`, or
 * unlimited when that is 0).
 *
 * @example
 * ```ts
 * import type { ScrubRequest } from "./scrub_messages.ts";
 * const scrub: ScrubRequest = { op: "SCRUB", rate: 64 << 20 };
 * ```
 */
export interface ScrubRequest {
  /** The operation. */
  op: "SCRUB";
  /** Bytes per second, 1..{@linkcode MAX_SCRUB_RATE}. */
  rate?: number;
}

/**
 * What one scrub pass found.
 *
 * @example
 * ```ts
 * import type { ScrubSummary } from "./scrub_messages.ts";
 * const s: ScrubSummary = { pass: 3, blocks: 10, bytes: 1 << 20, corrupt: 1, quarantined: ["b7"], ms: 120 };
 * ```
 */
export interface ScrubSummary {
  /** The pass number on this node (background and requested passes alike, from 1). */
  pass: number;
  /** Blocks verified (damaged ones included). */
  blocks: number;
  /** Data bytes verified. */
  bytes: number;
  /** Damaged blocks found and quarantined. */
  corrupt: number;
  /** Their ids, the first {@linkcode MAX_SCRUB_LISTED}. */
  quarantined: string[];
  /** How long the pass took, in milliseconds. */
  ms: number;
}

/**
 * A reply to SCRUB: `{"progress": bytes}` while the pass runs (at most ten a second, and a
 * keepalive when nothing changed), then `{"scrubbed": summary}` as the last.
 *
 * @example
 * ```ts
 * import type { ScrubResponse } from "./scrub_messages.ts";
 * const replies: ScrubResponse[] = [{ progress: 4096 }];
 * ```
 */
export type ScrubResponse = { progress: number } | { scrubbed: ScrubSummary };

/**
 * A node's scrub progress, as the `scrub` field of its STATS reply.
 *
 * @example
 * ```ts
 * import type { ScrubStatus } from "./scrub_messages.ts";
 * const s: ScrubStatus = {
 *   rate: 8 << 20, running: true, pass: 2, passBytes: 4096, passBlocks: 1,
 *   lastPassFinished: null, corruptFound: 0,
 * };
 * ```
 */
export interface ScrubStatus {
  /** The background rate in bytes per second; 0: no background scrub. */
  rate: number;
  /** Whether a pass is under way. */
  running: boolean;
  /** The number of the pass under way, or of the last one (0: none yet). */
  pass: number;
  /** Data bytes verified by that pass so far. */
  passBytes: number;
  /** Blocks verified by that pass so far. */
  passBlocks: number;
  /** When the last complete pass finished (ISO-8601), or null. */
  lastPassFinished: string | null;
  /** Damaged blocks quarantined since the node started (by scrubs and by reads). */
  corruptFound: number;
}

const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/**
 * Validates the fields of a SCRUB request (`op` already read).
 *
 * @example
 * ```ts
 * import { parseScrubRequest } from "./scrub_messages.ts";
 * console.log(parseScrubRequest({ op: "SCRUB", rate: 1024 })); // { op: "SCRUB", rate: 1024 }
 * ```
 *
 * @param object The REQUEST's JSON object.
 * @returns The request.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function parseScrubRequest(object: JsonObject): ScrubRequest {
  onlyFields(object, "SCRUB", ["op", "rate"]);
  const rate = optionalInteger(object, "SCRUB", "rate", 1, MAX_SCRUB_RATE);
  return rate === undefined ? { op: "SCRUB" } : { op: "SCRUB", rate };
}

/**
 * Validates a reply to SCRUB.
 *
 * @example
 * ```ts
 * import { parseScrubResponse } from "./scrub_messages.ts";
 * console.log(parseScrubResponse({ progress: 10 }, "SCRUB reply")); // { progress: 10 }
 * ```
 *
 * @param object The RESPONSE's JSON object.
 * @param what Its name, for errors.
 * @returns The reply.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function parseScrubResponse(object: JsonObject, what: string): ScrubResponse {
  if ("progress" in object) {
    onlyFields(object, what, ["progress"]);
    return { progress: integerField(object, what, "progress", 0, MAX_COUNT) };
  }
  onlyFields(object, what, ["scrubbed"]);
  const at = `${what} "scrubbed"`;
  const s = expectObject(object.scrubbed, at);
  onlyFields(s, at, ["pass", "blocks", "bytes", "corrupt", "quarantined", "ms"]);
  const quarantined = arrayField(s, at, "quarantined", MAX_SCRUB_LISTED).map((id, i) =>
    validateBlockId(id, `${at} "quarantined"[${i}]`)
  );
  return {
    scrubbed: {
      pass: integerField(s, at, "pass", 1, MAX_COUNT),
      blocks: integerField(s, at, "blocks", 0, MAX_COUNT),
      bytes: integerField(s, at, "bytes", 0, MAX_COUNT),
      corrupt: integerField(s, at, "corrupt", 0, MAX_COUNT),
      quarantined,
      ms: integerField(s, at, "ms", 0, MAX_COUNT),
    },
  };
}

/**
 * Validates the `scrub` field of a STATS reply.
 *
 * @example
 * ```ts
 * import { parseScrubStatus } from "./scrub_messages.ts";
 * const s = parseScrubStatus({
 *   rate: 0, running: false, pass: 0, passBytes: 0, passBlocks: 0,
 *   lastPassFinished: null, corruptFound: 0,
 * }, "STATS reply");
 * console.log(s.pass); // 0
 * ```
 *
 * @param value The field's value.
 * @param what The reply's name, for errors.
 * @returns The status.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function parseScrubStatus(value: unknown, what: string): ScrubStatus {
  const at = `${what} "scrub"`;
  const s = expectObject(value, at);
  onlyFields(s, at, [
    "rate",
    "running",
    "pass",
    "passBytes",
    "passBlocks",
    "lastPassFinished",
    "corruptFound",
  ]);
  if (s.lastPassFinished === undefined) {
    throw new CdfsError("BAD_REQUEST", `${at} "lastPassFinished" is missing`);
  }
  return {
    rate: integerField(s, at, "rate", 0, MAX_SCRUB_RATE),
    running: booleanField(s, at, "running"),
    pass: integerField(s, at, "pass", 0, MAX_COUNT),
    passBytes: integerField(s, at, "passBytes", 0, MAX_COUNT),
    passBlocks: integerField(s, at, "passBlocks", 0, MAX_COUNT),
    lastPassFinished: timeField(s, at, "lastPassFinished", true),
    corruptFound: integerField(s, at, "corruptFound", 0, MAX_COUNT),
  };
}
