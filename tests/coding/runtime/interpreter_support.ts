/**
 * Test support for the interpreter, queue and local-cluster tests: small pools on a private
 * arena, deterministic data, module builders, an in-memory stream resolver with failure
 * injection, and an independent byte-wise reference evaluator of programs (scalar field
 * arithmetic, no kernels and no pool), so expected bytes never come from the code under test.
 *
 * @module
 */

import { WasmArena } from "../../../src/buffer/arena.ts";
import { BufferPool, type PooledBuffer } from "../../../src/buffer/pool.ts";
import * as gf256 from "../../../src/gf/gf256.ts";
import * as gf65536 from "../../../src/gf/gf65536.ts";
import type {
  CodingInput,
  CodingOutput,
  ResolvedSource,
  StreamResolver,
} from "../../../src/coding/runtime/stream_resolver.ts";
import type {
  CodingModule,
  FieldWidth,
  Instruction,
  Program,
} from "../../../src/coding/lang/program.ts";
import { validateModule } from "../../../src/coding/lang/validate.ts";

/** One arena for all the pools of a test process (arena memory is never freed). */
const arena = new WasmArena({ maxBytes: 256 << 20 });

/**
 * A small pool on the shared test arena.
 *
 * @example
 * ```ts
 * const pool = smallPool();
 * ```
 */
export function smallPool(bufferSize = 4096, maxBuffers = 64): BufferPool {
  return new BufferPool({ arena, bufferSize, maxBuffers });
}

/**
 * Deterministic pseudo-random bytes (xorshift32).
 *
 * @example
 * ```ts
 * const data = bytes(100, 1);
 * ```
 */
export function bytes(length: number, seed: number): Uint8Array<ArrayBuffer> {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 255;
  }
  return out;
}

/**
 * Builds and validates a module around the given programs (parts and coded blocks are
 * placeholders: the interpreter does not use them).
 *
 * @example
 * ```ts
 * const m = moduleOf({ p: { node: 0, streams: [], instructions: [] } });
 * ```
 */
export function moduleOf(
  programs: Record<string, unknown>,
  options: { field?: FieldWidth; n?: number; name?: string } = {},
): CodingModule {
  const n = options.n ?? 4;
  return validateModule({
    name: options.name ?? "test",
    description: "a test module",
    field: options.field ?? 8,
    n,
    k: 1,
    parts: [{ block: "{id}.part0", nodes: [0] }],
    coded: Array.from({ length: n }, (_, i) => ({ block: `{id}.coded${i}`, node: i })),
    encode: Object.keys(programs)[0],
    programs,
  }, "test");
}

/** How a {@linkcode MemoryResolver} stream fails. */
export interface Failure {
  /** Fail the `next`/`write` call of this step (0-based). */
  readonly atStep: number;
  /** The error to throw. */
  readonly error: Error;
}

/**
 * An in-memory resolver for one program: inputs by stream name, outputs collected per block,
 * with optional failures, and a record of what was closed, committed and aborted. Outputs can
 * hold (retain) written buffers until commit, like a writer that is slow to flush.
 *
 * @example
 * ```ts
 * const resolver = new MemoryResolver(smallPool(), { in: bytes(10, 1) });
 * ```
 */
export class MemoryResolver implements StreamResolver {
  readonly committed = new Map<string, Uint8Array>();
  readonly aborted = new Set<string>();
  readonly closed = new Set<string>();
  readonly opened: ResolvedSource[] = [];
  /** Buffers outputs still hold (with `holdWrites`). */
  held = 0;

  constructor(
    readonly pool: BufferPool,
    readonly inputs: Record<string, Uint8Array>,
    readonly options: {
      inputFailures?: Record<string, Failure>;
      writeFailures?: Record<string, Failure>;
      holdWrites?: boolean;
    } = {},
  ) {}

  openInput(stream: string, source: ResolvedSource): Promise<CodingInput> {
    this.opened.push(source);
    const data = this.inputs[stream];
    if (data === undefined) return Promise.reject(new Error(`no data for input '${stream}'`));
    let at = 0;
    let step = 0;
    const failure = this.options.inputFailures?.[stream];
    return Promise.resolve({
      length: data.length,
      next: async (length: number) => {
        if (failure !== undefined && step === failure.atStep) throw failure.error;
        step++;
        if (at + length > data.length) return null;
        const buffer = await this.pool.acquire();
        buffer.bytes.set(data.subarray(at, at + length));
        at += length;
        return buffer;
      },
      close: () => {
        this.closed.add(stream);
        return Promise.resolve();
      },
    });
  }

  openOutput(stream: string, block: string, length: number): Promise<CodingOutput> {
    const parts: { buffer: PooledBuffer | null; copy: Uint8Array | null; length: number }[] = [];
    let step = 0;
    const failure = this.options.writeFailures?.[stream];
    const hold = this.options.holdWrites ?? false;
    const drop = (): void => {
      for (const part of parts) {
        if (part.buffer !== null) {
          part.buffer.release();
          this.held--;
        }
      }
      parts.length = 0;
    };
    return Promise.resolve({
      write: async (buffer: PooledBuffer, n: number) => {
        await Promise.resolve();
        if (failure !== undefined && step === failure.atStep) throw failure.error;
        step++;
        if (hold) {
          parts.push({ buffer: buffer.retain(), copy: null, length: n });
          this.held++;
        } else {
          parts.push({ buffer: null, copy: buffer.bytes.slice(0, n), length: n });
        }
      },
      commit: () => {
        const out = new Uint8Array(length);
        let at = 0;
        for (const part of parts) {
          out.set(part.copy ?? part.buffer!.bytes.subarray(0, part.length), at);
          at += part.length;
        }
        drop();
        if (at !== length) return Promise.reject(new Error(`${at} of ${length} bytes`));
        this.committed.set(block, out);
        return Promise.resolve();
      },
      abort: () => {
        drop();
        this.aborted.add(block);
        return Promise.resolve();
      },
    });
  }
}

/** Field operations for the reference evaluator. */
function fieldOps(field: FieldWidth): {
  mul(dst: Uint8Array, c: number, src: Uint8Array): Uint8Array;
} {
  if (field === 8) {
    return { mul: (_d, c, src) => src.map((x) => gf256.mul(c, x)) };
  }
  return {
    mul: (_d, c, src) => {
      const out = new Uint8Array(src.length);
      for (let i = 0; i < src.length; i += 2) {
        const p = gf65536.mul(c, src[i]! | src[i + 1]! << 8);
        out[i] = p & 255;
        out[i + 1] = p >>> 8;
      }
      return out;
    },
  };
}

/**
 * Evaluates one program over whole streams (one step of the full length: GF arithmetic is
 * byte- or word-wise, so chunking does not change the result), with scalar field arithmetic.
 * Returns the written streams by stream name and the output buffer as `"@output"`.
 *
 * @example
 * ```ts
 * const out = evaluate({ node: 0, streams: [], instructions: [] }, 8, {});
 * ```
 */
export function evaluate(
  program: Program,
  field: FieldWidth,
  inputs: Record<string, Uint8Array>,
  queues: Map<string, Uint8Array[]> = new Map(),
): Map<string, Uint8Array> {
  const ops = fieldOps(field);
  const buffers = new Map<string, Uint8Array>();
  const written = new Map<string, Uint8Array>();
  const get = (name: string): Uint8Array => buffers.get(name)!;
  for (const instruction of program.instructions as readonly Instruction[]) {
    switch (instruction[0]) {
      case "LOAD":
        buffers.set(instruction[1], inputs[instruction[2]]!.slice());
        break;
      case "WRITE":
        written.set(instruction[2], get(instruction[1]).slice());
        break;
      case "COPY":
        buffers.set(instruction[1], get(instruction[2]).slice());
        break;
      case "IADD":
        buffers.set(
          instruction[1],
          get(instruction[1]).map((x, i) => x ^ get(instruction[2])[i]!),
        );
        break;
      case "MULT":
        buffers.set(
          instruction[1],
          ops.mul(new Uint8Array(0), instruction[2], get(instruction[3])),
        );
        break;
      case "MULADD": {
        const product = ops.mul(new Uint8Array(0), instruction[2], get(instruction[3]));
        buffers.set(instruction[1], get(instruction[1]).map((x, i) => x ^ product[i]!));
        break;
      }
      case "PUSH": {
        const queue = queues.get(instruction[1]) ?? [];
        queue.push(get(instruction[2]).slice());
        queues.set(instruction[1], queue);
        break;
      }
      case "POP":
        buffers.set(instruction[2], queues.get(instruction[1])!.shift()!);
        break;
    }
  }
  if (program.output !== undefined) written.set("@output", get(program.output).slice());
  return written;
}
