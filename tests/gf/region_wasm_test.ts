import assert from "node:assert/strict";
import { assembleKernels } from "../../scripts/build_wasm.ts";
import { expandGeneratedBlocks, generatedBlocks } from "../../scripts/gf_kernels_gen.ts";
import { loadWabt, wabtInstalled } from "../../scripts/wabt.ts";
import { WasmArena } from "../../src/buffer/arena.ts";
import { mul as gfMul } from "../../src/gf/gf256.ts";
import type { Matrix, RegionKernels } from "../../src/gf/region.ts";
import { referenceKernels as ref } from "../../src/gf/region_ref.ts";
import {
  createWasmKernels,
  supportedWasmKernelVariants,
  type WasmKernelHost,
  type WasmKernelVariant,
} from "../../src/gf/region_wasm.ts";
import { RELAXED_SIMD_BASE64, SIMD_BASE64, wasmBytes } from "../../src/gf/wasm/gf_kernels_wasm.ts";
import {
  assertSameBytes,
  checkDotProductShapes,
  checkInPlace,
  checkTwoRegionOps,
  fillRandom,
  random,
  unaligned,
} from "./_region_cases.ts";

const VARIANTS: readonly WasmKernelVariant[] = ["relaxed-simd", "simd"];

function arenaFor(variant: WasmKernelVariant, maxBytes = 128 << 20): WasmArena {
  return new WasmArena({ maxBytes, kernelVariant: variant });
}

Deno.test("this engine supports both variants, relaxed SIMD first", () => {
  assert.deepEqual(supportedWasmKernelVariants(), ["relaxed-simd", "simd"]);
  assert.equal(new WasmArena({ maxBytes: 1 << 20 }).kernels.name, "wasm-relaxed-simd");
});

for (const variant of VARIANTS) {
  Deno.test(`${variant}: name and variant`, () => {
    const k = arenaFor(variant, 1 << 20).kernels;
    assert.equal(k.variant, variant);
    assert.equal(k.name, `wasm-${variant}`);
  });

  Deno.test(`${variant}: xor, mul, mulAdd equal the reference at every length and offset`, () => {
    const arena = arenaFor(variant);
    checkTwoRegionOps({ k: arena.kernels, arena }, 0x5eed + variant.length);
  });

  Deno.test(`${variant}: dst === src`, () => {
    const arena = arenaFor(variant);
    checkInPlace({ k: arena.kernels, arena });
  });

  Deno.test(`${variant}: dotProduct equals the reference for every shape`, () => {
    const arena = arenaFor(variant, 512 << 20);
    checkDotProductShapes({ k: arena.kernels, arena });
  });

  Deno.test(`${variant}: dotProductAdd adds to the outputs, in the arena and outside`, () => {
    const arena = arenaFor(variant, 512 << 20);
    checkDotProductShapes({ k: arena.kernels, arena }, { adds: true });
    // Regions outside the arena go through the scratch area: a foreign output's bytes must be
    // staged in before the products are added.
    const foreign = (n: number, shift: number) => new Uint8Array(n + 8).subarray(shift, shift + n);
    checkDotProductShapes({ k: arena.kernels, arena }, {
      adds: true,
      input: (arena, n, j) => j % 3 === 2 ? foreign(n, j % 4) : unaligned(arena, n, j % 4),
      output: (arena, n, i) => i % 2 === 1 ? foreign(n, i % 3) : unaligned(arena, n, i % 5),
    });
  });

  Deno.test(`${variant}: dotProductAdd to other regions: in the arena, outside, an input`, () => {
    const arena = arenaFor(variant, 512 << 20);
    // Output 0 adds to an input, every third to itself, the others to a region of their own.
    const from = (arena: WasmArena, n: number, i: number, ins: readonly Uint8Array[]) =>
      i === 0 ? ins[ins.length - 1]! : i % 3 === 0 ? null : unaligned(arena, n, (i * 7) % 11);
    checkDotProductShapes({ k: arena.kernels, arena }, { adds: true, from });
    const foreign = (n: number, shift: number) => new Uint8Array(n + 8).subarray(shift, shift + n);
    checkDotProductShapes({ k: arena.kernels, arena }, {
      adds: true,
      from: (arena, n, i, ins) => i % 2 === 1 ? foreign(n, i % 3) : from(arena, n, i, ins),
    });
  });

  Deno.test(`${variant}: dotProduct for every output group and input count`, () => {
    // The kernel splits outputs into groups of 1..8 (register groups of 2..5 take at most 16
    // inputs per pass and add later passes to the outputs; groups of 1 and 6..8 loop over all
    // inputs) and runs 32- or 64-byte columns, then 16-byte vectors, then bytes.
    const arena = arenaFor(variant, 256 << 20);
    const k = arena.kernels;
    const next = random(0x6a0 + variant.length);
    for (let m = 1; m <= 13; m++) {
      for (const kIns of [1, 2, 15, 16, 17, 33, 70]) {
        const n = [96, 200, 64 + 48 + 3][(m + kIns) % 3]!;
        const ins = Array.from({ length: kIns }, (_, j) => unaligned(arena, n, (j * 5) % 7));
        ins.forEach((r) => fillRandom(r, next));
        const outs = Array.from({ length: m }, (_, i) => unaligned(arena, n, i % 3));
        outs.forEach((r) => fillRandom(r, next));
        const coeffs: Matrix = Array.from({ length: m }, () => {
          const row = new Uint8Array(kIns);
          fillRandom(row, next);
          return row;
        });
        const expected = outs.map(() => new Uint8Array(n));
        ref.dotProduct(expected, coeffs, ins.map((r) => r.slice()));
        k.dotProduct(outs, coeffs, ins);
        outs.forEach((out, i) =>
          assertSameBytes(out, expected[i]!, `(${m},${kIns}) n=${n} out ${i}`)
        );
      }
    }
  });

  Deno.test(`${variant}: dotProduct of a published value`, () => {
    const arena = arenaFor(variant, 1 << 20);
    const out = arena.alloc(1);
    const ins = [arena.alloc(1), arena.alloc(1)];
    ins[0]![0] = 5;
    ins[1]![0] = 128;
    arena.kernels.dotProduct([out], [Uint8Array.of(1, 2)], ins);
    assert.equal(out[0], 5 ^ gfMul(2, 128)); // 2 * 128 = 29 with polynomial 0x11D
    assert.equal(out[0], 5 ^ 29);
  });

  Deno.test(`${variant}: dotProduct with no inputs clears the outputs`, () => {
    const arena = arenaFor(variant, 1 << 20);
    const out = arena.alloc(100).fill(9);
    const foreign = new Uint8Array(100).fill(9);
    arena.kernels.dotProduct([out, foreign], [new Uint8Array(0), new Uint8Array(0)], []);
    assertSameBytes(out, new Uint8Array(100), "arena output");
    assertSameBytes(foreign, new Uint8Array(100), "foreign output");
  });

  Deno.test(`${variant}: foreign (non-arena) regions go through scratch and stay exact`, () => {
    const arena = arenaFor(variant);
    const k = arena.kernels;
    const next = random(0xf0);
    // Longer than half the 1 MiB scratch area, so the copy loops take several chunks.
    for (const n of [1, 100, (1 << 20) + 5]) {
      const inArena = unaligned(arena, n, 1);
      const foreignA = new Uint8Array(n);
      const foreignB = new Uint8Array(n + 2).subarray(2);
      for (const c of [1, 2, 0x8e]) {
        for (const [dst, src] of [[foreignA, foreignB], [foreignA, inArena], [inArena, foreignB]]) {
          fillRandom(dst!, next);
          fillRandom(src!, next);
          const expected = dst!.slice();
          ref.mulAdd(expected, c, src!.slice());
          k.mulAdd(dst!, c, src!);
          assertSameBytes(dst!, expected, `mulAdd n=${n} c=${c}`);
          ref.mul(expected, c, src!.slice());
          k.mul(dst!, c, src!);
          assertSameBytes(dst!, expected, `mul n=${n} c=${c}`);
          ref.xor(expected, src!.slice());
          k.xor(dst!, src!);
          assertSameBytes(dst!, expected, `xor n=${n}`);
        }
        fillRandom(foreignA, next);
        const expected = foreignA.slice();
        ref.mulAdd(expected, c, expected);
        k.mulAdd(foreignA, c, foreignA);
        assertSameBytes(foreignA, expected, `foreign dst === src n=${n} c=${c}`);
      }
      // dotProduct with a mix of arena and foreign regions on both sides.
      const ins = Array.from(
        { length: 11 },
        (_, j) => j % 2 ? new Uint8Array(n) : unaligned(arena, n, 3),
      );
      ins.forEach((r) => fillRandom(r, next));
      const outs = Array.from(
        { length: 5 },
        (_, i) => i % 2 ? unaligned(arena, n, 1) : new Uint8Array(n),
      );
      const coeffs = outs.map(() => {
        const row = new Uint8Array(11);
        fillRandom(row, next);
        return row;
      });
      const expected = outs.map(() => new Uint8Array(n));
      ref.dotProduct(expected, coeffs, ins);
      k.dotProduct(outs, coeffs, ins);
      outs.forEach((out, i) => assertSameBytes(out, expected[i]!, `dotProduct n=${n} out ${i}`));
    }
  });

  Deno.test(`${variant}: invalid arguments throw RangeError like the reference`, () => {
    const arena = arenaFor(variant, 1 << 20);
    const k: RegionKernels = arena.kernels;
    const a = arena.alloc(16);
    const b = arena.alloc(17);
    for (const kernels of [k, ref]) {
      assert.throws(() => kernels.xor(a, b), RangeError);
      assert.throws(() => kernels.mul(a, 2, b), RangeError);
      assert.throws(() => kernels.mulAdd(a, 2, b), RangeError);
      for (const c of [-1, 256, 1.5, NaN]) {
        assert.throws(() => kernels.mul(a, c, a), RangeError, `mul c=${c}`);
        assert.throws(() => kernels.mulAdd(a, c, a), RangeError, `mulAdd c=${c}`);
      }
      const c = arena.alloc(16);
      assert.throws(() => kernels.dotProduct([a], [Uint8Array.of(1)], [c, c]), RangeError);
      assert.throws(() => kernels.dotProduct([a, c], [Uint8Array.of(1)], [c]), RangeError);
      assert.throws(() => kernels.dotProduct([a], [Uint8Array.of(1)], [b]), RangeError);
      const plain = [[1, 300]] as unknown as Matrix;
      assert.throws(() => kernels.dotProduct([a], plain, [c, c]), RangeError);
    }
  });
}

Deno.test("createWasmKernels runs on any host memory, without the arena", () => {
  const memory = new WebAssembly.Memory({ initial: 8, maximum: 8, shared: true });
  let top = 0;
  const reserved: number[] = [];
  const host: WasmKernelHost = {
    memory,
    offsetOf: (view) => view.buffer === memory.buffer ? view.byteOffset : -1,
    reserve: (bytes) => {
      reserved.push(top, bytes);
      top += bytes;
      return top - bytes;
    },
  };
  for (const variant of VARIANTS) {
    top = 0;
    const k = createWasmKernels(host, { variant });
    const data = new Uint8Array(memory.buffer, 256 * 1024, 1000);
    const out = new Uint8Array(memory.buffer, 300 * 1024, 1000);
    fillRandom(data, random(3));
    const expected = new Uint8Array(1000);
    ref.mul(expected, 0x53, data.slice());
    k.mul(out, 0x53, data);
    assertSameBytes(out, expected, `${variant} mul`);
  }
  // The kernels reserve their tables and parameters up front, and nothing else yet.
  assert.ok(top < 200 * 1024, `reserved ${top} bytes`);
});

Deno.test("fixedSize kernels run on a memory at its maximum and refuse one that can grow", () => {
  for (const variant of VARIANTS) {
    for (const pages of [8, 200]) { // 200 pages: limits of two LEB128 bytes
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
      let top = 0;
      const host: WasmKernelHost = {
        memory,
        offsetOf: (view) => view.buffer === memory.buffer ? view.byteOffset : -1,
        reserve: (bytes) => (top += bytes) - bytes,
      };
      const k = createWasmKernels(host, { variant, fixedSize: true });
      // The last bytes of the memory are reachable: the declared size is the real one.
      const data = new Uint8Array(memory.buffer, pages * 65536 - 2000, 1000);
      const out = new Uint8Array(memory.buffer, pages * 65536 - 1000, 1000);
      fillRandom(data, random(pages));
      fillRandom(out, random(pages + 1));
      const expected = out.slice();
      ref.mulAdd(expected, 0xc2, data.slice());
      k.mulAdd(out, 0xc2, data);
      assertSameBytes(out, expected, `${variant} ${pages} pages mulAdd`);
    }
    const growable = new WebAssembly.Memory({ initial: 8, maximum: 16, shared: true });
    assert.throws(
      () =>
        createWasmKernels({ memory: growable, offsetOf: () => -1, reserve: () => 0 }, {
          variant,
          fixedSize: true,
        }),
      WebAssembly.LinkError,
    );
  }
});

Deno.test("the .wat's generated blocks are what scripts/gf_kernels_gen.ts writes", async () => {
  const wat = await Deno.readTextFile(new URL("../../src/gf/wasm/gf_kernels.wat", import.meta.url));
  assert.ok(
    expandGeneratedBlocks(wat, generatedBlocks()) === wat,
    "src/gf/wasm/gf_kernels.wat is stale: run `make wasm`",
  );
});

// The embedded modules must be what the .wat assembles to, both ways (scripts/build_wasm.ts).
// wabt is a build tool, not a dependency: without it (`make wasm` installs it) this is skipped.
Deno.test({
  name: "the embedded modules are src/gf/wasm/gf_kernels.wat assembled",
  ignore: !(await wabtInstalled()),
  fn: async () => {
    const wat = await Deno.readTextFile(
      new URL("../../src/gf/wasm/gf_kernels.wat", import.meta.url),
    );
    const { relaxed, plain } = assembleKernels(await loadWabt(), wat);
    const stale = "src/gf/wasm/gf_kernels_wasm.ts is stale: run `make wasm`";
    assert.deepEqual(wasmBytes(RELAXED_SIMD_BASE64), relaxed, stale);
    assert.deepEqual(wasmBytes(SIMD_BASE64), plain, stale);
  },
});
