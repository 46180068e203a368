/**
 * The coding interpreter: runs one {@linkcode Program} of a module over bytes, step by step.
 *
 * An {@linkcode Executor} compiles a validated program once (`plan.ts`: buffer names become
 * slot indices, stream names become handles, runs of MULT/MULADD become one `dotProduct`), and
 * then runs it any number of times (`program_run.ts`). It knows nothing of networks or disks: a
 * {@linkcode StreamResolver} opens its inputs and outputs.
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

import { CdfsError } from "../../core/errors.ts";
import type { BufferPool, PooledBuffer } from "../../buffer/pool.ts";
import type { CodingModule, FieldWidth, Program } from "../lang/program.ts";
import { expandBlockName } from "../lang/validate.ts";
import type { RunMember } from "./run_registry.ts";
import type {
  CodingInput,
  CodingOutput,
  ResolvedSource,
  StreamResolver,
} from "./stream_resolver.ts";
import { compile, OpCode, type Plan } from "./plan.ts";
import { PlanRun, type RunContext } from "./program_run.ts";
import type { ProgramRun, RunSummary } from "./run_interface.ts";
import { attribute, prefixed, settle } from "./run_errors.ts";

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

/**
 * A compiled program, ready to run any number of times.
 *
 * @example
 * ```ts
 * import { Executor } from "./interpreter.ts";
 * import type { RunContext } from "./program_run.ts";
 * import type { RunSummary } from "./run_interface.ts";
 * import type { StreamResolver } from "./stream_resolver.ts";
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
    for (const op of this.#plan.ops) {
      if (op.code === OpCode.Dot || op.code === OpCode.DotAdd) count += op.count;
    }
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
      return new PlanRun(
        this.name,
        plan,
        field,
        context,
        chunkSize,
        length,
        inputs,
        outputs,
        member,
      );
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
   * import { Executor } from "./interpreter.ts";
   * import type { RunContext } from "./program_run.ts";
   * import type { StreamResolver } from "./stream_resolver.ts";
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
