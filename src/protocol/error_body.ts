/**
 * The JSON body of an ERROR frame: reading one from a peer (an unknown code or a multi-line
 * message must not get through) and making one that fits the frame's 4 KiB bound.
 *
 * @module
 */
import { CdfsError, ERROR_CODES, type ErrorCode } from "../core/errors.ts";
import { typeName } from "../core/quote.ts";
import { encodeFrameHeader, FRAME_HEADER_SIZE, FRAME_TYPE } from "./frame.ts";
import { expectObject, onlyFields } from "./json_fields.ts";

/**
 * The JSON body of an ERROR frame.
 *
 * @example
 * ```ts
 * import type { ErrorBody } from "./error_body.ts";
 * const e: ErrorBody = { code: "NOT_FOUND", message: "block \"x\" does not exist" };
 * ```
 */
export interface ErrorBody {
  /** A stable code. */
  code: ErrorCode;
  /** One line for a person. */
  message: string;
}

/**
 * Validates the parsed body of an ERROR frame. A well-formed code that this side does not know
 * (a newer peer may add codes) becomes `INTERNAL` with the original code in the message;
 * control characters in the message become spaces, so it stays one line.
 *
 * @example
 * ```ts
 * import { parseErrorBody } from "./error_body.ts";
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
 * import { errorBody } from "./error_body.ts";
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
 * A whole ERROR frame, header and payload, ready to be written in one go (the last word of a
 * connection that timed out).
 *
 * @example
 * ```ts
 * import { encodeErrorFrame } from "./error_body.ts";
 * import { createChecksummer } from "../checksum/checksum.ts";
 * const checksummer = await createChecksummer();
 * const frame = encodeErrorFrame("TIMEOUT", "idle", (b) => checksummer.checksum(b));
 * console.log(frame[0]); // 5
 * ```
 *
 * @param code The code.
 * @param message The message (made one line and cut, as by {@linkcode errorBody}).
 * @param checksum The xxh64 of a payload.
 * @returns The frame's bytes.
 */
export function encodeErrorFrame(
  code: ErrorCode,
  message: string,
  checksum: (payload: Uint8Array) => bigint,
): Uint8Array {
  const payload = new TextEncoder().encode(JSON.stringify(errorBody(code, message)));
  const frame = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
  encodeFrameHeader(frame, {
    type: FRAME_TYPE.ERROR,
    length: payload.length,
    checksum: checksum(payload),
  });
  frame.set(payload, FRAME_HEADER_SIZE);
  return frame;
}

function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ");
}
