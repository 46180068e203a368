/**
 * The block store: checksummed, atomic block files in a data directory, usable without a
 * server. {@linkcode BlockStore} is the entry point; {@linkcode validateBlockId} is the one rule
 * for block ids, shared with the protocol.
 *
 * @example
 * ```ts
 * import { BlockStore } from "./mod.ts";
 * const store = await BlockStore.open(await Deno.makeTempDir());
 * const writer = await store.create("b1");
 * await writer.write(new TextEncoder().encode("hello"));
 * const info = await writer.commit();
 * console.log(info.length, (await store.stat("b1")).digest === info.digest); // 5 true
 * ```
 *
 * @module
 */
export { isValidBlockId, MAX_BLOCK_ID_LENGTH, validateBlockId } from "../core/block_id.ts";
export {
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  validateChunkSize,
} from "./block_file.ts";
export { BlockReader, type ByteRange, type RangeSlice } from "./block_reader.ts";
export { BlockWriter, type CommitExpectation } from "./block_writer.ts";
export {
  type BlockListing,
  BlockStore,
  type BlockStoreOptions,
  type CreateBlockOptions,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  type ListBlocksOptions,
  type ListedBlock,
  type StoreSpace,
} from "./block_store.ts";
export type { BlockChange, BlockChangeListener, BlockInfo, ChunkedBlockInfo } from "./types.ts";
