import assert from "node:assert/strict";
import {
  checkCoefficient,
  checkDotProduct,
  checkSameLength,
  startDotProduct,
} from "../../src/gf/region_checks.ts";

Deno.test("region_checks: a coefficient outside 0..255 or not whole is named", () => {
  checkCoefficient(0);
  checkCoefficient(255);
  for (const c of [-1, 256, 1.5, Number.NaN]) {
    assert.throws(
      () => checkCoefficient(c),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message === `coefficient must be an integer in 0..255, got ${c}`,
    );
  }
});

Deno.test("region_checks: regions of different lengths are named with both lengths", () => {
  checkSameLength(new Uint8Array(3), new Uint8Array(3));
  assert.throws(
    () => checkSameLength(new Uint8Array(3), new Uint8Array(4)),
    /region lengths differ: destination has 3 bytes, source has 4/,
  );
});

Deno.test("region_checks: a dot product's shape and lengths must fit", () => {
  const r = (n: number) => new Uint8Array(n);
  checkDotProduct([r(2)], [Uint8Array.of(1, 2)], [r(2), r(2)]);
  assert.throws(
    () => checkDotProduct([r(2), r(2)], [Uint8Array.of(1)], [r(2)]),
    /coefficient matrix has 1 rows but there are 2 outputs/,
  );
  assert.throws(
    () => checkDotProduct([r(2)], [Uint8Array.of(1, 2)], [r(2)]),
    /coefficient row 0 has 2 entries but there are 1 inputs/,
  );
  assert.throws(
    () => checkDotProduct([r(2)], [[300] as unknown as Uint8Array], [r(2)]),
    /coefficient must be an integer in 0\.\.255, got 300/,
  );
  assert.throws(
    () => checkDotProduct([r(2)], [Uint8Array.of(1)], [r(3)]),
    /region lengths differ: 2 bytes and 3 bytes/,
  );
});

Deno.test("region_checks: startDotProduct leaves only the calls with work to the kernel", () => {
  const ins = [Uint8Array.of(1, 2, 3)];
  const out = Uint8Array.of(9, 9, 9);
  assert.equal(startDotProduct([out], [Uint8Array.of(5)], ins), 3);
  assert.deepEqual(out, Uint8Array.of(9, 9, 9), "a call with work is left untouched");
  assert.equal(startDotProduct([out], [new Uint8Array(0)], []), 0);
  assert.deepEqual(out, Uint8Array.of(0, 0, 0), "no inputs: the outputs are zeroed");
  assert.equal(startDotProduct([], [], ins), 0, "no outputs: nothing to do");
  assert.equal(startDotProduct([new Uint8Array(0)], [Uint8Array.of(5)], [new Uint8Array(0)]), 0);
  assert.throws(() => startDotProduct([out], [Uint8Array.of(5)], [new Uint8Array(2)]), RangeError);
});
