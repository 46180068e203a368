/**
 * An in-process, in-memory cluster for tests and benchmarks: runs a module's programs over
 * blocks held in a `Map`, with `{ program }` sources pulled from the same process. It is the
 * byte-level reference the symbolic execution is checked against, and the engine of the
 * in-process coding benchmarks.
 *
 * @module
 */

import { CdfsError } from "../../core/errors.ts";
import { BufferPool } from "../../buffer/pool.ts";
import { defaultArena } from "../../buffer/arena.ts";
import { Executor } from "./interpreter.ts";
import type { RunContext } from "./program_run.ts";
import type { ProgramRun } from "./run_interface.ts";
import type {
  CodingInput,
  CodingOutput,
  ResolvedSource,
  StreamResolver,
} from "./stream_resolver.ts";
import type { CodingModule } from "../lang/program.ts";
import { RunRegistry } from "./run_registry.ts";

/**
 * Options of {@linkcode runLocal}.
 *
 * @example
 * ```ts
 * import type { LocalRunOptions } from "./local_cluster.ts";
 * const options: LocalRunOptions = {
 *   objectId: "obj",
 *   blocks: new Map([["0/obj.part0", new Uint8Array(10)]]),
 *   chunkSize: 4096,
 * };
 * ```
 */
export interface LocalRunOptions {
  /** The object id (replaces `{id}` in block templates). */
  readonly objectId: string;
  /** The blocks of every logical node, keyed `"<node>/<block id>"`, e.g. `"3/obj.part3"`. */
  readonly blocks: ReadonlyMap<string, Uint8Array>;
  /** The step size (default 1 MiB, or the pool's buffer size when a pool is given). */
  readonly chunkSize?: number;
  /** Where step buffers come from (default: a shared pool per buffer size on the default arena). */
  readonly pool?: BufferPool;
  /** The stream length of entry programs without inputs (aux programs). */
  readonly length?: number;
  /** The run id (default: a random UUID). */
  readonly runId?: string;
  /** The bound of the PUSH/POP queues (default 16). */
  readonly queueCapacity?: number;
  /** Fuse MULT/MULADD runs into `dotProduct` (default true). */
  readonly fuse?: boolean;
  /**
   * Arrays to write blocks into, keyed like the result (used when the length matches, else a
   * new array is made). Benchmarks pass the previous run's `blocks` so that they measure the
   * coding rather than the kernel handing out fresh pages (about 2 GB/s here).
   */
  readonly into?: ReadonlyMap<string, Uint8Array>;
}

/**
 * What {@linkcode runLocal} produced.
 *
 * @example
 * ```ts
 * import type { LocalRunResult } from "./local_cluster.ts";
 * function coded3(result: LocalRunResult): Uint8Array | undefined {
 *   return result.blocks.get("3/obj.coded3");
 * }
 * ```
 */
export interface LocalRunResult {
  /** Every block written by any program of the run, keyed `"<node>/<block id>"`. */
  readonly blocks: Map<string, Uint8Array>;
  /** The streamed output of each entry program that is a stream program, by program name. */
  readonly streams: Map<string, Uint8Array>;
  /** The run's stream length (of the first entry program). */
  readonly length: number;
}

/** The default step size: 1 MiB. */
const DEFAULT_CHUNK_SIZE = 1 << 20;
/** What the shared default pools may grow to, per buffer size. */
const SHARED_POOL_BYTES = 512 << 20;
/** Pools carve arena memory for good, so runs without a pool of their own share these. */
const sharedPools = new Map<number, BufferPool>();

function sharedPool(chunkSize: number): BufferPool {
  const bufferSize = Math.ceil(chunkSize / 64) * 64;
  let pool = sharedPools.get(bufferSize);
  if (pool === undefined) {
    pool = new BufferPool({
      arena: defaultArena(),
      bufferSize,
      maxBuffers: Math.max(256, Math.floor(SHARED_POOL_BYTES / bufferSize)),
    });
    sharedPools.set(bufferSize, pool);
  }
  return pool;
}

/** Serves an in-memory block: one copy of each step's slice into a pool buffer. */
function memoryInput(data: Uint8Array, pool: BufferPool, signal: AbortSignal): CodingInput {
  let at = 0;
  return {
    length: data.length,
    async next(length) {
      if (at + length > data.length) return null;
      const slice = data.subarray(at, at + length);
      const buffer = pool.tryAcquire() ?? await pool.acquire(signal);
      buffer.bytes.set(slice);
      at += length;
      return buffer;
    },
    close: () => Promise.resolve(),
  };
}

/** The stream output of a program pulled in-process: each `next` runs one of its steps. */
function programInput(name: string, run: ProgramRun): CodingInput {
  let taken = 0;
  return {
    length: run.length,
    async next(length) {
      const step = await run.step();
      if (step === null) return null;
      taken++;
      if (step.length !== length || step.output === null) {
        step.output?.release();
        throw new CdfsError(
          "CORRUPT",
          `program '${name}' gave ${step.length} bytes in a step of ${length} bytes`,
        );
      }
      return step.output;
    },
    async close() {
      // Read to the end: the upstream finishes (commits its blocks); otherwise it is aborted.
      if (taken === run.steps) await run.finish();
      else await run.abort();
    },
  };
}

/**
 * Runs entry programs of a module in-process and concurrently; a `{ program }` source runs
 * that program (once per run: a program pulled twice is an error), `{ block, node }` reads the
 * given node's blocks. Written blocks become visible in the result only if the whole run
 * succeeds. Entry programs without inputs take `options.length`; pulled ones without inputs
 * (aux programs) take the length their node's pusher records.
 *
 * Each `{ program }` input is pulled one step at a time when its consumer needs it, so a chain
 * of programs runs in lock-step with no read-ahead copies; every program asks all its inputs
 * at once at the start of a step, which lets aux programs (POP) and their pushers progress
 * together.
 *
 * @example
 * ```ts
 * import { runLocal } from "./local_cluster.ts";
 * import { loadCodingModule } from "../lang/loader.ts";
 * import { expandBlockName } from "../lang/validate.ts";
 * const rapidraid = await loadCodingModule("rapidraid");
 * const blocks = new Map<string, Uint8Array>();
 * rapidraid.parts.forEach((part, j) => {
 *   const data = new Uint8Array(10_000).fill(j);
 *   for (const node of part.nodes) blocks.set(`${node}/${expandBlockName(part.block, "obj")}`, data);
 * });
 * const result = await runLocal(rapidraid, rapidraid.encode, { objectId: "obj", blocks, chunkSize: 4096 });
 * console.log(result.blocks.size); // 16
 * ```
 *
 * @param module A validated module.
 * @param entry The program(s) to start (each must finish).
 * @param options The blocks, object id, chunk size and pool.
 * @returns The written blocks and entry stream outputs.
 * @throws {CdfsError} The first failure, naming program and step (every buffer released).
 */
export async function runLocal(
  module: CodingModule,
  entry: string | readonly string[],
  options: LocalRunOptions,
): Promise<LocalRunResult> {
  const entries = typeof entry === "string" ? [entry] : [...entry];
  if (entries.length === 0) throw new CdfsError("BAD_REQUEST", "runLocal: no entry program");
  const chunkSize = options.chunkSize ?? options.pool?.bufferSize ?? DEFAULT_CHUNK_SIZE;
  const pool = options.pool ?? sharedPool(chunkSize);
  const runs = new RunRegistry(
    options.queueCapacity === undefined ? {} : { queueCapacity: options.queueCapacity },
  );
  const controller = new AbortController();
  const signal = controller.signal;
  const runId = options.runId ?? crypto.randomUUID();
  const context: RunContext = {
    objectId: options.objectId,
    runId,
    pool,
    chunkSize,
    runs,
    signal,
  };
  const executors = new Map<string, Executor>();
  const executor = (name: string): Executor => {
    let e = executors.get(name);
    if (e === undefined) {
      e = new Executor(module, name, options.fuse === undefined ? {} : { fuse: options.fuse });
      executors.set(name, e);
    }
    return e;
  };
  /** Who started each program of the run ("the caller" for entries). */
  const startedBy = new Map<string, string>();
  const claim = (program: string, by: string): void => {
    const earlier = startedBy.get(program);
    if (earlier !== undefined) {
      throw new CdfsError(
        "BAD_REQUEST",
        `program '${program}' is pulled by ${by} but already runs in this run (started by ${earlier}): ` +
          `each program runs at most once per run`,
      );
    }
    startedBy.set(program, by);
  };
  const staged = new Map<string, Uint8Array>();
  const opened = new Set<string>();
  const written = new Map<string, Uint8Array>();

  const resolverFor = (program: string, node: number): StreamResolver => ({
    async openInput(_stream: string, source: ResolvedSource): Promise<CodingInput> {
      if (source.kind === "block") {
        const data = options.blocks.get(`${source.node}/${source.block}`);
        if (data === undefined) {
          throw new CdfsError(
            "NOT_FOUND",
            `block '${source.block}' does not exist on node ${source.node}`,
          );
        }
        return memoryInput(data, pool, signal);
      }
      claim(source.program, `'${program}'`);
      const upstream = await executor(source.program).open(
        resolverFor(source.program, source.node),
        context,
      );
      return programInput(source.program, upstream);
    },
    openOutput(_stream: string, block: string, length: number): Promise<CodingOutput> {
      const key = `${node}/${block}`;
      if (opened.has(key)) {
        return Promise.reject(
          new CdfsError(
            "BAD_REQUEST",
            `block '${block}' on node ${node} is written twice in one run`,
          ),
        );
      }
      opened.add(key);
      const reuse = options.into?.get(key);
      const bytes = reuse !== undefined && reuse.length === length ? reuse : new Uint8Array(length);
      let at = 0;
      return Promise.resolve({
        write(buffer, n) {
          bytes.set(buffer.bytes.subarray(0, n), at);
          at += n;
          return Promise.resolve();
        },
        commit() {
          if (at !== length) {
            return Promise.reject(
              new CdfsError("INTERNAL", `block '${block}': ${at} of ${length} bytes written`),
            );
          }
          staged.set(key, bytes);
          return Promise.resolve();
        },
        abort() {
          staged.delete(key);
          return Promise.resolve();
        },
      });
    },
  });

  const streams = new Map<string, Uint8Array>();
  let firstError: { error: unknown } | undefined;
  let length = -1;
  const runEntry = async (name: string, index: number): Promise<void> => {
    const e = executor(name);
    const entryContext: RunContext = options.length === undefined
      ? context
      : { ...context, length: options.length };
    const run = await e.open(resolverFor(name, e.program.node), entryContext);
    if (index === 0) length = run.length;
    const out = e.isStream ? new Uint8Array(run.length) : null;
    try {
      for (let step = await run.step(); step !== null; step = await run.step()) {
        if (step.output === null) continue;
        out!.set(step.output.bytes.subarray(0, step.length), step.step * chunkSize);
        step.output.release();
      }
    } catch (error) {
      await run.abort(error);
      throw error;
    }
    await run.finish();
    if (out !== null) streams.set(name, out);
  };
  try {
    for (const name of entries) claim(name, "the caller");
    await Promise.all(entries.map((name, index) =>
      runEntry(name, index).catch((error) => {
        // The first failure stops every other program of the run.
        firstError ??= { error };
        controller.abort(error);
        runs.abortRun(runId, error);
      })
    ));
  } finally {
    runs.close();
  }
  if (firstError !== undefined) throw firstError.error;
  for (const [key, bytes] of staged) written.set(key, bytes);
  return { blocks: written, streams, length };
}
