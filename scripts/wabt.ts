/**
 * Loads wabt (the WebAssembly text assembler, installed from npm into `.tools/` by the Makefile)
 * and assembles `.wat` text with it: the one place that knows where wabt lives and how its
 * CommonJS API is called, for `scripts/build_wasm.ts` and the tests that check that embedded
 * modules are their `.wat` sources assembled. wabt is a build tool, never a runtime dependency.
 *
 * @example
 * ```ts
 * import { assembleWat, loadWabt } from "./wabt.ts";
 * const wabt = await loadWabt();
 * const bytes = assembleWat(wabt, "empty.wat", "(module)", {});
 * console.log(bytes.length); // 8
 * ```
 *
 * @module
 */

import { createRequire } from "node:module";

/**
 * The wabt proposals a module may use: this project's modules use SIMD, threads (a shared
 * memory) and relaxed SIMD.
 *
 * @example
 * ```ts
 * import type { WabtFeatures } from "./wabt.ts";
 * const features: WabtFeatures = { simd: true, threads: true };
 * ```
 */
export interface WabtFeatures {
  /** 128-bit SIMD (`v128`). */
  simd?: boolean;
  /** Threads: shared memories and atomics. */
  threads?: boolean;
  /** Relaxed SIMD (`i8x16.relaxed_swizzle`, in the kernels' relaxed build). */
  relaxed_simd?: boolean;
}

/**
 * The part of the wabt.js API used here.
 *
 * @example
 * ```ts
 * import { loadWabt, type Wabt } from "./wabt.ts";
 * const wabt: Wabt = await loadWabt();
 * ```
 */
export interface Wabt {
  /** Parses a module's text; the result validates, assembles and must be destroyed. */
  parseWat(filename: string, text: string, features: WabtFeatures): {
    validate(features: WabtFeatures): void;
    toBinary(options: { log?: boolean }): { buffer: Uint8Array };
    destroy(): void;
  };
}

/**
 * Where the Makefile installs wabt.
 *
 * @example
 * ```ts
 * import { WABT_PATH } from "./wabt.ts";
 * console.log(WABT_PATH.pathname.endsWith("/wabt/index.js")); // true
 * ```
 */
export const WABT_PATH: URL = new URL("../.tools/node_modules/wabt/index.js", import.meta.url);

/**
 * Whether wabt is installed (tests that need it are skipped without it).
 *
 * @example
 * ```ts
 * import { wabtInstalled } from "./wabt.ts";
 * if (!(await wabtInstalled())) console.log("run `make wasm` first");
 * ```
 */
export async function wabtInstalled(): Promise<boolean> {
  return await Deno.stat(WABT_PATH).then(() => true, () => false);
}

/**
 * Loads wabt, or throws naming the command that installs it.
 *
 * @example
 * ```ts
 * import { loadWabt } from "./wabt.ts";
 * const wabt = await loadWabt();
 * ```
 */
export async function loadWabt(): Promise<Wabt> {
  if (!(await wabtInstalled())) {
    throw new Error(`wabt is not installed at ${WABT_PATH.pathname}; run \`make wasm\``);
  }
  // wabt.js is CommonJS; Deno's ESM import finds no default export in it, require() does.
  const init = createRequire(import.meta.url)(WABT_PATH.pathname) as () => Promise<Wabt>;
  return await init();
}

/**
 * Assembles and validates `.wat` text; throws wabt's message (with `name` and the line) when
 * the text is not a valid module with these features.
 *
 * @example
 * ```ts
 * import { assembleWat, loadWabt } from "./wabt.ts";
 * const bytes = assembleWat(await loadWabt(), "t.wat", "(module (memory 1))", {});
 * console.log(WebAssembly.validate(bytes)); // true
 * ```
 *
 * @param wabt From {@linkcode loadWabt}.
 * @param name The file name used in error messages.
 * @param text The module's text.
 * @param features The proposals the module may use.
 */
export function assembleWat(
  wabt: Wabt,
  name: string,
  text: string,
  features: WabtFeatures,
): Uint8Array<ArrayBuffer> {
  const module = wabt.parseWat(name, text, features);
  try {
    module.validate(features);
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
