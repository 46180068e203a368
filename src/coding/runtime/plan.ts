/**
 * Compiling a validated program into a plan the interpreter runs step after step: buffer names
 * become slot indices, stream and queue names become indices, and runs of MULT/MULADD become
 * one `dotProduct` (fusion), runs of MULADD alone one `dotProductAdd`.
 *
 * @module
 */

import { CdfsError } from "../../core/errors.ts";
import type { Program } from "../lang/program.ts";

/**
 * The operations of a compiled plan: one per instruction, `Dot` for a fused run of MULT/MULADD
 * that defines its destinations, `DotAdd` for a fused run of MULADD that adds to them.
 *
 * @example
 * ```ts
 * import { OpCode } from "./plan.ts";
 * const isFused = (code: OpCode): boolean => code === OpCode.Dot;
 * console.log(isFused(OpCode.Mult)); // false
 * ```
 */
export const enum OpCode {
  Load,
  Pop,
  Write,
  Push,
  Copy,
  Iadd,
  Mult,
  Muladd,
  Dot,
  DotAdd,
}

/**
 * One operation of the plan, on slot and stream indices; `at` is the index of its (first)
 * instruction, for messages.
 *
 * @example
 * ```ts
 * import { type Op, OpCode } from "./plan.ts";
 * const load: Op = { code: OpCode.Load, at: 0, slot: 0, input: 0 };
 * ```
 */
export type Op =
  | {
    readonly code: OpCode.Load;
    readonly at: number;
    readonly slot: number;
    readonly input: number;
  }
  | {
    readonly code: OpCode.Pop;
    readonly at: number;
    readonly slot: number;
    readonly queue: number;
  }
  | {
    readonly code: OpCode.Write;
    readonly at: number;
    readonly slot: number;
    readonly output: number;
  }
  | {
    readonly code: OpCode.Push;
    readonly at: number;
    readonly slot: number;
    readonly queue: number;
  }
  | {
    readonly code: OpCode.Copy | OpCode.Iadd;
    readonly at: number;
    readonly dst: number;
    readonly src: number;
  }
  | {
    readonly code: OpCode.Mult | OpCode.Muladd;
    readonly at: number;
    readonly dst: number;
    readonly c: number;
    readonly src: number;
  }
  | {
    readonly code: OpCode.Dot | OpCode.DotAdd;
    readonly at: number;
    readonly count: number;
    readonly outs: readonly number[];
    readonly coeffs: Uint8Array[];
    readonly ins: readonly number[];
    /**
     * `DotAdd` with a COPY fused in: the slot each output's sum is added to (its own, or the
     * COPY's source for the COPY's destination, as it was before the run).
     */
    readonly froms?: readonly number[];
  };

/**
 * An input stream of a plan: its name and where it comes from (template not yet expanded).
 *
 * @example
 * ```ts
 * import type { InputPlan } from "./plan.ts";
 * const input: InputPlan = { name: "part0", source: { block: "{id}.part0", node: 0 } };
 * ```
 */
export interface InputPlan {
  /** The stream's name in the program. */
  readonly name: string;
  /** A block template and its node, or a program and its node. */
  readonly source: { readonly block: string; readonly node: number } | {
    readonly program: string;
    readonly node: number;
  };
}

/**
 * A compiled program: names interned as slot, stream and queue indices, and its operations.
 *
 * @example
 * ```ts
 * import type { Plan } from "./plan.ts";
 * function describe(plan: Plan): string {
 *   return `${plan.ops.length} ops on ${plan.slots.length} buffers`;
 * }
 * ```
 */
export interface Plan {
  /** The program's instructions (for messages). */
  readonly instructions: Program["instructions"];
  /** The buffer names, by slot index. */
  readonly slots: readonly string[];
  /** The input streams, in the order of their handles. */
  readonly inputs: readonly InputPlan[];
  /** The output streams (name and block template), in the order of their handles. */
  readonly outputs: readonly { readonly name: string; readonly block: string }[];
  /** The queue names, by queue index. */
  readonly queues: readonly string[];
  /** The operations of one step, in order. */
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
 * one `dotProduct` (each source read once for all destinations). A maximal run of MULADDs alone
 * under the same rule of disjointness becomes one `dotProductAdd` (a pipelined code's
 * `stream += ψ·local`, `prev += ξ·local`: each source read once, each destination read and
 * written once), and a COPY right before such a run into one of its destinations joins it (that
 * destination is the sum added to the COPY's source: `stream = prev + ψ·local` in one pass, no
 * copy). Two terms of the same (destination, source) pair add up: c1·s + c2·s = (c1 ⊕ c2)·s.
 *
 * @example
 * ```ts
 * import { compile } from "./plan.ts";
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
 *         ["MULT", "p", 2, "a"], ["MULADD", "p", 3, "b"],
 *         ["WRITE", "p", "p"],
 *       ],
 *     },
 *   },
 * }, "example");
 * const plan = compile("enc", module.programs.enc!, module.programs, true);
 * console.log(plan.ops.length); // 4: LOAD, LOAD, one dotProduct, WRITE
 * ```
 *
 * @param name The program's name (for messages).
 * @param program The program, validated.
 * @param programs The programs its `{ program }` sources are looked up in.
 * @param fuse Whether to fuse MULT/MULADD runs (GF(2^8) only).
 * @returns The plan.
 * @throws {CdfsError} `BAD_REQUEST` when a source program does not exist.
 */
export function compile(
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
    // A COPY whose destination a run of MULADDs right after it adds to: `d = s + Σ...` in one
    // pass, without the copy (d's sum is added to s, as read before the run).
    const copied = fuse && instruction[0] === "COPY" && list[at + 1]?.[0] === "MULADD"
      ? { dst: instruction[1], src: instruction[2] }
      : undefined;
    const start = copied === undefined ? at : at + 1;
    const first = list[start]!;
    if (fuse && (first[0] === "MULT" || first[0] === "MULADD")) {
      const adds = first[0] === "MULADD";
      const end = fusedGroupEnd(list, start, adds);
      const run = list.slice(start, end) as readonly (readonly [string, string, number, string])[];
      const fusesCopy = copied !== undefined && run.some(([, dst]) => dst === copied.dst);
      // A COPY that does not join is compiled alone; its run, next time round.
      if (copied === undefined ? end - start >= 2 : fusesCopy) {
        const outs = new Names();
        const ins = new Names();
        const terms: [number, number, number][] = [];
        for (const [, dst, c, src] of run) terms.push([outs.of(dst), ins.of(src), c]);
        const coeffs = outs.list.map(() => new Uint8Array(ins.list.length));
        for (const [o, i, c] of terms) coeffs[o]![i]! ^= c;
        ops.push({
          code: adds ? OpCode.DotAdd : OpCode.Dot,
          at,
          count: end - at,
          outs: outs.list.map((b) => slots.of(b)),
          coeffs,
          ins: ins.list.map((b) => slots.of(b)),
          ...(fusesCopy
            ? { froms: outs.list.map((b) => slots.of(b === copied!.dst ? copied!.src : b)) }
            : {}),
        });
        maxDotWidth = Math.max(maxDotWidth, outs.list.length, ins.list.length);
        at = end;
        continue;
      }
    }
    switch (instruction[0]) {
      case "LOAD":
        ops.push({
          code: OpCode.Load,
          at,
          slot: slots.of(instruction[1]),
          input: inputIndex.get(instruction[2])!,
        });
        break;
      case "POP":
        ops.push({
          code: OpCode.Pop,
          at,
          slot: slots.of(instruction[2]),
          queue: queues.of(instruction[1]),
        });
        break;
      case "WRITE":
        ops.push({
          code: OpCode.Write,
          at,
          slot: slots.of(instruction[1]),
          output: outputIndex.get(instruction[2])!,
        });
        break;
      case "PUSH":
        ops.push({
          code: OpCode.Push,
          at,
          slot: slots.of(instruction[2]),
          queue: queues.of(instruction[1]),
        });
        break;
      case "COPY":
      case "IADD":
        ops.push({
          code: instruction[0] === "COPY" ? OpCode.Copy : OpCode.Iadd,
          at,
          dst: slots.of(instruction[1]),
          src: slots.of(instruction[2]),
        });
        break;
      case "MULT":
      case "MULADD":
        ops.push({
          code: instruction[0] === "MULT" ? OpCode.Mult : OpCode.Muladd,
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

/**
 * The end (exclusive) of the fusable group starting at `start`: with a MULT there (`adds`
 * false) MULTs and MULADDs into what the group defined; with a MULADD (`adds`) MULADDs only.
 */
function fusedGroupEnd(list: Program["instructions"], start: number, adds: boolean): number {
  const dsts = new Set<string>();
  const srcs = new Set<string>();
  let end = start;
  for (; end < list.length; end++) {
    const instruction = list[end]!;
    if (instruction[0] !== "MULADD" && (adds || instruction[0] !== "MULT")) break;
    const [op, dst, , src] = instruction;
    if (dst === src || srcs.has(dst) || dsts.has(src)) break;
    // A MULT restarts its destination; a MULADD of a MULT's group must add to one the group
    // defined (one of a MULADD group adds to what its destination held before the group).
    if (!adds && (op === "MULT" ? dsts.has(dst) : !dsts.has(dst))) break;
    dsts.add(dst);
    srcs.add(src);
  }
  return end;
}
