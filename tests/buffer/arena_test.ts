import assert from "node:assert/strict";
import {
  DEFAULT_ARENA_MAX_BYTES,
  defaultArena,
  ioBytes,
  WasmArena,
} from "../../src/buffer/arena.ts";
import { referenceKernels as ref } from "../../src/gf/region_ref.ts";

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
}

Deno.test("alloc hands out disjoint, 64-byte aligned regions of the asked length", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  let end = 0;
  for (const n of [1, 100, 64, 0, 4095]) {
    const r = arena.alloc(n);
    assert.equal(r.length, n);
    assert.equal(r.byteOffset % 64, 0);
    assert.ok(r.byteOffset >= end, "regions overlap");
    assert.ok(r.byteOffset > 0, "offset 0 is never handed out");
    end = r.byteOffset + n;
  }
  assert.ok(arena.allocatedBytes >= end);
});

Deno.test("alloc honours align and alignOffset", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  arena.alloc(5);
  const a = arena.alloc(10, { align: 4096 });
  assert.equal(a.byteOffset % 4096, 0);
  const b = arena.alloc(10, { align: 4096, alignOffset: 320 });
  assert.equal(b.byteOffset % 4096, 320);
  assert.ok(b.byteOffset >= a.byteOffset + 10);
  const c = arena.alloc(3, { align: 1 });
  assert.equal(c.byteOffset, b.byteOffset + 10);
});

Deno.test("growth keeps earlier views valid and usable by the kernels", () => {
  const arena = new WasmArena({ maxBytes: 64 << 20, initialBytes: 64 * 1024 });
  const before = arena.byteLength;
  const data = arena.alloc(10_000);
  const out = arena.alloc(10_000);
  data.set(pattern(10_000, 1));
  const big = arena.alloc(8 << 20); // forces grow()
  assert.ok(arena.byteLength > before, "the memory did not grow");
  assert.ok(arena.byteLength >= big.byteOffset + big.length);
  big.fill(0xff);
  assert.deepEqual(data, pattern(10_000, 1), "growth changed an earlier view");
  assert.ok(arena.owns(data) && arena.owns(out) && arena.owns(big));
  // The old views still reach the memory the kernels write.
  arena.kernels.mul(out, 0x1d, data);
  const expected = new Uint8Array(10_000);
  ref.mul(expected, 0x1d, pattern(10_000, 1));
  assert.deepEqual(out, expected);
  arena.kernels.mulAdd(big.subarray(0, 10_000), 3, out); // old and new views together
  const expectedBig = new Uint8Array(10_000).fill(0xff);
  ref.mulAdd(expectedBig, 3, expected);
  assert.deepEqual(big.subarray(0, 10_000), expectedBig);
  // A view over the current memory.buffer sees what the old view wrote.
  const fresh = new Uint8Array(arena.memory.buffer, data.byteOffset, 10_000);
  assert.deepEqual(fresh, pattern(10_000, 1));
  assert.ok(arena.owns(fresh));
});

Deno.test("exceeding maxBytes throws a RangeError and leaves the arena usable", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  const used = arena.allocatedBytes;
  assert.throws(() => arena.alloc(1 << 20), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /maxBytes of 1048576/);
    return true;
  });
  assert.equal(arena.allocatedBytes, used, "a failed alloc must not consume space");
  const rest = arena.alloc((1 << 20) - used - 64, { align: 1 });
  assert.equal(rest.byteOffset + rest.length, (1 << 20) - 64);
  assert.throws(() => arena.alloc(65), RangeError);
  assert.equal(arena.alloc(64, { align: 1 }).length, 64);
});

Deno.test("invalid options and arguments are RangeErrors", () => {
  for (const maxBytes of [0, 1000, 4 * 2 ** 30, 1.5e6 + 0.5, NaN]) {
    assert.throws(() => new WasmArena({ maxBytes }), RangeError, `maxBytes ${maxBytes}`);
  }
  assert.throws(() => new WasmArena({ maxBytes: 1 << 20, initialBytes: 2 << 20 }), RangeError);
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  for (const bytes of [-1, 1.5, NaN]) assert.throws(() => arena.alloc(bytes), RangeError);
  for (const align of [0, 3, 48, 1 << 17]) {
    assert.throws(() => arena.alloc(8, { align }), RangeError, `align ${align}`);
  }
  assert.throws(() => arena.alloc(8, { align: 64, alignOffset: 64 }), RangeError);
  assert.throws(() => arena.alloc(8, { align: 64, alignOffset: -1 }), RangeError);
});

Deno.test("owns tells arena views from all others", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  const other = new WasmArena({ maxBytes: 1 << 20 });
  const r = arena.alloc(100);
  assert.ok(arena.owns(r));
  assert.ok(arena.owns(r.subarray(3, 7)));
  assert.equal(arena.offsetOf(r.subarray(3)), r.byteOffset + 3);
  assert.ok(arena.owns(new Uint8Array(arena.memory.buffer, 128, 8)));
  assert.ok(!arena.owns(new Uint8Array(100)));
  assert.ok(!arena.owns(new Uint8Array(new SharedArrayBuffer(100))));
  assert.ok(!arena.owns(other.alloc(100)));
  assert.equal(arena.offsetOf(new Uint8Array(8)), -1);
});

Deno.test("the kernels variant can be forced", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20, kernelVariant: "simd" });
  assert.equal(arena.kernels.name, "wasm-simd");
});

Deno.test("defaultArena is one lazily created arena with the default bound", () => {
  const arena = defaultArena();
  assert.equal(defaultArena(), arena);
  assert.equal(arena.maxBytes, DEFAULT_ARENA_MAX_BYTES);
  assert.equal(DEFAULT_ARENA_MAX_BYTES, 1 << 30);
});

Deno.test("files are written from and read into arena views without copies", async () => {
  const arena = new WasmArena({ maxBytes: 4 << 20 });
  const path = await Deno.makeTempFile();
  try {
    const source = arena.alloc(100_000);
    source.set(pattern(100_000, 7));
    const out = await Deno.open(path, { write: true });
    let written = 0;
    while (written < source.length) {
      written += await out.write(ioBytes(source.subarray(written)));
    }
    out.close();
    const target = arena.alloc(100_000);
    const file = await Deno.open(path);
    let read = 0;
    while (read < target.length) {
      const n = await file.read(ioBytes(target.subarray(read)));
      if (n === null) break;
      read += n;
    }
    file.close();
    assert.equal(read, 100_000);
    assert.deepEqual(target, pattern(100_000, 7));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("ioBytes returns the very same view", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  const view = arena.alloc(16);
  assert.equal(ioBytes(view), view);
});

Deno.test("by default the memory is created at its full size and never grows", () => {
  const maxBytes = (1 << 20) + 1000; // not whole pages: the memory rounds up
  const arena = new WasmArena({ maxBytes });
  assert.equal(arena.fixedSize, true);
  assert.equal(arena.byteLength, Math.ceil(maxBytes / 65536) * 65536);
  const buffer = arena.memory.buffer;
  const regions = [arena.alloc(1000), arena.alloc(maxBytes - arena.allocatedBytes - 64)];
  assert.equal(arena.memory.buffer, buffer, "a fixed-size memory made a new buffer object");
  assert.throws(() => arena.memory.grow(1), RangeError);
  assert.ok(regions.every((r) => r.buffer === buffer && arena.owns(r)));
  const data = regions[1]!.subarray(regions[1]!.length - 5000);
  data.set(pattern(5000, 9));
  arena.kernels.mul(regions[0]!, 0x8e, data.subarray(0, 1000));
  const expected = new Uint8Array(1000);
  ref.mul(expected, 0x8e, pattern(5000, 9).subarray(0, 1000));
  assert.deepEqual(regions[0], expected);
});

Deno.test("initialBytes makes the arena growable unless fixedSize is asked for", () => {
  const growable = new WasmArena({ maxBytes: 4 << 20, initialBytes: 64 * 1024 });
  assert.equal(growable.fixedSize, false);
  assert.ok(growable.byteLength < 4 << 20, "a growable arena started at its maximum");
  const forced = new WasmArena({ maxBytes: 4 << 20, initialBytes: 64 * 1024, fixedSize: true });
  assert.equal(forced.fixedSize, true);
  assert.equal(forced.byteLength, 4 << 20);
  const optedOut = new WasmArena({ maxBytes: 4 << 20, fixedSize: false });
  assert.equal(optedOut.fixedSize, false);
  assert.equal(optedOut.byteLength, 1 << 20);
  for (const arena of [growable, forced, optedOut]) {
    const src = arena.alloc(3000);
    const dst = arena.alloc(3000);
    src.set(pattern(3000, 4));
    dst.set(pattern(3000, 5));
    arena.kernels.mulAdd(dst, 0x35, src);
    const expected = pattern(3000, 5);
    ref.mulAdd(expected, 0x35, pattern(3000, 4));
    assert.deepEqual(dst, expected, `fixedSize ${arena.fixedSize}`);
  }
});
