import assert from "node:assert/strict";
import { WasmArena } from "../../src/buffer/arena.ts";
import {
  BufferPool,
  DEFAULT_BUFFER_SIZE,
  DEFAULT_MAX_BUFFERS,
  type PooledBuffer,
} from "../../src/buffer/pool.ts";
import { referenceKernels as ref } from "../../src/gf/region_ref.ts";

function smallPool(maxBuffers: number, bufferSize = 4096): BufferPool {
  return new BufferPool({ arena: new WasmArena({ maxBytes: 4 << 20 }), bufferSize, maxBuffers });
}

/** Lets every pending promise callback run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("defaults: 1 MiB buffers, 64 of them, nothing taken up front", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  const used = arena.allocatedBytes;
  const pool = new BufferPool({ arena });
  assert.equal(pool.bufferSize, DEFAULT_BUFFER_SIZE);
  assert.equal(DEFAULT_BUFFER_SIZE, 1 << 20);
  assert.equal(pool.capacity, DEFAULT_MAX_BUFFERS);
  assert.equal(pool.inUse, 0);
  assert.equal(pool.available, 64);
  assert.equal(pool.allocated, 0);
  assert.equal(arena.allocatedBytes, used);
});

Deno.test("bad sizes and bounds are RangeErrors", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  for (const bufferSize of [0, -64, 100, 64.5, NaN, 65]) {
    assert.throws(() => new BufferPool({ arena, bufferSize }), RangeError, `size ${bufferSize}`);
  }
  for (const maxBuffers of [0, -1, 1.5]) {
    assert.throws(() => new BufferPool({ arena, maxBuffers }), RangeError, `max ${maxBuffers}`);
  }
  assert.throws(() => new BufferPool({ arena, bufferSize: 4096, maxBytes: 4095 }), RangeError);
});

Deno.test("the bound is the smaller of maxBuffers and maxBytes", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  assert.equal(new BufferPool({ arena, bufferSize: 4096, maxBytes: 10 * 4096 + 5 }).capacity, 10);
  assert.equal(
    new BufferPool({ arena, bufferSize: 4096, maxBytes: 10 * 4096, maxBuffers: 3 }).capacity,
    3,
  );
  assert.equal(new BufferPool({ arena, bufferSize: 64, maxBuffers: 5 }).capacity, 5);
});

Deno.test("tryAcquire returns undefined when the pool is exhausted", () => {
  const pool = smallPool(2);
  const a = pool.tryAcquire();
  const b = pool.tryAcquire();
  assert.ok(a && b);
  assert.equal(pool.tryAcquire(), undefined);
  assert.equal(pool.inUse, 2);
  assert.equal(pool.available, 0);
  assert.equal(a.bytes.length, 4096);
  assert.ok(pool.arena.owns(a.bytes) && pool.arena.owns(b.bytes));
  const [lo, hi] = [a.bytes, b.bytes].sort((x, y) => x.byteOffset - y.byteOffset);
  assert.ok(lo!.byteOffset + lo!.length <= hi!.byteOffset, "buffers overlap");
});

Deno.test("acquire waits until a release, first come first served", async () => {
  const pool = smallPool(1);
  const held = await pool.acquire();
  const order: string[] = [];
  const first = pool.acquire().then((b) => (order.push("first"), b));
  const second = pool.acquire().then((b) => (order.push("second"), b));
  await settle();
  assert.deepEqual(order, [], "acquire resolved while the pool was exhausted");
  assert.equal(pool.waiting, 2);
  const offset = held.bytes.byteOffset;
  held.release();
  const got = await first;
  assert.deepEqual(order, ["first"]);
  assert.equal(got.bytes.byteOffset, offset);
  assert.equal(pool.inUse, 1);
  got.release();
  (await second).release();
  assert.deepEqual(order, ["first", "second"]);
  assert.equal(pool.inUse, 0);
  assert.equal(pool.waiting, 0);
});

Deno.test("an abort rejects a waiting acquire and removes it from the line", async () => {
  const pool = smallPool(1);
  const held = pool.tryAcquire()!;
  const controller = new AbortController();
  const aborted = pool.acquire(controller.signal);
  const next = pool.acquire();
  controller.abort(new Error("gave up"));
  await assert.rejects(aborted, /gave up/);
  assert.equal(pool.waiting, 1);
  held.release(); // goes to the next waiter, not to the aborted one
  const got = await next;
  assert.equal(got.refCount, 1);
  assert.equal(pool.inUse, 1);
  got.release();
  assert.equal(pool.inUse, 0);
});

Deno.test("an already aborted signal rejects at once, even with buffers free", async () => {
  const pool = smallPool(1);
  await assert.rejects(pool.acquire(AbortSignal.abort(new Error("no"))), /no/);
  assert.equal(pool.inUse, 0);
});

Deno.test("a timeout signal rejects with a TimeoutError", async () => {
  const pool = smallPool(1);
  const held = pool.tryAcquire()!;
  await assert.rejects(
    pool.acquire(AbortSignal.timeout(10)),
    (e: unknown) => e instanceof DOMException && e.name === "TimeoutError",
  );
  held.release();
  assert.equal(pool.available, 1);
});

Deno.test("released buffers are reused", async () => {
  const pool = smallPool(4);
  const a = await pool.acquire();
  const offset = a.bytes.byteOffset;
  a.release();
  const b = await pool.acquire();
  assert.equal(b.bytes.byteOffset, offset);
  assert.equal(pool.allocated, 1);
  b.release();
});

Deno.test("retain and release count holders; the last release returns the buffer", () => {
  const pool = smallPool(1);
  const a = pool.tryAcquire()!;
  assert.equal(a.retain(), a);
  assert.equal(a.refCount, 2);
  a.release();
  assert.equal(a.refCount, 1);
  assert.equal(pool.inUse, 1);
  assert.equal(pool.tryAcquire(), undefined);
  a.release();
  assert.equal(a.refCount, 0);
  assert.equal(pool.inUse, 0);
  assert.ok(pool.tryAcquire());
});

Deno.test("a second release throws and never corrupts the pool", () => {
  const pool = smallPool(2);
  const a = pool.tryAcquire()!;
  a.release();
  assert.throws(() => a.release(), /released twice/);
  assert.equal(pool.inUse, 0);
  assert.equal(pool.available, 2);
  // The buffer now belongs to someone else; the stale handle cannot touch it.
  const b = pool.tryAcquire()!;
  assert.throws(() => a.release(), /released twice/);
  assert.throws(() => a.retain(), /after its last release/);
  assert.throws(() => a.bytes, /after its last release/);
  assert.equal(b.refCount, 1);
  assert.equal(pool.inUse, 1);
  const c = pool.tryAcquire()!;
  assert.notEqual(c.bytes.byteOffset, b.bytes.byteOffset, "one buffer lent twice");
});

Deno.test("buffer start addresses are staggered within 4 KiB pages", () => {
  const pool = new BufferPool({
    arena: new WasmArena({ maxBytes: 16 << 20 }),
    bufferSize: 64 * 1024,
    maxBuffers: 16,
  });
  const buffers: PooledBuffer[] = [];
  for (let i = 0; i < 16; i++) buffers.push(pool.tryAcquire()!);
  const pageOffsets = new Set(buffers.map((b) => b.bytes.byteOffset % 4096));
  assert.equal(pageOffsets.size, 16, "two buffers share a 4 KiB page offset");
  for (const b of buffers) assert.equal(b.bytes.byteOffset % 64, 0);
  const small = smallPool(4, 128);
  for (let i = 0; i < 4; i++) assert.equal(small.tryAcquire()!.bytes.byteOffset % 64, 0);
});

Deno.test("a full arena makes acquire reject and tryAcquire throw", async () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  const pool = new BufferPool({ arena, bufferSize: 256 * 1024, maxBuffers: 8 });
  const got: PooledBuffer[] = [];
  for (let i = 0; i < 3; i++) got.push(pool.tryAcquire()!); // ~110 KiB are the kernels'
  assert.throws(() => pool.tryAcquire(), RangeError);
  await assert.rejects(pool.acquire(), RangeError);
  assert.equal(pool.inUse, 3);
  got[0]!.release();
  assert.ok(pool.tryAcquire(), "a released buffer is still lent after the arena filled up");
});

Deno.test("a file is read straight into a pooled buffer and coded in place", async () => {
  const pool = new BufferPool({
    arena: new WasmArena({ maxBytes: 8 << 20 }),
    bufferSize: 1 << 20,
    maxBuffers: 2,
  });
  const content = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7 + 3) & 255);
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, content);
    const buffer = await pool.acquire();
    const view = buffer.bytes;
    const file = await Deno.open(path);
    let read = 0;
    for (;;) {
      const n = await file.read(view.subarray(read));
      if (n === null) break;
      read += n;
    }
    file.close();
    assert.equal(read, content.length);
    assert.deepEqual(view.subarray(0, read), content);
    // The bytes are in arena memory, where the kernels work on them without copies.
    const view2 = new Uint8Array(pool.arena.memory.buffer, view.byteOffset, read);
    assert.deepEqual(view2, content);
    const parity = await pool.acquire();
    pool.arena.kernels.mul(parity.bytes.subarray(0, read), 0x8e, view.subarray(0, read));
    const expected = new Uint8Array(read);
    ref.mul(expected, 0x8e, content);
    assert.deepEqual(parity.bytes.subarray(0, read), expected);
    buffer.release();
    parity.release();
  } finally {
    await Deno.remove(path);
  }
});
