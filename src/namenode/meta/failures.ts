/**
 * The errors both backends raise for the same situations, so their messages match word for
 * word.
 *
 * @module
 */
import { quoteForMessage } from "../../core/quote.ts";
import { CdfsError } from "../../core/errors.ts";

/**
 * `EXISTS`: the name is taken by a file, committed or still being created.
 *
 * @example
 * ```ts
 * import { nameTaken } from "./failures.ts";
 * console.log(nameTaken("a", true).message); // file "a" is being created
 * ```
 *
 * @param name The name.
 * @param pending Whether the file holding it is still being created.
 * @returns The error.
 */
export function nameTaken(name: string, pending: boolean): CdfsError {
  return new CdfsError(
    "EXISTS",
    `file ${quoteForMessage(name)} ${pending ? "is being created" : "already exists"}`,
  );
}

/**
 * `NOT_FOUND`: no committed file has the name.
 *
 * @example
 * ```ts
 * import { noFileNamed } from "./failures.ts";
 * console.log(noFileNamed("a").message); // there is no file "a"
 * ```
 *
 * @param name The name.
 * @returns The error.
 */
export function noFileNamed(name: string): CdfsError {
  return new CdfsError("NOT_FOUND", `there is no file ${quoteForMessage(name)}`);
}

/**
 * `NOT_FOUND`: no file has the id.
 *
 * @example
 * ```ts
 * import { noFileWithId } from "./failures.ts";
 * console.log(noFileWithId(7).message); // there is no file with id 7
 * ```
 *
 * @param fileId The id.
 * @returns The error.
 */
export function noFileWithId(fileId: number): CdfsError {
  return new CdfsError("NOT_FOUND", `there is no file with id ${fileId}`);
}

/**
 * `NOT_FOUND`: the datanode never registered.
 *
 * @example
 * ```ts
 * import { notRegistered } from "./failures.ts";
 * console.log(notRegistered("dn9").message); // datanode dn9 is not registered
 * ```
 *
 * @param nodeId The id.
 * @returns The error.
 */
export function notRegistered(nodeId: string): CdfsError {
  return new CdfsError("NOT_FOUND", `datanode ${nodeId} is not registered`);
}

/**
 * The error for a node that may not receive blocks: `NOT_FOUND` if unregistered, `CONFLICT` if
 * dead.
 *
 * @example
 * ```ts
 * import { cannotPlace } from "./failures.ts";
 * console.log(cannotPlace("dn9", "dead").code); // "CONFLICT"
 * ```
 *
 * @param nodeId The id.
 * @param why `unregistered` or `dead`.
 * @returns The error.
 */
export function cannotPlace(nodeId: string, why: "unregistered" | "dead"): CdfsError {
  return why === "dead"
    ? new CdfsError("CONFLICT", `datanode ${nodeId} is dead: no block may be placed on it`)
    : notRegistered(nodeId);
}
