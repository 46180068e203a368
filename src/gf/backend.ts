/**
 * The one place that decides which GF(2^8) region kernels a process codes with:
 *
 * - `wasm`: the WebAssembly SIMD kernels of each buffer arena (`region_wasm.ts`); the portable
 *   default, and what a process uses until {@linkcode configureGfBackend} is called.
 * - `isal`: Intel ISA-L through FFI (`region_isal.ts`), wrapping each arena's WebAssembly
 *   kernels for what ISA-L does not take. Fails when the library cannot be opened or computes
 *   other bytes than the WebAssembly kernels.
 * - `auto`: `isal` when `libisal.so.2` opens (FFI permitted: `--allow-ffi`) and its self-check
 *   passes, else `wasm`; the selection says why in one line.
 * - `ts`: the plain TypeScript reference (slow; for comparison and debugging).
 *
 * The self-check ({@linkcode selfCheck}) runs every kernel on random bytes at several lengths
 * (under and over ISA-L's minimum, odd and aligned) and offsets, in place and not, in
 * WebAssembly memory and outside it, against the WebAssembly kernels, byte for byte.
 *
 * The coding interpreter asks {@linkcode kernelsFor} for the kernels of its pool's arena.
 *
 * @module
 */

import type { Matrix, RegionKernels } from "./region.ts";
import { createIsalKernels, ISAL_LIBRARY, openIsal } from "./region_isal.ts";
import { referenceKernels } from "./region_ref.ts";
import { createWasmKernels, type WasmRegionKernels } from "./region_wasm.ts";

/**
 * What `--gf-backend` (or `CDFS_GF_BACKEND`) asks for.
 *
 * @example
 * ```ts
 * import type { GfBackendChoice } from "./backend.ts";
 * const choice: GfBackendChoice = "auto";
 * ```
 */
export type GfBackendChoice = "auto" | "isal" | "wasm" | "ts";

/**
 * The kernels in use.
 *
 * @example
 * ```ts
 * import type { GfBackendName } from "./backend.ts";
 * const used: GfBackendName = "wasm";
 * ```
 */
export type GfBackendName = "isal" | "wasm" | "ts";

/**
 * The choices, in the order `--help` lists them.
 *
 * @example
 * ```ts
 * import { GF_BACKEND_CHOICES } from "./backend.ts";
 * console.log(GF_BACKEND_CHOICES.join("|")); // auto|isal|wasm|ts
 * ```
 */
export const GF_BACKEND_CHOICES: readonly GfBackendChoice[] = ["auto", "isal", "wasm", "ts"];

/**
 * The outcome of {@linkcode configureGfBackend}.
 *
 * @example
 * ```ts
 * import type { GfBackendSelection } from "./backend.ts";
 * const s: GfBackendSelection = { choice: "auto", backend: "wasm", message: "wasm (auto: ...)" };
 * ```
 */
export interface GfBackendSelection {
  /** What was asked for. */
  readonly choice: GfBackendChoice;
  /** What is used. */
  readonly backend: GfBackendName;
  /** One line for the log: the backend, and why when `auto` did not pick ISA-L. */
  readonly message: string;
}

/**
 * Options of {@linkcode configureGfBackend}.
 *
 * @example
 * ```ts
 * import type { GfBackendOptions } from "./backend.ts";
 * const options: GfBackendOptions = { libraryPath: "/opt/isal/lib/libisal.so.2" };
 * ```
 */
export interface GfBackendOptions {
  /** The ISA-L library to open (default `libisal.so.2`). */
  libraryPath?: string;
  /** Wraps the ISA-L kernels before the self-check (tests inject a broken kernel with it). */
  wrapIsal?: (kernels: RegionKernels) => RegionKernels;
}

/**
 * Parses a `--gf-backend` value.
 *
 * @example
 * ```ts
 * import { parseGfBackend } from "./backend.ts";
 * console.log(parseGfBackend("isal", "--gf-backend")); // isal
 * ```
 *
 * @param text The value.
 * @param what The option or variable it came from, for the error.
 * @returns The choice.
 * @throws {RangeError} When it is none of `auto`, `isal`, `wasm`, `ts`.
 */
export function parseGfBackend(text: string, what: string): GfBackendChoice {
  const choice = GF_BACKEND_CHOICES.find((c) => c === text);
  if (choice === undefined) {
    throw new RangeError(`${what} must be one of ${GF_BACKEND_CHOICES.join(", ")}, got "${text}"`);
  }
  return choice;
}

/** A deterministic generator (xorshift32), so a failed self-check reproduces. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** Lengths under, at and over ISA-L's 64-byte minimum, aligned and odd. */
const CHECK_LENGTHS = [1, 63, 64, 65, 96, 200, 1000, 4096, 4096 + 33, 65536 + 5];
/** Offsets from a 64-byte boundary. */
const CHECK_SHIFTS = [[0, 0], [1, 3], [32, 0], [5, 32]] as const;
/** The coefficient matrices of the `dotProduct` checks (rows, inputs). */
const CHECK_SHAPES = [[1, 1], [5, 11], [3, 4], [7, 2]] as const;

/**
 * Runs `candidate` and `reference` on the same random bytes and compares the results: `mul`,
 * `mulAdd` and `xor` at several lengths and offsets, in place and not, and `dotProduct` and
 * `dotProductAdd` for a few shapes. Regions come from `alloc` (e.g. WebAssembly memory) and,
 * for some, from ordinary `ArrayBuffer`s.
 *
 * @example
 * ```ts
 * import { selfCheck } from "./backend.ts";
 * import { referenceKernels } from "./region_ref.ts";
 * const alloc = (n: number) => new Uint8Array(n + 64);
 * console.log(selfCheck(referenceKernels, referenceKernels, alloc)); // null
 * ```
 *
 * @param candidate The kernels under test.
 * @param reference The kernels trusted.
 * @param alloc Gives a fresh region of at least `n` bytes, 64-byte aligned.
 * @returns null when every byte agrees, else the first difference in one line.
 */
export function selfCheck(
  candidate: RegionKernels,
  reference: RegionKernels,
  alloc: (n: number) => Uint8Array,
): string | null {
  const next = random(0x15a1);
  const fill = (r: Uint8Array): Uint8Array => {
    for (let i = 0; i < r.length; i++) r[i] = next();
    return r;
  };
  const region = (n: number, shift: number, foreign: boolean): Uint8Array =>
    (foreign ? new Uint8Array(new ArrayBuffer(n + 64)) : alloc(n + 64)).subarray(shift, shift + n);
  const differs = (a: Uint8Array, b: Uint8Array): number => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
    return -1;
  };
  for (const n of CHECK_LENGTHS) {
    for (const [dstShift, srcShift] of CHECK_SHIFTS) {
      const foreign = dstShift === 5;
      const src = fill(region(n, srcShift, foreign));
      const dst = region(n, dstShift, false);
      const expected = new Uint8Array(n);
      for (const c of [0, 1, 2, 0x8e, next() & 255]) {
        for (const op of ["mul", "mulAdd", "xor"] as const) {
          const inPlace = c === 2 && dstShift === srcShift;
          const d = inPlace ? src : dst;
          fill(d);
          expected.set(d);
          // The reference's source: the expected bytes themselves in place, else a copy.
          const s = inPlace ? expected : src.slice();
          if (op === "xor") {
            reference.xor(expected, s);
            candidate.xor(d, inPlace ? d : src);
          } else {
            reference[op](expected, c, s);
            candidate[op](d, c, inPlace ? d : src);
          }
          const at = differs(d, expected);
          if (at >= 0) {
            const place = inPlace ? "in place" : `offsets ${dstShift},${srcShift}`;
            return `${op} by ${c} of ${n} bytes (${place}) differs at byte ${at}`;
          }
        }
      }
    }
  }
  for (const [rows, k] of CHECK_SHAPES) {
    for (const n of [64, 1000 + 7, 65536 + 5]) {
      const coeffs: Matrix = Array.from({ length: rows }, () => fill(new Uint8Array(k)));
      const ins = Array.from({ length: k }, (_, j) => fill(region(n, j % 3, j === 1)));
      const outs = Array.from({ length: rows }, (_, i) => region(n, (i * 7) % 64, false));
      // dotProductAdd's first output adds to a region of its own, the others to themselves.
      const froms = [fill(region(n, 9, false)), ...outs.slice(1)];
      for (const op of ["dotProduct", "dotProductAdd"] as const) {
        // Stale bytes: overwritten by dotProduct; added to by dotProductAdd (but the first's).
        outs.forEach(fill);
        const expected = (op === "dotProduct" ? outs : froms).map((r) => r.slice());
        reference[op](expected, coeffs, ins);
        if (op === "dotProduct") candidate.dotProduct(outs, coeffs, ins);
        else candidate.dotProductAdd(outs, coeffs, ins, froms);
        for (let i = 0; i < rows; i++) {
          const at = differs(outs[i]!, expected[i]!);
          if (at >= 0) {
            return `${op} (${rows}x${k}) of ${n} bytes differs at output ${i} byte ${at}`;
          }
        }
      }
    }
  }
  return null;
}

/** WebAssembly kernels on a small memory of their own, the self-check's reference. */
function checkingKernels(): { wasm: WasmRegionKernels; alloc: (n: number) => Uint8Array } {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
  const buffer = memory.buffer;
  let top = 64;
  const reserve = (bytes: number): number => {
    const at = top;
    top = Math.ceil((top + bytes) / 64) * 64;
    if (top > buffer.byteLength) throw new RangeError("the self-check's memory is full");
    return at;
  };
  const wasm = createWasmKernels({
    memory,
    offsetOf: (view) => view.buffer === buffer ? view.byteOffset : -1,
    reserve,
  });
  return { wasm, alloc: (n) => new Uint8Array(buffer, reserve(n), n) };
}

/** What kernelsFor() builds: ISA-L opened, or the plain kernels. */
type Active =
  | { backend: "wasm" | "ts" }
  | {
    backend: "isal";
    wrap: (wasm: RegionKernels) => RegionKernels;
    /** The kernels built so far, by the arena's WebAssembly kernels. */
    built: WeakMap<RegionKernels, RegionKernels>;
  };

let active: Active = { backend: "wasm" };
let selection: GfBackendSelection = {
  choice: "wasm",
  backend: "wasm",
  message: "wasm (the default: no backend configured)",
};

/**
 * Opens ISA-L and self-checks it; returns how to wrap kernels, or throws the reason.
 */
function probeIsal(options: GfBackendOptions): (wasm: RegionKernels) => RegionKernels {
  const library = openIsal(options.libraryPath ?? ISAL_LIBRARY);
  const wrapIsal = options.wrapIsal ?? ((k: RegionKernels) => k);
  const wrap = (wasm: RegionKernels) => wrapIsal(createIsalKernels(library, wasm));
  const { wasm, alloc } = checkingKernels();
  const failure = selfCheck(wrap(wasm), wasm, alloc);
  if (failure !== null) {
    throw new Error(`${library.path} failed the self-check: ${failure}`);
  }
  return wrap;
}

/**
 * Chooses the kernels of this process: what {@linkcode kernelsFor} returns from now on. With
 * `auto`, a library that cannot be opened or fails the self-check means WebAssembly, and the
 * returned message says why; with `isal` it is an error.
 *
 * @example
 * ```ts
 * import { configureGfBackend } from "./backend.ts";
 * const selected = configureGfBackend("auto");
 * console.log(["isal", "wasm"].includes(selected.backend), selected.message.length > 0);
 * configureGfBackend("wasm"); // back to the default
 * ```
 *
 * @param choice What is asked for.
 * @param options The library path, and a test hook.
 * @returns What is used, with one line for the log.
 * @throws {Error} For `isal` when ISA-L cannot be opened or fails its self-check.
 */
export function configureGfBackend(
  choice: GfBackendChoice,
  options: GfBackendOptions = {},
): GfBackendSelection {
  let next: Active;
  let message: string;
  if (choice === "wasm" || choice === "ts") {
    next = { backend: choice };
    message = choice === "wasm"
      ? "wasm (WebAssembly SIMD kernels, asked for)"
      : "ts (the TypeScript reference kernels, asked for)";
  } else {
    try {
      next = { backend: "isal", wrap: probeIsal(options), built: new WeakMap() };
      message = `isal (ISA-L through FFI, ${options.libraryPath ?? ISAL_LIBRARY}, self-checked)`;
    } catch (e) {
      const reason = (e as Error).message;
      if (choice === "isal") throw new Error(`--gf-backend isal: ${reason}`);
      next = { backend: "wasm" };
      message = `wasm (auto: ISA-L not used: ${reason})`;
    }
  }
  active = next;
  selection = { choice, backend: next.backend, message };
  return selection;
}

/**
 * The current selection (`wasm`, the default, until {@linkcode configureGfBackend} is called).
 *
 * @example
 * ```ts
 * import { gfBackend } from "./backend.ts";
 * console.log(gfBackend().backend); // wasm
 * ```
 *
 * @returns What {@linkcode configureGfBackend} last chose.
 */
export function gfBackend(): GfBackendSelection {
  return selection;
}

/**
 * The kernels to code with on the regions of an arena whose WebAssembly kernels are `wasm`:
 * those kernels, ISA-L's wrapped around them, or the TypeScript reference, as configured.
 * Built once per arena and backend.
 *
 * @example
 * ```ts
 * import { kernelsFor } from "./backend.ts";
 * import { referenceKernels } from "./region_ref.ts";
 * // An arena passes its WebAssembly kernels; the default backend gives them back.
 * console.log(kernelsFor(referenceKernels) === referenceKernels); // true
 * ```
 *
 * @param wasm The arena's WebAssembly kernels.
 * @returns The kernels of the configured backend.
 */
export function kernelsFor(wasm: RegionKernels): RegionKernels {
  const now = active;
  if (now.backend !== "isal") return now.backend === "ts" ? referenceKernels : wasm;
  let kernels = now.built.get(wasm);
  if (kernels === undefined) {
    kernels = now.wrap(wasm);
    now.built.set(wasm, kernels);
  }
  return kernels;
}
