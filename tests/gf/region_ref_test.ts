import assert from "node:assert/strict";
import { mul } from "../../src/gf/gf256.ts";
import { dotProduct, dotProductAdd, referenceKernels as k } from "../../src/gf/region_ref.ts";

const LENGTHS = [0, 1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 4095, 1 << 20];
const OFFSETS = [0, 1, 2, 3];
const COEFFICIENTS = [0, 1, 2, 0x1d, 0x8e, 0xff];

function random(n: number): Uint8Array<ArrayBuffer> {
  const r = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(r.subarray(i, i + 65536));
  return r;
}

/** A random region of `n` bytes starting `offset` bytes into a larger buffer. */
function regionAt(n: number, offset: number): Uint8Array {
  return random(n + offset + 3).subarray(offset, offset + n);
}

function scalarMulAdd(dst: Uint8Array, c: number, src: Uint8Array): void {
  for (let i = 0; i < dst.length; i++) dst[i]! ^= mul(c, src[i]!);
}

function scalarMul(dst: Uint8Array, c: number, src: Uint8Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] = mul(c, src[i]!);
}

Deno.test("region_ref: is named ts-reference", () => {
  assert.equal(k.name, "ts-reference");
});

Deno.test("region_ref: xor, mul, mulAdd match a scalar loop at every length and offset", () => {
  for (const n of LENGTHS) {
    for (const dOff of OFFSETS) {
      // Same alignment and different alignment of dst and src.
      for (const sOff of n === 1 << 20 ? [dOff, (dOff + 1) & 3] : OFFSETS) {
        const src = regionAt(n, sOff);
        const srcCopy = src.slice();
        const dst = regionAt(n, dOff);
        const cs = n === 1 << 20 ? [0, 1, 0x8e] : COEFFICIENTS;
        for (const c of cs) {
          const expected = dst.slice();
          scalarMulAdd(expected, c, src);
          const got = dst.slice();
          const gotAt = regionAt(n, dOff);
          gotAt.set(dst);
          k.mulAdd(gotAt, c, src);
          assert.deepEqual(gotAt, expected, `mulAdd n=${n} c=${c} offsets ${dOff}/${sOff}`);

          scalarMul(expected, c, src);
          gotAt.set(got);
          k.mul(gotAt, c, src);
          assert.deepEqual(gotAt, expected, `mul n=${n} c=${c} offsets ${dOff}/${sOff}`);
        }
        const expected = dst.slice();
        for (let i = 0; i < n; i++) expected[i]! ^= src[i]!;
        k.xor(dst, src);
        assert.deepEqual(dst, expected, `xor n=${n} offsets ${dOff}/${sOff}`);
        assert.deepEqual(src, srcCopy, "the source is never written");
      }
    }
  }
});

Deno.test("region_ref: dst === src is correct for every coefficient", () => {
  for (const n of [0, 1, 7, 64, 1000]) {
    for (const off of OFFSETS) {
      for (let c = 0; c < 256; c++) {
        const r = regionAt(n, off);
        const original = r.slice();
        k.mul(r, c, r);
        const expected = new Uint8Array(n);
        scalarMul(expected, c, original);
        assert.deepEqual(r, expected, `mul n=${n} c=${c}`);

        r.set(original);
        k.mulAdd(r, c, r);
        expected.set(original);
        scalarMulAdd(expected, c, original);
        assert.deepEqual(r, expected, `mulAdd n=${n} c=${c}`);
      }
      const r = regionAt(n, off);
      k.xor(r, r);
      assert.deepEqual(r, new Uint8Array(n));
    }
  }
});

Deno.test("region_ref: dotProduct overwrites outputs with Σ coeff·input", () => {
  for (const n of [0, 5, 4096, 40000]) {
    for (const [outCount, inCount] of [[1, 1], [5, 11], [3, 2], [2, 0], [0, 3]] as const) {
      const ins = Array.from({ length: inCount }, (_, j) => regionAt(n, j & 3));
      const outs = Array.from({ length: outCount }, (_, i) => regionAt(n, (i + 1) & 3));
      const coeffs = Array.from({ length: outCount }, () => random(inCount));
      if (outCount > 0 && inCount > 1) {
        coeffs[0]![0] = 0;
        coeffs[0]![1] = 1;
      }
      const expected = outs.map((o) => new Uint8Array(o.length));
      for (let i = 0; i < outCount; i++) {
        for (let j = 0; j < inCount; j++) scalarMulAdd(expected[i]!, coeffs[i]![j]!, ins[j]!);
      }
      dotProduct(outs, coeffs, ins);
      assert.deepEqual(outs, expected, `n=${n} ${outCount}x${inCount}`);
    }
  }
});

Deno.test("region_ref: dotProductAdd adds Σ coeff·input to what the outputs hold", () => {
  for (const n of [0, 5, 4096, 40000]) {
    for (const [outCount, inCount] of [[1, 1], [5, 11], [2, 2], [2, 0], [0, 3]] as const) {
      const ins = Array.from({ length: inCount }, (_, j) => regionAt(n, j & 3));
      const outs = Array.from({ length: outCount }, (_, i) => regionAt(n, (i + 1) & 3));
      outs.forEach((o) => o.set(random(n)));
      const coeffs = Array.from({ length: outCount }, () => random(inCount));
      if (outCount > 0 && inCount > 1) {
        coeffs[0]![0] = 0;
        coeffs[0]![1] = 1;
      }
      const expected = outs.map((o) => o.slice());
      for (let i = 0; i < outCount; i++) {
        for (let j = 0; j < inCount; j++) scalarMulAdd(expected[i]!, coeffs[i]![j]!, ins[j]!);
      }
      dotProductAdd(outs, coeffs, ins);
      assert.deepEqual(outs, expected, `n=${n} ${outCount}x${inCount}`);
    }
  }
});

Deno.test("region_ref: mismatched lengths throw a RangeError naming both", () => {
  const a = new Uint8Array(8), b = new Uint8Array(9);
  for (const op of [() => k.xor(a, b), () => k.mul(a, 2, b), () => k.mulAdd(a, 2, b)]) {
    assert.throws(
      op,
      (e: unknown) => e instanceof RangeError && /8/.test(e.message) && /9/.test(e.message),
    );
  }
  assert.throws(() => k.dotProduct([a], [Uint8Array.of(1, 1)], [a, b]), RangeError);
  assert.throws(() => k.dotProduct([a, a], [Uint8Array.of(1)], [a]), RangeError, "too few rows");
  assert.throws(() => k.dotProduct([a], [Uint8Array.of(1, 2)], [a]), RangeError, "row too long");
});

Deno.test("region_ref: coefficients outside 0..255 throw RangeError", () => {
  const a = new Uint8Array(8);
  for (const c of [-1, 256, 1.5, NaN]) {
    assert.throws(() => k.mul(a, c, a), RangeError);
    assert.throws(() => k.mulAdd(a, c, a), RangeError);
  }
  const plain = [[300]] as unknown as Uint8Array[];
  assert.throws(() => k.dotProduct([a], plain, [a]), RangeError);
});
