/**
 * The calls cdfs makes into glibc through FFI, opened once for the whole process: the socket
 * options of `listener_nodelay.ts` and `malloc_trim` of `memory_release.ts`. Linux with glibc
 * only, and it needs `--allow-ffi`; callers say what they do without it.
 *
 * @module
 */

/**
 * The glibc functions cdfs calls, with their FFI signatures.
 *
 * @example
 * ```ts
 * import { LIBC_SYMBOLS } from "./libc.ts";
 * console.log(Object.keys(LIBC_SYMBOLS)); // [ "setsockopt", "getsockopt", "malloc_trim" ]
 * ```
 */
export const LIBC_SYMBOLS = {
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  malloc_trim: { parameters: ["usize"], result: "i32" },
} as const;

/**
 * The glibc functions cdfs calls.
 *
 * @example
 * ```ts
 * import type { LibcSymbols } from "./libc.ts";
 * const call = (c: LibcSymbols) => c.malloc_trim(0n);
 * ```
 */
export type LibcSymbols = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];

let symbols: LibcSymbols | undefined;

/**
 * glibc's functions, `libc.so.6` opened on the first call.
 *
 * @example
 * ```ts
 * import { libc } from "./libc.ts";
 * if (Deno.build.os === "linux" && Deno.build.env === "gnu") libc().malloc_trim(0n);
 * ```
 *
 * @returns The functions.
 * @throws When `libc.so.6` cannot be opened (not glibc) or FFI is not permitted.
 */
export function libc(): LibcSymbols {
  symbols ??= Deno.dlopen("libc.so.6", LIBC_SYMBOLS).symbols;
  return symbols;
}
