import assert from "node:assert/strict";
import { createXXHash64 } from "hash-wasm";
import { WasmArena } from "../../src/buffer/arena.ts";
import { randomBytes } from "../helpers/bytes.ts";
import {
  blockDigest,
  type ChecksumMemory,
  createChecksummer,
  formatChecksum,
  hashInPlace,
  parseChecksum,
  sharedChecksummer,
} from "../../src/checksum/checksum.ts";

/** An independent reference: hash-wasm's one-shot xxh64 on a copy of the bytes. */
const reference = await createXXHash64();
function referenceXxh64(bytes: Uint8Array): bigint {
  reference.init();
  reference.update(bytes.slice());
  return BigInt("0x" + reference.digest("hex"));
}

function fillPattern(view: Uint8Array, seed: number): void {
  let x = seed >>> 0;
  for (let i = 0; i < view.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    view[i] = x >>> 24;
  }
}

/** Wraps an arena so the test can see whether the checksummer consulted it. */
function countingOwner(arena: WasmArena): ChecksumMemory & { lookups: number } {
  const owner = {
    memory: arena.memory,
    lookups: 0,
    offsetOf(view: Uint8Array): number {
      owner.lookups++;
      return arena.offsetOf(view);
    },
  };
  return owner;
}

Deno.test("published values: xxh64 of '' and 'abc'", async () => {
  const c = await createChecksummer();
  assert.equal(c.checksum(new Uint8Array()), 0xef46db3751d8e999n);
  assert.equal(c.checksum(new TextEncoder().encode("abc")), 0x44bc2cf5ad770999n);
});

Deno.test("views of a registered arena hash the same as copies, at any offset and length", async () => {
  const arena = new WasmArena({ maxBytes: 4 << 20 });
  hashInPlace(arena);
  const region = arena.alloc((1 << 20) + 200);
  fillPattern(region, 5);
  const c = await createChecksummer();
  for (const [from, length] of [[0, 0], [1, 1], [3, 31], [7, 32], [5, 1000], [17, 1 << 20]]) {
    const view = region.subarray(from!, from! + length!);
    assert.equal(c.checksum(view), referenceXxh64(view), `${length} bytes at ${from}`);
  }
  // Not a snapshot: a changed byte changes the checksum.
  const view = region.subarray(64, 64 + 4096);
  const before = c.checksum(view);
  view[4095]! ^= 0x80;
  assert.notEqual(c.checksum(view), before);
  assert.equal(c.checksum(view), referenceXxh64(view));
});

Deno.test("the in-place path is taken for a registered memory's views only", async () => {
  const registered = new WasmArena({ maxBytes: 1 << 20 });
  const other = new WasmArena({ maxBytes: 1 << 20 });
  const owner = countingOwner(registered);
  hashInPlace(owner);
  hashInPlace(owner); // idempotent
  const c = await createChecksummer();

  const mine = registered.alloc(5000);
  fillPattern(mine, 1);
  assert.equal(c.checksum(mine), referenceXxh64(mine));
  assert.ok(owner.lookups >= 1, "the registered owner was asked about its view");
  const lookupsAfterFirst = owner.lookups;
  assert.equal(c.checksum(mine.subarray(10)), referenceXxh64(mine.subarray(10)));
  assert.equal(owner.lookups, lookupsAfterFirst, "a known buffer is not looked up again");

  // Another arena's views and plain buffers are hashed correctly the ordinary way.
  const theirs = other.alloc(5000);
  fillPattern(theirs, 2);
  assert.equal(c.checksum(theirs), referenceXxh64(theirs));
  const plain = new Uint8Array(5000);
  fillPattern(plain, 3);
  const lookupsBeforePlain = owner.lookups;
  assert.equal(c.checksum(plain), referenceXxh64(plain));
  assert.equal(owner.lookups, lookupsBeforePlain, "a regular ArrayBuffer is never looked up");
});

Deno.test("views made before and after the memory grew are both hashed in place", async () => {
  const arena = new WasmArena({ maxBytes: 8 << 20, initialBytes: 64 * 1024 });
  const early = arena.alloc(1000);
  fillPattern(early, 4);
  hashInPlace(arena);
  const late = arena.alloc(2 << 20); // grows the memory: a new SharedArrayBuffer object
  fillPattern(late, 6);
  assert.notEqual(early.buffer, late.buffer);
  const c = await createChecksummer();
  assert.equal(c.checksum(early), referenceXxh64(early));
  assert.equal(c.checksum(late), referenceXxh64(late));
});

Deno.test("only a shared memory can be registered", () => {
  const unshared: ChecksumMemory = {
    memory: new WebAssembly.Memory({ initial: 1 }),
    offsetOf: () => -1,
  };
  assert.throws(() => hashInPlace(unshared), TypeError);
});

Deno.test("incremental hashing and blockDigest agree with one-shot hashing", async () => {
  const c = await createChecksummer();
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  hashInPlace(arena);
  const data = arena.alloc(10_000);
  fillPattern(data, 9);
  c.start();
  c.update(data.subarray(0, 3333));
  c.update(data.subarray(3333));
  assert.equal(c.finish(), referenceXxh64(data));

  const chunks = [data.subarray(0, 4096), data.subarray(4096, 8192), data.subarray(8192)];
  const sums = chunks.map((chunk) => c.checksum(chunk));
  const encoded = new Uint8Array(8 * sums.length);
  sums.forEach((sum, i) => new DataView(encoded.buffer).setBigUint64(8 * i, sum, false));
  assert.equal(blockDigest(c, sums), referenceXxh64(encoded));
  assert.equal(blockDigest(c, []), 0xef46db3751d8e999n);
});

Deno.test("formatChecksum and parseChecksum round-trip and reject other text", () => {
  for (const value of [0n, 255n, 0xef46db3751d8e999n, (1n << 64n) - 1n]) {
    assert.equal(parseChecksum(formatChecksum(value)), value);
    assert.equal(formatChecksum(value).length, 16);
  }
  for (const bad of ["", "ff", "00000000000000FF", "0x00000000000000f", "00000000000000ff0"]) {
    assert.throws(() => parseChecksum(bad), RangeError, bad);
  }
});

Deno.test("the shared one-shot checksummer: one for the process, the same values as a fresh hasher", async () => {
  const shared = await sharedChecksummer();
  assert.equal(await sharedChecksummer(), shared, "made once");
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  hashInPlace(arena);
  for (const length of [0, 1, 31, 32, 33, 4096, 65_537]) {
    const bytes = randomBytes(length);
    assert.equal(shared.checksum(bytes), referenceXxh64(bytes), `${length} bytes`);
    const inArena = arena.alloc(Math.max(1, length)).subarray(0, length);
    inArena.set(bytes);
    assert.equal(shared.checksum(inArena), referenceXxh64(bytes), `${length} bytes in place`);
  }
  // An incremental hash under way elsewhere is not disturbed by one-shot calls in between.
  const incremental = await createChecksummer();
  incremental.start();
  incremental.update(Uint8Array.of(1, 2));
  shared.checksum(Uint8Array.of(9, 9, 9));
  incremental.update(Uint8Array.of(3));
  assert.equal(incremental.finish(), referenceXxh64(Uint8Array.of(1, 2, 3)));
});
