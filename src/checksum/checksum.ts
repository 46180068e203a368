/**
 * Checksums of stored and transmitted bytes.
 *
 * Every chunk of a block (and every protocol frame) carries the xxh64 (seed 0) of its bytes;
 * a block's digest is the xxh64 of its chunk checksums (8 bytes each, big-endian, in order).
 * So each byte is hashed once where it is produced or received, and the block digest costs
 * nothing extra. xxh64 comes from `hash-wasm` (measured here at ~8 GB/s per core, faster than
 * CRC32C at ~1.7 GB/s and SHA-256 at ~1.3 GB/s), which keeps verification off the critical
 * path of a 3.5 GB/s loopback link.
 *
 * hash-wasm copies every view into its own memory before hashing it, and a copy out of a
 * *shared* WebAssembly memory (where the buffer pools live) costs nearly as much as the hash.
 * So the views of a memory registered with {@linkcode hashInPlace} (an arena) are hashed where
 * they lie by a small module of our own (`xxh64_wasm.ts`, ~14 GB/s on 1 MiB against ~8): a
 * checksum of a pooled chunk is then about 0.07 ms instead of 0.13.
 *
 * @module
 */
import { createXXHash64, type IHasher } from "hash-wasm";
import { type InPlaceXxh64, inPlaceXxh64 } from "./xxh64_wasm.ts";

/**
 * A reusable xxh64 hasher. Not safe to interleave two incremental hashes on one instance;
 * create one per concurrent stream.
 *
 * @example
 * ```ts
 * import { createChecksummer } from "./checksum.ts";
 * const c = await createChecksummer();
 * console.log(c.checksum(new TextEncoder().encode("abc")).toString(16));
 * ```
 */
export interface Checksummer {
  /** The xxh64 (seed 0) of `bytes`. */
  checksum(bytes: Uint8Array): bigint;
  /** Starts an incremental hash, discarding any one under way. */
  start(): void;
  /** Adds bytes to the incremental hash. */
  update(bytes: Uint8Array): void;
  /** Ends the incremental hash and returns its xxh64. */
  finish(): bigint;
}

/**
 * The one-shot part of a {@linkcode Checksummer}: what a frame connection needs.
 *
 * @example
 * ```ts
 * import type { OneShotHasher } from "./checksum.ts";
 * const parity: OneShotHasher = { checksum: (b) => BigInt(b.reduce((x, y) => x ^ y, 0)) };
 * ```
 */
export type OneShotHasher = Pick<Checksummer, "checksum">;

let sharedOneShot: Promise<OneShotHasher> | null = null;

/**
 * The process's one-shot checksummer, made once and shared by every caller: its `checksum()`
 * runs from start to end without yielding, so callers cannot interleave. A frame connection
 * uses it instead of a hasher of its own, which cost each connection (client and server side)
 * a WebAssembly instance: ~25 KiB of memory and ~50 µs to make. Incremental hashing
 * (`start`/`update`/`finish`) spans awaits and needs {@linkcode createChecksummer}.
 *
 * @example
 * ```ts
 * import { createChecksummer, sharedChecksummer } from "./checksum.ts";
 * const shared = await sharedChecksummer();
 * console.log(shared === await sharedChecksummer()); // true
 * const bytes = new Uint8Array([1, 2, 3]);
 * console.log(shared.checksum(bytes) === (await createChecksummer()).checksum(bytes)); // true
 * ```
 *
 * @returns The shared checksummer.
 */
export function sharedChecksummer(): Promise<OneShotHasher> {
  sharedOneShot ??= createChecksummer().then((full) => ({
    checksum: (bytes: Uint8Array) => full.checksum(bytes),
  }));
  return sharedOneShot;
}

/**
 * Creates a {@linkcode Checksummer} (instantiates a small WebAssembly module).
 *
 * @example
 * ```ts
 * import { createChecksummer } from "./checksum.ts";
 * const c = await createChecksummer();
 * c.start();
 * c.update(new Uint8Array([1, 2]));
 * c.update(new Uint8Array([3]));
 * console.log(c.finish() === c.checksum(new Uint8Array([1, 2, 3]))); // true
 * ```
 *
 * @returns A fresh hasher.
 */
export async function createChecksummer(): Promise<Checksummer> {
  const hasher: IHasher = await createXXHash64();
  const toBigInt = (digest: Uint8Array): bigint =>
    new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0, false);
  return {
    checksum(bytes) {
      const inPlace = inPlaceHasherOf(bytes);
      if (inPlace !== undefined) return inPlace(bytes.byteOffset, bytes.length);
      hasher.init();
      hasher.update(bytes);
      return toBigInt(hasher.digest("binary"));
    },
    start() {
      hasher.init();
    },
    update(bytes) {
      hasher.update(bytes);
    },
    finish() {
      return toBigInt(hasher.digest("binary"));
    },
  };
}

/**
 * A shared WebAssembly memory and a way to tell its views: a `WasmArena` (src/buffer/arena.ts)
 * fits.
 *
 * @example
 * ```ts
 * import type { ChecksumMemory } from "./checksum.ts";
 * const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
 * const owner: ChecksumMemory = {
 *   memory,
 *   offsetOf: (view) => view.buffer === memory.buffer ? view.byteOffset : -1,
 * };
 * ```
 */
export interface ChecksumMemory {
  /** The memory; it must be shared. */
  readonly memory: WebAssembly.Memory;
  /**
   * The offset of `view` in the memory, or -1 when it is not a view over it. A view over the
   * memory must have `byteOffset` equal to its offset in the memory (any view made over one of
   * the memory's `SharedArrayBuffer` objects has).
   */
  offsetOf(view: Uint8Array): number;
}

/** The registered memories, weakly: registering must not keep a dropped arena alive. */
const inPlaceMemories: WeakRef<ChecksumMemory>[] = [];
/** The in-place hasher of each memory. */
const hasherOfMemory = new WeakMap<WebAssembly.Memory, InPlaceXxh64>();
/** The in-place hasher of each `SharedArrayBuffer` object seen, so a lookup is one `get`. */
const hasherOfBuffer = new WeakMap<ArrayBufferLike, InPlaceXxh64>();

/**
 * Lets every {@linkcode Checksummer} hash the views of `owner`'s memory in place (no copy),
 * from now on, in this process. Idempotent and cheap to repeat; the registration holds the
 * owner weakly. Code that lends buffers from an arena calls it with the arena (the datanode's
 * RETRIEVE, and `receiveChunks`/`readChunks` with a pool that names its arena).
 *
 * @example
 * ```ts
 * import { createChecksummer, hashInPlace } from "./checksum.ts";
 * import { WasmArena } from "../buffer/arena.ts";
 * const arena = new WasmArena({ maxBytes: 1 << 20 });
 * hashInPlace(arena);
 * const chunk = arena.alloc(4096);
 * console.log((await createChecksummer()).checksum(chunk).toString(16)); // read in place
 * ```
 *
 * @param owner The memory and its view test.
 * @throws {TypeError} When the memory is not shared.
 */
export function hashInPlace(owner: ChecksumMemory): void {
  for (let i = inPlaceMemories.length - 1; i >= 0; i--) {
    const known = inPlaceMemories[i]!.deref();
    if (known === owner) return;
    if (known === undefined) inPlaceMemories.splice(i, 1);
  }
  if (!(owner.memory.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError("only a shared WebAssembly memory can be hashed in place");
  }
  if (!hasherOfMemory.has(owner.memory)) {
    hasherOfMemory.set(owner.memory, inPlaceXxh64(owner.memory));
  }
  inPlaceMemories.push(new WeakRef(owner));
}

/** The in-place hasher for `view`, when it lies in a registered memory. */
function inPlaceHasherOf(view: Uint8Array): InPlaceXxh64 | undefined {
  const buffer = view.buffer;
  // Regular buffers (JSON frames, tests) go straight to hash-wasm.
  if (!(buffer instanceof SharedArrayBuffer)) return undefined;
  const known = hasherOfBuffer.get(buffer);
  if (known !== undefined) return known;
  for (const ref of inPlaceMemories) {
    const owner = ref.deref();
    if (owner === undefined || owner.offsetOf(view) !== view.byteOffset) continue;
    const hasher = hasherOfMemory.get(owner.memory);
    if (hasher === undefined) continue;
    hasherOfBuffer.set(buffer, hasher);
    return hasher;
  }
  return undefined;
}

/**
 * The digest of a block from the checksums of its chunks, in order: the xxh64 of their
 * big-endian 8-byte encodings. The empty block's digest is the xxh64 of no bytes.
 *
 * @example
 * ```ts
 * import { blockDigest, createChecksummer } from "./checksum.ts";
 * const c = await createChecksummer();
 * const d = blockDigest(c, [c.checksum(new Uint8Array([1])), c.checksum(new Uint8Array([2]))]);
 * console.log(typeof d); // "bigint"
 * ```
 *
 * @param hasher The hasher to use.
 * @param chunkChecksums The xxh64 of each chunk, in order.
 * @returns The block digest.
 */
export function blockDigest(hasher: Checksummer, chunkChecksums: ArrayLike<bigint>): bigint {
  const encoded = new Uint8Array(chunkChecksums.length * 8);
  const view = new DataView(encoded.buffer);
  for (let i = 0; i < chunkChecksums.length; i++) {
    view.setBigUint64(i * 8, chunkChecksums[i]!, false);
  }
  return hasher.checksum(encoded);
}

/**
 * Formats a checksum or digest as 16 lowercase hex digits, the form shown to people and
 * stored in JSON.
 *
 * @example
 * ```ts
 * import { formatChecksum } from "./checksum.ts";
 * console.log(formatChecksum(255n)); // "00000000000000ff"
 * ```
 *
 * @param value A 64-bit checksum.
 * @returns Its hex form.
 */
export function formatChecksum(value: bigint): string {
  return value.toString(16).padStart(16, "0");
}

/**
 * Parses the 16-hex-digit form of a checksum, rejecting anything else.
 *
 * @example
 * ```ts
 * import { parseChecksum } from "./checksum.ts";
 * console.log(parseChecksum("00000000000000ff")); // 255n
 * ```
 *
 * @param text The hex form.
 * @returns The checksum.
 * @throws {RangeError} When `text` is not 16 hex digits.
 */
export function parseChecksum(text: string): bigint {
  if (!/^[0-9a-f]{16}$/.test(text)) {
    throw new RangeError(`not a checksum (16 lowercase hex digits): ${JSON.stringify(text)}`);
  }
  return BigInt("0x" + text);
}
