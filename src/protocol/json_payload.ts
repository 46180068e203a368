/**
 * The one decoding of a JSON frame payload (REQUEST, RESPONSE, ERROR, AUTH): UTF-8, JSON, an
 * object, each failure a `BAD_REQUEST` naming the frame type.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a JSON frame payload into an object (validating its fields is the caller's job).
 *
 * @example
 * ```ts
 * import { decodeJsonObject } from "./json_payload.ts";
 * const bytes = new TextEncoder().encode('{"op":"PING"}');
 * console.log(decodeJsonObject(bytes, "REQUEST")); // { op: "PING" }
 * ```
 *
 * @param payload The payload, in a regular (not shared) buffer.
 * @param name The frame type's name, for the messages.
 * @returns The object.
 * @throws {CdfsError} `BAD_REQUEST` when it is not UTF-8, not JSON, or not an object.
 */
export function decodeJsonObject(payload: Uint8Array, name: string): Record<string, unknown> {
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    throw new CdfsError("BAD_REQUEST", `${name} payload is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CdfsError("BAD_REQUEST", `${name} payload is not valid JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CdfsError("BAD_REQUEST", `${name} payload must be a JSON object`);
  }
  return value as Record<string, unknown>;
}
