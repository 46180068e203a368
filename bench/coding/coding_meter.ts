/**
 * The coding benchmark's instrumentation: a {@linkcode Meter} times every GF kernel call and
 * every `Uint8Array.prototype.set` (classified by which side lies in WebAssembly memory) of an
 * instrumented encode, and {@linkcode meteredPool} gives the interpreter a pool whose kernels
 * report to it (`bench/coding/coding_worker.ts` uses both).
 *
 * @module
 */
import { defaultArena, type WasmArena } from "../../src/buffer/arena.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import type { RegionKernels } from "../../src/gf/region.ts";

/**
 * Milliseconds and calls, summed while a {@linkcode Meter} is on.
 *
 * @example
 * ```ts
 * import type { Tally } from "./coding_meter.ts";
 * const t: Tally = { kernels: 1, copyIn: 0, copyOut: 0, copyArena: 0, kernelCalls: 3, copies: 0 };
 * ```
 */
export interface Tally {
  /** In GF kernel calls. */
  kernels: number;
  /** Copying into WebAssembly memory (the harness reading its blocks into step buffers). */
  copyIn: number;
  /** Copying out of it (the harness writing step buffers into its blocks). */
  copyOut: number;
  /** Copying within it (COPY instructions, copy-on-write). */
  copyArena: number;
  /** Kernel calls. */
  kernelCalls: number;
  /** `Uint8Array.prototype.set` calls. */
  copies: number;
}

/**
 * Times kernel calls and `Uint8Array.prototype.set` calls (classified by which side lies in
 * WebAssembly memory) while `on`. `performance.now()` around calls of about 1 MiB costs little
 * next to the calls themselves; the instrumented encode's total shows how little. Replaces
 * `Uint8Array.prototype.set` for the life of the process: for a benchmark process only.
 *
 * @example
 * Not run by `deno test --doc`: it replaces `Uint8Array.prototype.set` in the process.
 * ```ts ignore
 * import { Meter } from "./coding_meter.ts";
 * const meter = new Meter(() => false);
 * meter.on = true;
 * new Uint8Array(8).set(new Uint8Array(8));
 * console.log(meter.take().copies); // 1
 * ```
 */
export class Meter {
  /** Whether calls are timed now. */
  on = false;
  /** What was timed since the last {@linkcode Meter.take}. */
  tally: Tally = Meter.#zero();
  /** Set while a kernel runs: a copy inside a kernel (c = 1 in `mul`) is kernel time. */
  #inKernel = false;

  static #zero(): Tally {
    return { kernels: 0, copyIn: 0, copyOut: 0, copyArena: 0, kernelCalls: 0, copies: 0 };
  }

  /**
   * Starts timing copies (while `on`).
   *
   * @param owns Whether a view lies in WebAssembly memory (an arena's).
   */
  constructor(owns: (view: Uint8Array) => boolean) {
    const set = Uint8Array.prototype.set;
    // deno-lint-ignore no-this-alias
    const meter = this;
    Object.defineProperty(Uint8Array.prototype, "set", {
      configurable: true,
      writable: true,
      value: function (this: Uint8Array, source: ArrayLike<number>, offset?: number): void {
        if (!meter.on || meter.#inKernel || !(source instanceof Uint8Array)) {
          set.call(this, source, offset);
          return;
        }
        const start = performance.now();
        set.call(this, source, offset);
        const ms = performance.now() - start;
        const toArena = owns(this);
        const fromArena = owns(source);
        const t = meter.tally;
        t.copies++;
        if (toArena && fromArena) t.copyArena += ms;
        else if (toArena) t.copyIn += ms;
        else if (fromArena) t.copyOut += ms;
        else t.copyArena += ms;
      },
    });
  }

  /**
   * Kernels that time themselves into this meter.
   *
   * @param kernels The kernels to time.
   * @returns The same kernels, timed while `on`.
   */
  wrap(kernels: RegionKernels): RegionKernels {
    const timed = <A extends unknown[]>(f: (...args: A) => void) => (...args: A): void => {
      if (!this.on) return f(...args);
      const start = performance.now();
      this.#inKernel = true;
      try {
        f(...args);
      } finally {
        this.#inKernel = false;
        this.tally.kernels += performance.now() - start;
        this.tally.kernelCalls++;
      }
    };
    return {
      name: `${kernels.name} (timed)`,
      xor: timed((dst: Uint8Array, src: Uint8Array) => kernels.xor(dst, src)),
      mul: timed((dst: Uint8Array, c: number, src: Uint8Array) => kernels.mul(dst, c, src)),
      mulAdd: timed((dst: Uint8Array, c: number, src: Uint8Array) => kernels.mulAdd(dst, c, src)),
      dotProduct: timed((outs: readonly Uint8Array[], coeffs, ins: readonly Uint8Array[]) =>
        kernels.dotProduct(outs, coeffs, ins)
      ),
      ...(kernels.addsFromInOnePass === undefined
        ? {}
        : { addsFromInOnePass: kernels.addsFromInOnePass }),
      dotProductAdd: timed((
        outs: readonly Uint8Array[],
        coeffs,
        ins: readonly Uint8Array[],
        froms?: readonly Uint8Array[],
      ) => kernels.dotProductAdd(outs, coeffs, ins, froms)),
    };
  }

  /**
   * The tally so far, and a fresh one from now on.
   *
   * @returns The tally.
   */
  take(): Tally {
    const t = this.tally;
    this.tally = Meter.#zero();
    return t;
  }
}

/**
 * A pool like `runLocal`'s default one (1 MiB buffers on the default arena, up to 512 MiB)
 * whose arena hands out the meter's kernels: the interpreter uses `pool.arena.kernels`.
 *
 * @example
 * Not run by `deno test --doc`: its meter replaces `Uint8Array.prototype.set` in the process.
 * ```ts ignore
 * import { Meter, meteredPool } from "./coding_meter.ts";
 * const pool = meteredPool(new Meter(() => false), 1 << 20);
 * console.log(pool.bufferSize); // 1048576
 * ```
 *
 * @param meter Where the kernel calls are timed.
 * @param chunkSize The step size: the buffers' size (rounded up to 64 bytes).
 * @returns The pool.
 */
export function meteredPool(meter: Meter, chunkSize: number): BufferPool {
  const arena = defaultArena();
  const kernels = meter.wrap(arena.kernels);
  const facade = {
    memory: arena.memory,
    maxBytes: arena.maxBytes,
    kernels,
    alloc: arena.alloc.bind(arena),
    owns: arena.owns.bind(arena),
    offsetOf: arena.offsetOf.bind(arena),
  } as unknown as WasmArena;
  const bufferSize = Math.ceil(chunkSize / 64) * 64;
  return new BufferPool({
    arena: facade,
    bufferSize,
    maxBuffers: Math.max(256, Math.floor((512 << 20) / bufferSize)),
  });
}
