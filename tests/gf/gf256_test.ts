import assert from "node:assert/strict";
import {
  add,
  div,
  EXP,
  exp,
  INV,
  inv,
  LOG,
  log,
  mul,
  MUL_TABLE,
  nibbleTables,
  pow,
} from "../../src/gf/gf256.ts";

/** Carry-less multiply, then reduce by 0x11D: the definition, independent of every table. */
function slowMul(a: number, b: number): number {
  let product = 0;
  for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) product ^= a << bit;
  for (let bit = 15; bit >= 8; bit--) if (product & (1 << bit)) product ^= 0x11d << (bit - 8);
  return product;
}

/** A small deterministic generator so failures reproduce. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
}

Deno.test("gf256: all 65,536 products match carry-less multiply mod 0x11D and exp/log", () => {
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      const expected = slowMul(a, b);
      assert.equal(mul(a, b), expected, `${a}·${b}`);
      assert.equal(MUL_TABLE[a << 8 | b], expected);
      const viaLogs = a === 0 || b === 0 ? 0 : exp(log(a) + log(b));
      assert.equal(viaLogs, expected, `${a}·${b} via logs`);
    }
  }
});

Deno.test("gf256: values of the original's field (Jerasure 1.2A galois.c, w = 8)", () => {
  assert.equal(mul(2, 128), 29);
  assert.equal(mul(141, 129), 80);
  assert.equal(inv(141), 105);
});

Deno.test("gf256: exp and log are inverse bijections with generator 2", () => {
  const seen = new Set<number>();
  for (let j = 0; j < 255; j++) {
    const e = exp(j);
    assert.notEqual(e, 0);
    seen.add(e);
    assert.equal(log(e), j);
    assert.equal(EXP[j], e);
    assert.equal(EXP[j + 255], e, "EXP repeats so sums of two logs need no mod");
  }
  assert.equal(seen.size, 255, "2 generates the whole multiplicative group");
  assert.equal(exp(1), 2);
  assert.equal(exp(255), 1);
  assert.equal(exp(-1), inv(2));
  for (let a = 1; a < 256; a++) assert.equal(EXP[LOG[a]!], a);
});

Deno.test("gf256: inverses, division and powers", () => {
  for (let x = 1; x < 256; x++) {
    assert.equal(mul(inv(x), x), 1, `inv(${x})`);
    assert.equal(INV[x], inv(x));
    assert.equal(div(1, x), inv(x));
    for (let y = 0; y < 256; y += 17) assert.equal(mul(div(y, x), x), y);
    let p = 1;
    for (let n = 0; n < 10; n++) {
      assert.equal(pow(x, n), p, `${x}^${n}`);
      p = slowMul(p, x);
    }
    assert.equal(pow(x, -1), inv(x));
    assert.equal(pow(x, 255), 1);
  }
  assert.equal(pow(0, 0), 1);
  assert.equal(pow(0, 5), 0);
});

Deno.test("gf256: field axioms on random triples", () => {
  const rnd = lcg(1);
  for (let i = 0; i < 20000; i++) {
    const a = rnd(), b = rnd(), c = rnd();
    assert.equal(mul(mul(a, b), c), mul(a, mul(b, c)));
    assert.equal(mul(a, b), mul(b, a));
    assert.equal(mul(a, add(b, c)), add(mul(a, b), mul(a, c)));
    assert.equal(add(add(a, b), c), add(a, add(b, c)));
  }
  for (let a = 0; a < 256; a++) {
    assert.equal(mul(a, 1), a);
    assert.equal(mul(a, 0), 0);
    assert.equal(add(a, 0), a);
    assert.equal(add(a, a), 0);
  }
});

Deno.test("gf256: zero and out-of-range operands throw RangeError", () => {
  assert.throws(() => div(5, 0), RangeError);
  assert.throws(() => inv(0), RangeError);
  assert.throws(() => log(0), RangeError);
  assert.throws(() => pow(0, -1), RangeError);
  assert.throws(() => mul(256, 1), RangeError);
  assert.throws(() => mul(1, -1), RangeError);
  assert.throws(() => add(1.5, 1), RangeError);
  assert.throws(() => exp(0.5), RangeError);
  assert.throws(() => nibbleTables(300), RangeError);
});

Deno.test("gf256: nibble tables give c·b = lo[b & 15] ^ hi[b >> 4] for every c and b", () => {
  for (let c = 0; c < 256; c++) {
    const t = nibbleTables(c);
    assert.equal(t.length, 32);
    for (let b = 0; b < 256; b++) {
      assert.equal(t[b & 15]! ^ t[16 + (b >> 4)]!, slowMul(c, b), `c=${c} b=${b}`);
    }
  }
});
