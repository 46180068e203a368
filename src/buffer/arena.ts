/**
 * The WebAssembly memory arena: one shared `WebAssembly.Memory` that holds every buffer the
 * GF(2^8) kernels work on, plus the kernels instantiated on it. Sockets and files read straight
 * into views of this memory and the kernels get those views as offsets, so no byte is copied
 * between the network, the arithmetic and the disk.
 *
 * The memory is *shared* (`shared: true`) on purpose: its `SharedArrayBuffer` is never
 * detached when the memory grows, so every view handed out stays valid for the life of the
 * arena. (Growth makes `memory.buffer` return a new `SharedArrayBuffer` object over the same
 * bytes; old views keep the old object, which is why {@linkcode WasmArena.owns} remembers every
 * buffer object it has handed views over.)
 *
 * By default the memory is created at its full size (`fixedSize`): the kernels can then declare
 * a memory that never grows, which V8 compiles to faster code, and it costs only address space,
 * because shared WebAssembly pages take physical memory when first touched. A growable arena
 * (`initialBytes`, or `fixedSize: false`) starts small and grows on demand.
 *
 * Allocation is a bump pointer: regions are never freed. Long-lived recycling belongs to
 * `BufferPool` (`pool.ts`), which carves its buffers from an arena once.
 *
 * @module
 */

import {
  createWasmKernels,
  type WasmKernelVariant,
  type WasmRegionKernels,
} from "../gf/region_wasm.ts";

/** The WebAssembly page size. */
const PAGE = 65536;

/**
 * The largest memory an arena may have: 65535 pages, one short of 4 GiB, so that no region's
 * end offset wraps the 32-bit address space of the kernels.
 */
const MAX_PAGES = 65535;

/**
 * The default bound of an arena's memory: 1 GiB.
 */
export const DEFAULT_ARENA_MAX_BYTES: number = 1 << 30;

/** The default initial size of an arena's memory: 1 MiB. */
const DEFAULT_INITIAL_BYTES = 1 << 20;

/** The smallest `maxBytes`: the kernels keep about 110 KiB of tables and parameters. */
const MIN_MAX_BYTES = 256 * 1024;

/**
 * Options of {@linkcode WasmArena}.
 *
 * @example
 * ```ts
 * import type { WasmArenaOptions } from "./arena.ts";
 * const options: WasmArenaOptions = { maxBytes: 64 << 20, kernelVariant: "simd" };
 * ```
 */
export interface WasmArenaOptions {
  /**
   * The most bytes the memory may ever hold (default 1 GiB, at least 256 KiB, at most 4 GiB -
   * 64 KiB). The address space for it is reserved up front; pages are used as they are touched.
   */
  maxBytes?: number;
  /**
   * Whether the memory is created at its full size, `maxBytes` rounded up to whole pages, and
   * never grows (default true, unless `initialBytes` is given). The kernels then run on a
   * memory they know cannot grow, which makes them faster (mulAdd +10%, xor +25% on Deno). It
   * costs address space only: shared WebAssembly pages take physical memory (RSS) when first
   * touched, as they do in a growable arena.
   */
  fixedSize?: boolean;
  /**
   * The initial size of a growable memory (default 1 MiB); it grows on demand. Giving it makes
   * the arena growable unless `fixedSize` is true, which ignores it.
   */
  initialBytes?: number;
  /** Which kernel build to use; by default the best the engine supports. */
  kernelVariant?: WasmKernelVariant;
}

/**
 * Options of {@linkcode WasmArena.alloc}.
 *
 * @example
 * ```ts
 * import type { AllocOptions } from "./arena.ts";
 * // Start 320 bytes into a 4 KiB page.
 * const options: AllocOptions = { align: 4096, alignOffset: 320 };
 * ```
 */
export interface AllocOptions {
  /** A power of two from 1 to 65536; the region's start offset is a multiple (default 64). */
  align?: number;
  /** Where in the alignment unit the region starts: `byteOffset % align === alignOffset`. */
  alignOffset?: number;
}

/**
 * Retypes a view over arena memory as `Uint8Array<ArrayBuffer>`, for APIs whose *typings*
 * demand it (TypeScript 6 stream and buffer signatures). This is the one cast the project makes
 * for that purpose: `Deno.FsFile.read`/`write`, `Deno.Conn.read`/`write` and hash-wasm accept
 * views over a `SharedArrayBuffer` at run time. It does not make the buffer detachable: never
 * pass the result to something that transfers or detaches its buffer (a BYOB stream reader,
 * `structuredClone` with `transfer`), which throws on shared memory.
 *
 * @example
 * ```ts
 * import { ioBytes, WasmArena } from "./arena.ts";
 * const arena = new WasmArena({ maxBytes: 1 << 20 });
 * const view = arena.alloc(16);
 * const path = await Deno.makeTempFile();
 * using file = await Deno.open(path, { write: true });
 * await file.write(ioBytes(view)); // the same object, typed for ArrayBuffer-only signatures
 * ```
 *
 * @param view A view over arena memory (or any view).
 * @returns The same view, typed for `ArrayBuffer`-only signatures.
 */
export function ioBytes(view: Uint8Array<ArrayBufferLike>): Uint8Array<ArrayBuffer> {
  return view as Uint8Array<ArrayBuffer>;
}

function checkByteCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

/**
 * A shared WebAssembly memory that bump-allocates regions, with the GF(2^8) kernels running on
 * it. Views it hands out stay valid forever (growth never detaches shared memory).
 *
 * @example
 * ```ts
 * import { WasmArena } from "./arena.ts";
 * const arena = new WasmArena({ maxBytes: 16 << 20 });
 * const data = arena.alloc(4096);
 * const parity = arena.alloc(4096);
 * data.fill(7);
 * arena.kernels.mul(parity, 2, data); // no copy: both regions live in arena memory
 * console.log(parity[0], arena.owns(parity)); // 14 true
 * ```
 */
export class WasmArena {
  /** The shared memory every region lives in. */
  readonly memory: WebAssembly.Memory;
  /** The bound given at construction: allocations never end beyond it. */
  readonly maxBytes: number;
  /** Whether the memory was created at its full size and never grows. */
  readonly fixedSize: boolean;
  /** The kernels, running on {@linkcode WasmArena.memory}. */
  readonly kernels: WasmRegionKernels;
  /** The first byte not yet allocated. */
  #top: number;
  /** Every `SharedArrayBuffer` object of this memory that views have been made over. */
  readonly #buffers = new Set<ArrayBufferLike>();

  /**
   * Creates the memory and instantiates the kernels on it.
   *
   * @param options The bounds of the memory and the kernel variant.
   * @throws {RangeError} When a bound is out of range.
   */
  constructor(options: WasmArenaOptions = {}) {
    const maxBytes = options.maxBytes ?? DEFAULT_ARENA_MAX_BYTES;
    checkByteCount("maxBytes", maxBytes, MIN_MAX_BYTES, MAX_PAGES * PAGE);
    const initialBytes = options.initialBytes ?? Math.min(DEFAULT_INITIAL_BYTES, maxBytes);
    checkByteCount("initialBytes", initialBytes, 0, maxBytes);
    const fixedSize = options.fixedSize ?? options.initialBytes === undefined;
    const maxPages = Math.ceil(maxBytes / PAGE);
    this.maxBytes = maxBytes;
    this.fixedSize = fixedSize;
    this.memory = new WebAssembly.Memory({
      initial: fixedSize ? maxPages : Math.max(1, Math.ceil(initialBytes / PAGE)),
      maximum: maxPages,
      shared: true,
    });
    // Offset 0 stays unused, so no region ever starts at what looks like a null pointer.
    this.#top = 64;
    this.kernels = createWasmKernels({
      memory: this.memory,
      offsetOf: (view) => this.offsetOf(view),
      reserve: (bytes) => this.#reserve(bytes, 64, 0),
    }, {
      fixedSize,
      ...options.kernelVariant === undefined ? {} : { variant: options.kernelVariant },
    });
  }

  /** Bytes handed out so far (including alignment padding and the kernels' own areas). */
  get allocatedBytes(): number {
    return this.#top;
  }

  /** The current size of the memory. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Allocates a region, growing the memory when needed (never in a fixed-size arena). Earlier views stay valid. The bytes
   * are zero the first time (fresh WebAssembly pages); nothing is ever freed.
   *
   * @example
   * ```ts
   * import { WasmArena } from "./arena.ts";
   * const arena = new WasmArena({ maxBytes: 1 << 20 });
   * const region = arena.alloc(1000, { align: 4096 });
   * console.log(region.byteOffset % 4096, region.length); // 0 1000
   * ```
   *
   * @param bytes The length of the region.
   * @param options The alignment of its start.
   * @returns A view over the new region.
   * @throws {RangeError} When the region would end beyond `maxBytes`, or an argument is invalid.
   */
  alloc(bytes: number, options: AllocOptions = {}): Uint8Array<SharedArrayBuffer> {
    const offset = this.#reserve(bytes, options.align ?? 64, options.alignOffset ?? 0);
    // memory.buffer is typed ArrayBuffer, but a shared memory's buffer is a SharedArrayBuffer.
    const buffer = this.memory.buffer as unknown as SharedArrayBuffer;
    this.#buffers.add(buffer);
    return new Uint8Array(buffer, offset, bytes);
  }

  /**
   * Tells whether a view lies inside this arena's memory (the kernels' fast path).
   *
   * @example
   * ```ts
   * import { WasmArena } from "./arena.ts";
   * const arena = new WasmArena({ maxBytes: 1 << 20 });
   * console.log(arena.owns(arena.alloc(8)), arena.owns(new Uint8Array(8))); // true false
   * ```
   *
   * @param view Any byte view.
   * @returns Whether it is a view over this arena's memory.
   */
  owns(view: Uint8Array): boolean {
    return this.offsetOf(view) >= 0;
  }

  /**
   * The byte offset of a view in the memory, or -1 when the view is not inside it.
   *
   * @example
   * ```ts
   * import { WasmArena } from "./arena.ts";
   * const arena = new WasmArena({ maxBytes: 1 << 20 });
   * const region = arena.alloc(64);
   * console.log(arena.offsetOf(region.subarray(3)) === region.byteOffset + 3); // true
   * ```
   *
   * @param view Any byte view.
   * @returns Its offset in the memory, or -1.
   */
  offsetOf(view: Uint8Array): number {
    const buffer = view.buffer;
    if (this.#buffers.has(buffer)) return view.byteOffset;
    // A view made directly over memory.buffer (not through alloc) is inside as well.
    if (buffer === this.memory.buffer) {
      this.#buffers.add(buffer);
      return view.byteOffset;
    }
    return -1;
  }

  /** Bump-allocates `bytes` at `alignOffset` modulo `align`, growing the memory as needed. */
  #reserve(bytes: number, align: number, alignOffset: number): number {
    checkByteCount("allocation size", bytes, 0, this.maxBytes);
    if (!Number.isInteger(align) || align < 1 || align > PAGE || (align & (align - 1)) !== 0) {
      throw new RangeError(`align must be a power of two in 1..${PAGE}, got ${align}`);
    }
    checkByteCount("alignOffset", alignOffset, 0, align - 1);
    const start = this.#top + ((alignOffset - this.#top) % align + align) % align;
    const end = start + bytes;
    if (end > this.maxBytes) {
      throw new RangeError(
        `WebAssembly arena exhausted: ${bytes} more bytes would end at ${end}, beyond its ` +
          `maxBytes of ${this.maxBytes} (${this.#top} bytes already allocated)`,
      );
    }
    const pages = this.memory.buffer.byteLength / PAGE;
    const needed = Math.ceil(end / PAGE) - pages;
    if (needed > 0) {
      // Grow by at least an eighth, so that a long series of small allocations costs few
      // grow() calls (each makes a new SharedArrayBuffer object that owns() must remember).
      const maxPages = Math.ceil(this.maxBytes / PAGE);
      this.memory.grow(Math.min(maxPages - pages, Math.max(needed, Math.ceil(pages / 8))));
    }
    this.#top = end;
    return start;
  }
}

let defaultInstance: WasmArena | undefined;

/**
 * The process-wide arena (1 GiB bound, best kernels), created on first use. Everything that
 * does not need its own bound should share it, so buffers from anywhere meet in one memory.
 *
 * @example
 * ```ts
 * import { defaultArena } from "./arena.ts";
 * console.log(defaultArena() === defaultArena()); // true
 * ```
 *
 * @returns The shared arena.
 */
export function defaultArena(): WasmArena {
  defaultInstance ??= new WasmArena();
  return defaultInstance;
}
