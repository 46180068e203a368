// deno-lint-ignore-file no-console
/**
 * Times one in-process encode of the coding benchmark in a process of its own: `bench/coding/coding.ts`
 * starts a fresh `deno run` of this file per measurement (V8's JIT state and the memory a
 * previous encode left behind would otherwise carry over), passing a {@linkcode CodingJob} as
 * JSON in the first argument, and reads one {@linkcode CodingTiming} as JSON from stdout.
 *
 * The encodes: RapidRAID (16,11) through all 16 `enc_node<i>` programs pipelined in one process
 * (`runLocal(rapidraid, "enc_node15")`), RS(11+5) through the interpreter (`runLocal(rs,
 * rs.encode)`, whose parity MULT/MULADDs the interpreter fuses into one `dotProduct`), and the
 * same RS parity computed by bare `dotProduct` calls on regions in WebAssembly memory (no
 * interpreter, no copies): the floor the interpreter is measured against.
 *
 * Every process builds the same k parts from the job's seed, and checks the bytes it computed
 * (sampled windows of every coded block) against the generator matrix that the symbolic
 * execution derives from the module (`src/coding/analysis/symbolic.ts`), computed with the TypeScript
 * reference kernels: a benchmark of wrong bytes is worthless.
 *
 * @module
 */

import process from "node:process";
import { defaultArena, type WasmArena } from "../../src/buffer/arena.ts";
import type { BufferPool } from "../../src/buffer/pool.ts";
import { runLocal } from "../../src/coding/runtime/local_cluster.ts";
import type { LocalRunResult } from "../../src/coding/runtime/local_cluster.ts";
import { generatorMatrix } from "../../src/coding/analysis/symbolic.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { codingModule as rs } from "../../coding/rs.ts";
import { configureGfBackend } from "../../src/gf/backend.ts";
import { bareEncoder, kernelsEncoder } from "./bare_encoders.ts";
import { decodeEncoder, repairEncoder } from "./decode_encoders.ts";
import { Meter, meteredPool } from "./coding_meter.ts";
import { type Encoder, makeParts, OBJECT_ID, placedParts, verifyBlocks } from "./coding_parts.ts";

/**
 * What one measurement times: `rapidraid` (`runLocal(rapidraid, "enc_node15")`), `rs`
 * (`runLocal(rs, rs.encode)`), `dotproduct` (bare `dotProduct` calls computing the RS(11+5)
 * parity, one per chunk, on regions in WebAssembly memory) or `rapidraid-kernels` (RapidRAID's
 * MULT/MULADD/IADD as bare kernel calls on regions in WebAssembly memory, step by step; only
 * those calls are timed: the reference of the interpreter's overhead); `rs-decode` and
 * `rapidraid-decode` (the derived decode from the worst-conditioned decodable 11-subset) and
 * `rs-repair` and `rapidraid-repair` (the derived repair of the block whose cheapest repair
 * reads the most), through the interpreter (`decode_encoders.ts`).
 *
 * @example
 * ```ts
 * import type { CodingEncode } from "./coding_worker.ts";
 * const encode: CodingEncode = "rapidraid";
 * ```
 */
export type CodingEncode =
  | "rapidraid"
  | "rs"
  | "dotproduct"
  | "rapidraid-kernels"
  | "rs-decode"
  | "rapidraid-decode"
  | "rs-repair"
  | "rapidraid-repair";

/**
 * One measurement: what to encode, on how much data, how often.
 *
 * @example
 * ```ts
 * import type { CodingJob } from "./coding_worker.ts";
 * const job: CodingJob = {
 *   encode: "rs", partSize: 1 << 20, chunkSize: 1 << 20, warmUps: 1, runs: 3, seed: 42,
 *   instrument: false,
 * };
 * ```
 */
export interface CodingJob {
  /** The encode to time. */
  encode: CodingEncode;
  /** Bytes per part (k = 11 parts). */
  partSize: number;
  /** The interpreter's step size, and the bare encode's bytes per `dotProduct` call. */
  chunkSize: number;
  /** Untimed encodes first (the first also allocates the output blocks). */
  warmUps: number;
  /** Timed encodes. */
  runs: number;
  /** Seeds the part contents, so that every process encodes the same bytes. */
  seed: number;
  /**
   * Time the parts of every encode ({@linkcode EncodeBreakdown}) by wrapping the kernels and
   * `Uint8Array.prototype.set`. A diagnostic: such runs are reported apart from the plain ones.
   * (V8's sampling profiler is no use here: with it on, the RapidRAID encode runs at half
   * speed, its `mulAdd` kernel most of all.)
   */
  instrument: boolean;
  /** The GF kernels (`configureGfBackend`; default: WebAssembly). */
  backend?: "wasm" | "isal";
}

/**
 * The result of one {@linkcode CodingJob}.
 *
 * @example
 * ```ts
 * import type { CodingTiming } from "./coding_worker.ts";
 * const t: CodingTiming = {
 *   encode: "rs", bytesPerEncode: 11 << 20, seconds: [0.005], gbps: [2.3], cpuShare: [1],
 *   verifiedBytes: 720896, breakdown: null,
 * };
 * ```
 */
export interface CodingTiming {
  /** The encode that was timed. */
  encode: CodingEncode;
  /** Bytes of data one encode processes: k × part size (a repair: the survivors it reads). */
  bytesPerEncode: number;
  /** Wall time of every timed encode. */
  seconds: number[];
  /** GB/s (10^9 bytes of data per second) of every timed encode. */
  gbps: number[];
  /**
   * Per encode, CPU time of the process over wall time: below 1 when something else ran on the
   * pinned core (all threads of a pinned process share it).
   */
  cpuShare: number[];
  /** Bytes of coded blocks compared with the reference computation. */
  verifiedBytes: number;
  /** Where the time of the timed encodes went, per encode (only for `instrument` jobs). */
  breakdown: EncodeBreakdown | null;
}

/**
 * Seconds per encode (the mean over the timed encodes of an `instrument` job) by what the time
 * was spent on. `other` is the rest of the wall time: the interpreter's own work (steps,
 * buffer slots and reference counts, queues, promises), the harness's, and waiting.
 *
 * @example
 * ```ts
 * import type { EncodeBreakdown } from "./coding_worker.ts";
 * const b: EncodeBreakdown = {
 *   total: 0.3, kernels: 0.15, copyIn: 0.06, copyOut: 0.04, copyArena: 0.02, other: 0.03,
 *   kernelCalls: 2752, copies: 3648,
 * };
 * ```
 */
export interface EncodeBreakdown {
  /** Wall time of an encode. */
  total: number;
  /** In the GF(2^8) kernels (`mul`, `mulAdd`, `xor`, `dotProduct`). */
  kernels: number;
  /** Copying block bytes into step buffers (the in-memory harness reading its blocks). */
  copyIn: number;
  /** Copying step buffers out into blocks (the in-memory harness writing its blocks). */
  copyOut: number;
  /** Copies between step buffers: the programs' COPY instructions, copy-on-write. */
  copyArena: number;
  /** Everything else. */
  other: number;
  /** Kernel calls per encode. */
  kernelCalls: number;
  /** `Uint8Array.prototype.set` calls per encode. */
  copies: number;
}

function interpreterEncoder(
  module: CodingModule,
  entry: string | readonly string[],
  job: CodingJob,
  pool: BufferPool | undefined,
): Encoder {
  const parts = makeParts(module.k, job.partSize, job.seed, (n) => new Uint8Array(n));
  const blocks = placedParts(module, parts);
  let last: LocalRunResult | undefined;
  return {
    async encode() {
      last = await runLocal(module, entry, {
        objectId: OBJECT_ID,
        blocks,
        chunkSize: job.chunkSize,
        ...(pool === undefined ? {} : { pool }),
        // The previous encode's blocks: fresh 64 MiB arrays would time page faults.
        ...(last === undefined ? {} : { into: last.blocks }),
      });
    },
    verify() {
      const coded = module.coded.map((c) =>
        last!.blocks.get(`${c.node}/${expandBlockName(c.block, OBJECT_ID)}`)
      );
      const rows = module.coded.map((_, i) => i);
      return verifyBlocks(module.name, generatorMatrix(module), rows, coded, parts);
    },
  };
}

/**
 * Runs one job: `warmUps` untimed encodes, then `runs` timed ones (their parts timed when
 * `instrument`), then the check of the last encode's output.
 *
 * @example
 * ```ts
 * import { timeEncode } from "./coding_worker.ts";
 * const t = await timeEncode({
 *   encode: "rapidraid", partSize: 1 << 16, chunkSize: 1 << 14, warmUps: 1, runs: 2, seed: 1,
 *   instrument: false,
 * });
 * console.log(t.gbps.length); // 2
 * // The bare kernel calls compute the same coded blocks (checked, or it throws).
 * const bare = await timeEncode({
 *   encode: "rapidraid-kernels", partSize: 1 << 16, chunkSize: 1 << 14, warmUps: 1, runs: 1,
 *   seed: 1, instrument: false,
 * });
 * console.log(bare.verifiedBytes > 0); // true
 * ```
 *
 * @param job What to time.
 * @returns The timings.
 * @throws {Error} When the encode computed wrong bytes.
 */
export async function timeEncode(job: CodingJob): Promise<CodingTiming> {
  configureGfBackend(job.backend ?? "wasm");
  let meter: Meter | null = null;
  let pool: BufferPool | undefined;
  if (job.instrument) {
    const arenas: WasmArena[] = [defaultArena()];
    meter = new Meter((view) => arenas.some((a) => a.owns(view)));
    if (job.encode !== "dotproduct") pool = meteredPool(meter, job.chunkSize);
  }
  const encoder: Encoder & { bytesPerRun?: number } = job.encode === "rapidraid"
    ? interpreterEncoder(rapidraid, "enc_node15", job, pool)
    : job.encode === "rs"
    ? interpreterEncoder(rs, rs.encode, job, pool)
    : job.encode === "rapidraid-kernels"
    ? kernelsEncoder(rapidraid, "enc_node15", job)
    : job.encode === "rs-decode"
    ? decodeEncoder(rs, rs.encode, job, pool)
    : job.encode === "rapidraid-decode"
    ? decodeEncoder(rapidraid, "enc_node15", job, pool)
    : job.encode === "rs-repair"
    ? repairEncoder(rs, rs.encode, job, pool)
    : job.encode === "rapidraid-repair"
    ? repairEncoder(rapidraid, "enc_node15", job, pool)
    : bareEncoder(job, meter);
  for (let i = 0; i < job.warmUps; i++) await encoder.encode();
  const seconds: number[] = [];
  const cpuShare: number[] = [];
  if (meter !== null) meter.on = true;
  for (let r = 0; r < job.runs; r++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await encoder.encode();
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    seconds.push(encoder.timedSeconds?.() ?? ms / 1000);
    cpuShare.push((used.user + used.system) / 1000 / ms);
  }
  let breakdown: EncodeBreakdown | null = null;
  if (meter !== null) {
    meter.on = false;
    const t = meter.take();
    const per = (ms: number) => ms / 1000 / job.runs;
    const total = seconds.reduce((a, b) => a + b, 0) / job.runs;
    const parts = {
      kernels: per(t.kernels),
      copyIn: per(t.copyIn),
      copyOut: per(t.copyOut),
      copyArena: per(t.copyArena),
    };
    breakdown = {
      total,
      ...parts,
      other: total - parts.kernels - parts.copyIn - parts.copyOut - parts.copyArena,
      kernelCalls: t.kernelCalls / job.runs,
      copies: t.copies / job.runs,
    };
  }
  const bytesPerEncode = encoder.bytesPerRun ?? rs.k * job.partSize;
  return {
    encode: job.encode,
    bytesPerEncode,
    seconds,
    gbps: seconds.map((s) => bytesPerEncode / s / 1e9),
    cpuShare,
    verifiedBytes: encoder.verify(),
    breakdown,
  };
}

if (import.meta.main) {
  const job = JSON.parse(Deno.args[0] ?? "null") as CodingJob;
  console.log(JSON.stringify(await timeEncode(job)));
}
