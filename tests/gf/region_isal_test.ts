import assert from "node:assert/strict";
import { WasmArena } from "../../src/buffer/arena.ts";
import type { RegionKernels } from "../../src/gf/region.ts";
import { createIsalKernels } from "../../src/gf/region_isal.ts";
import { referenceKernels as ref } from "../../src/gf/region_ref.ts";
import { isal, isalNamed, noIsal } from "../helpers/isal.ts";
import {
  assertSameBytes,
  checkDotProductShapes,
  checkInPlace,
  checkTwoRegionOps,
  coefficients,
  fillRandom,
  random,
  unaligned,
} from "./_region_cases.ts";

const ignore = noIsal !== null;

function setup(maxBytes = 128 << 20): { arena: WasmArena; k: RegionKernels; wasm: RegionKernels } {
  const arena = new WasmArena({ maxBytes });
  const wasm = arena.kernels;
  return { arena, wasm, k: createIsalKernels(isal!, wasm) };
}

Deno.test({
  name: isalNamed(
    "isal: xor, mul, mulAdd equal WASM and TS at every length and offset (pool views)",
  ),
  ignore,
  fn() {
    const { arena, k, wasm } = setup();
    assert.equal(k.name, "isal-ffi");
    checkTwoRegionOps({ k, arena, also: wasm }, 0x15a1);
  },
});

Deno.test({
  name: isalNamed("isal: dst === src, aligned and not"),
  ignore,
  fn() {
    checkInPlace(setup());
  },
});

// The interpreter hands a slot's buffer out as fresh views: two views of the same bytes are
// in place too. ISA-L given them as two regions computed the last vector wrong (a RapidRAID
// coded block differed in its last 64 bytes before this was told by address).
Deno.test({
  name: isalNamed(
    "isal: two views of the same bytes are in place; an output that is also an input",
  ),
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
  name: isalNamed(
    "isal: dotProduct equals WASM and TS for every shape, pool views and foreign ones",
  ),
  ignore,
  fn() {
    const { arena, k, wasm } = setup(512 << 20);
    checkDotProductShapes({ k, arena, also: wasm }, {
      // Every third input lives outside the arena: ISA-L takes any view.
      input: (arena, n, j) =>
        j % 3 === 2 ? new Uint8Array(n + 8).subarray(j % 4, j % 4 + n) : unaligned(arena, n, j % 4),
      rounds: 2, // the second call takes the matrix's tables from the cache
    });
  },
});

Deno.test({
  name: isalNamed("isal: dotProductAdd adds to the outputs like the reference, every shape"),
  ignore,
  fn() {
    const { arena, k, wasm } = setup(512 << 20);
    const input = (arena: WasmArena, n: number, j: number) =>
      j % 3 === 2 ? new Uint8Array(n + 8).subarray(j % 4, j % 4 + n) : unaligned(arena, n, j % 4);
    checkDotProductShapes({ k, arena, also: wasm }, { adds: true, input, rounds: 2 });
    // To other regions: an input, itself, a region of its own.
    checkDotProductShapes({ k, arena, also: wasm }, {
      adds: true,
      input,
      from: (arena, n, i, ins) =>
        i === 0 ? ins[0]! : i % 3 === 0 ? null : unaligned(arena, n, (i * 7) % 11),
    });
  },
});

Deno.test({
  name: isalNamed("isal: the table cache keeps matrices of different shapes apart"),
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
  name: isalNamed("isal: invalid arguments throw RangeError like the reference"),
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
