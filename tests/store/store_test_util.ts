/**
 * Helpers for the block store tests: scratch stores, deterministic data, and checksums
 * computed independently of src/checksum/checksum.ts (straight from hash-wasm's one-shot xxhash64).
 *
 * @module
 */
import { xxhash64 } from "hash-wasm";
import type { BlockInfo } from "../../src/store/types.ts";
import { BlockStore, type BlockStoreOptions } from "../../src/store/block_store.ts";

/**
 * Runs `body` with a store in a fresh temp directory, removed afterwards.
 *
 * @example
 * ```ts
 * import { withStore } from "./store_test_util.ts";
 * await withStore({ chunkSize: 4096 }, async (store) => console.log(await store.count()));
 * ```
 *
 * @param options Store options.
 * @param body The test body.
 */
export async function withStore(
  options: BlockStoreOptions,
  body: (store: BlockStore, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-store-test-" });
  try {
    await body(await BlockStore.open(dir, options), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Deterministic pseudo-random bytes (xorshift32), different for each seed.
 *
 * @example
 * ```ts
 * import { testBytes } from "./store_test_util.ts";
 * console.log(testBytes(4, 1).length); // 4
 * ```
 *
 * @param length How many bytes.
 * @param seed Any non-zero integer.
 * @returns The bytes.
 */
export function testBytes(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/**
 * The xxh64 of `bytes`, from hash-wasm's one-shot function (not via src/checksum/checksum.ts).
 *
 * @example
 * ```ts
 * import { xxh64 } from "./store_test_util.ts";
 * console.log(await xxh64(new Uint8Array())); // 17241709254077376921n
 * ```
 *
 * @param bytes The bytes.
 * @returns Their xxh64, seed 0.
 */
export async function xxh64(bytes: Uint8Array): Promise<bigint> {
  return BigInt("0x" + await xxhash64(bytes));
}

/**
 * The chunk checksums and block digest of `data`, computed from the definitions: xxh64 of each
 * `chunkSize` piece, then xxh64 of those checksums as big-endian u64s.
 *
 * @example
 * ```ts
 * import { expectedChecksums } from "./store_test_util.ts";
 * const { chunks } = await expectedChecksums(new Uint8Array(5000), 4096);
 * console.log(chunks.length); // 2
 * ```
 *
 * @param data The block's bytes.
 * @param chunkSize The chunk size.
 * @returns The chunk checksums and the digest.
 */
export async function expectedChecksums(
  data: Uint8Array,
  chunkSize: number,
): Promise<{ chunks: bigint[]; digest: bigint }> {
  const chunks: bigint[] = [];
  for (let at = 0; at < data.length; at += chunkSize) {
    chunks.push(await xxh64(data.subarray(at, at + chunkSize)));
  }
  return { chunks, digest: await digestOf(chunks) };
}

/**
 * A block digest from its chunk checksums, by the definition: the xxh64 of the checksums as
 * big-endian u64s.
 *
 * @example
 * ```ts
 * import { digestOf } from "./store_test_util.ts";
 * console.log(typeof await digestOf([1n, 2n])); // "bigint"
 * ```
 *
 * @param chunks The chunk checksums.
 * @returns The digest.
 */
export async function digestOf(chunks: readonly bigint[]): Promise<bigint> {
  const encoded = new Uint8Array(8 * chunks.length);
  const view = new DataView(encoded.buffer);
  chunks.forEach((c, i) => view.setBigUint64(8 * i, c, false));
  return await xxh64(encoded);
}

/**
 * Reads a whole block back through a reader's `slices`, into a fresh buffer.
 *
 * @example
 * ```ts
 * import { readAll, withStore } from "./store_test_util.ts";
 * await withStore({}, async (store) => {
 *   await (await store.create("b")).commit();
 *   console.log((await readAll(store, "b")).length); // 0
 * });
 * ```
 *
 * @param store The store.
 * @param id The block id.
 * @param range The range to read.
 * @returns The bytes of the range.
 */
export async function readAll(
  store: BlockStore,
  id: string,
  range: { offset?: number; length?: number } = {},
): Promise<Uint8Array> {
  using reader = await store.openReader(id, range);
  const out = new Uint8Array(reader.length);
  const buffer = new Uint8Array(reader.info.chunkSize);
  let at = 0;
  for await (const slice of reader.slices(buffer)) {
    out.set(slice.bytes, at);
    at += slice.bytes.length;
  }
  return out.subarray(0, at);
}

/**
 * Writes `data` as block `id` in pieces of `pieceSize` bytes and commits it.
 *
 * @example
 * ```ts
 * import { storeBlock, withStore } from "./store_test_util.ts";
 * await withStore({}, async (store) => {
 *   console.log((await storeBlock(store, "b", new Uint8Array(10), 3)).length); // 10
 * });
 * ```
 *
 * @param store The store.
 * @param id The block id.
 * @param data The bytes.
 * @param pieceSize The size of each write (the whole block in one write by default).
 * @returns What commit reported.
 */
export async function storeBlock(
  store: BlockStore,
  id: string,
  data: Uint8Array,
  pieceSize = Math.max(1, data.length),
): Promise<BlockInfo> {
  const writer = await store.create(id);
  for (let at = 0; at < data.length; at += pieceSize) {
    await writer.write(data.subarray(at, at + pieceSize));
  }
  return await writer.commit();
}

/**
 * The names of the files in a directory, sorted.
 *
 * @example
 * ```ts
 * import { listNames } from "./store_test_util.ts";
 * console.log(await listNames(await Deno.makeTempDir())); // []
 * ```
 *
 * @param dir The directory.
 * @returns Its entries' names.
 */
export async function listNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}
