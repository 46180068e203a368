/**
 * How a server answers and logs what a request (or its connection) threw: the code and one
 * line for the ERROR frame, and whether the peer sent it (an ERROR is not answered with
 * another).
 *
 * @module
 */
import { CdfsError, type ErrorCode } from "../core/errors.ts";
import { PeerError } from "./peer_error.ts";

/**
 * How a failed request is answered and logged.
 *
 * @example
 * ```ts
 * import type { Failure } from "./failure.ts";
 * const f: Failure = { code: "NOT_FOUND", message: "block 'b' does not exist", fromPeer: false };
 * ```
 */
export interface Failure {
  /** The code for the ERROR frame and the log. */
  code: ErrorCode;
  /** One line for the ERROR frame and the log. */
  message: string;
  /** The peer sent this error (an ERROR frame): it is not answered with another. */
  fromPeer: boolean;
  /** The stack of an unexpected exception, for the log only. */
  stack?: string;
}

/**
 * Classifies anything a handler (or the connection) threw: a {@linkcode CdfsError} keeps its
 * code and message; a full disk becomes `NO_SPACE` (as a STORE refused up front for its declared
 * length: the client learns the same thing either way); anything else is a bug here and becomes
 * `INTERNAL` with a short message, its stack kept for the log only.
 *
 * @example
 * ```ts
 * import { describeFailure } from "./failure.ts";
 * console.log(describeFailure(new TypeError("x is undefined")).code); // "INTERNAL"
 * ```
 *
 * @param error What was thrown.
 * @returns The failure.
 */
export function describeFailure(error: unknown): Failure {
  if (error instanceof CdfsError) {
    return { code: error.code, message: error.message, fromPeer: error instanceof PeerError };
  }
  if (isDiskFull(error)) {
    return { code: "NO_SPACE", message: "the node's disk is full", fromPeer: false };
  }
  const name = error instanceof Error ? error.name : typeof error;
  const text = error instanceof Error ? error.message : String(error);
  const firstLine = (text.split("\n")[0] ?? "").slice(0, 200);
  const failure: Failure = {
    code: "INTERNAL",
    message: `internal error: ${name}${firstLine ? `: ${firstLine}` : ""}`,
    fromPeer: false,
  };
  if (error instanceof Error && error.stack) failure.stack = error.stack;
  return failure;
}

function isDiskFull(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === "ENOSPC" || code === "EDQUOT" || /No space left on device|quota exceeded/i
    .test(error.message);
}
