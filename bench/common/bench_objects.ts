/**
 * The objects a cluster benchmark stores: a random input file, and what it stored deleted
 * again (coded blocks before an encode, everything at the end).
 *
 * @module
 */
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import type { DataNodeClientOptions } from "../../src/client/node_connection.ts";
import { manifestBlockId } from "../../src/client/objects/manifest.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import { isCdfsError } from "../../src/core/errors.ts";

/**
 * Deletes an object's coded blocks (absent ones are fine).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { deleteCoded } from "./bench_objects.ts";
 * await deleteCoded(module, nodes, "bench-0123abcd-rs-0", undefined);
 * ```
 *
 * @param module The object's coding module.
 * @param nodes The node addresses, in the module's logical order.
 * @param objectId The object.
 * @param client Client timeouts.
 * @throws {CdfsError} The first failure other than NOT_FOUND.
 */
export async function deleteCoded(
  module: CodingModule,
  nodes: readonly string[],
  objectId: string,
  client: DataNodeClientOptions | undefined,
): Promise<void> {
  await deleteBlocks(
    module.coded.map((c) => ({ block: expandBlockName(c.block, objectId), node: c.node })),
    nodes,
    client,
    true,
  );
}

/**
 * Deletes everything of an object, best effort: parts, manifests and coded blocks (what a
 * benchmark stored, at its end).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { deleteObject } from "./bench_objects.ts";
 * await deleteObject(module, nodes, "bench-0123abcd-rs-0", undefined);
 * ```
 *
 * @param module The object's coding module.
 * @param nodes The node addresses, in the module's logical order.
 * @param objectId The object.
 * @param client Client timeouts.
 */
export async function deleteObject(
  module: CodingModule,
  nodes: readonly string[],
  objectId: string,
  client: DataNodeClientOptions | undefined,
): Promise<void> {
  const blocks = [
    ...module.coded.map((c) => ({ block: expandBlockName(c.block, objectId), node: c.node })),
    ...module.parts.flatMap((p) =>
      p.nodes.map((node) => ({ block: expandBlockName(p.block, objectId), node }))
    ),
    ...nodes.map((_, node) => ({ block: manifestBlockId(objectId), node })),
  ];
  await deleteBlocks(blocks, nodes, client, false).catch(() => {});
}

async function deleteBlocks(
  blocks: readonly { block: string; node: number }[],
  nodes: readonly string[],
  client: DataNodeClientOptions | undefined,
  strict: boolean,
): Promise<void> {
  const results = await Promise.allSettled(blocks.map(async ({ block, node }) => {
    using connection = await DataNodeClient.connect(nodes[node]!, client);
    await connection.delete(block);
  }));
  if (!strict) return;
  const failed = results.find((r) =>
    r.status === "rejected" && !isCdfsError(r.reason, "NOT_FOUND")
  ) as PromiseRejectedResult | undefined;
  if (failed !== undefined) throw failed.reason;
}

/**
 * Flushes dirty pages (`sync`) so that no write-back of earlier work lands in the next
 * measurement.
 *
 * @example
 * ```ts
 * import { flushDirtyPages } from "./bench_objects.ts";
 * await flushDirtyPages();
 * ```
 */
export async function flushDirtyPages(): Promise<void> {
  try {
    await new Deno.Command("sync", { stdout: "null", stderr: "null" }).output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Writes a file of `size` bytes: one random MiB, repeated (no layer of cdfs compresses data).
 *
 * @example
 * ```ts
 * import { writeRandomFile } from "./bench_objects.ts";
 * const path = await Deno.makeTempFile();
 * await writeRandomFile(path, 100_000);
 * console.log((await Deno.stat(path)).size); // 100000
 * await Deno.remove(path);
 * ```
 *
 * @param path The file.
 * @param size Its length in bytes.
 */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const pattern = new Uint8Array(Math.min(size, 1 << 20));
  // getRandomValues fills at most 64 KiB per call.
  for (let at = 0; at < pattern.length; at += 65536) {
    crypto.getRandomValues(pattern.subarray(at, at + 65536));
  }
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  for (let at = 0; at < size;) {
    const from = at % pattern.length;
    at += await file.write(pattern.subarray(from, Math.min(pattern.length, from + size - at)));
  }
}
