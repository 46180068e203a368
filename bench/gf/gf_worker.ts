// deno-lint-ignore-file no-console
/**
 * Times one GF(2^8) region kernel of one implementation at one region size, in a process of its
 * own: pure-TypeScript speeds swing with V8's JIT tiering, so `bench/gf/gf.ts` starts a fresh
 * `deno run` of this file per measurement, passing a {@linkcode GfJob} as JSON in the first
 * argument, and reads one {@linkcode GfTiming} as JSON from stdout.
 *
 * The module also holds what the driver and the worker must agree on: the region layout (the
 * same as the ISA-L harness `bench/gf/isal/gf_isal_bench.c`) and the call that each kernel row
 * stands for.
 *
 * @module
 */

import process from "node:process";
import { defaultArena } from "../../src/buffer/arena.ts";
import { referenceKernels } from "../../src/gf/region_ref.ts";
import type { RegionKernels } from "../../src/gf/region.ts";

/**
 * The rows of the benchmark: `mulAdd` is `dst ^= c·src`, `mul` is `dst = c·src`, `xor` is
 * `dst ^= src`, and `rs` is one RS(11+5) encode (`dotProduct` of 11 inputs into 5 outputs).
 *
 * @example
 * ```ts
 * import type { GfKernel } from "./gf_worker.ts";
 * const row: GfKernel = "rs";
 * ```
 */
export type GfKernel = "mulAdd" | "mul" | "xor" | "rs";

/**
 * Which of our kernels to time: the TypeScript reference on ordinary `ArrayBuffer`s, or the
 * WebAssembly SIMD kernel on regions inside WebAssembly memory.
 *
 * @example
 * ```ts
 * import type { GfImplementation } from "./gf_worker.ts";
 * const impl: GfImplementation = "wasm";
 * ```
 */
export type GfImplementation = "ts" | "wasm";

/**
 * One measurement: what to time and how long.
 *
 * @example
 * ```ts
 * import type { GfJob } from "./gf_worker.ts";
 * const job: GfJob = {
 *   implementation: "ts", kernel: "mulAdd", size: 65536, runs: 7, runMs: 200,
 *   coefficient: 0xc3, matrix: [[1, 2], [3, 4]],
 * };
 * ```
 */
export interface GfJob {
  /** The kernels to time: TypeScript or WebAssembly. */
  implementation: GfImplementation;
  /** The table row: which kernel call is timed. */
  kernel: GfKernel;
  /** Bytes per region. */
  size: number;
  /** Timed runs after the warm-up. */
  runs: number;
  /** Minimum length of one timed run, in milliseconds. */
  runMs: number;
  /** The multiplier of the `mulAdd` and `mul` rows. */
  coefficient: number;
  /** The parity rows of the `rs` row: one row of `k` coefficients per output. */
  matrix: number[][];
}

/**
 * The result of one {@linkcode GfJob}: GB/s (10^9 bytes of data per second) of every timed run.
 *
 * @example
 * ```ts
 * import type { GfTiming } from "./gf_worker.ts";
 * const t: GfTiming = {
 *   gbps: [1.9, 2.1, 2.0], cpuShare: [1, 0.99, 1], callsPerRun: 6000, bytesPerCall: 65536,
 * };
 * ```
 */
export interface GfTiming {
  /** GB/s of every timed run. */
  gbps: number[];
  /**
   * Per run, CPU time of the process over wall time. Below 1 when something else ran on the
   * pinned core (all our threads share that core, so it cannot exceed 1 when pinned).
   */
  cpuShare: number[];
  /** Kernel calls in one timed run (enough to last `runMs`). */
  callsPerRun: number;
  /** Bytes of data one call processes: the region size, or k × size for `rs`. */
  bytesPerCall: number;
}

/**
 * Extra bytes between consecutive regions. With sizes that are multiples of 4 KiB, regions
 * would otherwise all start at the same offset within a page, and 4 KiB aliasing costs the
 * WebAssembly encode ~16%. 320 is a multiple of 64 (cache lines, SIMD alignment) and gives 16
 * regions 16 distinct page offsets. The ISA-L harness uses the same value.
 *
 * @example
 * ```ts
 * import { REGION_STAGGER } from "./gf_worker.ts";
 * console.log(REGION_STAGGER % 64); // 0
 * ```
 */
export const REGION_STAGGER = 320;

/** Regions every row needs at most: 11 data and 5 parity for RS(11+5). */
const REGION_COUNT = 16;

/**
 * Cuts `count` regions of `size` bytes out of one allocation, 64-byte aligned and
 * {@linkcode REGION_STAGGER} bytes apart, in the order of the ISA-L harness: for `mulAdd`,
 * `mul` and `xor` region 0 is the source and region 1 the destination; for `rs` regions 0-10
 * are the data and 11-15 the parity.
 *
 * @example
 * ```ts
 * import { staggeredRegions } from "./gf_worker.ts";
 * const [src, dst] = staggeredRegions((n) => new Uint8Array(n), 2, 4096);
 * console.log(dst!.byteOffset - src!.byteOffset); // 4416
 * ```
 *
 * @param alloc Returns a zeroed region of the given number of bytes.
 * @param count How many regions.
 * @param size Bytes per region.
 */
export function staggeredRegions(
  alloc: (bytes: number) => Uint8Array,
  count: number,
  size: number,
): Uint8Array[] {
  const stride = size + REGION_STAGGER;
  const block = alloc(count * stride + 64);
  const skip = (64 - (block.byteOffset & 63)) & 63;
  return Array.from(
    { length: count },
    (_, i) => block.subarray(skip + i * stride, skip + i * stride + size),
  );
}

/**
 * Fills a region with random bytes. They go through a private buffer because
 * `crypto.getRandomValues` takes at most 64 KiB a call and may refuse views of the shared
 * WebAssembly memory.
 *
 * @example
 * ```ts
 * import { fillRandom } from "./gf_worker.ts";
 * const r = new Uint8Array(100_000);
 * fillRandom(r);
 * ```
 *
 * @param region The bytes to overwrite.
 */
export function fillRandom(region: Uint8Array): void {
  const chunk = new Uint8Array(65536);
  for (let i = 0; i < region.length; i += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, region.length - i));
    crypto.getRandomValues(part);
    region.set(part, i);
  }
}

/**
 * The kernels of an implementation and where its regions must live: WebAssembly kernels get
 * regions inside WebAssembly memory (from the default arena), so nothing is copied per call.
 *
 * @example
 * ```ts
 * import { implementation } from "./gf_worker.ts";
 * const { kernels, alloc } = implementation("ts");
 * kernels.xor(alloc(64), alloc(64));
 * ```
 *
 * @param which `"ts"` or `"wasm"`.
 */
export function implementation(
  which: GfImplementation,
): { kernels: RegionKernels; alloc: (bytes: number) => Uint8Array } {
  if (which === "ts") return { kernels: referenceKernels, alloc: (n) => new Uint8Array(n) };
  const arena = defaultArena();
  return { kernels: arena.kernels, alloc: (n) => arena.alloc(n) };
}

/**
 * The call one row times, on regions laid out by {@linkcode staggeredRegions}, and the bytes of
 * data it processes.
 *
 * @example
 * ```ts
 * import { kernelCall, staggeredRegions } from "./gf_worker.ts";
 * import { referenceKernels } from "../../src/gf/region_ref.ts";
 * const regions = staggeredRegions((n) => new Uint8Array(n), 16, 4096);
 * const { call, bytesPerCall } = kernelCall(referenceKernels, "xor", regions, 3, []);
 * call();
 * console.log(bytesPerCall); // 4096
 * ```
 *
 * @param kernels The implementation.
 * @param kernel The row.
 * @param regions At least 16 regions of one size.
 * @param coefficient The multiplier of `mulAdd` and `mul`.
 * @param matrix The parity rows of `rs` (their count is m, their length k).
 */
export function kernelCall(
  kernels: RegionKernels,
  kernel: GfKernel,
  regions: Uint8Array[],
  coefficient: number,
  matrix: readonly (readonly number[])[],
): { call: () => void; bytesPerCall: number } {
  const src = regions[0]!;
  const dst = regions[1]!;
  switch (kernel) {
    case "mulAdd":
      return { call: () => kernels.mulAdd(dst, coefficient, src), bytesPerCall: src.length };
    case "mul":
      return { call: () => kernels.mul(dst, coefficient, src), bytesPerCall: src.length };
    case "xor":
      return { call: () => kernels.xor(dst, src), bytesPerCall: src.length };
    case "rs": {
      const k = matrix[0]?.length ?? 0;
      const coeffs = matrix.map((row) => Uint8Array.from(row));
      const ins = regions.slice(0, k);
      const outs = regions.slice(k, k + matrix.length);
      return {
        call: () => kernels.dotProduct(outs, coeffs, ins),
        bytesPerCall: k * src.length,
      };
    }
  }
}

function timeCalls(call: () => void, calls: number): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) call();
  return performance.now() - start;
}

/**
 * Runs one job: random regions, a warm-up of at least 300 ms (so V8 has tiered the kernel up)
 * that also sizes a run to about `runMs`, then `runs` timed runs.
 *
 * @example
 * ```ts
 * import { timeJob } from "./gf_worker.ts";
 * const t = timeJob({
 *   implementation: "ts", kernel: "xor", size: 4096, runs: 3, runMs: 10,
 *   coefficient: 3, matrix: [],
 * });
 * console.log(t.gbps.length); // 3
 * ```
 *
 * @param job What to time.
 */
export function timeJob(job: GfJob): GfTiming {
  const { kernels, alloc } = implementation(job.implementation);
  const regions = staggeredRegions(alloc, REGION_COUNT, job.size);
  for (const r of regions) fillRandom(r);
  const { call, bytesPerCall } = kernelCall(
    kernels,
    job.kernel,
    regions,
    job.coefficient,
    job.matrix,
  );

  const warmUpMs = Math.max(300, job.runMs);
  let calls = 1;
  let spent = 0;
  let elapsed = timeCalls(call, calls);
  while (spent + elapsed < warmUpMs || elapsed < 50) {
    spent += elapsed;
    calls *= 2;
    elapsed = timeCalls(call, calls);
  }
  const callsPerRun = Math.ceil(calls * job.runMs / elapsed);
  const gbps: number[] = [];
  const cpuShare: number[] = [];
  for (let r = 0; r < job.runs; r++) {
    const cpu = process.cpuUsage();
    const ms = timeCalls(call, callsPerRun);
    const used = process.cpuUsage(cpu);
    gbps.push(bytesPerCall * callsPerRun / (ms * 1e6));
    cpuShare.push((used.user + used.system) / 1000 / ms);
  }
  return { gbps, cpuShare, callsPerRun, bytesPerCall };
}

if (import.meta.main) {
  const job = JSON.parse(Deno.args[0] ?? "null") as GfJob;
  console.log(JSON.stringify(timeJob(job)));
}
