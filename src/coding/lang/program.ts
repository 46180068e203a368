/**
 * Coding programs and coding modules, as data.
 *
 * A coding module (`coding/<name>.ts`) exports a {@linkcode CodingModule}: the field, the code's
 * parameters, how an object's blocks are named and placed, and named {@linkcode Program}s. A
 * program runs on one logical node and is executed step by step: every stream is cut into
 * buffers of the same size and each step takes one buffer of every input stream (the program
 * model of the original ClusterDFS, `clusterdfs/coding.py`: `NetCodingOperations` and
 * `NetCodingExecutor`, github.com/llpamies/ClusterDFS).
 * Instructions keep the operand order of the original ClusterDFS: destination first for
 * COPY/IADD/MULT/MULADD, queue first for PUSH/POP, buffer first for LOAD/WRITE.
 *
 * Block names are templates: `{id}` is the object id, so `"{id}.part3"` names part 3 of the
 * object being coded. Because everything here is plain data, the same programs run on bytes
 * (the interpreter), over coefficient vectors (symbolic execution: generator matrices and
 * derived decoders) and over the network (the DataNode's CODING operation).
 *
 * @module
 */

/** The Galois fields a module may compute in: GF(2^8) (poly 0x11D) or GF(2^16) (0x1100B). */
export type FieldWidth = 8 | 16;

/**
 * `buf ← next buffer of input stream`.
 *
 * @example
 * ```ts
 * import type { LoadInstruction } from "./program.ts";
 * const i: LoadInstruction = ["LOAD", "local", "part0"];
 * ```
 */
export type LoadInstruction = readonly ["LOAD", buffer: string, stream: string];
/**
 * Append `buf` to output stream.
 *
 * @example
 * ```ts
 * import type { WriteInstruction } from "./program.ts";
 * const i: WriteInstruction = ["WRITE", "prev", "coded1"];
 * ```
 */
export type WriteInstruction = readonly ["WRITE", buffer: string, stream: string];
/**
 * `dst ← src` (a copy of the bytes, so later changes to `src` do not reach `dst`).
 *
 * @example
 * ```ts
 * import type { CopyInstruction } from "./program.ts";
 * const i: CopyInstruction = ["COPY", "stream", "prev"];
 * ```
 */
export type CopyInstruction = readonly ["COPY", dst: string, src: string];
/**
 * `dst ← dst + src` (XOR).
 *
 * @example
 * ```ts
 * import type { IaddInstruction } from "./program.ts";
 * const i: IaddInstruction = ["IADD", "temp", "prev"];
 * ```
 */
export type IaddInstruction = readonly ["IADD", dst: string, src: string];
/**
 * `dst ← c · src`.
 *
 * @example
 * ```ts
 * import type { MultInstruction } from "./program.ts";
 * const i: MultInstruction = ["MULT", "stream", 129, "temp"];
 * ```
 */
export type MultInstruction = readonly ["MULT", dst: string, coefficient: number, src: string];
/**
 * `dst ← dst + c · src` (`dst === src` allowed: gives `(1 + c) · src`).
 *
 * @example
 * ```ts
 * import type { MuladdInstruction } from "./program.ts";
 * const i: MuladdInstruction = ["MULADD", "prev", 139, "local"];
 * ```
 */
export type MuladdInstruction = readonly ["MULADD", dst: string, coefficient: number, src: string];
/**
 * Put `buf` on the named queue of this run on this node (the buffer itself, not a copy: the
 * program must not change it afterwards in the same step).
 *
 * @example
 * ```ts
 * import type { PushInstruction } from "./program.ts";
 * const i: PushInstruction = ["PUSH", "queue", "temp"];
 * ```
 */
export type PushInstruction = readonly ["PUSH", queue: string, buffer: string];
/**
 * `buf ← next buffer of the named queue of this run on this node` (waits for it).
 *
 * @example
 * ```ts
 * import type { PopInstruction } from "./program.ts";
 * const i: PopInstruction = ["POP", "queue", "temp"];
 * ```
 */
export type PopInstruction = readonly ["POP", queue: string, buffer: string];

/**
 * One instruction of a program.
 *
 * @example
 * ```ts
 * import type { Instruction } from "./program.ts";
 * const program: Instruction[] = [["LOAD", "temp", "part0"], ["MULT", "stream", 129, "temp"]];
 * ```
 */
export type Instruction =
  | LoadInstruction
  | WriteInstruction
  | CopyInstruction
  | IaddInstruction
  | MultInstruction
  | MuladdInstruction
  | PushInstruction
  | PopInstruction;

/**
 * The instruction names.
 *
 * @example
 * ```ts
 * import { OPCODES } from "./program.ts";
 * console.log(OPCODES.includes("MULADD")); // true
 * ```
 */
export const OPCODES = ["LOAD", "WRITE", "COPY", "IADD", "MULT", "MULADD", "PUSH", "POP"] as const;

/**
 * Where an input stream comes from.
 * - `{ block }`: a block stored on the node that runs the program (a template such as
 *   `"{id}.part0"`).
 * - `{ block, node }`: a block stored on another logical node, read over the network.
 * - `{ program }`: the streamed output of another program of the same module, run (pulled) on
 *   the logical node that program names, within the same run.
 *
 * @example
 * ```ts
 * import type { StreamSource } from "./program.ts";
 * const local: StreamSource = { block: "{id}.part0" };
 * const upstream: StreamSource = { program: "enc_node0" };
 * ```
 */
export type StreamSource =
  | { readonly block: string; readonly node?: number }
  | { readonly program: string };

/**
 * A stream a program declares. Inputs are opened in declaration order; outputs are blocks the
 * node writes (atomically: nothing is visible unless the whole run succeeds).
 *
 * @example
 * ```ts
 * import type { StreamDeclaration } from "./program.ts";
 * const streams: StreamDeclaration[] = [
 *   { name: "part0", read: { block: "{id}.part0" } },
 *   { name: "coded0", write: "{id}.coded0" },
 * ];
 * ```
 */
export type StreamDeclaration =
  | { readonly name: string; readonly read: StreamSource }
  | { readonly name: string; readonly write: string };

/**
 * A program: what one logical node executes for one run.
 *
 * @example
 * ```ts
 * import type { Program } from "./program.ts";
 * const encNode0: Program = {
 *   node: 0,
 *   streams: [{ name: "part0", read: { block: "{id}.part0" } }, { name: "coded0", write: "{id}.coded0" }],
 *   output: "stream",
 *   instructions: [
 *     ["LOAD", "temp", "part0"],
 *     ["MULT", "stream", 129, "temp"],
 *     ["MULT", "temp", 141, "temp"],
 *     ["WRITE", "temp", "coded0"],
 *   ],
 * };
 * ```
 */
export interface Program {
  /** The logical node (index into the run's node list) that runs the program. */
  readonly node: number;
  /** The streams, in the order they are opened. */
  readonly streams: readonly StreamDeclaration[];
  /**
   * The buffer streamed back to whoever started the program, one buffer per step (a *stream
   * program*). Absent for a *local* program, which only writes blocks.
   */
  readonly output?: string;
  /** The instructions of one step. */
  readonly instructions: readonly Instruction[];
}

/**
 * A coding module: one code, as data.
 *
 * @example
 * ```ts
 * import type { CodingModule } from "./program.ts";
 * const mirror: CodingModule = {
 *   name: "mirror",
 *   description: "two copies",
 *   field: 8,
 *   n: 2,
 *   k: 1,
 *   parts: [{ block: "{id}.part0", nodes: [0] }],
 *   coded: [{ block: "{id}.coded0", node: 0 }, { block: "{id}.coded1", node: 1 }],
 *   encode: "copy1",
 *   programs: {
 *     copy1: {
 *       node: 1,
 *       streams: [
 *         { name: "src", read: { block: "{id}.part0", node: 0 } },
 *         { name: "c1", write: "{id}.coded1" },
 *       ],
 *       instructions: [["LOAD", "b", "src"], ["WRITE", "b", "c1"]],
 *     },
 *   },
 * };
 * ```
 */
export interface CodingModule {
  /** The module's name (its file is `coding/<name>.ts`). */
  readonly name: string;
  /** One line for `cdfs code list`. */
  readonly description: string;
  /** The field the coefficients live in. */
  readonly field: FieldWidth;
  /** Number of coded blocks. */
  readonly n: number;
  /** Number of data parts an object is cut into. */
  readonly k: number;
  /**
   * The k data parts, in order: block name template and the logical nodes that hold a
   * replica before encoding (`put-parts` places them there).
   */
  readonly parts: readonly { readonly block: string; readonly nodes: readonly number[] }[];
  /** The n coded blocks, in order: block name template and the logical node that stores it. */
  readonly coded: readonly { readonly block: string; readonly node: number }[];
  /**
   * The program a client starts to encode an object (it pulls every other program it needs);
   * several names when the encode is started on several nodes at once (each must finish).
   */
  readonly encode: string | readonly string[];
  /** Every program, by name. */
  readonly programs: Readonly<Record<string, Program>>;
}
