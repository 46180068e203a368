/**
 * Routing a request to the module of its op, and turning whatever a handler throws into the
 * code and message of an ERROR frame.
 *
 * Adding an operation (CODING in issue 4) is one module under `ops/` exporting an
 * {@linkcode OpHandler}, registered with one line in {@linkcode STANDARD_OPS}.
 *
 * @module
 */
import { CdfsError, type ErrorCode } from "../errors.ts";
import { PeerError } from "../protocol/connection.ts";
import { parseRequest } from "../protocol/messages.ts";
import type { OpHandler } from "./op.ts";
import { codingOp } from "./ops/coding.ts";
import { deleteOp } from "./ops/delete.ts";
import { listOp } from "./ops/list.ts";
import { pingOp } from "./ops/ping.ts";
import { retrieveOp } from "./ops/retrieve.ts";
import { statOp } from "./ops/stat.ts";
import { statsOp } from "./ops/stats.ts";
import { storeOp } from "./ops/store.ts";

/**
 * The operations of wire format v1, as a datanode serves them by default.
 *
 * @example
 * ```ts
 * import { STANDARD_OPS } from "./dispatch.ts";
 * console.log(STANDARD_OPS.map((h) => h.op)); // ["PING", "STORE", "RETRIEVE", ...]
 * ```
 */
export const STANDARD_OPS: readonly OpHandler[] = [
  pingOp,
  storeOp,
  retrieveOp,
  deleteOp,
  statOp,
  listOp,
  codingOp,
  statsOp,
];

/**
 * An op -> handler table.
 *
 * @example
 * ```ts
 * import { OpTable, STANDARD_OPS } from "./dispatch.ts";
 * const table = new OpTable(STANDARD_OPS);
 * console.log(table.find({ op: "PING" }).op); // "PING"
 * ```
 */
export class OpTable {
  #handlers = new Map<string, OpHandler>();

  /**
   * Builds the table.
   *
   * @param handlers One handler per op.
   * @throws {RangeError} When two handlers claim the same op.
   */
  constructor(handlers: readonly OpHandler[]) {
    for (const handler of handlers) {
      if (this.#handlers.has(handler.op)) {
        throw new RangeError(`two handlers for op ${JSON.stringify(handler.op)}`);
      }
      this.#handlers.set(handler.op, handler);
    }
  }

  /** The ops served, in registration order. */
  get ops(): string[] {
    return [...this.#handlers.keys()];
  }

  /**
   * The handler of a raw request's `op`.
   *
   * @example
   * ```ts
   * import { OpTable } from "./dispatch.ts";
   * try {
   *   new OpTable([]).find({ op: "FORMAT" });
   * } catch (e) {
   *   console.log((e as Error).message); // unknown op "FORMAT"
   * }
   * ```
   *
   * @param raw The REQUEST frame's JSON object.
   * @returns The handler.
   * @throws {CdfsError} `BAD_REQUEST` when `op` is missing, not a string, or not served here.
   */
  find(raw: Record<string, unknown>): OpHandler {
    const op = raw.op;
    const handler = typeof op === "string" ? this.#handlers.get(op) : undefined;
    if (handler !== undefined) return handler;
    // The protocol's validator words the errors for a missing, mistyped or unknown op; if it
    // accepts the request, the op is a v1 op this table does not serve.
    parseRequest(raw);
    throw new CdfsError("BAD_REQUEST", `unknown op ${JSON.stringify(String(op))}`);
  }
}

/**
 * How a failed request is answered and logged.
 *
 * @example
 * ```ts
 * import type { Failure } from "./dispatch.ts";
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
 * code and message; a full disk becomes `UNAVAILABLE`; anything else is a bug here and becomes
 * `INTERNAL` with a short message, its stack kept for the log only.
 *
 * @example
 * ```ts
 * import { describeFailure } from "./dispatch.ts";
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
    return { code: "UNAVAILABLE", message: "the node's disk is full", fromPeer: false };
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
