/**
 * The WebAssembly-SIMD region kernels over GF(2^8): split 4-bit tables and `i8x16.swizzle`
 * (the PSHUFB technique of ISA-L and GF-Complete), from `wasm/gf_kernels.wat`.
 *
 * The kernels run on one shared `WebAssembly.Memory` owned by a host (the buffer arena of
 * `src/buffer/arena.ts`; this module imports nothing outside `src/gf`). Regions that are views
 * inside that memory are passed to WebAssembly as offsets and never copied: that is the fast
 * path, and the reason buffers should be allocated from the arena. Any other `Uint8Array` (a
 * "foreign" region) still works: it is copied into a scratch area of the memory in chunks of at
 * most 512 KiB, worked on there and copied back. That is correct but roughly halves the speed.
 *
 * Two builds of the same kernels exist: `"relaxed-simd"` uses `i8x16.relaxed_swizzle` (one
 * PSHUFB on x64; 1.6-1.8x the speed of the other on Zen 4) and `"simd"` plain `i8x16.swizzle`.
 * Both give identical results because every index is a nibble, where relaxed swizzle is fully
 * defined. The best variant the engine accepts is chosen unless one is asked for.
 *
 * Regions passed to one call must either be the same region (`dst === src`) or not overlap;
 * `dotProduct` outputs must not overlap its inputs. One kernels object keeps its call parameters
 * and scratch area in the memory, so it must only be used from the thread that created it
 * (calls are synchronous, so one thread never interleaves them).
 *
 * @module
 */

import { nibbleTables } from "./gf256.ts";
import type { Matrix, RegionKernels } from "./region.ts";
import { checkCoefficient, checkSameLength, copyFroms, startDotProduct } from "./region_checks.ts";
import { RELAXED_SIMD_BASE64, SIMD_BASE64, wasmBytes } from "./wasm/gf_kernels_wasm.ts";

/**
 * Which build of the kernels: with `i8x16.relaxed_swizzle` or with plain `i8x16.swizzle`.
 *
 * @example
 * ```ts
 * import type { WasmKernelVariant } from "./region_wasm.ts";
 * const variant: WasmKernelVariant = "simd";
 * ```
 */
export type WasmKernelVariant = "relaxed-simd" | "simd";

/**
 * What the kernels need from the owner of the memory they run on.
 *
 * @example
 * ```ts
 * import type { WasmKernelHost } from "./region_wasm.ts";
 * const memory = new WebAssembly.Memory({ initial: 4, maximum: 16, shared: true });
 * let top = 0;
 * const host: WasmKernelHost = {
 *   memory,
 *   offsetOf: (view) => view.buffer === memory.buffer ? view.byteOffset : -1,
 *   reserve: (bytes) => (top += bytes) - bytes, // no growth: a sketch only
 * };
 * ```
 */
export interface WasmKernelHost {
  /** A shared memory (`shared: true`) of at most 65535 pages. */
  readonly memory: WebAssembly.Memory;
  /**
   * The byte offset of `view` in {@linkcode WasmKernelHost.memory}, or -1 when the view is not
   * inside it (then the kernels copy it through their scratch area).
   */
  offsetOf(view: Uint8Array): number;
  /**
   * Sets aside `bytes` bytes of the memory for the kernels' own use, for good: 64-byte aligned,
   * inside `memory.buffer` once this returns, never handed out again. Returns the offset.
   */
  reserve(bytes: number): number;
}

/**
 * Region kernels that run in WebAssembly, with the variant they use.
 *
 * @example
 * ```ts
 * import type { WasmRegionKernels } from "./region_wasm.ts";
 * function describe(k: WasmRegionKernels): string {
 *   return `${k.name} (${k.variant})`;
 * }
 * ```
 */
export interface WasmRegionKernels extends RegionKernels {
  /** The build in use. */
  readonly variant: WasmKernelVariant;
}

/**
 * Options of {@linkcode createWasmKernels}.
 *
 * @example
 * ```ts
 * import type { WasmKernelOptions } from "./region_wasm.ts";
 * const options: WasmKernelOptions = { variant: "simd" };
 * ```
 */
export interface WasmKernelOptions {
  /** The build to use; by default the first of {@linkcode supportedWasmKernelVariants}. */
  variant?: WasmKernelVariant;
  /**
   * Whether the host's memory was created at its maximum size (`initial === maximum`), so it
   * can never grow (default false). The kernels then declare a memory of exactly that size,
   * which lets V8 load the memory size once per call instead of after every store (mulAdd
   * +10%, xor +25% on Deno, which runs WebAssembly with explicit bounds checks). Instantiation
   * throws a `WebAssembly.LinkError` when the memory's maximum is larger than its current size.
   */
  fixedSize?: boolean;
}

/** The functions `gf_kernels.wat` exports; every address is a byte offset into the memory. */
interface KernelExports {
  xor(dst: number, src: number, len: number): void;
  mul(dst: number, tables: number, src: number, len: number): void;
  mul_add(dst: number, tables: number, src: number, len: number): void;
  dot_product(
    outs: number,
    froms: number,
    nouts: number,
    ins: number,
    nins: number,
    tables: number,
    len: number,
    accumulate: number,
  ): void;
  gather_tables(dst: number, coeffs: number, count: number, cache: number): void;
}

const BASE64: Record<WasmKernelVariant, string> = {
  "relaxed-simd": RELAXED_SIMD_BASE64,
  "simd": SIMD_BASE64,
};

/** Best first. */
const VARIANTS: readonly WasmKernelVariant[] = ["relaxed-simd", "simd"];

/** The nibble tables of all 256 coefficients, 32 bytes each. */
const TABLE_CACHE_BYTES = 256 * 32;

/**
 * One `dot_product` call handles at most this many outputs and inputs; larger matrices are
 * split (inputs beyond the first slice accumulate). Their tables fill `CONTROL_BYTES`. (Inside
 * a call the kernel again takes inputs 16 at a time for groups of 2..5 outputs.)
 */
const MAX_CALL_OUTS = 32;
const MAX_CALL_INS = 64;
const OUT_PTRS = 0;
const FROM_PTRS = OUT_PTRS + 4 * MAX_CALL_OUTS;
const IN_PTRS = FROM_PTRS + 4 * MAX_CALL_OUTS;
const COEFFS = IN_PTRS + 4 * MAX_CALL_INS;
const TABLES = COEFFS + MAX_CALL_OUTS * MAX_CALL_INS;
const CONTROL_BYTES = TABLES + 32 * MAX_CALL_OUTS * MAX_CALL_INS;

/** Where foreign regions are copied; reserved on first use. */
const SCRATCH_BYTES = 1 << 20;

/** The WebAssembly page size. */
const PAGE = 65536;

/** Reads an unsigned LEB128 number at `at`; returns it and the offset after it. */
function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[at++];
    if (byte === undefined) throw new Error("truncated WebAssembly binary");
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) return [value, at];
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    const low = value % 128;
    value = Math.floor(value / 128);
    out.push(value > 0 ? low | 0x80 : low);
  } while (value > 0);
  return out;
}

/** Skips a name (a LEB128 length and that many bytes). */
function skipName(bytes: Uint8Array, at: number): number {
  const [length, next] = readLeb(bytes, at);
  return next + length;
}

/**
 * A copy of a kernel binary whose imported memory is declared `pages` pages minimum and
 * maximum. The kernels import one memory, shared with a maximum (limits flags 0x03); the new
 * limits change the import section's length, so the section is re-encoded around them.
 */
function withFixedMemory(bytes: Uint8Array, pages: number): Uint8Array<ArrayBuffer> {
  let at = 8; // after the magic number and version
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, body] = readLeb(bytes, at + 1);
    if (id === 2) {
      let [count, p] = readLeb(bytes, body);
      for (; count > 0; count--) {
        p = skipName(bytes, skipName(bytes, p));
        const kind = bytes[p++];
        if (kind !== 2) throw new Error(`unexpected import kind ${kind} in the kernel module`);
        if (bytes[p] !== 0x03) throw new Error("the kernels' memory is not shared with a maximum");
        const [, afterMin] = readLeb(bytes, p + 1);
        const [, afterMax] = readLeb(bytes, afterMin);
        const limits = [0x03, ...leb(pages), ...leb(pages)];
        const sectionBody = [
          ...bytes.subarray(body, p),
          ...limits,
          ...bytes.subarray(afterMax, body + size),
        ];
        const section = [2, ...leb(sectionBody.length), ...sectionBody];
        const out = new Uint8Array(bytes.length - (body + size - at) + section.length);
        out.set(bytes.subarray(0, at));
        out.set(section, at);
        out.set(bytes.subarray(body + size), at + section.length);
        return out;
      }
      break;
    }
    at = body + size;
  }
  throw new Error("the kernel module imports no memory");
}

/** Compiled modules by variant and fixed page count (0: growable); null when rejected. */
const compiled = new Map<string, WebAssembly.Module | null>();

/**
 * The compiled module of a variant, or null when this engine rejects it. With `fixedPages`
 * above 0 its memory is declared exactly that many pages, minimum and maximum.
 */
function compiledModule(variant: WasmKernelVariant, fixedPages = 0): WebAssembly.Module | null {
  const key = `${variant}/${fixedPages}`;
  let module = compiled.get(key);
  if (module === undefined) {
    let bytes = wasmBytes(BASE64[variant]);
    if (fixedPages > 0) bytes = withFixedMemory(bytes, fixedPages);
    module = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    compiled.set(key, module);
  }
  return module;
}

/**
 * The kernel variants this engine can run, best first (empty without WebAssembly SIMD).
 *
 * @example
 * ```ts
 * import { supportedWasmKernelVariants } from "./region_wasm.ts";
 * console.log(supportedWasmKernelVariants()); // [ "relaxed-simd", "simd" ] on Deno
 * ```
 *
 * @returns The variants whose module validates.
 */
export function supportedWasmKernelVariants(): WasmKernelVariant[] {
  return VARIANTS.filter((v) => compiledModule(v) !== null);
}

/**
 * Instantiates the kernels on a host's memory. The host's `reserve` is called twice now (8 KiB
 * of coefficient tables and ~100 KiB of call parameters) and once more, for a 1 MiB scratch
 * area, the first time a foreign region is used.
 *
 * @example
 * ```ts
 * import { createWasmKernels, type WasmKernelHost } from "./region_wasm.ts";
 * const memory = new WebAssembly.Memory({ initial: 32, maximum: 32, shared: true });
 * const buffers = new Set<ArrayBufferLike>([memory.buffer]);
 * let top = 0;
 * const host: WasmKernelHost = {
 *   memory,
 *   offsetOf: (view) => buffers.has(view.buffer) ? view.byteOffset : -1,
 *   reserve: (bytes) => (top += bytes) - bytes, // 2 MiB of memory is enough for this sketch
 * };
 * const kernels = createWasmKernels(host);
 * const data = new Uint8Array(memory.buffer, 1 << 20, 4096);
 * kernels.mul(data, 3, data);
 * ```
 *
 * @param host The memory and its owner's answers.
 * @param options Which variant to use, and whether the memory is at its fixed, final size.
 * @returns The kernels, named `"wasm-relaxed-simd"` or `"wasm-simd"`.
 * @throws {Error} When the engine cannot run the requested (or any) variant.
 */
export function createWasmKernels(
  host: WasmKernelHost,
  options: WasmKernelOptions = {},
): WasmRegionKernels {
  const variant = options.variant ?? supportedWasmKernelVariants()[0];
  if (variant === undefined) throw new Error("this engine does not support WebAssembly SIMD");
  const fixedPages = options.fixedSize ? host.memory.buffer.byteLength / PAGE : 0;
  const module = compiledModule(variant, fixedPages);
  if (module === null) throw new Error(`this engine cannot run the "${variant}" kernels`);
  const instance = new WebAssembly.Instance(module, { env: { memory: host.memory } });
  const wasm = instance.exports as unknown as KernelExports;
  const memory = host.memory;
  const offsetOf = (view: Uint8Array): number => host.offsetOf(view);

  // Every region we reserve lies inside memory.buffer right after reserve(), and a shared
  // buffer is never detached, so these views stay valid however the memory grows later.
  const tableCache = host.reserve(TABLE_CACHE_BYTES);
  const tableBytes = new Uint8Array(memory.buffer, tableCache, TABLE_CACHE_BYTES);
  for (let c = 0; c < 256; c++) tableBytes.set(nibbleTables(c), c * 32);
  const control = host.reserve(CONTROL_BYTES);
  const controlWords = new DataView(memory.buffer, control, CONTROL_BYTES);
  const controlBytes = new Uint8Array(memory.buffer, control, CONTROL_BYTES);
  let scratchAt = -1;
  let scratchBytes: Uint8Array | undefined;
  const scratch = (): Uint8Array => {
    if (scratchBytes === undefined) {
      scratchAt = host.reserve(SCRATCH_BYTES);
      scratchBytes = new Uint8Array(memory.buffer, scratchAt, SCRATCH_BYTES);
    }
    return scratchBytes;
  };
  const tablesOf = (c: number): number => tableCache + 32 * c;

  /**
   * Runs a two-region kernel on regions of which at least one is foreign, in chunks of half
   * the scratch area each: the foreign source is copied in; a foreign destination is copied in
   * only when the kernel reads it (`readsDst`) and always copied back out.
   */
  const pairViaScratch = (
    dst: Uint8Array,
    src: Uint8Array,
    readsDst: boolean,
    run: (d: number, s: number, len: number) => void,
  ): void => {
    const bytes = scratch();
    const half = SCRATCH_BYTES / 2;
    const dstAt = offsetOf(dst);
    const srcAt = offsetOf(src);
    for (let pos = 0; pos < dst.length; pos += half) {
      const len = Math.min(half, dst.length - pos);
      let s = srcAt + pos;
      if (srcAt < 0) {
        bytes.set(src.subarray(pos, pos + len), half);
        s = scratchAt + half;
      }
      let d = dstAt + pos;
      if (dst === src) d = s;
      else if (dstAt < 0) {
        if (readsDst) bytes.set(dst.subarray(pos, pos + len));
        d = scratchAt;
      }
      run(d, s, len);
      if (dstAt < 0) dst.set(bytes.subarray(d - scratchAt, d - scratchAt + len), pos);
    }
  };

  const pair = (
    dst: Uint8Array,
    src: Uint8Array,
    readsDst: boolean,
    run: (d: number, s: number, len: number) => void,
  ): void => {
    const d = offsetOf(dst);
    const s = offsetOf(src);
    if (d >= 0 && s >= 0) run(d, s, dst.length);
    else pairViaScratch(dst, src, readsDst, run);
  };

  const xor = (dst: Uint8Array, src: Uint8Array): void => {
    checkSameLength(dst, src);
    if (dst.length === 0) return;
    pair(dst, src, true, wasm.xor);
  };

  const mul = (dst: Uint8Array, c: number, src: Uint8Array): void => {
    checkSameLength(dst, src);
    checkCoefficient(c);
    if (dst.length === 0) return;
    // 0 and 1 need no arithmetic: memset and memmove beat any table lookup.
    if (c === 0) dst.fill(0);
    else if (c === 1) {
      if (dst !== src) dst.set(src);
    } else {
      const tables = tablesOf(c);
      pair(dst, src, false, (d, s, len) => wasm.mul(d, tables, s, len));
    }
  };

  const mulAdd = (dst: Uint8Array, c: number, src: Uint8Array): void => {
    checkSameLength(dst, src);
    checkCoefficient(c);
    if (dst.length === 0 || c === 0) return;
    if (c === 1) {
      pair(dst, src, true, wasm.xor);
    } else {
      const tables = tablesOf(c);
      pair(dst, src, true, (d, s, len) => wasm.mul_add(d, tables, s, len));
    }
  };

  /** One encode over regions given by offset, split so each call's tables fit the control area. */
  const dotAt = (
    outAt: number[],
    coeffs: Matrix,
    inAt: number[],
    len: number,
    fromAt: number[] | null,
  ): void => {
    for (let i0 = 0; i0 < outAt.length; i0 += MAX_CALL_OUTS) {
      const mo = Math.min(MAX_CALL_OUTS, outAt.length - i0);
      for (let i = 0; i < mo; i++) {
        controlWords.setUint32(OUT_PTRS + 4 * i, outAt[i0 + i]!, true);
        if (fromAt !== null) controlWords.setUint32(FROM_PTRS + 4 * i, fromAt[i0 + i]!, true);
      }
      for (let j0 = 0; j0 < inAt.length; j0 += MAX_CALL_INS) {
        const ko = Math.min(MAX_CALL_INS, inAt.length - j0);
        for (let j = 0; j < ko; j++) {
          controlWords.setUint32(IN_PTRS + 4 * j, inAt[j0 + j]!, true);
          // Input-major, as dot_product wants: the tables one input needs are adjacent.
          for (let i = 0; i < mo; i++) controlBytes[COEFFS + j * mo + i] = coeffs[i0 + i]![j0 + j]!;
        }
        wasm.gather_tables(control + TABLES, control + COEFFS, mo * ko, tableCache);
        // The first inputs add to the froms (dotProductAdd) or overwrite; later ones add to
        // the outputs.
        const first = j0 === 0;
        wasm.dot_product(
          control + OUT_PTRS,
          control + (first && fromAt !== null ? FROM_PTRS : OUT_PTRS),
          mo,
          control + IN_PTRS,
          ko,
          control + TABLES,
          len,
          first && fromAt === null ? 0 : 1,
        );
      }
    }
  };

  /** `dotProduct` with foreign regions: column slices, foreign ones staged in scratch. */
  const dotViaScratch = (
    outs: readonly Uint8Array[],
    outAt: number[],
    coeffs: Matrix,
    ins: readonly Uint8Array[],
    inAt: number[],
    adds: boolean,
  ): void => {
    const bytes = scratch();
    const foreign = [...outAt, ...inAt].filter((at) => at < 0).length;
    if (foreign > SCRATCH_BYTES) throw new RangeError(`too many foreign regions: ${foreign}`);
    // Slices of a multiple of 64 bytes keep the staged regions 64-byte aligned.
    let slice = Math.floor(SCRATCH_BYTES / foreign);
    if (slice >= 64) slice -= slice % 64;
    const n = outs[0]!.length;
    for (let pos = 0; pos < n; pos += slice) {
      const len = Math.min(slice, n - pos);
      let slot = 0;
      const stage = (at: number): number => at >= 0 ? at + pos : scratchAt + len * slot++;
      const outSliceAt = outAt.map((at, i) => {
        const staged = stage(at);
        if (at < 0 && adds) bytes.set(outs[i]!.subarray(pos, pos + len), staged - scratchAt);
        return staged;
      });
      const inSliceAt = inAt.map((at, j) => {
        const staged = stage(at);
        if (at < 0) bytes.set(ins[j]!.subarray(pos, pos + len), staged - scratchAt);
        return staged;
      });
      dotAt(outSliceAt, coeffs, inSliceAt, len, adds ? outSliceAt : null);
      outAt.forEach((at, i) => {
        if (at >= 0) return;
        const from = outSliceAt[i]! - scratchAt;
        outs[i]!.set(bytes.subarray(from, from + len), pos);
      });
    }
  };

  /** `dotProduct` (`adds` false) or `dotProductAdd` (to `froms`, by default the outputs). */
  const dot = (
    outs: readonly Uint8Array[],
    coeffs: Matrix,
    ins: readonly Uint8Array[],
    adds: boolean,
    froms?: readonly Uint8Array[],
  ): void => {
    const n = startDotProduct(outs, coeffs, ins, adds, froms);
    if (n === 0) return;
    const outAt = outs.map(offsetOf);
    const inAt = ins.map(offsetOf);
    let fromAt = froms?.map(offsetOf) ?? (adds ? outAt : null);
    const inMemory = outAt.every((at) => at >= 0) && inAt.every((at) => at >= 0);
    if (froms !== undefined && (!inMemory || fromAt!.some((at) => at < 0))) {
      // A region outside the memory: what is added to is copied into the outputs first (no
      // from region overlaps another output), then added to there.
      copyFroms(outs, froms);
      fromAt = outAt;
    }
    if (inMemory) dotAt(outAt, coeffs, inAt, n, fromAt);
    else dotViaScratch(outs, outAt, coeffs, ins, inAt, adds);
  };

  return Object.freeze({
    name: variant === "relaxed-simd" ? "wasm-relaxed-simd" : "wasm-simd",
    variant,
    xor,
    mul,
    mulAdd,
    dotProduct: (outs: readonly Uint8Array[], coeffs: Matrix, ins: readonly Uint8Array[]) =>
      dot(outs, coeffs, ins, false),
    addsFromInOnePass: true,
    dotProductAdd: (
      outs: readonly Uint8Array[],
      coeffs: Matrix,
      ins: readonly Uint8Array[],
      froms?: readonly Uint8Array[],
    ) => dot(outs, coeffs, ins, true, froms),
  });
}
