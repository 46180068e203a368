/**
 * The small requests object operations send to single nodes around their runs: a manifest
 * read into memory, best-effort cleanup, and the STATs that confirm coded blocks before
 * their part replicas are dropped.
 *
 * @module
 */
import { CdfsError, type ErrorCode, isCdfsError } from "../../core/errors.ts";
import type { StatResponse } from "../../protocol/responses.ts";
import { DataNodeClient } from "../datanode_client.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { MAX_CONCURRENT_STORES, runLimited } from "./concurrency.ts";
import { errorMessage } from "./error_message.ts";
import { MAX_MANIFEST_BYTES } from "./manifest.ts";

/**
 * Retrieves a small block (a manifest) into memory.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { retrieveSmall } from "./node_requests.ts";
 * const bytes = await retrieveSmall(client, "movie.manifest");
 * ```
 *
 * @param client A connection.
 * @param block The block id.
 * @returns Its bytes.
 * @throws {CdfsError} CORRUPT when it is larger than {@linkcode MAX_MANIFEST_BYTES}; the
 * retrieve's errors.
 */
export async function retrieveSmall(client: DataNodeClient, block: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  await client.retrieve(block, (chunk) => {
    size += chunk.length;
    if (size > MAX_MANIFEST_BYTES) {
      throw new CdfsError("CORRUPT", `block '${block}' is larger than ${MAX_MANIFEST_BYTES} bytes`);
    }
    chunks.push(chunk.slice());
  });
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/**
 * Deletes blocks, best effort (a failure is ignored): cleanup after a failed operation.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { deleteQuietly } from "./node_requests.ts";
 * await deleteQuietly(nodes, [{ block: "movie.part0", node: 0 }], undefined);
 * ```
 *
 * @param nodes The node list.
 * @param blocks The blocks and their logical nodes.
 * @param client Client timeouts.
 */
export async function deleteQuietly(
  nodes: readonly string[],
  blocks: readonly { block: string; node: number }[],
  client: DataNodeClientOptions | undefined,
): Promise<void> {
  await Promise.allSettled(blocks.map(async ({ block, node }) => {
    using connection = await DataNodeClient.connect(nodes[node]!, client);
    await connection.delete(block);
  }));
}

/**
 * One coded block to confirm with a STAT where a record places it (or, with `failure`, one
 * already known not to be confirmable).
 *
 * @example
 * ```ts
 * import type { StatCheck } from "./node_requests.ts";
 * const check: StatCheck = {
 *   index: 3,
 *   block: "movie.coded3",
 *   address: "127.0.0.1:13103",
 *   where: "coded block 3 (movie.coded3) on node 3 (127.0.0.1:13103)",
 *   mismatch: (stat) => stat.length === 4096 ? undefined : `length ${stat.length}, not 4096`,
 * };
 * ```
 */
export interface StatCheck {
  /** The coded block's index (failures are listed in its order). */
  readonly index: number;
  /** Its block id. */
  readonly block: string;
  /** The address of the node the record places it on. */
  readonly address: string;
  /** How a failure names it: block, node and address. */
  readonly where: string;
  /** What is wrong with the block's STAT (CORRUPT), or undefined when it is as recorded. */
  mismatch(stat: StatResponse): string | undefined;
}

/**
 * A coded block known not to be confirmable before any STAT (no record, no address).
 *
 * @example
 * ```ts
 * import type { StatRefusal } from "./node_requests.ts";
 * const r: StatRefusal = { index: 3, code: "NOT_FOUND", text: "coded block 3 is not recorded" };
 * ```
 */
export interface StatRefusal {
  /** The coded block's index. */
  readonly index: number;
  /** The code of the failure. */
  readonly code: ErrorCode;
  /** What the failure says. */
  readonly text: string;
}

/**
 * Confirms coded blocks before their part replicas are dropped: STATs each one where its
 * record places it (several at once) and checks it against the record. Confirms all or throws.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { confirmByStat } from "./node_requests.ts";
 * const refusal = "object 'movie': its part replicas are kept";
 * const confirmed = await confirmByStat(checks, undefined, refusal);
 * ```
 *
 * @param checks One check (or refusal) per coded block of the code.
 * @param client Client timeouts.
 * @param refusal What the error says before the list of blocks not confirmed.
 * @returns Each check with the STAT that confirmed it, in order.
 * @throws {CdfsError} Naming every block not confirmed (missing, another length or digest, its
 * node unreachable), with the code of the first.
 */
export async function confirmByStat<C extends StatCheck>(
  checks: readonly (C | StatRefusal)[],
  client: DataNodeClientOptions | undefined,
  refusal: string,
): Promise<{ check: C; stat: StatResponse }[]> {
  const failures: StatRefusal[] = [];
  const confirmed = await runLimited(
    checks.map((check) => async (): Promise<{ check: C; stat: StatResponse } | undefined> => {
      const fail = (code: ErrorCode, text: string) =>
        void failures.push({ index: check.index, code, text });
      if (!("where" in check)) return void failures.push(check);
      try {
        using connection = await DataNodeClient.connect(check.address, client);
        const stat = await connection.stat(check.block);
        const mismatch = check.mismatch(stat);
        if (mismatch === undefined) return { check, stat };
        fail("CORRUPT", `${check.where}: ${mismatch}`);
      } catch (error) {
        fail(
          isCdfsError(error) ? error.code : "UNAVAILABLE",
          `${check.where}: ${errorMessage(error)}`,
        );
      }
      return undefined;
    }),
    MAX_CONCURRENT_STORES,
  );
  if (failures.length > 0) {
    failures.sort((a, b) => a.index - b.index);
    throw new CdfsError(
      failures[0]!.code,
      `${refusal}: ${failures.length} of its ${checks.length} coded blocks not confirmed: ` +
        failures.map((f) => f.text).join("; "),
    );
  }
  return confirmed.filter((c) => c !== undefined);
}
