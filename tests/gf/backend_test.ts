import assert from "node:assert/strict";
import { WasmArena } from "../../src/buffer/arena.ts";
import {
  configureGfBackend,
  gfBackend,
  kernelsFor,
  parseGfBackend,
  selfCheck,
} from "../../src/gf/backend.ts";
import type { RegionKernels } from "../../src/gf/region.ts";
import { referenceKernels } from "../../src/gf/region_ref.ts";
import { isalNamed, noIsal } from "../helpers/isal.ts";

/** Runs `fn` and puts the process back on the default backend. */
function withBackend(fn: () => void): void {
  try {
    fn();
  } finally {
    configureGfBackend("wasm");
  }
}

/** Kernels that are right except that `mulAdd` flips one byte of regions over 100 bytes. */
function broken(k: RegionKernels): RegionKernels {
  return {
    ...k,
    name: k.name,
    mulAdd(dst, c, src) {
      k.mulAdd(dst, c, src);
      if (dst.length > 100) dst[dst.length - 1]! ^= 0x40;
    },
  };
}

Deno.test("gf backend: the default is the arena's WebAssembly kernels", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  assert.equal(gfBackend().backend, "wasm");
  assert.equal(kernelsFor(arena.kernels), arena.kernels);
});

Deno.test("gf backend: forcing wasm and ts gives those kernels", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  withBackend(() => {
    assert.equal(configureGfBackend("ts").backend, "ts");
    assert.equal(kernelsFor(arena.kernels), referenceKernels);
    assert.equal(gfBackend().backend, "ts");
    assert.equal(configureGfBackend("wasm").backend, "wasm");
    assert.equal(kernelsFor(arena.kernels), arena.kernels);
  });
});

Deno.test({
  name: isalNamed(
    "gf backend: forcing isal, and auto, give ISA-L over the arena (built once per arena)",
  ),
  ignore: noIsal !== null,
  fn() {
    const arena = new WasmArena({ maxBytes: 4 << 20 });
    withBackend(() => {
      for (const choice of ["isal", "auto"] as const) {
        const selected = configureGfBackend(choice);
        assert.equal(selected.backend, "isal");
        assert.match(selected.message, /^isal \(ISA-L through FFI/);
        const k = kernelsFor(arena.kernels);
        assert.equal(k.name, "isal-ffi");
        assert.equal(kernelsFor(arena.kernels), k);
        const a = arena.alloc(4096).fill(3), b = arena.alloc(4096);
        k.mul(b, 2, a);
        assert.equal(b[4095], 6);
      }
    });
  },
});

Deno.test("gf backend: a missing library makes auto fall back to wasm with one line why", () => {
  const arena = new WasmArena({ maxBytes: 1 << 20 });
  withBackend(() => {
    const selected = configureGfBackend("auto", { libraryPath: "/nonexistent/libisal.so.2" });
    assert.equal(selected.backend, "wasm");
    assert.match(selected.message, /^wasm \(auto: ISA-L not used: cannot open \/nonexistent/);
    assert.ok(!selected.message.includes("\n"));
    assert.equal(kernelsFor(arena.kernels), arena.kernels);
    assert.throws(
      () => configureGfBackend("isal", { libraryPath: "/nonexistent/libisal.so.2" }),
      /--gf-backend isal: cannot open \/nonexistent\/libisal\.so\.2/,
    );
  });
});

Deno.test({
  name: isalNamed("gf backend: the self-check rejects a wrong ISA-L kernel, and auto falls back"),
  ignore: noIsal !== null,
  fn() {
    withBackend(() => {
      const selected = configureGfBackend("auto", { wrapIsal: broken });
      assert.equal(selected.backend, "wasm");
      assert.match(selected.message, /failed the self-check: mulAdd by \d+ of \d+ bytes/);
      assert.throws(() => configureGfBackend("isal", { wrapIsal: broken }), /self-check/);
    });
  },
});

Deno.test("gf backend: selfCheck compares every kernel", () => {
  const alloc = (n: number) => new Uint8Array(n);
  assert.equal(selfCheck(referenceKernels, referenceKernels, alloc), null);
  assert.match(selfCheck(broken(referenceKernels), referenceKernels, alloc)!, /^mulAdd/);
  const badDot: RegionKernels = {
    ...referenceKernels,
    dotProduct(outs, coeffs, ins) {
      referenceKernels.dotProduct(outs, coeffs, ins);
      if (outs.length > 2) outs[2]![0]! ^= 1;
    },
  };
  assert.match(
    selfCheck(badDot, referenceKernels, alloc)!,
    /^dotProduct \(5x11\).* output 2 byte 0/,
  );
  // An add that overwrites (the stale output bytes lost) is caught too.
  const overwritingAdd: RegionKernels = {
    ...referenceKernels,
    dotProductAdd: referenceKernels.dotProduct,
  };
  assert.match(
    selfCheck(overwritingAdd, referenceKernels, alloc)!,
    /^dotProductAdd \(1x1\) of 64 bytes differs at output 0/,
  );
});

Deno.test("gf backend: parseGfBackend names the bad value", () => {
  assert.equal(parseGfBackend("ts", "--gf-backend"), "ts");
  assert.throws(
    () => parseGfBackend("gpu", "$CDFS_GF_BACKEND"),
    /\$CDFS_GF_BACKEND must be one of auto, isal, wasm, ts, got "gpu"/,
  );
});
