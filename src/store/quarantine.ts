/**
 * Quarantine of damaged blocks: a block whose stored checksums do not match its bytes is taken
 * out of the block namespace (never listed, served, counted or read as an input again) and kept
 * in `DIR/quarantine/` for inspection.
 *
 * ```
 * DIR/quarantine/<id>.<ms since 1970>.<random>    a damaged block, as it was found
 * ```
 *
 * The move is a hard link into the quarantine folder (fsynced) followed by the store's own
 * delete of the block's name, so the block is always in at least one of the two places, leaves
 * the namespace in one atomic unlink, and the store's watchers (the datanode's namenode
 * reporter) hear of it as a removal like any other. Nothing removes quarantined files: that is
 * the operator's call.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { randomHex } from "../core/random.ts";
import { validateBlockId } from "../core/block_id.ts";
import type { BlockStore } from "./block_store.ts";
import { syncDirectory } from "./file_io.ts";

/**
 * The name of the quarantine folder inside a data directory.
 */
export const QUARANTINE_DIR = "quarantine";

/**
 * Moves block `id` of `store` into the quarantine folder.
 *
 * A write that replaced the block between the read that found it damaged and this call is
 * quarantined too (the namenode then sees the block missing and has it rebuilt): the window is
 * one read, and losing a good copy costs a repair, while serving a bad one would cost data.
 *
 * @example
 * ```ts
 * import { BlockStore } from "./block_store.ts";
 * import { quarantineBlock } from "./quarantine.ts";
 * const store = await BlockStore.open(await Deno.makeTempDir());
 * await (await store.create("b1")).commit();
 * const kept = await quarantineBlock(store, "b1");
 * console.log(kept !== null, await store.count()); // true 0
 * ```
 *
 * @param store The block store.
 * @param id The block id.
 * @returns The path the block is kept under, or null when there was no such block (already
 *   quarantined or deleted).
 * @throws {CdfsError} `BAD_REQUEST` for a bad id; the file system's errors.
 */
export async function quarantineBlock(store: BlockStore, id: string): Promise<string | null> {
  const block = validateBlockId(id);
  const dir = `${store.dir}/${QUARANTINE_DIR}`;
  await Deno.mkdir(dir, { recursive: true });
  const kept = `${dir}/${block}.${Date.now()}.${randomHex(4)}`;
  try {
    await Deno.link(`${store.dir}/blocks/${block}`, kept);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  await syncDirectory(dir);
  try {
    await store.delete(block);
  } catch (e) {
    // Deleted by someone else since the link: it is out of the namespace all the same.
    if (!(e instanceof CdfsError && e.code === "NOT_FOUND")) throw e;
  }
  return kept;
}

/**
 * The files of the quarantine folder of the data directory `dir`, sorted (none when it does
 * not exist).
 *
 * @example
 * ```ts
 * import { quarantinedFiles } from "./quarantine.ts";
 * console.log(await quarantinedFiles(await Deno.makeTempDir())); // []
 * ```
 *
 * @param dir The data directory.
 * @returns The file names.
 */
export async function quarantinedFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(`${dir}/${QUARANTINE_DIR}`)) names.push(entry.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return names.sort();
}
