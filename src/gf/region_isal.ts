/**
 * GF(2^8) region kernels that call Intel ISA-L (`libisal.so.2`, Debian's `libisal2`) through
 * Deno FFI, on the very `Uint8Array`s they are given: pool buffers (views of the shared
 * WebAssembly memory) and any other region alike, without a copy. ISA-L dispatches to the
 * widest vector unit of the CPU (AVX-512, AVX2, AVX, SSE), which WebAssembly's 128-bit SIMD
 * cannot reach.
 *
 * Which ISA-L function does what:
 *
 * - `mulAdd(dst, c, src)`: `gf_vect_mad(len, 1, 0, table(c), src, dst)`, the table made by
 *   `ec_init_tables(1, 1, [c])`. In place (the same bytes: `dst === src`, or two views of
 *   them) it is `mul(dst, c ^ 1, dst)`, since
 *   `x ^ c·x = (1 ^ c)·x`: ISA-L's kernels redo an overlapping last vector, which is only right
 *   when the source is not the destination.
 * - `xor(dst, src)`: `gf_vect_mad` with the table of 1. Not `xor_gen`: that wants 32-byte
 *   aligned pointers (a view at any offset is not) and its SSE version writes with non-temporal
 *   stores, made for regions beyond the caches. In place it clears `dst`.
 * - `mul(dst, c, src)`: `gf_vect_mul` with the table of `gf_vect_mul_init(c)` when both regions
 *   are 32-byte aligned and the length is a multiple of 32 (what it requires: it uses aligned
 *   loads and stores); otherwise, when the regions share no byte, `ec_encode_data` with one
 *   input and one output (no alignment rule). 0 and 1 are a fill and a copy.
 * - Aliasing is told by addresses, never by `dst === src` alone: the interpreter hands a
 *   slot's buffer out as fresh views of the same bytes. Regions that share bytes in a way ISA-L
 *   cannot take (a `dotProduct` output that is also an input, partly overlapping regions) go
 *   to the fallback kernels.
 * - `dotProduct`: `ec_init_tables` once per coefficient matrix (kept in a small cache of the
 *   most recently used matrices) and `ec_encode_data`, with the arrays of pointers it takes
 *   (`unsigned char **`) built from the views' addresses in two arrays reused across calls.
 *   `dotProductAdd`: the same tables, and `ec_encode_data_update` once per input (its from
 *   regions, when not the outputs, copied into them first).
 *
 * ISA-L wants regions of at least 64 bytes (`gf_vect_mad`) and lengths that fit a C `int`;
 * anything it does not take (shorter or longer regions, the in-place `mul` of an unaligned
 * region) is done by the fallback kernels given at creation (the WebAssembly ones), so every
 * call gives the right bytes. Argument errors are the `RangeError`s of the other kernels.
 *
 * ISA-L's AVX code leaves the upper halves of the vector registers dirty; V8 emits VEX-encoded
 * (AVX) instructions on CPUs that have AVX, so that costs our other code nothing.
 *
 * @module
 */

import type { Matrix, RegionKernels } from "./region.ts";
import { checkCoefficient, checkSameLength, copyFroms, startDotProduct } from "./region_checks.ts";

/**
 * The shared library looked for when no path is given: Debian's `libisal2` package.
 *
 * @example
 * ```ts
 * import { ISAL_LIBRARY } from "./region_isal.ts";
 * console.log(ISAL_LIBRARY); // libisal.so.2
 * ```
 */
export const ISAL_LIBRARY = "libisal.so.2";

/** The shortest region handed to ISA-L (`gf_vect_mad` requires at least 64 bytes). */
const MIN_LENGTH = 64;
/** The longest: a C `int`. */
const MAX_LENGTH = 0x7fffffff;
/** How many coefficient matrices keep their expanded tables. */
const TABLE_CACHE_ENTRIES = 32;

/**
 * The ISA-L functions used, as `Deno.dlopen` declares them.
 *
 * @example
 * ```ts
 * import { ISAL_SYMBOLS } from "./region_isal.ts";
 * console.log(Object.keys(ISAL_SYMBOLS).includes("ec_encode_data")); // true
 * ```
 */
export const ISAL_SYMBOLS = {
  gf_vect_mul_init: { parameters: ["u8", "buffer"], result: "void" },
  gf_vect_mul: { parameters: ["i32", "buffer", "buffer", "buffer"], result: "i32" },
  gf_vect_mad: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer", "buffer"],
    result: "void",
  },
  ec_init_tables: { parameters: ["i32", "i32", "buffer", "buffer"], result: "void" },
  ec_encode_data: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer", "buffer"],
    result: "void",
  },
  ec_encode_data_update: {
    parameters: ["i32", "i32", "i32", "i32", "buffer", "buffer", "buffer"],
    result: "void",
  },
} as const;

/**
 * The ISA-L functions this module calls, bound through FFI.
 *
 * @example
 * ```ts
 * import type { IsalSymbols } from "./region_isal.ts";
 * const mulInit = (isal: IsalSymbols, c: number, table: Uint8Array<ArrayBuffer>) =>
 *   isal.gf_vect_mul_init(c, table);
 * ```
 */
export type IsalSymbols = Deno.DynamicLibrary<typeof ISAL_SYMBOLS>["symbols"];

/**
 * An opened ISA-L library with the per-coefficient tables every kernels object shares.
 *
 * @example
 * ```ts
 * import { type IsalLibrary, openIsal } from "./region_isal.ts";
 * let lib: IsalLibrary | undefined;
 * try {
 *   lib = openIsal();
 * } catch (e) {
 *   console.log(`no ISA-L: ${(e as Error).message}`);
 * }
 * console.log(lib === undefined || lib.path === "libisal.so.2"); // true
 * ```
 */
export interface IsalLibrary {
  /** The path it was opened from, as given. */
  readonly path: string;
  /** The functions used. */
  readonly symbols: IsalSymbols;
  /** `ec_init_tables(1, 1, [c])` for each `c`: 32 bytes each, for `gf_vect_mad`. */
  readonly madTables: readonly Uint8Array[];
  /** `gf_vect_mul_init(c)` for each `c`: 32 bytes each, for `gf_vect_mul`. */
  readonly mulTables: readonly Uint8Array[];
}

/** Libraries opened so far, by path (a library stays open for the life of the process). */
const opened = new Map<string, IsalLibrary>();

/**
 * Opens ISA-L (once per path) and prepares the tables of all 256 coefficients.
 *
 * @example
 * ```ts
 * import { openIsal } from "./region_isal.ts";
 * try {
 *   openIsal("/no/such/libisal.so");
 * } catch (e) {
 *   console.log((e as Error).message.startsWith("cannot open /no/such/libisal.so")); // true
 * }
 * ```
 *
 * @param path The library to open (default {@linkcode ISAL_LIBRARY}, searched as `dlopen` does).
 * @returns The library.
 * @throws {Error} A one-line reason when it cannot be opened (missing, a symbol missing, or FFI
 *   not permitted: `--allow-ffi`).
 */
export function openIsal(path: string = ISAL_LIBRARY): IsalLibrary {
  const known = opened.get(path);
  if (known !== undefined) return known;
  let symbols: IsalSymbols;
  try {
    symbols = Deno.dlopen(path, ISAL_SYMBOLS).symbols;
  } catch (e) {
    // Deno repeats its prefix ("Could not open library: Could not open library: ...").
    const reason = (e instanceof Error ? e.message.split("\n")[0]! : String(e))
      .replace(/^(Could not open library: )+/, "");
    throw new Error(`cannot open ${path}: ${reason}`);
  }
  // One buffer for all tables: off the V8 heap, so FFI sees memory that never moves.
  const bytes = new Uint8Array(new ArrayBuffer(2 * 256 * 32));
  const madTables: Uint8Array[] = [];
  const mulTables: Uint8Array[] = [];
  const one = new Uint8Array(new ArrayBuffer(64), 0, 1);
  for (let c = 0; c < 256; c++) {
    const mad = bytes.subarray(32 * c, 32 * c + 32);
    const mul = bytes.subarray(8192 + 32 * c, 8192 + 32 * c + 32);
    one[0] = c;
    symbols.ec_init_tables(1, 1, one, mad);
    symbols.gf_vect_mul_init(c, mul);
    madTables.push(mad);
    mulTables.push(mul);
  }
  const library = Object.freeze({ path, symbols, madTables, mulTables });
  opened.set(path, library);
  return library;
}

/** The address of a view's first byte, for alignment and for the pointer arrays. */
function addressOf(view: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(view as Uint8Array<ArrayBuffer>)));
}

/**
 * Whether two regions share a byte. Two views of the same bytes are different objects (the
 * interpreter hands a slot's buffer out as a fresh view), so `a === b` does not tell aliasing:
 * the addresses do.
 */
function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return a.length > 0;
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

/**
 * Creates region kernels over an opened ISA-L, doing through `fallback` what ISA-L does not
 * take (regions under 64 bytes or over 2^31 - 1, an in-place `mul` of an unaligned region).
 *
 * @example
 * ```ts
 * import { createIsalKernels, openIsal } from "./region_isal.ts";
 * import { referenceKernels } from "./region_ref.ts";
 * try {
 *   const k = createIsalKernels(openIsal(), referenceKernels);
 *   const dst = new Uint8Array(4096);
 *   k.mulAdd(dst, 2, new Uint8Array(4096).fill(3));
 *   console.log(k.name, dst[0]); // isal-ffi 6
 * } catch (e) {
 *   console.log(`no ISA-L here: ${(e as Error).message}`);
 * }
 * ```
 *
 * @param library The library from {@linkcode openIsal}.
 * @param fallback The kernels for what ISA-L does not take (the WebAssembly ones in cdfs).
 * @returns Kernels named `"isal-ffi"`.
 */
export function createIsalKernels(library: IsalLibrary, fallback: RegionKernels): RegionKernels {
  const isal = library.symbols;
  const { madTables, mulTables } = library;
  const fits = (n: number): boolean => n >= MIN_LENGTH && n <= MAX_LENGTH;

  // The pointer arrays of ec_encode_data, grown to the largest call seen and reused.
  let inPtrs = new BigUint64Array(new ArrayBuffer(8 * 16));
  let outPtrs = new BigUint64Array(new ArrayBuffer(8 * 8));
  const ensure = (ptrs: BigUint64Array<ArrayBuffer>, count: number) =>
    ptrs.length >= count
      ? ptrs
      : new BigUint64Array(new ArrayBuffer(8 * Math.max(count, 2 * ptrs.length)));

  /** Expanded tables by coefficient matrix, least recently used first. */
  const tableCache = new Map<string, Uint8Array>();
  const tablesOf = (coeffs: Matrix, k: number): Uint8Array => {
    let key = `${k}:`;
    for (const row of coeffs) {
      for (let j = 0; j < k; j++) key += String.fromCharCode(row[j]!);
      key += "|";
    }
    let tables = tableCache.get(key);
    if (tables !== undefined) {
      tableCache.delete(key);
    } else {
      const flat = new Uint8Array(new ArrayBuffer(Math.max(64, coeffs.length * k)));
      coeffs.forEach((row, i) => flat.set(row, i * k));
      tables = new Uint8Array(new ArrayBuffer(32 * k * coeffs.length));
      isal.ec_init_tables(k, coeffs.length, flat, tables);
      if (tableCache.size >= TABLE_CACHE_ENTRIES) {
        tableCache.delete(tableCache.keys().next().value!);
      }
    }
    tableCache.set(key, tables);
    return tables;
  };

  /** `ec_encode_data` over views (the caller checked the shapes and lengths). */
  const encode = (
    outs: readonly Uint8Array[],
    tables: Uint8Array,
    ins: readonly Uint8Array[],
    n: number,
  ): void => {
    inPtrs = ensure(inPtrs, ins.length);
    outPtrs = ensure(outPtrs, outs.length);
    for (let j = 0; j < ins.length; j++) inPtrs[j] = addressOf(ins[j]!);
    for (let i = 0; i < outs.length; i++) outPtrs[i] = addressOf(outs[i]!);
    isal.ec_encode_data(n, ins.length, outs.length, tables, inPtrs, outPtrs);
  };

  const mul = (dst: Uint8Array, c: number, src: Uint8Array): void => {
    checkSameLength(dst, src);
    checkCoefficient(c);
    const n = dst.length;
    if (n === 0) return;
    if (c === 0) dst.fill(0);
    else if (c === 1) {
      if (dst !== src) dst.set(src);
    } else if (
      (!overlaps(dst, src) || dst.byteOffset === src.byteOffset) &&
      n % 32 === 0 && n <= MAX_LENGTH && addressOf(dst) % 32n === 0n &&
      addressOf(src) % 32n === 0n &&
      isal.gf_vect_mul(
          n,
          mulTables[c]!,
          src as Uint8Array<ArrayBuffer>,
          dst as Uint8Array<ArrayBuffer>,
        ) === 0
    ) {
      // Done by gf_vect_mul.
    } else if (fits(n) && !overlaps(dst, src)) encode([dst], madTables[c]!, [src], n);
    else fallback.mul(dst, c, src);
  };

  const mulAdd = (dst: Uint8Array, c: number, src: Uint8Array): void => {
    checkSameLength(dst, src);
    checkCoefficient(c);
    const n = dst.length;
    if (n === 0 || c === 0) return;
    if (dst === src || (dst.buffer === src.buffer && dst.byteOffset === src.byteOffset)) {
      mul(dst, c ^ 1, dst);
    } else if (overlaps(dst, src)) fallback.mulAdd(dst, c, src);
    else if (fits(n)) {
      isal.gf_vect_mad(
        n,
        1,
        0,
        madTables[c]!,
        src as Uint8Array<ArrayBuffer>,
        dst as Uint8Array<ArrayBuffer>,
      );
    } else fallback.mulAdd(dst, c, src);
  };

  const xor = (dst: Uint8Array, src: Uint8Array): void => {
    checkSameLength(dst, src);
    if (dst.length === 0) return;
    if (dst === src || (dst.buffer === src.buffer && dst.byteOffset === src.byteOffset)) {
      dst.fill(0);
    } else mulAdd(dst, 1, src);
  };

  /** Whether ISA-L can take a dot product of `n` bytes over these regions. */
  const takesDot = (n: number, outs: readonly Uint8Array[], ins: readonly Uint8Array[]) =>
    // ec_encode_data redoes an overlapping last vector from its inputs: an output that is
    // also an input would have changed under it.
    fits(n) && !outs.some((out) => ins.some((input) => overlaps(out, input)));

  const dotProduct = (
    outs: readonly Uint8Array[],
    coeffs: Matrix,
    ins: readonly Uint8Array[],
  ): void => {
    const n = startDotProduct(outs, coeffs, ins);
    if (n === 0) return;
    if (takesDot(n, outs, ins)) encode(outs, tablesOf(coeffs, ins.length), ins, n);
    else fallback.dotProduct(outs, coeffs, ins);
  };

  // ec_encode_data_update adds one input's products to every output (the vec_i-th tables of
  // the same ec_init_tables expansion): one call per input, each reading its input once.
  // What is added to, when not the outputs, is copied into them first: ISA-L has no kernel
  // that reads one region and writes another with the sum.
  const dotProductAdd = (
    outs: readonly Uint8Array[],
    coeffs: Matrix,
    ins: readonly Uint8Array[],
    froms?: readonly Uint8Array[],
  ): void => {
    const n = startDotProduct(outs, coeffs, ins, true, froms);
    if (n === 0) return;
    if (!takesDot(n, outs, ins)) {
      fallback.dotProductAdd(outs, coeffs, ins, froms);
      return;
    }
    if (froms !== undefined) copyFroms(outs, froms);
    const tables = tablesOf(coeffs, ins.length);
    outPtrs = ensure(outPtrs, outs.length);
    for (let i = 0; i < outs.length; i++) outPtrs[i] = addressOf(outs[i]!);
    for (let j = 0; j < ins.length; j++) {
      isal.ec_encode_data_update(
        n,
        ins.length,
        outs.length,
        j,
        tables as Uint8Array<ArrayBuffer>,
        ins[j] as Uint8Array<ArrayBuffer>,
        outPtrs,
      );
    }
  };

  return Object.freeze({ name: "isal-ffi", xor, mul, mulAdd, dotProduct, dotProductAdd });
}
