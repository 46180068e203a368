/**
 * Typed instruction builders: {@linkcode defineProgram} hands the program's step function an
 * object whose methods build the eight instructions, typed by the program's declared streams
 * (and, when listed, its buffers and queues). A LOAD from an undeclared stream, a WRITE to an
 * input, or a buffer name with a typo is then a type error where the program is written, not a
 * message of `validateModule` when the module loads. The result is the same plain data
 * ({@linkcode Program}); modules written as literals are still checked by the validator.
 *
 * @module
 */

import type {
  CopyInstruction,
  IaddInstruction,
  Instruction,
  LoadInstruction,
  MuladdInstruction,
  MultInstruction,
  PopInstruction,
  Program,
  PushInstruction,
  StreamDeclaration,
  WriteInstruction,
} from "./program.ts";

/**
 * The names of a stream list's input streams (those LOAD may read).
 *
 * @example
 * ```ts
 * import type { InputNames } from "./builders.ts";
 * import type { InputStream, OutputStream } from "./helpers.ts";
 * const name: InputNames<[InputStream<"part0">, OutputStream<"coded0">]> = "part0";
 * ```
 */
export type InputNames<S extends readonly StreamDeclaration[]> = Extract<
  S[number],
  { readonly read: unknown }
>["name"];

/**
 * The names of a stream list's output streams (those WRITE may append to).
 *
 * @example
 * ```ts
 * import type { OutputNames } from "./builders.ts";
 * import type { InputStream, OutputStream } from "./helpers.ts";
 * const name: OutputNames<[InputStream<"part0">, OutputStream<"coded0">]> = "coded0";
 * ```
 */
export type OutputNames<S extends readonly StreamDeclaration[]> = Extract<
  S[number],
  { readonly write: unknown }
>["name"];

/**
 * The instruction builders a step function receives: one method per instruction, operands in
 * the instruction's order (destination first, queue first for PUSH/POP, buffer first for
 * LOAD/WRITE). `In`/`Out` are the declared input/output stream names, `Buf` the buffer names,
 * `Queue` the queue names (`string` when not declared).
 *
 * @example
 * ```ts
 * import type { InstructionBuilders } from "./builders.ts";
 * const step = (op: InstructionBuilders<"part0", "coded0", "b", string>) => [
 *   op.load("b", "part0"),
 *   op.write("b", "coded0"),
 * ];
 * ```
 */
export interface InstructionBuilders<
  In extends string,
  Out extends string,
  Buf extends string,
  Queue extends string,
> {
  /** `buffer ←` this step's chunk of input stream `stream`. */
  load(buffer: Buf, stream: In): LoadInstruction;
  /** Appends `buffer` to output stream `stream`. */
  write(buffer: Buf, stream: Out): WriteInstruction;
  /** `dst ← src` (a copy). */
  copy(dst: Buf, src: Buf): CopyInstruction;
  /** `dst ← dst + src` (XOR). */
  iadd(dst: Buf, src: Buf): IaddInstruction;
  /** `dst ← c · src`. */
  mult(dst: Buf, coefficient: number, src: Buf): MultInstruction;
  /** `dst ← dst + c · src`. */
  muladd(dst: Buf, coefficient: number, src: Buf): MuladdInstruction;
  /** Hands `buffer` to queue `queue` of this run and node. */
  push(queue: Queue, buffer: Buf): PushInstruction;
  /** `buffer ←` the next buffer of queue `queue`. */
  pop(queue: Queue, buffer: Buf): PopInstruction;
}

/**
 * What {@linkcode defineProgram} needs besides the step: the node, the streams in the order
 * they are opened, and optionally the buffer and queue names (then every operand must be one
 * of them) and the output buffer of a stream program.
 *
 * @example
 * ```ts
 * import type { ProgramSpec } from "./builders.ts";
 * import { type InputStream, readBlock } from "./helpers.ts";
 * const spec: ProgramSpec<[InputStream<"part0">], "b", never> = {
 *   node: 0,
 *   streams: [readBlock("part0", "{id}.part0")],
 *   buffers: ["b"],
 *   output: "b",
 * };
 * ```
 */
export interface ProgramSpec<
  S extends readonly StreamDeclaration[],
  Buf extends string,
  Queue extends string,
> {
  /** The logical node that runs the program. */
  readonly node: number;
  /** Its streams, in the order they are opened (`readBlock`, `pull`, `writeBlock`). */
  readonly streams: S;
  /** The buffer names the step may use; any name when absent. */
  readonly buffers?: readonly Buf[];
  /** The queue names the step may PUSH and POP; any name when absent. */
  readonly queues?: readonly Queue[];
  /** The buffer streamed back each step (a stream program); absent for a local program. */
  readonly output?: NoInfer<Buf>;
}

/** The builders, shared by every program (they only make tuples). */
const BUILDERS: InstructionBuilders<string, string, string, string> = {
  load: (buffer, stream) => ["LOAD", buffer, stream],
  write: (buffer, stream) => ["WRITE", buffer, stream],
  copy: (dst, src) => ["COPY", dst, src],
  iadd: (dst, src) => ["IADD", dst, src],
  mult: (dst, coefficient, src) => ["MULT", dst, coefficient, src],
  muladd: (dst, coefficient, src) => ["MULADD", dst, coefficient, src],
  push: (queue, buffer) => ["PUSH", queue, buffer],
  pop: (queue, buffer) => ["POP", queue, buffer],
};

/** The operands of an instruction by kind, for the run-time check of untyped callers. */
function operands(i: Instruction): { streams: string[]; buffers: string[]; queues: string[] } {
  switch (i[0]) {
    case "LOAD":
    case "WRITE":
      return { streams: [i[2]], buffers: [i[1]], queues: [] };
    case "COPY":
    case "IADD":
      return { streams: [], buffers: [i[1], i[2]], queues: [] };
    case "MULT":
    case "MULADD":
      return { streams: [], buffers: [i[1], i[3]], queues: [] };
    case "PUSH":
    case "POP":
      return { streams: [], buffers: [i[2]], queues: [i[1]] };
  }
}

/**
 * Builds a program from its streams and a step function that returns the instructions of one
 * step, built with the typed builders it receives. Names the types cannot see (computed
 * strings) are checked again when the program is built, so a wrong one fails here, naming the
 * instruction, rather than at load time.
 *
 * @example
 * ```ts
 * import { defineProgram } from "./builders.ts";
 * import { readBlock, writeBlock } from "./helpers.ts";
 * const encNode0 = defineProgram({
 *   node: 0,
 *   streams: [readBlock("part0", "{id}.part0"), writeBlock("coded0", "{id}.coded0")],
 *   buffers: ["temp", "stream"],
 *   output: "stream",
 * }, (op) => [
 *   op.load("temp", "part0"),
 *   op.mult("stream", 129, "temp"),
 *   op.mult("temp", 141, "temp"),
 *   op.write("temp", "coded0"),
 *   // op.write("temp", "part0"), op.load("tmep", "part0"): type errors
 * ]);
 * console.log(encNode0.instructions[1]); // [ "MULT", "stream", 129, "temp" ]
 * ```
 *
 * @param spec The node, the streams, the optional buffer and queue names and output buffer.
 * @param step Returns the instructions of one step, built with the given builders.
 * @returns The program (plain data).
 * @throws {TypeError} When an instruction names an undeclared stream (or one of the wrong
 * direction), or a buffer, queue or output buffer outside the declared lists.
 */
export function defineProgram<
  const S extends readonly StreamDeclaration[],
  const Buf extends string = string,
  const Queue extends string = string,
>(
  spec: ProgramSpec<S, Buf, Queue>,
  step: (
    op: InstructionBuilders<InputNames<S>, OutputNames<S>, Buf, Queue>,
  ) => readonly Instruction[],
): Program {
  const instructions = [...step(BUILDERS)];
  const inputs = new Set(spec.streams.filter((s) => "read" in s).map((s) => s.name));
  const outputs = new Set(spec.streams.filter((s) => "write" in s).map((s) => s.name));
  const buffers = spec.buffers === undefined ? undefined : new Set<string>(spec.buffers);
  const queues = spec.queues === undefined ? undefined : new Set<string>(spec.queues);
  const fail = (index: number, what: string): never => {
    throw new TypeError(`instruction ${index} (${instructions[index]!.join(" ")}): ${what}`);
  };
  instructions.forEach((instruction, index) => {
    const used = operands(instruction);
    for (const stream of used.streams) {
      const declared = instruction[0] === "LOAD" ? inputs : outputs;
      if (!declared.has(stream)) {
        fail(
          index,
          `'${stream}' is not a declared ${instruction[0] === "LOAD" ? "input" : "output"} stream`,
        );
      }
    }
    for (const buffer of used.buffers) {
      if (buffers !== undefined && !buffers.has(buffer)) {
        fail(index, `'${buffer}' is not a declared buffer`);
      }
    }
    for (const queue of used.queues) {
      if (queues !== undefined && !queues.has(queue)) {
        fail(index, `'${queue}' is not a declared queue`);
      }
    }
  });
  const { node, streams, output } = spec;
  if (output !== undefined && buffers !== undefined && !buffers.has(output)) {
    throw new TypeError(`output '${output}' is not a declared buffer`);
  }
  return output === undefined
    ? { node, streams, instructions }
    : { node, streams, output, instructions };
}
