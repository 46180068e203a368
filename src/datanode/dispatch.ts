/**
 * Routing a request to the module of its op. What a handler throws becomes an ERROR frame in
 * the shared server loop (`describeFailure` of `src/protocol/frame_server.ts`).
 *
 * Adding an operation (CODING in issue 4) is one module under `ops/` exporting an
 * {@linkcode OpHandler}, registered with one line in {@linkcode STANDARD_OPS}.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { parseRequest } from "../protocol/request_validation.ts";
import type { OpHandler } from "./op.ts";
import { codingOp } from "./ops/coding.ts";
import { deleteOp } from "./ops/delete.ts";
import { listOp } from "./ops/list.ts";
import { pingOp } from "./ops/ping.ts";
import { retrieveOp } from "./ops/retrieve.ts";
import { statOp } from "./ops/stat.ts";
import { statsOp } from "./ops/stats.ts";
import { scrubOp } from "./ops/scrub.ts";
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
  scrubOp,
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
