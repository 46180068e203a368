import assert from "node:assert/strict";
import { assembleWat, loadWabt, wabtInstalled } from "../../scripts/wabt.ts";
import { createXXHash64 } from "hash-wasm";
import { inPlaceXxh64, wasmBytes, XXH64_WASM_BASE64 } from "../../src/checksum/xxh64_wasm.ts";

/** An independent reference: hash-wasm's xxh64, on a copy of the bytes. */
const reference = await createXXHash64();
function referenceXxh64(bytes: Uint8Array): bigint {
  reference.init();
  reference.update(bytes.slice());
  return BigInt("0x" + reference.digest("hex"));
}

function sharedMemory(pages: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: pages, maximum: pages * 2, shared: true });
}

function fillPattern(view: Uint8Array, seed: number): void {
  let x = seed >>> 0;
  for (let i = 0; i < view.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    view[i] = x >>> 24;
  }
}

Deno.test("published XXH64 values (seed 0)", () => {
  const memory = sharedMemory(1);
  const xxh64 = inPlaceXxh64(memory);
  const text = (s: string, at: number) => {
    const bytes = new TextEncoder().encode(s);
    new Uint8Array(memory.buffer, at, bytes.length).set(bytes);
    return xxh64(at, bytes.length);
  };
  assert.equal(text("", 0), 0xef46db3751d8e999n);
  assert.equal(text("a", 7), 0xd24ec4f1a98c6e5bn);
  assert.equal(text("abc", 100), 0x44bc2cf5ad770999n);
});

Deno.test("agrees with hash-wasm on every length 0..300 at unaligned offsets", () => {
  const memory = sharedMemory(1);
  const all = new Uint8Array(memory.buffer);
  fillPattern(all, 7);
  const xxh64 = inPlaceXxh64(memory);
  for (let length = 0; length <= 300; length++) {
    for (const offset of [0, 1, 5, 8, 4093]) {
      const view = all.subarray(offset, offset + length);
      assert.equal(xxh64(offset, length), referenceXxh64(view), `length ${length} at ${offset}`);
    }
  }
});

Deno.test("agrees with hash-wasm on large views, up to the end of the memory", () => {
  const memory = sharedMemory(40);
  const all = new Uint8Array(memory.buffer);
  fillPattern(all, 11);
  const xxh64 = inPlaceXxh64(memory);
  const mib = 1 << 20;
  for (
    const [offset, length] of [[64, mib], [3, mib + 13], [0, all.length], [all.length - 33, 33]]
  ) {
    const view = all.subarray(offset!, offset! + length!);
    assert.equal(xxh64(offset!, length!), referenceXxh64(view), `${length} bytes at ${offset}`);
  }
  // Bytes written after the hasher was made are seen: it reads the memory, not a copy.
  const before = xxh64(64, 4096);
  all[64 + 4095]! ^= 1;
  assert.notEqual(xxh64(64, 4096), before);
  assert.equal(xxh64(64, 4096), referenceXxh64(all.subarray(64, 64 + 4096)));
});

Deno.test("reads memory added by grow()", () => {
  const memory = sharedMemory(1);
  const xxh64 = inPlaceXxh64(memory);
  memory.grow(1);
  const grown = new Uint8Array(memory.buffer, 65536 - 10, 100);
  fillPattern(grown, 3);
  assert.equal(xxh64(65536 - 10, 100), referenceXxh64(grown));
});

Deno.test("an unshared memory cannot be hashed in place", () => {
  const unshared = new WebAssembly.Memory({ initial: 1 });
  assert.throws(() => inPlaceXxh64(unshared), WebAssembly.LinkError);
});

// The embedded module must be what `src/checksum/xxh64.wat` assembles to. wabt is a build tool, not a
// dependency: without it (`make wasm` installs it) this check is skipped.
Deno.test({
  name: "the embedded module is src/checksum/xxh64.wat assembled",
  ignore: !(await wabtInstalled()),
  fn: async () => {
    const text = await Deno.readTextFile(new URL("../../src/checksum/xxh64.wat", import.meta.url));
    const assembled = assembleWat(await loadWabt(), "xxh64.wat", text, { threads: true });
    let binary = "";
    for (const b of assembled) binary += String.fromCharCode(b);
    assert.deepEqual(
      wasmBytes(XXH64_WASM_BASE64),
      assembled,
      `src/checksum/xxh64_wasm.ts is stale; its XXH64_WASM_BASE64 should be:\n${btoa(binary)}`,
    );
  },
});
