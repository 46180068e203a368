/**
 * xxh64 (seed 0) read in place from a shared WebAssembly memory: a small WebAssembly module,
 * assembled from `xxh64.wat` and embedded here as base64 so that the runtime needs no
 * assembler. Hashing a pooled buffer this way costs no copy (~14 GB/s on 1 MiB, against ~8 for
 * hash-wasm on the same view, which first copies it into its own memory); `checksum.ts` uses it
 * for views over the memories registered with `hashInPlace`.
 *
 * To change the module, edit `xxh64.wat`; `tests/checksum/xxh64_wasm_test.ts` assembles it with wabt
 * (installed by `make wasm`) and, when the bytes here differ, fails printing the new base64.
 *
 * @module
 */

/**
 * The module (704 bytes), base64. It imports a shared memory as `env.memory` and exports
 * `xxh64(offset: i32, length: i32): i64`.
 *
 * @example
 * ```ts
 * import { wasmBytes, XXH64_WASM_BASE64 } from "./xxh64_wasm.ts";
 * console.log(wasmBytes(XXH64_WASM_BASE64).length); // 704
 * ```
 */
export const XXH64_WASM_BASE64: string = [
  "AGFzbQEAAAABDQJgAn5+AX5gAn9/AX4CEgEDZW52Bm1lbW9yeQIDAYCABAMEAwAAAQcJAQV4eGg2NAACCoEFAyEA",
  "IAAgAULP1tO+0ser2UJ+fEIfiUKHla+vmLbem55/fgsjACAAQgAgARAAhUKHla+vmLbem55/fkLj3MqV/M7y9YV/",
  "fAu4BAICfwV+IAAgAWohAiABQSBPBEAgAkEgayEDQtbrgu7q/Yn14AAhBULP1tO+0ser2UIhBkIAIQdC+erQ0OfJ",
  "oeThACEIA0AgBSAAKQMAQs/W077Sx6vZQn58Qh+JQoeVr6+Ytt6bnn9+IQUgBiAAKQMIQs/W077Sx6vZQn58Qh+J",
  "QoeVr6+Ytt6bnn9+IQYgByAAKQMQQs/W077Sx6vZQn58Qh+JQoeVr6+Ytt6bnn9+IQcgCCAAKQMYQs/W077Sx6vZ",
  "Qn58Qh+JQoeVr6+Ytt6bnn9+IQggAEEgaiEAIAAgA00NAAsgBUIBiSAGQgeJfCAHQgyJIAhCEol8fCEEIAQgBRAB",
  "IQQgBCAGEAEhBCAEIAcQASEEIAQgCBABIQQFQsXP2bLx5brqJyEECyAEIAGtfCEEAkADQCAAQQhqIAJLDQEgBEIA",
  "IAApAwAQAIUhBCAEQhuJQoeVr6+Ytt6bnn9+QuPcypX8zvL1hX98IQQgAEEIaiEADAALCyAAQQRqIAJNBEAgBCAA",
  "NQIAQoeVr6+Ytt6bnn9+hSEEIARCF4lCz9bTvtLHq9lCfkL5893xmfaZqxZ8IQQgAEEEaiEACwJAA0AgACACTw0B",
  "IAQgADEAAELFz9my8eW66id+hSEEIARCC4lCh5Wvr5i23puef34hBCAAQQFqIQAMAAsLIAQgBEIhiIUhBCAEQs/W",
  "077Sx6vZQn4hBCAEIARCHYiFIQQgBEL5893xmfaZqxZ+IQQgBCAEQiCIhQs=",
].join("");

/**
 * The xxh64 of `length` bytes of a memory from `offset`, as an unsigned 64-bit value.
 *
 * @example
 * ```ts
 * import type { InPlaceXxh64 } from "./xxh64_wasm.ts";
 * const hashOf = (xxh64: InPlaceXxh64, view: Uint8Array) => xxh64(view.byteOffset, view.length);
 * ```
 */
export type InPlaceXxh64 = (offset: number, length: number) => bigint;

let compiled: WebAssembly.Module | undefined;

/**
 * Instantiates the module on `memory` (compiling it on first use, synchronously: it is tiny).
 *
 * @example
 * ```ts
 * import { inPlaceXxh64 } from "./xxh64_wasm.ts";
 * const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
 * new Uint8Array(memory.buffer, 100, 3).set([0x61, 0x62, 0x63]); // "abc"
 * const xxh64 = inPlaceXxh64(memory);
 * console.log(xxh64(100, 3).toString(16)); // "44bc2cf5ad770999"
 * ```
 *
 * @param memory A shared memory (the module imports a shared one).
 * @returns The hash function over that memory; offsets and lengths must lie inside it.
 * @throws {WebAssembly.LinkError} When `memory` is not shared.
 */
export function inPlaceXxh64(memory: WebAssembly.Memory): InPlaceXxh64 {
  compiled ??= new WebAssembly.Module(wasmBytes(XXH64_WASM_BASE64));
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  const xxh64 = instance.exports.xxh64 as (offset: number, length: number) => bigint;
  // The export returns a signed i64; checksums are unsigned.
  return (offset, length) => BigInt.asUintN(64, xxh64(offset, length));
}

/**
 * Decodes base64 into bytes.
 *
 * @example
 * ```ts
 * import { wasmBytes, XXH64_WASM_BASE64 } from "./xxh64_wasm.ts";
 * console.log(WebAssembly.validate(wasmBytes(XXH64_WASM_BASE64))); // true
 * ```
 *
 * @param base64 Base64 text.
 * @returns The bytes.
 */
export function wasmBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
