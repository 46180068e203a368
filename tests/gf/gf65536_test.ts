import assert from "node:assert/strict";
import { add, div, EXP, exp, inv, log, mul, pow } from "../../src/gf/gf65536.ts";

/** Carry-less multiply, then reduce by 0x1100B: the definition, independent of the tables. */
function slowMul(a: number, b: number): number {
  let product = 0;
  for (let bit = 0; bit < 16; bit++) if (b & (1 << bit)) product ^= a << bit;
  for (let bit = 31; bit >= 16; bit--) {
    if (product & (1 << bit)) product ^= 0x1100b << (bit - 16);
  }
  return product >>> 0;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 16;
  };
}

Deno.test("gf65536: values of the original's field (Jerasure 1.2A galois.c, w = 16)", () => {
  assert.equal(mul(2, 32768), 4107);
  assert.equal(inv(48386), 15748);
});

Deno.test("gf65536: products match carry-less multiply mod 0x1100B", () => {
  const rnd = lcg(7);
  for (let i = 0; i < 200000; i++) {
    const a = rnd(), b = rnd();
    assert.equal(mul(a, b), slowMul(a, b), `${a}·${b}`);
  }
  for (let a = 0; a < 65536; a += 257) {
    for (const b of [0, 1, 2, 0x8000, 0xffff]) assert.equal(mul(a, b), slowMul(a, b));
  }
});

Deno.test("gf65536: 2 generates the multiplicative group; exp and log are inverse", () => {
  const seen = new Uint8Array(65536);
  for (let j = 0; j < 65535; j++) {
    const e = exp(j);
    assert.ok(e !== 0 && seen[e] === 0, `2^${j} repeats`);
    seen[e] = 1;
    if (j % 97 === 0) assert.equal(log(e), j);
    assert.equal(EXP[j + 65535], e);
  }
  assert.equal(exp(65535), 1);
  assert.equal(exp(-1), inv(2));
});

Deno.test("gf65536: inverses, division, powers on a few thousand random elements", () => {
  const rnd = lcg(11);
  for (let i = 0; i < 5000; i++) {
    const x = rnd() || 1, y = rnd();
    assert.equal(mul(inv(x), x), 1, `inv(${x})`);
    assert.equal(slowMul(inv(x), x), 1);
    assert.equal(mul(div(y, x), x), y);
    assert.equal(pow(x, 3), slowMul(slowMul(x, x), x));
    assert.equal(pow(x, -1), inv(x));
    assert.equal(pow(x, 65535), 1);
  }
  assert.equal(pow(0, 0), 1);
  assert.equal(pow(0, 3), 0);
});

Deno.test("gf65536: field axioms on random triples", () => {
  const rnd = lcg(3);
  for (let i = 0; i < 20000; i++) {
    const a = rnd(), b = rnd(), c = rnd();
    assert.equal(mul(mul(a, b), c), mul(a, mul(b, c)));
    assert.equal(mul(a, b), mul(b, a));
    assert.equal(mul(a, add(b, c)), add(mul(a, b), mul(a, c)));
    assert.equal(mul(a, 1), a);
    assert.equal(mul(a, 0), 0);
  }
});

Deno.test("gf65536: zero and out-of-range operands throw RangeError", () => {
  assert.throws(() => div(5, 0), RangeError);
  assert.throws(() => inv(0), RangeError);
  assert.throws(() => log(0), RangeError);
  assert.throws(() => pow(0, -2), RangeError);
  assert.throws(() => mul(65536, 1), RangeError);
  assert.throws(() => add(-1, 1), RangeError);
});
