/**
 * Throughput of the TypeScript reference region kernels (`src/gf/region_ref.ts`) on 64 KiB and
 * 1 MiB regions. Run with `deno bench bench/gf/gf_ref_bench.ts`; divide the region size by the
 * reported time per iteration for GB/s.
 *
 * @module
 */

import { referenceKernels as k } from "../../src/gf/region_ref.ts";

function randomRegion(size: number): Uint8Array<ArrayBuffer> {
  const r = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(r.subarray(i, i + 65536));
  return r;
}

for (const [label, size] of [["64 KiB", 64 * 1024], ["1 MiB", 1024 * 1024]] as const) {
  const src = randomRegion(size);
  const dst = randomRegion(size);
  Deno.bench(`ref mulAdd ${label}`, { group: `mulAdd ${label}`, baseline: true }, () => {
    k.mulAdd(dst, 0x8e, src);
  });
  Deno.bench(`ref mul ${label}`, { group: `mul ${label}` }, () => {
    k.mul(dst, 0x8e, src);
  });
  Deno.bench(`ref xor ${label}`, { group: `xor ${label}` }, () => {
    k.xor(dst, src);
  });
}

// One RS(11+5) encode of 1 MiB per input, the shape the coding layer uses.
{
  const size = 1024 * 1024;
  const ins = Array.from({ length: 11 }, () => randomRegion(size));
  const outs = Array.from({ length: 5 }, () => new Uint8Array(size));
  const coeffs = outs.map((_, i) => Uint8Array.from(ins, (_, j) => (i * 11 + j) * 7 % 254 + 2));
  Deno.bench("ref dotProduct 5x11, 1 MiB each (11 MiB of data)", () => {
    k.dotProduct(outs, coeffs, ins);
  });
  Deno.bench("ref dotProductAdd 5x11, 1 MiB each (11 MiB of data)", () => {
    k.dotProductAdd(outs, coeffs, ins);
  });
}
