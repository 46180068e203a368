/**
 * The coding benchmark's bare references: the same coded bytes as the interpreter's, computed
 * by kernel calls alone on regions in WebAssembly memory (`dotproduct` for RS, and RapidRAID's
 * MULT/MULADDs with only those calls timed, `rapidraid-kernels`).
 *
 * @module
 */
import { WasmArena } from "../../src/buffer/arena.ts";
import { generatorMatrix } from "../../src/coding/analysis/symbolic.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import { kernelsFor } from "../../src/gf/backend.ts";
import { codingModule as rs } from "../../coding/rs.ts";
import type { Meter } from "./coding_meter.ts";
import {
  type Encoder,
  makeParts,
  OBJECT_ID,
  REGION_STAGGER,
  verifyBlocks,
} from "./coding_parts.ts";
import type { CodingJob } from "./coding_worker.ts";

/**
 * The RS(11+5) parity by bare `dotProduct` calls, one per chunk, on regions in WebAssembly
 * memory: no interpreter, no copies (`dotproduct`). The kernels are the configured backend's.
 *
 * @example
 * ```ts
 * import { bareEncoder } from "./bare_encoders.ts";
 * const job = { encode: "dotproduct", partSize: 1 << 14, chunkSize: 1 << 12, warmUps: 1, runs: 1,
 *   seed: 1, instrument: false } as const;
 * const encoder = bareEncoder(job, null);
 * await encoder.encode();
 * console.log(encoder.verify() > 0); // true
 * ```
 *
 * @param job The sizes and seed.
 * @param meter Times the kernel calls of an instrumented job.
 * @returns The encoder.
 */
export function bareEncoder(job: CodingJob, meter: Meter | null): Encoder {
  const { k, n } = rs;
  const m = n - k;
  const stride = job.partSize + REGION_STAGGER;
  const arena = new WasmArena({ maxBytes: n * stride + (4 << 20) });
  // The configured backend's kernels, as the interpreter's (`configureGfBackend`).
  const own = kernelsFor(arena.kernels);
  const kernels = meter === null ? own : meter.wrap(own);
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
      return verifyBlocks("bare dotProduct", generator, rows, parity, parts);
    },
  };
}

/**
 * A module's encode programs executed bare, step by step: each program's MULT, MULADD and IADD
 * as direct kernel calls on registers that are regions in WebAssembly memory, and only those
 * calls timed (`timedSeconds`) — what the issue calls the sum of its kernel calls, bare. LOAD,
 * COPY and WRITE are done as untimed copies, so that the coded blocks come out right and are
 * checked like the interpreter's (`rapidraid-kernels`).
 *
 * @example
 * ```ts
 * import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
 * import { kernelsEncoder } from "./bare_encoders.ts";
 * const job = { encode: "rapidraid-kernels", partSize: 1 << 14, chunkSize: 1 << 12,
 *   warmUps: 1, runs: 1, seed: 1, instrument: false } as const;
 * const encoder = kernelsEncoder(rapidraid, "enc_node15", job);
 * await encoder.encode();
 * console.log(encoder.verify() > 0, encoder.timedSeconds!() > 0); // true true
 * ```
 *
 * @param module The coding module.
 * @param entry The program whose pipeline is run.
 * @param job The sizes and seed.
 * @returns The encoder; `timedSeconds` is the sum of its kernel calls.
 */
export function kernelsEncoder(
  module: CodingModule,
  entry: string,
  job: CodingJob,
): Encoder {
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
  // The registers each program changes (not only LOADs): a LOADed one of them needs a copy.
  const changed = order.map((name) =>
    new Set(
      module.programs[name]!.instructions
        .filter((ins) => ins[0] !== "LOAD" && ins[0] !== "WRITE" && ins[0] !== "PUSH")
        .map((ins) => ins[1] as string),
    )
  );
  const count = names.reduce((sum, r) => sum + r.length, 0);
  const stride = chunk + REGION_STAGGER;
  const partStride = job.partSize + REGION_STAGGER;
  const arena = new WasmArena({
    maxBytes: count * stride + module.k * partStride + (4 << 20),
  });
  const kernels = kernelsFor(arena.kernels);
  const slab = arena.alloc(count * stride, { align: 4096 });
  let next = 0;
  const registers = names.map((list) =>
    new Map(list.map((r) => [r, slab.subarray(next * stride, next++ * stride + chunk)]))
  );
  // The parts in WebAssembly memory too, read where they lie (as a node reads a block into
  // a pool buffer): a LOAD of a register the program does not change is no copy.
  const partSlab = arena.alloc(module.k * partStride, { align: 4096 });
  let nextPart = 0;
  const parts = makeParts(module.k, job.partSize, job.seed, (n) => {
    const at = nextPart++ * partStride;
    return partSlab.subarray(at, at + n);
  });
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
        // What each register of each program holds in this step: its own region, or (after
        // a LOAD without copy) the part or upstream output it reads.
        const bound: Map<string, Uint8Array>[] = [];
        const onPart: Set<string>[] = []; // registers bound to a part
        order.forEach((name, p) => {
          const program = module.programs[name]!;
          const views = new Map<string, Uint8Array>(
            [...registers[p]!].map(([r, v]) => [r, v.subarray(0, n)]),
          );
          const parted = new Set<string>();
          bound.push(views);
          onPart.push(parted);
          const reg = (r: string) => views.get(r)!;
          const streams = new Map(program.streams.map((s) => [s.name, s]));
          for (const ins of program.instructions) {
            switch (ins[0]) {
              case "LOAD": {
                const stream = streams.get(ins[2])!;
                if (!("read" in stream)) throw new Error(`${name}: LOAD of an output`);
                const { read } = stream;
                let source: Uint8Array;
                let part: boolean; // a part, or an upstream output bound to a part
                if ("program" in read) {
                  const u = order.indexOf(read.program);
                  const output = module.programs[read.program]!.output!;
                  source = bound[u]!.get(output)!;
                  part = onPart[u]!.has(output);
                } else {
                  source = partOf.get(expandBlockName(read.block, OBJECT_ID))!.subarray(at, end);
                  part = true;
                }
                // An upstream output is its program's for this step only: changed in place
                // here as the interpreter hands it over. A part is everyone's: copied first.
                if (part && changed[p]!.has(ins[1])) {
                  reg(ins[1]).set(source);
                } else {
                  views.set(ins[1], source);
                  if (part) parted.add(ins[1]);
                }
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
      return verifyBlocks(
        `${module.name}, bare kernels`,
        generatorMatrix(module),
        rows,
        coded,
        parts,
      );
    },
    timedSeconds: () => kernelMs / 1000,
  };
}
