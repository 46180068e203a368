/**
 * Throughput of the WebAssembly-SIMD region kernels (`src/gf/region_wasm.ts`), both builds,
 * on 64 KiB and 1 MiB regions that live in arena memory (the zero-copy path), next to the
 * same call on foreign `Uint8Array`s (the copy-through-scratch path). Regions come from a
 * `BufferPool`, so their start addresses are staggered as in production.
 *
 * Run with `deno bench -A bench/gf/gf_wasm_bench.ts`. GB/s = bytes per call / time per call:
 * mulAdd, mul and xor process the region size; the RS(11+5) `dotProduct` processes 11 regions
 * of input per call. For the relaxed build at 64 KiB, `dotProduct` also runs with 1..8
 * outputs of 11 inputs: the kernel has a different code path per output group size. A
 * pipelined code's step (2 outputs adding 2 inputs' products) runs as four `mulAdd`s and as one
 * `dotProductAdd`.
 *
 * @module
 */

import { WasmArena } from "../../src/buffer/arena.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import type { WasmKernelVariant } from "../../src/gf/region_wasm.ts";

function fillRandom(r: Uint8Array): void {
  const chunk = new Uint8Array(65536);
  for (let i = 0; i < r.length; i += chunk.length) {
    crypto.getRandomValues(chunk);
    r.set(chunk.subarray(0, Math.min(chunk.length, r.length - i)), i);
  }
}

const SIZES = [["64 KiB", 64 * 1024], ["1 MiB", 1024 * 1024]] as const;
const VARIANTS: readonly WasmKernelVariant[] = ["relaxed-simd", "simd"];

for (const variant of VARIANTS) {
  const arena = new WasmArena({ maxBytes: 64 << 20, kernelVariant: variant });
  const k = arena.kernels;
  for (const [label, size] of SIZES) {
    const pool = new BufferPool({ arena, bufferSize: size, maxBuffers: 19 });
    const buffers = Array.from({ length: 19 }, () => pool.tryAcquire()!.bytes);
    buffers.forEach(fillRandom);
    const [dst, src] = buffers as [Uint8Array, Uint8Array];
    Deno.bench(`${variant} mulAdd ${label}`, { group: `mulAdd ${label}` }, () => {
      k.mulAdd(dst, 0x8e, src);
    });
    Deno.bench(`${variant} mul ${label}`, { group: `mul ${label}` }, () => {
      k.mul(dst, 0x8e, src);
    });
    Deno.bench(`${variant} xor ${label}`, { group: `xor ${label}` }, () => {
      k.xor(dst, src);
    });
    // One RS(11+5) encode: 11 inputs of `size` bytes each.
    const ins = buffers.slice(0, 11);
    const outs = buffers.slice(11, 16);
    const coeffs = outs.map((_, i) => Uint8Array.from(ins, (_, j) => (i * 11 + j) * 7 % 254 + 2));
    Deno.bench(`${variant} dotProduct 5x11 ${label} each`, { group: `dot ${label}` }, () => {
      k.dotProduct(outs, coeffs, ins);
    });
    // A RapidRAID middle node's step after its COPY: stream and prev each add two parts'
    // products, as four mulAdds (what the program says) and as one dotProductAdd (fused).
    const [stream, prev, a, b] = buffers.slice(12, 16) as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    const step = [Uint8Array.of(139, 137), Uint8Array.of(37, 149)];
    Deno.bench(`${variant} 4 mulAdds, 2x2 ${label} each`, {
      group: `pipeline step ${label}`,
      baseline: true,
    }, () => {
      k.mulAdd(stream, 139, a);
      k.mulAdd(stream, 137, b);
      k.mulAdd(prev, 37, a);
      k.mulAdd(prev, 149, b);
    });
    Deno.bench(`${variant} dotProductAdd 2x2 ${label} each`, {
      group: `pipeline step ${label}`,
    }, () => {
      k.dotProductAdd([stream, prev], step, [a, b]);
    });
    if (variant === "relaxed-simd" && size === 64 * 1024) {
      for (let m = 1; m <= 8; m++) {
        const parity = buffers.slice(11, 11 + m);
        const rows = parity.map((_, i) =>
          Uint8Array.from(ins, (_, j) => (i * 11 + j) * 7 % 254 + 2)
        );
        Deno.bench(
          `${variant} dotProduct ${m}x11 ${label} each`,
          { group: `dot m ${label}` },
          () => {
            k.dotProduct(parity, rows, ins);
          },
        );
      }
    }
    if (variant === "relaxed-simd") {
      const foreignDst = dst.slice();
      const foreignSrc = src.slice();
      Deno.bench(
        `${variant} mulAdd ${label}, foreign regions`,
        { group: `mulAdd ${label}` },
        () => {
          k.mulAdd(foreignDst, 0x8e, foreignSrc);
        },
      );
    }
  }
}
