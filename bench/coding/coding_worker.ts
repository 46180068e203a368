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
import { defaultArena, WasmArena } from "../../src/buffer/arena.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import { runLocal } from "../../src/coding/runtime/local_cluster.ts";
import { Meter, meteredPool } from "./coding_meter.ts";
import type { LocalRunResult } from "../../src/coding/runtime/local_cluster.ts";
import { generatorMatrix } from "../../src/coding/analysis/symbolic.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import type { FieldMatrix } from "../../src/coding/analysis/field_matrix.ts";
import { referenceKernels } from "../../src/gf/region_ref.ts";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { codingModule as rs } from "../../coding/rs.ts";

/**
 * What one measurement times: `rapidraid` (`runLocal(rapidraid, "enc_node15")`), `rs`
 * (`runLocal(rs, rs.encode)`), `dotproduct` (bare `dotProduct` calls computing the RS(11+5)
 * parity, one per chunk, on regions in WebAssembly memory) or `rapidraid-kernels` (RapidRAID's
 * MULT/MULADD/IADD as bare kernel calls on regions in WebAssembly memory, step by step; only
 * those calls are timed: the reference of the interpreter's overhead).
 *
 * @example
 * ```ts
 * import type { CodingEncode } from "./coding_worker.ts";
 * const encode: CodingEncode = "rapidraid";
 * ```
 */
export type CodingEncode = "rapidraid" | "rs" | "dotproduct" | "rapidraid-kernels";

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
  /** Bytes of data one encode processes: k × part size. */
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

/** The object id the encodes run on. */
const OBJECT_ID = "bench";

/**
 * Extra bytes between consecutive regions of the bare encode, as in `bench/gf/gf_worker.ts`: no two
 * regions start at the same offset within a 4 KiB page (aliasing costs the WASM kernel ~16%).
 */
const REGION_STAGGER = 320;

/** Bytes per verified window; three windows (start, middle, end) per coded block. */
const VERIFY_WINDOW = 4096;

/**
 * The k parts of the benchmark: pseudo-random bytes from `seed` (xorshift32), the same in every
 * process. Written into `alloc`ated regions so the bare encode can place them in WebAssembly
 * memory.
 *
 * @example
 * ```ts
 * import { makeParts } from "./coding_worker.ts";
 * const [a] = makeParts(1, 1024, 7, (n) => new Uint8Array(n));
 * const [b] = makeParts(1, 1024, 7, (n) => new Uint8Array(n));
 * console.log(a![5] === b![5]); // true
 * ```
 *
 * @param k How many parts.
 * @param partSize Bytes per part (a multiple of 4).
 * @param seed Any integer; 0 is replaced by a fixed non-zero state.
 * @param alloc Returns a region of the given length, 4-byte aligned.
 * @returns The parts.
 */
export function makeParts(
  k: number,
  partSize: number,
  seed: number,
  alloc: (bytes: number) => Uint8Array,
): Uint8Array[] {
  let x = (seed >>> 0) || 0x9e3779b9;
  return Array.from({ length: k }, () => {
    const part = alloc(partSize);
    const words = new Uint32Array(part.buffer, part.byteOffset, partSize >>> 2);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x;
    }
    return part;
  });
}

/** The block map of `runLocal`: every part on every node its module places it on. */
function placedParts(module: CodingModule, parts: readonly Uint8Array[]): Map<string, Uint8Array> {
  const blocks = new Map<string, Uint8Array>();
  module.parts.forEach((part, j) => {
    for (const node of part.nodes) {
      blocks.set(`${node}/${expandBlockName(part.block, OBJECT_ID)}`, parts[j]!);
    }
  });
  return blocks;
}

/** Start offsets of the verified windows of a block of `length` bytes. */
function windows(length: number): number[] {
  const size = Math.min(VERIFY_WINDOW, length);
  const last = length - size;
  return [...new Set([0, Math.floor(last / 2 / 64) * 64, last])];
}

/**
 * Checks sampled windows of coded blocks against row `rows[i]` of the generator times the
 * parts, computed by the TypeScript reference kernels. Returns the bytes compared.
 */
function verify(
  what: string,
  generator: FieldMatrix,
  rows: readonly number[],
  coded: readonly (Uint8Array | undefined)[],
  parts: readonly Uint8Array[],
): number {
  let compared = 0;
  const length = parts[0]!.length;
  for (const at of windows(length)) {
    const end = Math.min(length, at + VERIFY_WINDOW);
    const ins = parts.map((p) => p.slice(at, end));
    const outs = rows.map(() => new Uint8Array(end - at));
    referenceKernels.dotProduct(outs, rows.map((r) => Uint8Array.from(generator[r]!)), ins);
    rows.forEach((row, i) => {
      const block = coded[i];
      if (block === undefined || block.length !== length) {
        throw new Error(`${what}: coded block ${row} is missing or has the wrong length`);
      }
      const got = block.subarray(at, end);
      const want = outs[i]!;
      for (let b = 0; b < want.length; b++) {
        if (got[b] !== want[b]) {
          throw new Error(
            `wrong bytes, refusing to report: ${what} coded block ${row} differs at byte ` +
              `${at + b} (${got[b]} instead of ${want[b]})`,
          );
        }
      }
      compared += want.length;
    });
  }
  return compared;
}

/** One timed encode and the check of its output, for any of the kinds. */
interface Encoder {
  encode(): Promise<void>;
  verify(): number;
  /** Seconds of the last encode that count, when not its whole wall time. */
  timedSeconds?(): number;
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
      return verify(module.name, generatorMatrix(module), rows, coded, parts);
    },
  };
}

function bareEncoder(job: CodingJob, meter: Meter | null): Encoder {
  const { k, n } = rs;
  const m = n - k;
  const stride = job.partSize + REGION_STAGGER;
  const arena = new WasmArena({ maxBytes: n * stride + (4 << 20) });
  const kernels = meter === null ? arena.kernels : meter.wrap(arena.kernels);
  const slab = arena.alloc(n * stride, { align: 4096 });
  const region = (i: number) => slab.subarray(i * stride, i * stride + job.partSize);
  let next = 0;
  const parts = makeParts(k, job.partSize, job.seed, () => region(next++));
  const parity = Array.from({ length: m }, (_, p) => region(k + p));
  const generator = generatorMatrix(rs);
  const coeffs = generator.slice(k).map((row) => Uint8Array.from(row));
  return {
    encode() {
      for (let at = 0; at < job.partSize; at += job.chunkSize) {
        const end = Math.min(job.partSize, at + job.chunkSize);
        kernels.dotProduct(
          parity.map((p) => p.subarray(at, end)),
          coeffs,
          parts.map((p) => p.subarray(at, end)),
        );
      }
      return Promise.resolve();
    },
    verify() {
      const rows = parity.map((_, p) => k + p);
      return verify("bare dotProduct", generator, rows, parity, parts);
    },
  };
}

/**
 * A module's encode programs executed bare, step by step: each program's MULT, MULADD and IADD
 * as direct kernel calls on registers that are regions in WebAssembly memory, and only those
 * calls timed (`timedSeconds`) — what the issue calls the sum of its kernel calls, bare. LOAD,
 * COPY and WRITE are done as untimed copies, so that the coded blocks come out right and are
 * checked like the interpreter's.
 */
function kernelsEncoder(module: CodingModule, entry: string, job: CodingJob): Encoder {
  const order: string[] = [];
  const visit = (name: string) => {
    if (order.includes(name)) return;
    for (const stream of module.programs[name]!.streams) {
      if ("read" in stream && "program" in stream.read) visit(stream.read.program);
    }
    order.push(name);
  };
  visit(entry);
  const chunk = job.chunkSize;
  const names = order.map((name) => {
    const registers = new Set<string>();
    for (const ins of module.programs[name]!.instructions) {
      if (ins[0] !== "WRITE" && ins[0] !== "PUSH") registers.add(ins[1] as string);
    }
    return [...registers];
  });
  const count = names.reduce((sum, r) => sum + r.length, 0);
  const stride = chunk + REGION_STAGGER;
  const arena = new WasmArena({ maxBytes: count * stride + (4 << 20) });
  const kernels = arena.kernels;
  const slab = arena.alloc(count * stride, { align: 4096 });
  let next = 0;
  const registers = names.map((list) =>
    new Map(list.map((r) => [r, slab.subarray(next * stride, next++ * stride + chunk)]))
  );
  const parts = makeParts(module.k, job.partSize, job.seed, (n) => new Uint8Array(n));
  const partOf = new Map(
    module.parts.map((p, j) => [expandBlockName(p.block, OBJECT_ID), parts[j]!]),
  );
  const coded = module.coded.map(() => new Uint8Array(job.partSize));
  const codedOf = new Map(module.coded.map((c, i) => [expandBlockName(c.block, OBJECT_ID), i]));
  let kernelMs = 0;
  const timed = (call: () => void) => {
    const start = performance.now();
    call();
    kernelMs += performance.now() - start;
  };
  return {
    encode() {
      kernelMs = 0;
      for (let at = 0; at < job.partSize; at += chunk) {
        const end = Math.min(job.partSize, at + chunk);
        const n = end - at;
        order.forEach((name, p) => {
          const program = module.programs[name]!;
          const reg = (r: string) => registers[p]!.get(r)!.subarray(0, n);
          const streams = new Map(program.streams.map((s) => [s.name, s]));
          for (const ins of program.instructions) {
            switch (ins[0]) {
              case "LOAD": {
                const stream = streams.get(ins[2])!;
                if (!("read" in stream)) throw new Error(`${name}: LOAD of an output`);
                const { read } = stream;
                const source = "program" in read
                  ? registers[order.indexOf(read.program)]!
                    .get(module.programs[read.program]!.output!)!.subarray(0, n)
                  : partOf.get(expandBlockName(read.block, OBJECT_ID))!.subarray(at, end);
                reg(ins[1]).set(source);
                break;
              }
              case "COPY":
                reg(ins[1]).set(reg(ins[2]));
                break;
              case "MULT":
                timed(() => kernels.mul(reg(ins[1]), ins[2], reg(ins[3])));
                break;
              case "MULADD":
                timed(() => kernels.mulAdd(reg(ins[1]), ins[2], reg(ins[3])));
                break;
              case "IADD":
                timed(() => kernels.xor(reg(ins[1]), reg(ins[2])));
                break;
              case "WRITE": {
                const stream = streams.get(ins[2])!;
                if (!("write" in stream)) throw new Error(`${name}: WRITE to an input`);
                coded[codedOf.get(expandBlockName(stream.write, OBJECT_ID))!]!.set(reg(ins[1]), at);
                break;
              }
              default:
                throw new Error(`the bare encode does not run ${ins[0]} (${name})`);
            }
          }
        });
      }
      return Promise.resolve();
    },
    verify() {
      const rows = module.coded.map((_, i) => i);
      return verify(`${module.name}, bare kernels`, generatorMatrix(module), rows, coded, parts);
    },
    timedSeconds: () => kernelMs / 1000,
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
  let meter: Meter | null = null;
  let pool: BufferPool | undefined;
  if (job.instrument) {
    const arenas: WasmArena[] = [defaultArena()];
    meter = new Meter((view) => arenas.some((a) => a.owns(view)));
    if (job.encode !== "dotproduct") pool = meteredPool(meter, job.chunkSize);
  }
  const encoder = job.encode === "rapidraid"
    ? interpreterEncoder(rapidraid, "enc_node15", job, pool)
    : job.encode === "rs"
    ? interpreterEncoder(rs, rs.encode, job, pool)
    : job.encode === "rapidraid-kernels"
    ? kernelsEncoder(rapidraid, "enc_node15", job)
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
  const bytesPerEncode = rs.k * job.partSize;
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
