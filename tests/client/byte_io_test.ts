import assert from "node:assert/strict";
import { isByteReader, iterableReader, writeFully } from "../../src/client/byte_io.ts";

async function drain(reader: { read(v: Uint8Array): Promise<number | null> }, size: number) {
  const out: number[] = [];
  const view = new Uint8Array(size);
  while (true) {
    const n = await reader.read(view);
    if (n === null) return out;
    assert.ok(n > 0 && n <= size);
    out.push(...view.subarray(0, n));
  }
}

Deno.test("iterableReader concatenates sync and async chunks, skipping empty ones", async () => {
  const parts = [
    new Uint8Array([1, 2, 3]),
    new Uint8Array(0),
    new Uint8Array([4]),
    new Uint8Array([5, 6]),
  ];
  assert.deepEqual(await drain(iterableReader(parts), 2), [1, 2, 3, 4, 5, 6]);
  async function* gen() {
    yield* parts;
  }
  assert.deepEqual(await drain(iterableReader(gen()), 4), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(await drain(iterableReader([]), 4), []);
});

Deno.test("writeFully retries partial writes", async () => {
  const got: number[] = [];
  const stingy = {
    write(view: Uint8Array) {
      got.push(view[0]!);
      return Promise.resolve(1);
    },
  };
  await writeFully(stingy, new Uint8Array([9, 8, 7]));
  assert.deepEqual(got, [9, 8, 7]);
});

Deno.test("isByteReader tells readers from iterables", () => {
  assert.equal(isByteReader({ read: () => Promise.resolve(null) }), true);
  assert.equal(isByteReader([new Uint8Array(1)]), false);
  assert.equal(isByteReader(null), false);
});
