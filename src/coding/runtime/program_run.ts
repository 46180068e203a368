/**
 * One run of a compiled program: the step loop and its states. Each step prefetches every
 * input, executes the plan's operations on pool buffers, and hands a stream program's output
 * to the caller; `finish()` waits for the writes, closes the inputs and commits the outputs;
 * any failure (or `abort()`) discards the outputs, closes the inputs and releases every buffer.
 *
 * @module
 */

import { CdfsError } from "../../core/errors.ts";
import type { BufferPool, PooledBuffer } from "../../buffer/pool.ts";
import type { RegionKernels } from "../../gf/region.ts";
import { kernelsFor } from "../../gf/backend.ts";
import { mul16, mulAdd16 } from "../../gf/region16.ts";
import type { FieldWidth } from "../lang/program.ts";
import type { BufferQueue } from "./buffer_queue.ts";
import type { RunMember, RunRegistry } from "./run_registry.ts";
import type { CodingInput, CodingOutput } from "./stream_resolver.ts";
import { type Op, OpCode, type Plan } from "./plan.ts";
import { attribute, type Outcome, prefixed, settle } from "./run_errors.ts";
import type { ProgramRun, RunSummary, StepResult } from "./run_interface.ts";

/**
 * What a run of a program needs besides its streams.
 *
 * @example
 * ```ts
 * import type { RunContext } from "./program_run.ts";
 * import { BufferPool } from "../../buffer/pool.ts";
 * import { RunRegistry } from "./run_registry.ts";
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
  /** The longest wait for a step buffer, then `BUSY` (default: as long as it takes). */
  readonly bufferWaitMs?: number;
  /** GF(2^8) kernels (default: the configured backend's on the pool's arena, `gf/backend.ts`). */
  readonly kernels?: RegionKernels;
}

const enum RunState {
  Ready,
  /** In `step()` or `finish()`. */
  Busy,
  Done,
  Failed,
}

/**
 * The run of a compiled plan, made by `Executor.open` once its streams are open: the state
 * machine behind {@linkcode ProgramRun} (ready, in a step, done, failed).
 *
 * @example
 * ```ts
 * import type { PlanRun } from "./program_run.ts";
 * import type { ProgramRun } from "./run_interface.ts";
 * const asProgramRun = (run: PlanRun): ProgramRun => run;
 * ```
 */
export class PlanRun implements ProgramRun {
  readonly program: string;
  readonly length: number;
  readonly steps: number;
  readonly #plan: Plan;
  readonly #field: FieldWidth;
  readonly #pool: BufferPool;
  readonly #bufferWaitMs: number | undefined;
  readonly #kernels: RegionKernels;
  readonly #chunkSize: number;
  /** Aborts what the current step waits for (buffers, queues) when `abort()` is called. */
  readonly #aborter = new AbortController();
  /** The run's signal combined with {@linkcode PlanRun.#aborter}'s. */
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
  readonly #dotFroms: Uint8Array[][];
  #state = RunState.Ready;
  /** The `step()` or `finish()` in progress (settles, never rejects). */
  #busy: Promise<void> = Promise.resolve();
  #step = 0;
  #failure: unknown;

  /**
   * Starts the run of opened streams (the executor checked the chunk size and the length).
   *
   * @param name The program's name.
   * @param plan The compiled program.
   * @param field The module's field.
   * @param context The run's context.
   * @param chunkSize The step size C.
   * @param length The stream length L.
   * @param inputs The opened inputs, in the plan's order.
   * @param outputs The opened outputs, in the plan's order.
   * @param member The run registry membership, when the program uses queues.
   */
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
    this.#bufferWaitMs = context.bufferWaitMs;
    this.#kernels = context.kernels ?? kernelsFor(context.pool.arena.kernels);
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
    this.#dotOuts = plan.ops.map((op) => isFused(op) ? op.outs.map(() => EMPTY) : []);
    this.#dotIns = plan.ops.map((op) => isFused(op) ? op.ins.map(() => EMPTY) : []);
    this.#dotFroms = plan.ops.map((op) => isFused(op) ? op.froms?.map(() => EMPTY) ?? [] : []);
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
    if (op !== undefined && isFused(op)) {
      return `${show(at)} .. instruction ${at + op.count - 1} (${show(at + op.count - 1)}), fused`;
    }
    return show(at);
  }

  async #acquire(): Promise<PooledBuffer> {
    return this.#pool.tryAcquire() ??
      await this.#pool.acquireWithin(this.#bufferWaitMs, this.#signal);
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

  /**
   * A `DotAdd`: its destinations are added to in place, each copied first if someone else holds
   * it (#forModify), so that none shares its buffer with a source. With a COPY fused in, the
   * COPY's destination is overwritten with the sum added to the COPY's source; an output whose
   * old bytes are also another output's from (the source when the run adds to it too:
   * RapidRAID's `prev`) gets a fresh buffer, taking the slot after the kernel, so that no from
   * region is another output. Kernels that would copy the froms anyway (ISA-L) get the COPY
   * done here and add in place, which spares that output a copy.
   */
  async #dotAdd(op: FusedOp, k: number, length: number): Promise<void> {
    const outs = this.#dotOuts[k]!;
    const ins = this.#dotIns[k]!;
    const fromViews = this.#dotFroms[k]!;
    const froms = op.froms ?? op.outs;
    const onePass = op.froms !== undefined && this.#kernels.addsFromInOnePass === true;
    const swaps: [number, PooledBuffer][] = [];
    for (let i = 0; i < op.outs.length; i++) {
      const slot = op.outs[i]!;
      let buffer: PooledBuffer;
      if (froms[i] !== slot) {
        buffer = await this.#forOverwrite(slot);
        if (!onePass) buffer.bytes.set(this.#view(froms[i]!, length)); // the COPY
      } else if (onePass && froms.some((from, x) => x !== i && from === slot)) {
        buffer = await this.#acquire();
        swaps.push([slot, buffer]);
      } else buffer = await this.#forModify(slot, length);
      outs[i] = buffer.bytes.subarray(0, length);
    }
    // Read after the outputs are placed: #forOverwrite and #forModify may replace buffers.
    if (onePass) {
      for (let i = 0; i < froms.length; i++) fromViews[i] = this.#view(froms[i]!, length);
    }
    for (let j = 0; j < op.ins.length; j++) ins[j] = this.#view(op.ins[j]!, length);
    try {
      this.#kernels.dotProductAdd(outs, op.coeffs, ins, onePass ? fromViews : undefined);
    } finally {
      outs.fill(EMPTY);
      ins.fill(EMPTY);
      fromViews.fill(EMPTY);
      for (const [slot, buffer] of swaps) {
        this.#slots[slot]?.release();
        this.#slots[slot] = buffer;
      }
    }
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
      case OpCode.Load: {
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
      case OpCode.Pop: {
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
      case OpCode.Write: {
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
      case OpCode.Push:
        // The queue takes over the retained reference (and releases it on failure).
        await this.#queues[op.queue]!.push(slots[op.slot]!.retain(), length, this.#signal);
        return;
      case OpCode.Copy: {
        const src = slots[op.src]!;
        const dst = await this.#forOverwrite(op.dst);
        dst.bytes.set(src.bytes.subarray(0, length));
        return;
      }
      case OpCode.Iadd: {
        await this.#forModify(op.dst, length);
        this.#kernels.xor(this.#view(op.dst, length), this.#view(op.src, length));
        return;
      }
      case OpCode.Mult: {
        if (op.dst === op.src) await this.#forModify(op.dst, length);
        else await this.#forOverwrite(op.dst);
        const dst = this.#view(op.dst, length);
        const src = this.#view(op.src, length);
        if (this.#field === 8) this.#kernels.mul(dst, op.c, src);
        else mul16(dst, op.c, src);
        return;
      }
      case OpCode.Muladd: {
        await this.#forModify(op.dst, length);
        const dst = this.#view(op.dst, length);
        const src = this.#view(op.src, length);
        if (this.#field === 8) this.#kernels.mulAdd(dst, op.c, src);
        else mulAdd16(dst, op.c, src);
        return;
      }
      case OpCode.Dot: {
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
      case OpCode.DotAdd:
        return await this.#dotAdd(op, k, length);
    }
  }
}

const EMPTY = new Uint8Array(0);

/** A fused run's op (`dotProduct` or `dotProductAdd`). */
type FusedOp = Extract<Op, { readonly outs: readonly number[] }>;

/** Whether an op is a fused run (`dotProduct` or `dotProductAdd`). */
function isFused(op: Op): op is FusedOp {
  return op.code === OpCode.Dot || op.code === OpCode.DotAdd;
}
