/**
 * The rule for node ids (the `--id` of a datanode), which PING and STATS replies carry and the
 * namenode records.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { quoteForMessage, typeName } from "../core/quote.ts";

/**
 * Validates a node id (the `--id` of a datanode): 1 to 200 characters from
 * `[A-Za-z0-9._:@-]`.
 *
 * @example
 * ```ts
 * import { validateNodeId } from "./node_id.ts";
 * console.log(validateNodeId("dn-1@rack2")); // "dn-1@rack2"
 * ```
 *
 * @param id The candidate.
 * @returns `id`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateNodeId(id: unknown): string {
  if (typeof id !== "string" || !/^[A-Za-z0-9._:@-]{1,200}$/.test(id)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `node id must be 1 to 200 characters from A-Z a-z 0-9 . _ : @ -, got ${
        typeof id === "string" ? quoteForMessage(id) : typeName(id)
      }`,
    );
  }
  return id;
}
