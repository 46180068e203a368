/**
 * The coding interpreter: runs one {@linkcode Program} of a module over bytes, step by step.
 *
 * An {@linkcode Executor} compiles a validated program once (buffer names become slot indices,
 * stream names become handles, runs of MULT/MULADD become one `dotProduct`), and then runs it
 * any number of times. It knows nothing of networks or disks: a {@linkcode StreamResolver}
 * opens its inputs and outputs.
 *
 * A run of a program: inputs are opened (concurrently), their common length L fixes the steps
 * (step s covers bytes [s·C, min(L, (s+1)·C)) for the chunk size C; L = 0 runs no step), the
 * outputs are opened with that length, every step runs the instructions once, and at the end
 * the outputs are committed. Any failure aborts every output (nothing partial becomes
 * visible), closes the inputs, releases every buffer and is reported with the program's name
 * and the step.
 *
 * @module
 */

import { CdfsError, isCdfsError } from "../../core/errors.ts";
import type { BufferPool, PooledBuffer } from "../../buffer/pool.ts";
import type { RegionKernels } from "../../gf/region.ts";
import { mul16, mulAdd16 } from "../../gf/region16.ts";
import type { CodingModule, FieldWidth, Program } from "../lang/program.ts";
import type { BufferQueue, RunMember, RunRegistry } from "./queues.ts";
import { expandBlockName } from "../lang/validate.ts";

/**
 * An input stream opened by a {@linkcode StreamResolver}.
 *
 * @example
 * ```ts
 * import type { CodingInput } from "./interpreter.ts";
 * import { BufferPool } from "../../buffer/pool.ts";
 * function memoryInput(pool: BufferPool, data: Uint8Array): CodingInput {
 *   let at = 0;
 *   return {
 *     length: data.length,
 *     async next(length) {
 *       if (at + length > data.length) return null;
 *       const buffer = await pool.acquire();
 *       buffer.bytes.set(data.subarray(at, at += length));
 *       return buffer;
 *     },
 *     async close() {},
 *   };
 * }
 * ```
 */
export interface CodingInput {
  /** The stream's total length in bytes. */
  readonly length: number;
  /**
   * The next `length` bytes of the stream (the step's length, decided by the executor), in
   * `bytes.subarray(0, length)` of a buffer whose reference moves to the caller; `null` when
   * the stream ended before (the executor reports it as truncated). An input whose own framing
   * disagrees with `length` throws `CORRUPT` naming the stream.
   */
  next(length: number): Promise<PooledBuffer | null>;
  /**
   * Releases the stream (also after a failure, and before it is read to the end). It may be
   * called while a `next()` is pending (an abort): that call must then settle (reject, or
   * resolve with a buffer, which the executor releases).
   */
  close(): Promise<void>;
}

/**
 * An output stream (a block being written) opened by a {@linkcode StreamResolver}.
 *
 * @example
 * ```ts
 * import type { CodingOutput } from "./interpreter.ts";
 * function memoryOutput(length: number, done: (bytes: Uint8Array) => void): CodingOutput {
 *   const bytes = new Uint8Array(length);
 *   let at = 0;
 *   return {
 *     async write(buffer, n) { bytes.set(buffer.bytes.subarray(0, n), at); at += n; },
 *     async commit() { done(bytes); },
 *     async abort() {},
 *   };
 * }
 * ```
 */
export interface CodingOutput {
  /**
   * Appends `bytes.subarray(0, length)` of `buffer`. The caller keeps its reference until the
   * promise settles; the output retains the buffer if it needs it longer. Calls are never
   * concurrent: the next `write` waits for the previous one.
   */
  write(buffer: PooledBuffer, length: number): Promise<void>;
  /** Makes the block visible (all of it, or nothing). */
  commit(): Promise<void>;
  /** Discards what was written; nothing becomes visible. Called after pending writes settled. */
  abort(): Promise<void>;
}

/**
 * Where an input stream comes from, with the template expanded and the node resolved.
 * - `block`: a block of logical node `node` (`local` when that is the node running the program).
 * - `program`: the stream output of another program of the run, which runs on `node`.
 *
 * @example
 * ```ts
 * import type { ResolvedSource } from "./interpreter.ts";
 * const source: ResolvedSource = { kind: "block", block: "movie.part0", node: 0, local: true };
 * ```
 */
export type ResolvedSource =
  | {
    readonly kind: "block";
    readonly block: string;
    readonly node: number;
    readonly local: boolean;
  }
  | { readonly kind: "program"; readonly program: string; readonly node: number };

/**
 * Opens a program's streams; implemented by the DataNode (disk and network) and by the
 * in-process cluster (`local_cluster.ts`).
 *
 * @example
 * ```ts
 * import type { CodingInput, StreamResolver } from "./interpreter.ts";
 * function openPart0(resolver: StreamResolver): Promise<CodingInput> {
 *   return resolver.openInput("part0", { kind: "block", block: "x.part0", node: 0, local: true });
 * }
 * ```
 */
export interface StreamResolver {
  /**
   * Opens an input stream.
   *
   * @param stream The stream's name in the program.
   * @param source Where it comes from.
   */
  openInput(stream: string, source: ResolvedSource): Promise<CodingInput>;
  /**
   * Opens an output block of the node running the program. Outputs are opened after every
   * input, so the block's final length is known.
   *
   * @param stream The stream's name in the program.
   * @param block The block id (template expanded).
   * @param length The bytes that will be written.
   */
  openOutput(stream: string, block: string, length: number): Promise<CodingOutput>;
}

/**
 * What a run of a program needs besides its streams.
 *
 * @example
 * ```ts
 * import type { RunContext } from "./interpreter.ts";
 * import { BufferPool } from "../../buffer/pool.ts";
 * import { RunRegistry } from "./queues.ts";
 * const context: RunContext = {
 *   objectId: "movie",
 *   runId: "r1",
 *   pool: new BufferPool({ bufferSize: 65536 }),
 *   runs: new RunRegistry(),
 * };
 * ```
 */
export interface RunContext {
  /** The object whose blocks are coded (replaces `{id}` in block templates). */
  readonly objectId: string;
  /** The run's id: PUSH/POP queues are per (run id, node). */
  readonly runId: string;
  /** Where step buffers come from; its arena's kernels do the GF(2^8) arithmetic. */
  readonly pool: BufferPool;
  /** The step size C (default and maximum: the pool's buffer size; even for GF(2^16)). */
  readonly chunkSize?: number;
  /** The run registry of this node; required when the program uses PUSH or POP. */
  readonly runs?: RunRegistry;
  /**
   * The stream length of a program without inputs (an aux program that only POPs). When
   * absent, it is the length recorded in the run registry by the program of the same run and
   * node that has inputs (waiting for it, up to the registry's TTL).
   */
  readonly length?: number;
  /** Aborts the run (waits for buffers, queues and inputs give up). */
  readonly signal?: AbortSignal;
  /** GF(2^8) kernels (default: the pool arena's WebAssembly kernels). */
  readonly kernels?: RegionKernels;
}

/**
 * The result of one step of a {@linkcode ProgramRun}.
 *
 * @example
 * ```ts
 * import type { StepResult } from "./interpreter.ts";
 * function consume(step: StepResult, send: (data: Uint8Array) => void): void {
 *   if (step.output === null) return;
 *   send(step.output.bytes.subarray(0, step.length));
 *   step.output.release();
 * }
 * ```
 */
export interface StepResult {
  /** The step's index (0-based). */
  readonly step: number;
  /** The step's length in bytes. */
  readonly length: number;
  /**
   * A stream program's output buffer (`bytes.subarray(0, length)`); the caller owns this
   * reference and must release it. `null` for a local program.
   */
  readonly output: PooledBuffer | null;
}

/**
 * Totals of a completed run.
 *
 * @example
 * ```ts
 * import type { RunSummary } from "./interpreter.ts";
 * const summary: RunSummary = { length: 100, steps: 1 };
 * ```
 */
export interface RunSummary {
  /** The stream length L. */
  readonly length: number;
  /** Steps executed. */
  readonly steps: number;
}

/**
 * Options of {@linkcode Executor}.
 *
 * @example
 * ```ts
 * import type { ExecutorOptions } from "./interpreter.ts";
 * const options: ExecutorOptions = { fuse: false };
 * ```
 */
export interface ExecutorOptions {
  /**
   * The program to run instead of `module.programs[name]` (a derived program, already checked
   * with `validateProgram`).
   */
  readonly program?: Program;
  /**
   * The programs `{ program }` sources are looked up in, for their node (default: the
   * module's programs; pass them together with other derived programs).
   */
  readonly programs?: Readonly<Record<string, Program>>;
  /** Fuse runs of MULT/MULADD into `dotProduct` calls (default true; GF(2^8) only). */
  readonly fuse?: boolean;
}

/**
 * One run of a program in progress: opened streams, then steps, then `finish()` (or
 * `abort()`).
 *
 * @example
 * ```ts
 * import type { ProgramRun, RunSummary } from "./interpreter.ts";
 * async function drain(run: ProgramRun): Promise<RunSummary> {
 *   for (let step = await run.step(); step; step = await run.step()) step.output?.release();
 *   return await run.finish();
 * }
 * ```
 */
export interface ProgramRun {
  /** The program's name. */
  readonly program: string;
  /** The stream length L (every input's length). */
  readonly length: number;
  /** The number of steps, `ceil(L / C)`. */
  readonly steps: number;
  /**
   * Executes the next step; `null` after the last. On failure the run is aborted (outputs
   * discarded, inputs closed, buffers released) and the error names the program and step.
   */
  step(): Promise<StepResult | null>;
  /** After the last step: waits for the writes, closes inputs and commits the outputs. */
  finish(): Promise<RunSummary>;
  /**
   * Aborts: outputs discarded, inputs closed, buffers released. Idempotent. During a `step()`
   * it stops the step (which then rejects with `reason`) and resolves once it cleaned up.
   */
  abort(reason?: unknown): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The compiled plan.

const enum Code {
  Load,
  Pop,
  Write,
  Push,
  Copy,
  Iadd,
  Mult,
  Muladd,
  Dot,
}

/** One operation of the plan; `at` is the index of its (first) instruction, for messages. */
type Op =
  | { readonly code: Code.Load; readonly at: number; readonly slot: number; readonly input: number }
  | { readonly code: Code.Pop; readonly at: number; readonly slot: number; readonly queue: number }
  | {
    readonly code: Code.Write;
    readonly at: number;
    readonly slot: number;
    readonly output: number;
  }
  | { readonly code: Code.Push; readonly at: number; readonly slot: number; readonly queue: number }
  | {
    readonly code: Code.Copy | Code.Iadd;
    readonly at: number;
    readonly dst: number;
    readonly src: number;
  }
  | {
    readonly code: Code.Mult | Code.Muladd;
    readonly at: number;
    readonly dst: number;
    readonly c: number;
    readonly src: number;
  }
  | {
    readonly code: Code.Dot;
    readonly at: number;
    readonly count: number;
    readonly outs: readonly number[];
    readonly coeffs: Uint8Array[];
    readonly ins: readonly number[];
  };

interface InputPlan {
  readonly name: string;
  readonly source: { readonly block: string; readonly node: number } | {
    readonly program: string;
    readonly node: number;
  };
}

interface Plan {
  readonly instructions: Program["instructions"];
  readonly slots: readonly string[];
  readonly inputs: readonly InputPlan[];
  readonly outputs: readonly { readonly name: string; readonly block: string }[];
  readonly queues: readonly string[];
  readonly ops: readonly Op[];
  /** The slot of the stream output buffer, or -1 for a local program. */
  readonly outputSlot: number;
  /** The largest number of slots a fused group writes or reads (scratch array sizes). */
  readonly maxDotWidth: number;
}

/** Interns names as small integers. */
class Names {
  readonly list: string[] = [];
  readonly #index = new Map<string, number>();
  of(name: string): number {
    let i = this.#index.get(name);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(name);
      this.#index.set(name, i);
    }
    return i;
  }
}

/**
 * Compiles a validated program. With `fuse`, a maximal run of consecutive MULT/MULADD
 * instructions whose destinations are disjoint from its sources, where every destination is
 * first defined by a MULT of the run (so outputs are overwritten, not accumulated), becomes
 * one `dotProduct` (each source read once for all destinations). Two terms of the same
 * (destination, source) pair add up: c1·s + c2·s = (c1 ⊕ c2)·s.
 */
function compile(
  name: string,
  program: Program,
  programs: Readonly<Record<string, Program>>,
  fuse: boolean,
): Plan {
  const slots = new Names();
  const queues = new Names();
  const inputs: InputPlan[] = [];
  const outputs: { name: string; block: string }[] = [];
  const inputIndex = new Map<string, number>();
  const outputIndex = new Map<string, number>();
  for (const stream of program.streams) {
    if ("read" in stream) {
      inputIndex.set(stream.name, inputs.length);
      const read = stream.read;
      if ("program" in read) {
        const source = programs[read.program];
        if (source === undefined) {
          throw new CdfsError(
            "BAD_REQUEST",
            `program '${name}': source program '${read.program}' does not exist`,
          );
        }
        inputs.push({ name: stream.name, source: { program: read.program, node: source.node } });
      } else {
        inputs.push({
          name: stream.name,
          source: { block: read.block, node: read.node ?? program.node },
        });
      }
    } else {
      outputIndex.set(stream.name, outputs.length);
      outputs.push({ name: stream.name, block: stream.write });
    }
  }
  const ops: Op[] = [];
  let maxDotWidth = 0;
  const list = program.instructions;
  for (let at = 0; at < list.length;) {
    const instruction = list[at]!;
    if (fuse && instruction[0] === "MULT") {
      const end = fusedGroupEnd(list, at);
      if (end - at >= 2) {
        const outs = new Names();
        const ins = new Names();
        const terms: [number, number, number][] = [];
        for (let j = at; j < end; j++) {
          const [, dst, c, src] = list[j] as readonly ["MULT" | "MULADD", string, number, string];
          terms.push([outs.of(dst), ins.of(src), c]);
        }
        const coeffs = outs.list.map(() => new Uint8Array(ins.list.length));
        for (const [o, i, c] of terms) coeffs[o]![i]! ^= c;
        ops.push({
          code: Code.Dot,
          at,
          count: end - at,
          outs: outs.list.map((b) => slots.of(b)),
          coeffs,
          ins: ins.list.map((b) => slots.of(b)),
        });
        maxDotWidth = Math.max(maxDotWidth, outs.list.length, ins.list.length);
        at = end;
        continue;
      }
    }
    switch (instruction[0]) {
      case "LOAD":
        ops.push({
          code: Code.Load,
          at,
          slot: slots.of(instruction[1]),
          input: inputIndex.get(instruction[2])!,
        });
        break;
      case "POP":
        ops.push({
          code: Code.Pop,
          at,
          slot: slots.of(instruction[2]),
          queue: queues.of(instruction[1]),
        });
        break;
      case "WRITE":
        ops.push({
          code: Code.Write,
          at,
          slot: slots.of(instruction[1]),
          output: outputIndex.get(instruction[2])!,
        });
        break;
      case "PUSH":
        ops.push({
          code: Code.Push,
          at,
          slot: slots.of(instruction[2]),
          queue: queues.of(instruction[1]),
        });
        break;
      case "COPY":
      case "IADD":
        ops.push({
          code: instruction[0] === "COPY" ? Code.Copy : Code.Iadd,
          at,
          dst: slots.of(instruction[1]),
          src: slots.of(instruction[2]),
        });
        break;
      case "MULT":
      case "MULADD":
        ops.push({
          code: instruction[0] === "MULT" ? Code.Mult : Code.Muladd,
          at,
          dst: slots.of(instruction[1]),
          c: instruction[2],
          src: slots.of(instruction[3]),
        });
        break;
    }
    at++;
  }
  return {
    instructions: program.instructions,
    slots: slots.list,
    inputs,
    outputs,
    queues: queues.list,
    ops,
    outputSlot: program.output === undefined ? -1 : slots.of(program.output),
    maxDotWidth,
  };
}

/** The end (exclusive) of the fusable group starting with the MULT at `start`. */
function fusedGroupEnd(list: Program["instructions"], start: number): number {
  const dsts = new Set<string>();
  const srcs = new Set<string>();
  let end = start;
  for (; end < list.length; end++) {
    const instruction = list[end]!;
    if (instruction[0] !== "MULT" && instruction[0] !== "MULADD") break;
    const [op, dst, , src] = instruction;
    if (dst === src || srcs.has(dst) || dsts.has(src)) break;
    // A MULT restarts its destination; a MULADD must add to one this group defined.
    if (op === "MULT" ? dsts.has(dst) : !dsts.has(dst)) break;
    dsts.add(dst);
    srcs.add(src);
  }
  return end;
}

// ---------------------------------------------------------------------------------------------
// Errors.

/** Errors that already say which program and step they come from (passed on unchanged). */
const attributed = new WeakSet<object>();

function isAttributed(error: unknown): boolean {
  return typeof error === "object" && error !== null && attributed.has(error);
}

/** Prefixes an error's message with `where` (a CdfsError keeps its code). */
function prefixed(error: unknown, where: string): unknown {
  if (isAttributed(error)) return error;
  if (isCdfsError(error)) {
    return new CdfsError(error.code, `${where}: ${error.message}`, { cause: error });
  }
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return new CdfsError("TIMEOUT", `${where}: ${error.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CdfsError("INTERNAL", `${where}: ${message}`, { cause: error });
}

/** Prefixes an error with the program and step it happened in, once. */
function attribute(error: unknown, where: string): unknown {
  if (isAttributed(error)) return error;
  const wrapped = prefixed(error, where) as CdfsError;
  attributed.add(wrapped);
  return wrapped;
}

/** A promise's outcome, so that a rejection is never left unhandled while we await others. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }));
}

function checkChunkSize(chunkSize: number, pool: BufferPool, field: FieldWidth): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > pool.bufferSize) {
    throw new CdfsError(
      "BAD_REQUEST",
      `chunk size ${chunkSize} must be an integer in 1..${pool.bufferSize} (the pool's buffer size)`,
    );
  }
  if (field === 16 && chunkSize % 2 !== 0) {
    throw new CdfsError("BAD_REQUEST", `GF(2^16) needs an even chunk size, got ${chunkSize}`);
  }
}

// ---------------------------------------------------------------------------------------------
// A run.

const enum RunState {
  Ready,
  /** In `step()` or `finish()`. */
  Busy,
  Done,
  Failed,
}

class Run implements ProgramRun {
  readonly program: string;
  readonly length: number;
  readonly steps: number;
  readonly #plan: Plan;
  readonly #field: FieldWidth;
  readonly #pool: BufferPool;
  readonly #kernels: RegionKernels;
  readonly #chunkSize: number;
  /** Aborts what the current step waits for (buffers, queues) when `abort()` is called. */
  readonly #aborter = new AbortController();
  /** The run's signal combined with {@linkcode Run.#aborter}'s. */
  readonly #signal: AbortSignal;
  readonly #inputs: CodingInput[];
  #inputsClosed: Promise<Outcome<void>[]> | null = null;
  readonly #outputs: CodingOutput[];
  readonly #member: RunMember | null;
  readonly #registry: RunRegistry | undefined;
  readonly #runId: string;
  readonly #queues: BufferQueue[];
  /** The buffer each name holds in this step (one reference each). */
  readonly #slots: (PooledBuffer | null)[];
  /** The write in flight per output (resolves to its error, or null). */
  readonly #writes: (Promise<unknown> | null)[];
  /** This step's prefetched input buffers, consumed by their LOAD. */
  readonly #prefetch: (Promise<Outcome<PooledBuffer | null>> | null)[];
  readonly #dotOuts: Uint8Array[][];
  readonly #dotIns: Uint8Array[][];
  #state = RunState.Ready;
  /** The `step()` or `finish()` in progress (settles, never rejects). */
  #busy: Promise<void> = Promise.resolve();
  #step = 0;
  #failure: unknown;

  constructor(
    name: string,
    plan: Plan,
    field: FieldWidth,
    context: RunContext,
    chunkSize: number,
    length: number,
    inputs: CodingInput[],
    outputs: CodingOutput[],
    member: RunMember | null,
  ) {
    this.program = name;
    this.length = length;
    this.steps = Math.ceil(length / chunkSize);
    this.#plan = plan;
    this.#field = field;
    this.#pool = context.pool;
    this.#kernels = context.kernels ?? context.pool.arena.kernels;
    this.#chunkSize = chunkSize;
    this.#signal = context.signal === undefined
      ? this.#aborter.signal
      : AbortSignal.any([context.signal, this.#aborter.signal]);
    this.#registry = context.runs;
    this.#runId = context.runId;
    this.#inputs = inputs;
    this.#outputs = outputs;
    this.#member = member;
    this.#queues = member === null ? [] : plan.queues.map((q) => member.queue(q));
    this.#slots = plan.slots.map(() => null);
    this.#writes = outputs.map(() => null);
    this.#prefetch = inputs.map(() => null);
    // Reused views arrays for dotProduct, one per fused op, so steps allocate no arrays.
    this.#dotOuts = plan.ops.map((op) => op.code === Code.Dot ? op.outs.map(() => EMPTY) : []);
    this.#dotIns = plan.ops.map((op) => op.code === Code.Dot ? op.ins.map(() => EMPTY) : []);
  }

  step(): Promise<StepResult | null> {
    if (this.#state === RunState.Failed) return Promise.reject(this.#failure);
    if (this.#state === RunState.Busy) {
      return Promise.reject(
        new CdfsError("INTERNAL", `program '${this.program}': step() called during a step`),
      );
    }
    if (this.#state === RunState.Done || this.#step >= this.steps) return Promise.resolve(null);
    this.#state = RunState.Busy;
    const result = this.#runStep();
    this.#busy = result.then(() => {}, () => {});
    return result;
  }

  async #runStep(): Promise<StepResult> {
    const step = this.#step;
    const length = Math.min(this.#chunkSize, this.length - step * this.#chunkSize);
    const signal = this.#signal;
    let at = -1;
    try {
      signal.throwIfAborted();
      // All inputs are asked at once, so remote streams arrive in parallel.
      for (let i = 0; i < this.#inputs.length; i++) {
        this.#prefetch[i] = settle(this.#inputs[i]!.next(length));
      }
      const ops = this.#plan.ops;
      for (let k = 0; k < ops.length; k++) {
        at = ops[k]!.at;
        await this.#execute(ops[k]!, k, length);
        // An abort() during the step stops it here; the catch below cleans up.
        signal.throwIfAborted();
      }
      let output: PooledBuffer | null = null;
      if (this.#plan.outputSlot >= 0) {
        output = this.#slots[this.#plan.outputSlot]!;
        this.#slots[this.#plan.outputSlot] = null; // its reference moves to the caller
      }
      this.#releaseSlots();
      this.#step++;
      this.#state = RunState.Ready;
      return { step, length, output };
    } catch (error) {
      const where = at < 0
        ? `program '${this.program}', step ${step}`
        : `program '${this.program}', step ${step}, instruction ${at} (${this.#describe(at)})`;
      const failure = this.#aborter.signal.aborted
        ? this.#aborter.signal.reason
        : attribute(error, where);
      await this.#fail(failure);
      throw failure;
    }
  }

  finish(): Promise<RunSummary> {
    if (this.#state === RunState.Failed) return Promise.reject(this.#failure);
    if (this.#state === RunState.Done) {
      return Promise.resolve({ length: this.length, steps: this.steps });
    }
    if (this.#state === RunState.Busy) {
      return Promise.reject(
        new CdfsError("INTERNAL", `program '${this.program}': finish() called during a step`),
      );
    }
    this.#state = RunState.Busy;
    const result = this.#runFinish();
    this.#busy = result.then(() => {}, () => {});
    return result;
  }

  async #runFinish(): Promise<RunSummary> {
    const where = `program '${this.program}', finishing`;
    try {
      if (this.#step < this.steps) {
        throw new CdfsError("INTERNAL", `finish() after ${this.#step} of ${this.steps} steps`);
      }
      for (let o = 0; o < this.#writes.length; o++) await this.#awaitWrite(o);
      const closeFailure = (await this.#closeInputs()).find((c) => !c.ok);
      if (closeFailure !== undefined && !closeFailure.ok) throw closeFailure.error;
      this.#signal.throwIfAborted();
      const committed = await Promise.all(this.#outputs.map((output) => settle(output.commit())));
      const commitFailure = committed.find((c) => !c.ok);
      if (commitFailure !== undefined && !commitFailure.ok) {
        // Those that committed stay; the others are discarded by #fail.
        for (let o = this.#outputs.length - 1; o >= 0; o--) {
          if (committed[o]!.ok) this.#outputs.splice(o, 1);
        }
        throw commitFailure.error;
      }
    } catch (error) {
      const failure = this.#aborter.signal.aborted
        ? this.#aborter.signal.reason
        : attribute(error, where);
      await this.#fail(failure);
      throw failure;
    }
    this.#state = RunState.Done;
    this.#member?.leave();
    return { length: this.length, steps: this.steps };
  }

  async abort(reason?: unknown): Promise<void> {
    if (this.#state === RunState.Done || this.#state === RunState.Failed) return;
    const failure = reason ??
      new CdfsError("UNAVAILABLE", `program '${this.program}' was aborted`);
    if (this.#state === RunState.Busy) {
      // The step (or finish) in progress cleans up itself once it stops: wake what it waits
      // for (buffers and queues through the signal, inputs by closing them) and wait for it.
      this.#aborter.abort(failure);
      await this.#closeInputs();
      await this.#busy;
      return;
    }
    await this.#fail(failure);
  }

  /** Closes every input once (also while a `next()` is pending: that makes it settle). */
  #closeInputs(): Promise<Outcome<void>[]> {
    this.#inputsClosed ??= Promise.all(this.#inputs.map((input) => settle(input.close())));
    return this.#inputsClosed;
  }

  /** Aborts everything: outputs discarded, inputs closed, every buffer released. */
  async #fail(reason: unknown): Promise<void> {
    if (this.#state === RunState.Failed) return;
    this.#state = RunState.Failed;
    this.#failure = reason;
    this.#releaseSlots();
    // The run failed here: its other programs on this node must not wait for our queues.
    if (this.#member !== null) {
      this.#registry?.abortRun(this.#runId, reason);
      this.#member.leave();
    }
    // Inputs first: closing one makes a pending next() settle, whose buffer is then released.
    await this.#closeInputs();
    for (let i = 0; i < this.#prefetch.length; i++) {
      const pending = this.#prefetch[i];
      this.#prefetch[i] = null;
      if (pending === null || pending === undefined) continue;
      const outcome = await pending;
      if (outcome.ok) outcome.value?.release();
    }
    await Promise.all(this.#writes);
    await Promise.all(this.#outputs.map((output) => settle(output.abort())));
  }

  #releaseSlots(): void {
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      slots[i]?.release();
      slots[i] = null;
    }
  }

  /** Names the instruction(s) of the op starting at instruction `at`, for messages. */
  #describe(at: number): string {
    const show = (i: number): string => this.#plan.instructions[i]!.join(" ");
    const op = this.#plan.ops.find((o) => o.at === at);
    if (op?.code === Code.Dot) {
      return `${show(at)} .. instruction ${at + op.count - 1} (${show(at + op.count - 1)}), fused`;
    }
    return show(at);
  }

  async #acquire(): Promise<PooledBuffer> {
    return this.#pool.tryAcquire() ?? await this.#pool.acquire(this.#signal);
  }

  /** The buffer of `slot`, about to be overwritten entirely: fresh unless held only here. */
  async #forOverwrite(slot: number): Promise<PooledBuffer> {
    const held = this.#slots[slot];
    if (held != null && held.refCount === 1) return held;
    const fresh = await this.#acquire();
    held?.release();
    this.#slots[slot] = fresh;
    return fresh;
  }

  /**
   * The buffer of `slot`, about to be modified in place. A buffer someone else also holds (a
   * POPped buffer the pusher still writes, an upstream output also written upstream) is
   * copied first, so their bytes never change under them.
   */
  async #forModify(slot: number, length: number): Promise<PooledBuffer> {
    const held = this.#slots[slot]!;
    if (held.refCount === 1) return held;
    const fresh = await this.#acquire();
    fresh.bytes.set(held.bytes.subarray(0, length));
    held.release();
    this.#slots[slot] = fresh;
    return fresh;
  }

  #view(slot: number, length: number): Uint8Array {
    return this.#slots[slot]!.bytes.subarray(0, length);
  }

  async #awaitWrite(output: number): Promise<void> {
    const pending = this.#writes[output];
    if (pending === null || pending === undefined) return;
    this.#writes[output] = null;
    const error = await pending;
    if (error !== null) throw error;
  }

  async #execute(op: Op, k: number, length: number): Promise<void> {
    const slots = this.#slots;
    switch (op.code) {
      case Code.Load: {
        const pending = this.#prefetch[op.input]!;
        this.#prefetch[op.input] = null;
        const outcome = await pending;
        if (!outcome.ok) {
          throw prefixed(outcome.error, `input '${this.#plan.inputs[op.input]!.name}'`);
        }
        if (outcome.value === null) {
          throw new CdfsError(
            "CORRUPT",
            `input '${this.#plan.inputs[op.input]!.name}' ended after ${
              this.#step * this.#chunkSize
            } of its ${this.length} bytes`,
          );
        }
        slots[op.slot]?.release();
        slots[op.slot] = outcome.value;
        return;
      }
      case Code.Pop: {
        const queue = this.#queues[op.queue]!;
        const entry = await queue.pop(this.#signal);
        slots[op.slot]?.release();
        slots[op.slot] = entry.buffer;
        if (entry.length !== length) {
          throw new CdfsError(
            "CORRUPT",
            `queue '${queue.name}' gave ${entry.length} bytes in a step of ${length} bytes`,
          );
        }
        return;
      }
      case Code.Write: {
        // One write in flight per output: wait for the previous step's before starting this.
        await this.#awaitWrite(op.output);
        const buffer = slots[op.slot]!.retain(); // held by the write until it settles
        this.#writes[op.output] = this.#outputs[op.output]!.write(buffer, length).then(
          () => {
            buffer.release();
            return null;
          },
          (error) => {
            buffer.release();
            return prefixed(error, `output '${this.#plan.outputs[op.output]!.name}'`);
          },
        );
        return;
      }
      case Code.Push:
        // The queue takes over the retained reference (and releases it on failure).
        await this.#queues[op.queue]!.push(slots[op.slot]!.retain(), length, this.#signal);
        return;
      case Code.Copy: {
        const src = slots[op.src]!;
        const dst = await this.#forOverwrite(op.dst);
        dst.bytes.set(src.bytes.subarray(0, length));
        return;
      }
      case Code.Iadd: {
        await this.#forModify(op.dst, length);
        this.#kernels.xor(this.#view(op.dst, length), this.#view(op.src, length));
        return;
      }
      case Code.Mult: {
        if (op.dst === op.src) await this.#forModify(op.dst, length);
        else await this.#forOverwrite(op.dst);
        const dst = this.#view(op.dst, length);
        const src = this.#view(op.src, length);
        if (this.#field === 8) this.#kernels.mul(dst, op.c, src);
        else mul16(dst, op.c, src);
        return;
      }
      case Code.Muladd: {
        await this.#forModify(op.dst, length);
        const dst = this.#view(op.dst, length);
        const src = this.#view(op.src, length);
        if (this.#field === 8) this.#kernels.mulAdd(dst, op.c, src);
        else mulAdd16(dst, op.c, src);
        return;
      }
      case Code.Dot: {
        const outs = this.#dotOuts[k]!;
        const ins = this.#dotIns[k]!;
        for (let i = 0; i < op.outs.length; i++) {
          outs[i] = (await this.#forOverwrite(op.outs[i]!)).bytes.subarray(0, length);
        }
        for (let j = 0; j < op.ins.length; j++) ins[j] = this.#view(op.ins[j]!, length);
        this.#kernels.dotProduct(outs, op.coeffs, ins);
        outs.fill(EMPTY);
        ins.fill(EMPTY);
        return;
      }
    }
  }
}

const EMPTY = new Uint8Array(0);

/**
 * A compiled program, ready to run any number of times.
 *
 * @example
 * ```ts
 * import { Executor, type RunContext, type RunSummary, type StreamResolver } from "./interpreter.ts";
 * import type { CodingModule } from "../lang/program.ts";
 * async function serve(
 *   module: CodingModule,
 *   resolver: StreamResolver,
 *   context: RunContext,
 *   send: (data: Uint8Array) => Promise<void>,
 * ): Promise<RunSummary> {
 *   const executor = new Executor(module, "enc_node0"); // compile once, run many times
 *   return await executor.run(resolver, context, async (buffer, length) => {
 *     try {
 *       await send(buffer.bytes.subarray(0, length));
 *     } finally {
 *       buffer.release();
 *     }
 *   });
 * }
 * ```
 */
export class Executor {
  /** The module the program belongs to. */
  readonly module: CodingModule;
  /** The program's name. */
  readonly name: string;
  /** The program. */
  readonly program: Program;
  /** Whether MULT/MULADD runs are fused into `dotProduct` calls. */
  readonly fused: boolean;
  readonly #plan: Plan;

  /**
   * Compiles a program of a validated module.
   *
   * @param module The module (validated).
   * @param name The program's name.
   * @param options A derived program instead of the module's, and fusion.
   * @throws {CdfsError} `NOT_FOUND` when the module has no such program.
   */
  constructor(module: CodingModule, name: string, options: ExecutorOptions = {}) {
    const program = options.program ?? module.programs[name];
    if (program === undefined) {
      throw new CdfsError("NOT_FOUND", `coding module '${module.name}' has no program '${name}'`);
    }
    this.module = module;
    this.name = name;
    this.program = program;
    this.fused = (options.fuse ?? true) && module.field === 8;
    this.#plan = compile(name, program, options.programs ?? module.programs, this.fused);
  }

  /** Whether the program streams an output buffer back every step. */
  get isStream(): boolean {
    return this.program.output !== undefined;
  }

  /**
   * The number of kernel calls of one step that fusion saved (0 without fusion), for tests
   * and reports.
   *
   * @example
   * ```ts
   * import { Executor } from "./interpreter.ts";
   * import { validateModule } from "../lang/validate.ts";
   * const module = validateModule({
   *   name: "parity", description: "p = 2·a + 3·b", field: 8, n: 1, k: 1,
   *   parts: [{ block: "{id}.a", nodes: [0] }], coded: [{ block: "{id}.p", node: 0 }],
   *   encode: "enc",
   *   programs: {
   *     enc: {
   *       node: 0,
   *       streams: [
   *         { name: "a", read: { block: "{id}.a" } },
   *         { name: "b", read: { block: "{id}.b" } },
   *         { name: "p", write: "{id}.p" },
   *       ],
   *       instructions: [
   *         ["LOAD", "a", "a"], ["LOAD", "b", "b"],
   *         ["MULT", "p", 2, "a"], ["MULADD", "p", 3, "b"], // one dotProduct
   *         ["WRITE", "p", "p"],
   *       ],
   *     },
   *   },
   * }, "example");
   * console.log(new Executor(module, "enc").fusedInstructions); // 2
   * ```
   */
  get fusedInstructions(): number {
    let count = 0;
    for (const op of this.#plan.ops) if (op.code === Code.Dot) count += op.count;
    return count;
  }

  /**
   * Opens the program's streams and returns the run, ready for its first step. Inputs are
   * opened concurrently; then the length is checked and the outputs are opened.
   *
   * @param resolver Opens the streams.
   * @param context The run's object id, run id, pool and registry.
   * @returns The run.
   * @throws {CdfsError} When a stream cannot be opened or the lengths disagree (everything
   * opened so far is closed again), named with the program.
   */
  async open(resolver: StreamResolver, context: RunContext): Promise<ProgramRun> {
    const where = `program '${this.name}' (node ${this.program.node}), opening`;
    const plan = this.#plan;
    const field = this.module.field;
    let member: RunMember | null = null;
    const inputs: CodingInput[] = [];
    const outputs: CodingOutput[] = [];
    try {
      const chunkSize = context.chunkSize ?? context.pool.bufferSize;
      checkChunkSize(chunkSize, context.pool, field);
      context.signal?.throwIfAborted();
      if (plan.queues.length > 0) {
        if (context.runs === undefined) {
          throw new CdfsError(
            "BAD_REQUEST",
            `the program uses PUSH/POP but the run has no run registry`,
          );
        }
        member = context.runs.join(context.runId, this.program.node);
      }
      const opened = await Promise.all(plan.inputs.map((input) => {
        const source: ResolvedSource = "program" in input.source
          ? { kind: "program", program: input.source.program, node: input.source.node }
          : {
            kind: "block",
            block: expandBlockName(input.source.block, context.objectId),
            node: input.source.node,
            local: input.source.node === this.program.node,
          };
        return settle(
          Promise.resolve().then(() => resolver.openInput(input.name, source)).catch((error) => {
            throw prefixed(error, `input '${input.name}'`);
          }),
        );
      }));
      for (const outcome of opened) if (outcome.ok) inputs.push(outcome.value);
      const failed = opened.find((outcome) => !outcome.ok);
      if (failed !== undefined && !failed.ok) throw failed.error;

      let length: number;
      if (inputs.length > 0) {
        length = inputs[0]!.length;
        for (let i = 1; i < inputs.length; i++) {
          if (inputs[i]!.length !== length) {
            throw new CdfsError(
              "BAD_REQUEST",
              `input lengths differ: '${plan.inputs[0]!.name}' has ${length} bytes, '${
                plan.inputs[i]!.name
              }' has ${inputs[i]!.length}`,
            );
          }
        }
        if (context.length !== undefined && context.length !== length) {
          throw new CdfsError(
            "BAD_REQUEST",
            `the inputs have ${length} bytes but the run's length is ${context.length}`,
          );
        }
      } else {
        length = context.length ?? await member!.length(context.signal);
      }
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new CdfsError("BAD_REQUEST", `stream length ${length} is not a byte count`);
      }
      if (field === 16 && length % 2 !== 0) {
        throw new CdfsError(
          "BAD_REQUEST",
          `GF(2^16) works on 16-bit words: the streams have an odd length (${length} bytes)`,
        );
      }
      member?.setLength(length);

      const made = await Promise.all(plan.outputs.map((output) =>
        settle(
          Promise.resolve().then(() =>
            resolver.openOutput(
              output.name,
              expandBlockName(output.block, context.objectId),
              length,
            )
          ).catch((error) => {
            throw prefixed(error, `output '${output.name}'`);
          }),
        )
      ));
      for (const outcome of made) if (outcome.ok) outputs.push(outcome.value);
      const failedOutput = made.find((outcome) => !outcome.ok);
      if (failedOutput !== undefined && !failedOutput.ok) throw failedOutput.error;
      return new Run(this.name, plan, field, context, chunkSize, length, inputs, outputs, member);
    } catch (error) {
      const failure = attribute(error, where);
      if (member !== null) {
        context.runs?.abortRun(context.runId, failure);
        member.leave();
      }
      await Promise.all(outputs.map((output) => settle(output.abort())));
      await Promise.all(inputs.map((input) => settle(input.close())));
      throw failure;
    }
  }

  /**
   * Runs the program to the end: open, every step, finish. A stream program hands each step's
   * output to `onOutput`, which owns that reference (and must release it).
   *
   * @example
   * ```ts
   * import { Executor, type RunContext, type StreamResolver } from "./interpreter.ts";
   * import type { CodingModule } from "../lang/program.ts";
   * async function encodeLast(m: CodingModule, resolver: StreamResolver, context: RunContext) {
   *   const { length, steps } = await new Executor(m, "enc_node15").run(resolver, context);
   *   return `${length} bytes in ${steps} steps`;
   * }
   * ```
   *
   * @param resolver Opens the streams.
   * @param context The run's object id, run id, pool and registry.
   * @param onOutput Receives each output buffer of a stream program; awaited (backpressure).
   * Without it, outputs are released unread.
   * @returns The run's totals.
   * @throws {CdfsError} The failure, naming program and step (everything aborted and released).
   */
  async run(
    resolver: StreamResolver,
    context: RunContext,
    onOutput?: (buffer: PooledBuffer, length: number) => void | Promise<void>,
  ): Promise<RunSummary> {
    const run = await this.open(resolver, context);
    try {
      for (let step = await run.step(); step !== null; step = await run.step()) {
        if (step.output === null) continue;
        if (onOutput === undefined) step.output.release();
        else await onOutput(step.output, step.length);
      }
    } catch (error) {
      const failure = attribute(error, `program '${this.name}', output consumer`);
      await run.abort(failure);
      throw failure;
    }
    return await run.finish();
  }
}
