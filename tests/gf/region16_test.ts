import assert from "node:assert/strict";
import { mul } from "../../src/gf/gf65536.ts";
import { mul16, mulAdd16, xor16 } from "../../src/gf/region16.ts";

function random(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

function word(r: Uint8Array, i: number): number {
  return r[2 * i]! | r[2 * i + 1]! << 8;
}

Deno.test("region16: words are little-endian (sanity value 2·32768 = 4107)", () => {
  const dst = new Uint8Array(2);
  mul16(dst, 2, Uint8Array.of(0x00, 0x80));
  assert.deepEqual(dst, Uint8Array.of(4107 & 255, 4107 >> 8));
});

Deno.test("region16: mul16, mulAdd16, xor16 match a scalar loop over words", () => {
  for (const n of [0, 2, 6, 1024, 4098]) {
    for (const offset of [0, 1]) {
      for (const c of [0, 1, 2, 0x8000, 0xffff, 12345]) {
        const src = random(n + offset).subarray(offset);
        const dst = random(n + offset).subarray(offset);
        const original = dst.slice();

        mulAdd16(dst, c, src);
        for (let i = 0; i < n / 2; i++) {
          assert.equal(word(dst, i), word(original, i) ^ mul(c, word(src, i)), `mulAdd c=${c}`);
        }
        mul16(dst, c, src);
        for (let i = 0; i < n / 2; i++) assert.equal(word(dst, i), mul(c, word(src, i)));

        dst.set(original);
        xor16(dst, src);
        for (let i = 0; i < n; i++) assert.equal(dst[i], original[i]! ^ src[i]!);
      }
    }
  }
});

Deno.test("region16: dst === src works", () => {
  const r = random(64);
  const original = r.slice();
  mul16(r, 777, r);
  for (let i = 0; i < 32; i++) assert.equal(word(r, i), mul(777, word(original, i)));
  r.set(original);
  mulAdd16(r, 777, r);
  for (let i = 0; i < 32; i++) {
    assert.equal(word(r, i), word(original, i) ^ mul(777, word(original, i)));
  }
});

Deno.test("region16: odd lengths, length mismatch and bad coefficients throw RangeError", () => {
  const odd = new Uint8Array(3);
  for (const op of [() => xor16(odd, odd), () => mul16(odd, 2, odd), () => mulAdd16(odd, 2, odd)]) {
    assert.throws(op, (e: unknown) => e instanceof RangeError && /even/.test(e.message));
  }
  assert.throws(() => mulAdd16(new Uint8Array(4), 2, new Uint8Array(6)), RangeError);
  assert.throws(() => mul16(new Uint8Array(4), 65536, new Uint8Array(4)), RangeError);
  assert.throws(() => mulAdd16(new Uint8Array(4), -1, new Uint8Array(4)), RangeError);
});
