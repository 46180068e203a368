/**
 * The engine of symbolic execution: runs programs of a module once over coefficient vectors
 * instead of bytes (see `symbolic.ts`), and checks what would deadlock or be nondeterministic
 * on bytes: pull cycles, queues without a pusher or popper (or with two), unbalanced PUSH/POP
 * counts, a stream loaded or written twice in one step, a block read from a node that does not
 * hold it, a block written twice.
 *
 * @module
 */

import { CdfsError } from "../../core/errors.ts";
import { fieldArithmetic, type FieldMatrix, type FieldVector, unitVector } from "./field_matrix.ts";
import type { CodingModule, Program } from "../lang/program.ts";

/**
 * A block a symbolic run may read: its vector and, when known, the nodes that hold it.
 *
 * @example
 * ```ts
 * import type { SymbolicBlock } from "./symbolic_run.ts";
 * const coded0: SymbolicBlock = { vector: Uint8Array.of(141, 0), nodes: [0] };
 * ```
 */
export interface SymbolicBlock {
  /** The block's coefficients over the k parts. */
  readonly vector: FieldVector;
  /** The logical nodes that hold it (any node when absent). */
  readonly nodes?: readonly number[];
}

/**
 * Options of {@linkcode runSymbolic}.
 *
 * @example
 * ```ts
 * import type { SymbolicRunOptions } from "./symbolic_run.ts";
 * const options: SymbolicRunOptions = { blocks: new Map([["{id}.x", Uint8Array.of(1, 1)]]) };
 * ```
 */
export interface SymbolicRunOptions {
  /**
   * Blocks the run may read, by block template, besides the module's parts (unit vectors on
   * their nodes) and coded blocks (rows of the generator on their node); entries here win.
   */
  readonly blocks?: ReadonlyMap<string, FieldVector | SymbolicBlock>;
  /** Programs added to the module's for this run (e.g. a derived decoder); names must be new. */
  readonly programs?: Readonly<Record<string, Program>>;
}

/**
 * A block written by a symbolic run.
 *
 * @example
 * ```ts
 * import type { WrittenBlock } from "./symbolic_run.ts";
 * const w: WrittenBlock = { vector: Uint8Array.of(141, 0), node: 0, program: "enc_node0" };
 * ```
 */
export interface WrittenBlock {
  /** Its coefficients over the k parts. */
  readonly vector: FieldVector;
  /** The node that writes it. */
  readonly node: number;
  /** The program that writes it. */
  readonly program: string;
}

/**
 * What one symbolic run computed.
 *
 * @example
 * ```ts
 * import { runSymbolic } from "./symbolic.ts";
 * import { codingModule } from "../../../coding/replication.ts";
 * const run = runSymbolic(codingModule, codingModule.encode);
 * console.log(run.written.get("{id}.coded1")?.vector); // Uint8Array(1) [ 1 ]
 * ```
 */
export interface SymbolicRun {
  /** Every block written, by block template. */
  readonly written: ReadonlyMap<string, WrittenBlock>;
  /** The output vector of every stream program of the run, by program name. */
  readonly outputs: ReadonlyMap<string, FieldVector>;
  /** Every program of the run, in the order they were executed. */
  readonly order: readonly string[];
}

/**
 * How coded blocks resolve during a run: rows of the generator, or not at all (encoding).
 *
 * @example
 * ```ts
 * import type { CodedRows } from "./symbolic_run.ts";
 * const encoding: CodedRows = undefined; // an encode may not read what it produces
 * ```
 */
export type CodedRows = (() => FieldMatrix) | undefined;

function fail(module: CodingModule, message: string): never {
  throw new CdfsError("BAD_REQUEST", `coding module "${module.name}": ${message}`);
}

function hasSideEffects(p: Program): boolean {
  return p.instructions.some((i) => i[0] === "WRITE" || i[0] === "PUSH" || i[0] === "POP");
}

function queueKey(node: number, queue: string): string {
  return `${node}\u0000${queue}`;
}

function describeQueue(key: string): string {
  const [node, queue] = key.split("\u0000");
  return `queue "${queue}" on node ${node}`;
}

function checkVector(module: CodingModule, what: string, v: FieldVector): FieldVector {
  const ok = module.field === 8 ? v instanceof Uint8Array : v instanceof Uint16Array;
  if (!ok || v.length !== module.k) {
    fail(
      module,
      `${what} must be a ${module.field === 8 ? "Uint8Array" : "Uint16Array"} of k = ` +
        `${module.k} coefficients`,
    );
  }
  return v;
}

/**
 * Runs the entries and every program they pull symbolically, one step each, in dependency
 * order, checking what would deadlock or be nondeterministic on bytes.
 *
 * @example
 * ```ts
 * import { executeSymbolically } from "./symbolic_run.ts";
 * import { codingModule } from "../../../coding/replication.ts";
 * const run = executeSymbolically(codingModule, codingModule.encode, {}, undefined);
 * console.log(run.written.get("{id}.coded1")?.vector); // Uint8Array(1) [ 1 ]
 * ```
 *
 * @param module The coding module.
 * @param entries The programs a client would start.
 * @param options Extra readable blocks and extra programs.
 * @param codedRows The generator's rows, for programs that read coded blocks (none: encoding).
 * @returns The written blocks and stream outputs.
 * @throws {CdfsError} BAD_REQUEST naming the module and program when the run is not well
 * formed.
 */
export function executeSymbolically(
  module: CodingModule,
  entries: string | readonly string[],
  options: SymbolicRunOptions,
  codedRows: CodedRows,
): SymbolicRun {
  const f = fieldArithmetic(module.field);
  const programs: Record<string, Program> = { ...module.programs };
  for (const [name, p] of Object.entries(options.programs ?? {})) {
    if (Object.hasOwn(programs, name)) fail(module, `added program "${name}" already exists`);
    programs[name] = p;
  }
  const programOf = (name: string, by: string): Program => {
    const p = Object.hasOwn(programs, name) ? programs[name] : undefined;
    if (p === undefined) fail(module, `${by} names program "${name}", which does not exist`);
    return p;
  };

  // The run: the entries and every program they pull, transitively.
  const entryList = typeof entries === "string" ? [entries] : [...entries];
  const consumers = new Map<string, string[]>();
  const inRun: string[] = [];
  const path: string[] = [];
  const visit = (name: string, by: string): void => {
    const p = programOf(name, by);
    if (path.includes(name)) {
      const cycle = [...path.slice(path.indexOf(name)), name].join(" -> ");
      fail(module, `programs pull each other in a cycle: ${cycle}`);
    }
    const list = consumers.get(name);
    if (list !== undefined) {
      list.push(by);
      return;
    }
    consumers.set(name, [by]);
    inRun.push(name);
    path.push(name);
    for (const s of p.streams) {
      if ("read" in s && "program" in s.read) visit(s.read.program, `program "${name}"`);
    }
    path.pop();
  };
  for (const e of entryList) visit(e, "the run's entry list");
  for (const name of inRun) {
    const by = consumers.get(name)!;
    if (by.length > 1 && hasSideEffects(programs[name]!)) {
      fail(
        module,
        `program "${name}" writes or uses queues but would run ${by.length} times in one run ` +
          `(started by ${by.join(", ")})`,
      );
    }
  }

  // Queues: exactly one program pushes to and one pops from each (node, queue) of the run;
  // two pushers or poppers would interleave nondeterministically on bytes.
  const pushers = new Map<string, string>();
  const poppers = new Map<string, string>();
  for (const name of inRun) {
    const p = programs[name]!;
    for (const ins of p.instructions) {
      if (ins[0] !== "PUSH" && ins[0] !== "POP") continue;
      const key = queueKey(p.node, ins[1]);
      const map = ins[0] === "PUSH" ? pushers : poppers;
      const other = map.get(key);
      if (other !== undefined && other !== name) {
        fail(
          module,
          `programs "${other}" and "${name}" both ${ins[0]} ${describeQueue(key)}, whose order ` +
            `would then be undefined`,
        );
      }
      map.set(key, name);
    }
  }
  for (const [key, name] of poppers) {
    if (!pushers.has(key)) {
      fail(
        module,
        `program "${name}" pops ${describeQueue(key)}, but no program of the run pushes`,
      );
    }
  }
  for (const [key, name] of pushers) {
    if (!poppers.has(key)) {
      fail(
        module,
        `program "${name}" pushes to ${describeQueue(key)}, but no program of the run pops it ` +
          `(the queue would fill up and block)`,
      );
    }
  }

  const blockVector = (template: string, node: number, by: string): FieldVector => {
    const given = options.blocks?.get(template);
    if (given !== undefined) {
      const block: SymbolicBlock = "vector" in given ? given : { vector: given };
      if (block.nodes !== undefined && !block.nodes.includes(node)) {
        fail(
          module,
          `program "${by}" reads block "${template}" from node ${node}, which does not hold it ` +
            `(nodes ${block.nodes.join(", ")} do)`,
        );
      }
      return checkVector(module, `the vector of block "${template}"`, block.vector);
    }
    const j = module.parts.findIndex((p) => p.block === template);
    if (j >= 0) {
      const nodes = module.parts[j]!.nodes;
      if (!nodes.includes(node)) {
        fail(
          module,
          `program "${by}" reads part block "${template}" from node ${node}, but the module ` +
            `places it on node(s) ${nodes.join(", ")}`,
        );
      }
      return unitVector(module.field, module.k, j);
    }
    const i = module.coded.findIndex((c) => c.block === template);
    if (i >= 0) {
      if (codedRows === undefined) {
        fail(module, `encode program "${by}" reads coded block "${template}", which it produces`);
      }
      if (module.coded[i]!.node !== node) {
        fail(
          module,
          `program "${by}" reads coded block "${template}" from node ${node}, but the module ` +
            `stores it on node ${module.coded[i]!.node}`,
        );
      }
      return codedRows()[i]!;
    }
    fail(
      module,
      `program "${by}" reads block "${template}", which is neither a part nor a coded block`,
    );
  };

  const queues = new Map<string, FieldVector[]>();
  const written = new Map<string, WrittenBlock>();
  const outputs = new Map<string, FieldVector>();
  const order: string[] = [];

  const execute = (name: string): void => {
    const p = programs[name]!;
    const where = (index: number, what: string): string =>
      `program "${name}", instruction ${index} (${p.instructions[index]![0]}): ${what}`;
    const inputs = new Map<string, FieldVector>();
    const outStreams = new Map<string, string>();
    for (const s of p.streams) {
      if (inputs.has(s.name) || outStreams.has(s.name)) {
        fail(module, `program "${name}" declares stream "${s.name}" twice`);
      }
      if ("write" in s) {
        outStreams.set(s.name, s.write);
      } else if ("program" in s.read) {
        const v = outputs.get(s.read.program);
        if (v === undefined) {
          fail(
            module,
            `program "${name}" reads the stream of program "${s.read.program}", which has no ` +
              `output (a local program streams nothing)`,
          );
        }
        inputs.set(s.name, v);
      } else {
        inputs.set(s.name, blockVector(s.read.block, s.read.node ?? p.node, name));
      }
    }
    const env = new Map<string, FieldVector>();
    const loaded = new Set<string>();
    const wroteTo = new Set<string>();
    const need = (index: number, buffer: string): FieldVector => {
      const v = env.get(buffer);
      if (v === undefined) fail(module, where(index, `buffer "${buffer}" is not defined yet`));
      return v;
    };
    const coefficient = (index: number, c: number): number => {
      if (!Number.isInteger(c) || c < 0 || c > f.max) {
        fail(module, where(index, `coefficient ${c} is not an element of GF(2^${f.width})`));
      }
      return c;
    };
    const combine = (dst: FieldVector | undefined, c: number, src: FieldVector): FieldVector => {
      const out = dst === undefined ? f.zeros(module.k) : dst.slice();
      for (let j = 0; j < out.length; j++) out[j]! ^= f.mul(c, src[j]!);
      return out;
    };
    p.instructions.forEach((ins, index) => {
      switch (ins[0]) {
        case "LOAD": {
          const v = inputs.get(ins[2]);
          if (v === undefined) fail(module, where(index, `"${ins[2]}" is not an input stream`));
          if (loaded.has(ins[2])) {
            fail(module, where(index, `input stream "${ins[2]}" is loaded twice in one step`));
          }
          loaded.add(ins[2]);
          env.set(ins[1], v);
          break;
        }
        case "WRITE": {
          const v = need(index, ins[1]);
          const block = outStreams.get(ins[2]);
          if (block === undefined) {
            fail(module, where(index, `"${ins[2]}" is not an output stream`));
          }
          if (wroteTo.has(ins[2])) {
            fail(module, where(index, `output stream "${ins[2]}" is written twice in one step`));
          }
          wroteTo.add(ins[2]);
          const before = written.get(block);
          if (before !== undefined) {
            fail(
              module,
              where(index, `block "${block}" is written twice (also by "${before.program}")`),
            );
          }
          written.set(block, { vector: v, node: p.node, program: name });
          break;
        }
        case "COPY":
          env.set(ins[1], need(index, ins[2]).slice());
          break;
        case "IADD":
          env.set(ins[1], combine(need(index, ins[1]), 1, need(index, ins[2])));
          break;
        case "MULT":
          env.set(ins[1], combine(undefined, coefficient(index, ins[2]), need(index, ins[3])));
          break;
        case "MULADD":
          env.set(
            ins[1],
            combine(need(index, ins[1]), coefficient(index, ins[2]), need(index, ins[3])),
          );
          break;
        case "PUSH": {
          const key = queueKey(p.node, ins[1]);
          const q = queues.get(key) ?? [];
          q.push(need(index, ins[2]));
          queues.set(key, q);
          break;
        }
        case "POP": {
          const v = queues.get(queueKey(p.node, ins[1]))?.shift();
          if (v === undefined) {
            fail(module, where(index, `queue "${ins[1]}" has fewer buffers per step than popped`));
          }
          env.set(ins[2], v);
          break;
        }
        default:
          fail(module, where(index, "unknown instruction"));
      }
    });
    for (const [stream, block] of outStreams) {
      if (!wroteTo.has(stream)) {
        fail(
          module,
          `program "${name}" declares output stream "${stream}" (block "${block}") ` +
            `but never writes it`,
        );
      }
    }
    if (p.output !== undefined) {
      const v = env.get(p.output);
      if (v === undefined) {
        fail(module, `program "${name}": output buffer "${p.output}" is not defined by the step`);
      }
      outputs.set(name, v);
    }
    order.push(name);
  };

  // Evaluate in dependency order: a program after the programs it pulls and after the pusher
  // of every queue it pops. A cycle is a pipeline that would deadlock on bytes.
  const state = new Map<string, "running" | "done">();
  const stack: string[] = [];
  const evaluate = (name: string): void => {
    const s = state.get(name);
    if (s === "done") return;
    if (s === "running") {
      const cycle = [...stack.slice(stack.indexOf(name)), name].join(" -> ");
      fail(module, `programs wait on each other in a cycle: ${cycle}`);
    }
    state.set(name, "running");
    stack.push(name);
    const p = programs[name]!;
    for (const st of p.streams) {
      if ("read" in st && "program" in st.read) evaluate(st.read.program);
    }
    for (const ins of p.instructions) {
      if (ins[0] !== "POP") continue;
      const pusher = pushers.get(queueKey(p.node, ins[1]))!;
      if (pusher !== name) evaluate(pusher);
    }
    execute(name);
    stack.pop();
    state.set(name, "done");
  };
  for (const e of entryList) evaluate(e);

  for (const [key, q] of queues) {
    if (q.length > 0) {
      fail(
        module,
        `program "${pushers.get(key)}" pushes ${q.length} more buffer(s) per step to ` +
          `${describeQueue(key)} than "${poppers.get(key)}" pops (the queue would grow and block)`,
      );
    }
  }
  return { written, outputs, order };
}
