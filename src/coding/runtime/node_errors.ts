/**
 * Errors of a coding run name the node where they happened (`node 7 (127.0.0.1:13107): ...`):
 * an error of another node (an upstream ERROR, or a connection to it that broke) already names
 * it and is passed on unchanged, so the client learns which node failed.
 *
 * @module
 */
import { CdfsError } from "../../core/errors.ts";

/**
 * Whether an error's message names the node of a coding run it happened on
 * (`node 7 (HOST:PORT): ...`): such an error is passed on unchanged.
 *
 * @example
 * ```ts
 * import { CdfsError } from "../../core/errors.ts";
 * import { namesCodingNode } from "./node_errors.ts";
 * const lost = new CdfsError("UNAVAILABLE", "node 7 (127.0.0.1:13107): connection lost");
 * console.log(namesCodingNode(lost), namesCodingNode(new Error(lost.message))); // true false
 * ```
 *
 * @param error Anything thrown.
 * @returns True when it names its node.
 */
export function namesCodingNode(error: unknown): error is CdfsError {
  return error instanceof CdfsError && NAMED.test(error.message);
}

const NAMED = /^node \d+ \(/;

/**
 * Finds, along an error's `cause` chain, the first error that names its coding node.
 *
 * @example
 * ```ts
 * import { CdfsError } from "../../core/errors.ts";
 * import { namedCause } from "./node_errors.ts";
 * const inner = new CdfsError("TIMEOUT", "node 3 (h:1): idle timeout");
 * const outer = new CdfsError("TIMEOUT", "program 'p', step 2: ...", { cause: inner });
 * console.log(namedCause(outer) === inner); // true
 * ```
 *
 * @param error Anything thrown.
 * @returns That error, or undefined.
 */
export function namedCause(error: unknown): CdfsError | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 16; depth++) {
    if (namesCodingNode(e)) return e;
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}

/**
 * Names an error of another node's stream: `node 7 (HOST:PORT): cause (context)`; for a
 * timeout, `(context; node 8 was starved by it)` or `(...; node 8 was blocked by it)`: which
 * way the node that noticed was held up by the silent one. An error that already names its
 * node, or that is no `Error`, is returned unchanged.
 *
 * @example
 * ```ts
 * import { nameRemote } from "./node_errors.ts";
 * const e = nameRemote(new Error("reset"), 7, "h:7", "input 'a'", "node 8 was starved by it");
 * console.log((e as Error).message); // "node 7 (h:7): reset (input 'a')"
 * ```
 *
 * @param error Anything thrown by another node's stream or connection.
 * @param node That node's logical index.
 * @param address Its `HOST:PORT`.
 * @param context What this node was doing with it.
 * @param held For a timeout: how this node was held up by it.
 * @returns The named error.
 */
export function nameRemote(
  error: unknown,
  node: number,
  address: string,
  context: string,
  held: string,
): unknown {
  if (namesCodingNode(error)) return error;
  if (!(error instanceof Error)) return error;
  const code = error instanceof CdfsError ? error.code : "UNAVAILABLE";
  // The client names the node by address alone: keep the cause, name it our way.
  const message = error.message.replace(/^node \S+: /, "");
  const why = code === "TIMEOUT" ? `${context}; ${held}` : context;
  return new CdfsError(code, `node ${node} (${address}): ${message} (${why})`, {
    cause: error,
  });
}

/**
 * The error a node sends: one that names its node (along the cause chain) as it is, anything
 * else named after this node.
 *
 * @example
 * ```ts
 * import { CdfsError } from "../../core/errors.ts";
 * import { nameAfterNode } from "./node_errors.ts";
 * const error = nameAfterNode(new CdfsError("NOT_FOUND", "no block"), "node 2 (h:1)");
 * console.log(error.message); // "node 2 (h:1): no block"
 * ```
 *
 * @param error Anything thrown.
 * @param self This node, as `node N (HOST:PORT)`.
 * @returns The error to send.
 */
export function nameAfterNode(error: unknown, self: string): CdfsError {
  const origin = namedCause(error);
  if (origin !== undefined) return new CdfsError(origin.code, origin.message);
  if (error instanceof CdfsError) return new CdfsError(error.code, `${self}: ${error.message}`);
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new CdfsError("INTERNAL", `${self}: ${message}`);
}
