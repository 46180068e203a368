import assert from "node:assert/strict";
import { WasmArena } from "../../src/buffer/arena.ts";
import type { Matrix, RegionKernels } from "../../src/gf/region.ts";
import { createIsalKernels, type IsalLibrary, openIsal } from "../../src/gf/region_isal.ts";
import { referenceKernels as ref } from "../../src/gf/region_ref.ts";
import {
  assertSameBytes,
  coefficients,
  fillRandom,
  LENGTHS,
  LOOP_EDGES,
  random,
  SHIFTS,
} from "./_region_cases.ts";

/** ISA-L, or why it is not here (the tests below are then skipped, saying so). */
function library(): IsalLibrary | string {
  try {
    return openIsal();
  } catch (e) {
    return (e as Error).message;
  }
}
const isal = library();
const ignore = typeof isal === "string";
/** A test's name, with the reason it is skipped where ISA-L is absent. */
function named(name: string): string {
  return typeof isal !== "string" ? name : `${name}: skipped: ISA-L is not available: ${isal}`;
}

function setup(maxBytes = 128 << 20): { arena: WasmArena; k: RegionKernels; wasm: RegionKernels } {
  const arena = new WasmArena({ maxBytes });
  const wasm = arena.kernels;
  return { arena, wasm, k: createIsalKernels(isal as IsalLibrary, wasm) };
}

/** An arena region of `n` bytes starting `shift` bytes past a 64-byte boundary. */
function unaligned(arena: WasmArena, n: number, shift: number): Uint8Array {
  return arena.alloc(n + shift).subarray(shift);
}

Deno.test({
  name: named("isal: xor, mul, mulAdd equal WASM and TS at every length and offset (pool views)"),
  ignore,
  fn() {
    const { arena, k, wasm } = setup();
    assert.equal(k.name, "isal-ffi");
    const next = random(0x15a1);
    for (const n of LENGTHS) {
      for (const [dstShift, srcShift] of SHIFTS) {
        const src = unaligned(arena, n, srcShift);
        const dst = unaligned(arena, n, dstShift);
        const viaWasm = unaligned(arena, n, dstShift);
        fillRandom(src, next);
        for (const c of coefficients(next)) {
          const what = `n=${n} c=${c} shifts=${dstShift},${srcShift}`;
          for (const op of ["mulAdd", "mul"] as const) {
            fillRandom(dst, next);
            viaWasm.set(dst);
            const expected = dst.slice();
            ref[op](expected, c, src.slice());
            wasm[op](viaWasm, c, src);
            k[op](dst, c, src);
            assertSameBytes(dst, expected, `${op} ${what} (ts)`);
            assertSameBytes(dst, viaWasm, `${op} ${what} (wasm)`);
          }
        }
        fillRandom(dst, next);
        viaWasm.set(dst);
        const expected = dst.slice();
        ref.xor(expected, src.slice());
        wasm.xor(viaWasm, src);
        k.xor(dst, src);
        assertSameBytes(dst, expected, `xor n=${n} (ts)`);
        assertSameBytes(dst, viaWasm, `xor n=${n} (wasm)`);
      }
    }
  },
});

Deno.test({
  name: named("isal: dst === src, aligned and not"),
  ignore,
  fn() {
    const { arena, k } = setup();
    const next = random(7);
    for (const n of [17, 64, 129, ...LOOP_EDGES, 4095, 4096, 65536 + 7]) {
      for (const shift of [0, 1, 32]) {
        const r = unaligned(arena, n, shift);
        for (const c of coefficients(next)) {
          fillRandom(r, next);
          const expected = r.slice();
          ref.mulAdd(expected, c, expected);
          k.mulAdd(r, c, r);
          assertSameBytes(r, expected, `mulAdd n=${n} c=${c} shift=${shift}`);
          ref.mul(expected, c, expected);
          k.mul(r, c, r);
          assertSameBytes(r, expected, `mul n=${n} c=${c} shift=${shift}`);
        }
        k.xor(r, r);
        assertSameBytes(r, new Uint8Array(n), `xor n=${n}`);
      }
    }
  },
});

// The interpreter hands a slot's buffer out as fresh views: two views of the same bytes are
// in place too. ISA-L given them as two regions computed the last vector wrong (a RapidRAID
// coded block differed in its last 64 bytes before this was told by address).
Deno.test({
  name: named("isal: two views of the same bytes are in place; an output that is also an input"),
  ignore,
  fn() {
    const { arena, k } = setup();
    const next = random(0xa11a5);
    for (const n of [64, 129, 4095, 12_345, 65536 + 7]) {
      for (const shift of [0, 1, 32]) {
        const r = unaligned(arena, n, shift);
        const twin = () => new Uint8Array(r.buffer, r.byteOffset, n);
        for (const c of coefficients(next)) {
          fillRandom(r, next);
          const expected = r.slice();
          ref.mul(expected, c, expected.slice());
          k.mul(twin(), c, twin());
          assertSameBytes(r, expected, `mul n=${n} c=${c} shift=${shift}`);
          ref.mulAdd(expected, c, expected.slice());
          k.mulAdd(twin(), c, twin());
          assertSameBytes(r, expected, `mulAdd n=${n} c=${c} shift=${shift}`);
        }
        k.xor(twin(), twin());
        assertSameBytes(r, new Uint8Array(n), `xor n=${n}`);
        // An output that is also an input (as a fresh view of it).
        const ins = [r, arena.alloc(n), arena.alloc(n)];
        for (const input of ins) fillRandom(input, next);
        const coeffs = [Uint8Array.of(3, 7, 9), Uint8Array.of(11, 13, 17)];
        const wantedOuts = [new Uint8Array(n), new Uint8Array(n)];
        ref.dotProduct(wantedOuts, coeffs, ins.map((v) => v.slice()));
        const other = arena.alloc(n);
        k.dotProduct([twin(), other], coeffs, ins);
        assertSameBytes(r, wantedOuts[0]!, `dotProduct output 0 = input 0, n=${n}`);
        assertSameBytes(other, wantedOuts[1]!, `dotProduct output 1, n=${n}`);
      }
    }
  },
});

Deno.test({
  name: named("isal: dotProduct equals WASM and TS for every shape, pool views and foreign ones"),
  ignore,
  fn() {
    const { arena, k, wasm } = setup(512 << 20);
    const next = random(0xd07);
    const shapes = [[1, 1], [5, 11], [4, 10], [8, 3], [3, 8], [9, 2], [17, 4], [40, 70]];
    for (const [m, kIns] of shapes as [number, number][]) {
      const lengths = m * kIns > 100 ? [0, 1, 64, 4095] : [0, 1, 15, 16, 17, 63, 64, 65, 200, 4095];
      if (m === 5 && kIns === 11) lengths.push(1 << 20);
      for (const n of lengths) {
        // Every third input lives outside the arena: ISA-L takes any view.
        const ins = Array.from(
          { length: kIns },
          (_, j) =>
            j % 3 === 2
              ? new Uint8Array(n + 8).subarray(j % 4, j % 4 + n)
              : unaligned(arena, n, j % 4),
        );
        ins.forEach((r) => fillRandom(r, next));
        const outs = Array.from({ length: m }, (_, i) => unaligned(arena, n, (i * 3) % 5));
        outs.forEach((r) => fillRandom(r, next));
        const coeffs: Matrix = Array.from({ length: m }, () => {
          const row = new Uint8Array(kIns);
          fillRandom(row, next);
          return row;
        });
        coeffs[0]![0] = 0;
        if (kIns > 1) coeffs[0]![1] = 1;
        const expected = outs.map(() => new Uint8Array(n));
        ref.dotProduct(expected, coeffs, ins.map((r) => r.slice()));
        const viaWasm = outs.map(() => new Uint8Array(n));
        wasm.dotProduct(viaWasm, coeffs, ins);
        // Twice: the second call takes the matrix's tables from the cache.
        for (const round of [1, 2]) {
          outs.forEach((r) => fillRandom(r, next));
          k.dotProduct(outs, coeffs, ins);
          outs.forEach((out, i) => {
            const what = `(${m},${kIns}) n=${n} out ${i} round ${round}`;
            assertSameBytes(out, expected[i]!, `${what} (ts)`);
            assertSameBytes(out, viaWasm[i]!, `${what} (wasm)`);
          });
        }
      }
    }
  },
});

Deno.test({
  name: named("isal: the table cache keeps matrices of different shapes apart"),
  ignore,
  fn() {
    const { arena, k } = setup(8 << 20);
    const n = 256;
    const next = random(3);
    // Two matrices whose coefficient bytes are the same in the same order, shaped 1x2 and 2x1.
    const a = unaligned(arena, n, 0), b = unaligned(arena, n, 0), o = unaligned(arena, n, 0);
    const p = unaligned(arena, n, 0);
    fillRandom(a, next);
    fillRandom(b, next);
    for (let round = 0; round < 40; round++) {
      const c1 = 2 + round, c2 = 3 + round;
      k.dotProduct([o], [Uint8Array.of(c1, c2)], [a, b]);
      const e = new Uint8Array(n);
      ref.dotProduct([e], [Uint8Array.of(c1, c2)], [a.slice(), b.slice()]);
      assertSameBytes(o, e, `1x2 round ${round}`);
      k.dotProduct([o, p], [Uint8Array.of(c1), Uint8Array.of(c2)], [a]);
      const e2 = [new Uint8Array(n), new Uint8Array(n)];
      ref.dotProduct(e2, [Uint8Array.of(c1), Uint8Array.of(c2)], [a.slice()]);
      assertSameBytes(o, e2[0]!, `2x1 out 0 round ${round}`);
      assertSameBytes(p, e2[1]!, `2x1 out 1 round ${round}`);
    }
  },
});

Deno.test({
  name: named("isal: invalid arguments throw RangeError like the reference"),
  ignore,
  fn() {
    const { k } = setup(4 << 20);
    const a = new Uint8Array(128), b = new Uint8Array(129);
    assert.throws(() => k.xor(a, b), RangeError);
    assert.throws(() => k.mul(a, 256, a.slice()), RangeError);
    assert.throws(() => k.mulAdd(a, -1, a.slice()), RangeError);
    assert.throws(() => k.dotProduct([a], [Uint8Array.of(1, 2)], [a.slice()]), RangeError);
  },
});
