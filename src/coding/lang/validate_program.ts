/**
 * Validation of one program against the module around it: its streams (sources name existing
 * stream programs, templates are valid, names unique), its instructions (operands, coefficients
 * of the field, a buffer defined before it is read, not modified after it was WRITTEN or
 * PUSHed, every stream LOADed or WRITTEN exactly once per step) and its `{ program }` sources
 * (no cycle). `validate.ts` applies it to every program of a module; derived programs sent
 * inline go through {@linkcode validateProgram}.
 *
 * @module
 */

import { quoteForMessage, typeName } from "../../core/quote.ts";
import { PROGRAM_NAME_PATTERN } from "../../core/names.ts";
import {
  type CodingModule,
  type FieldWidth,
  type Instruction,
  OPCODES,
  type Program,
  type StreamDeclaration,
  type StreamSource,
} from "./program.ts";
import {
  checkKeys,
  expectArray,
  expectName,
  expectNode,
  expectRecord,
  expectTemplate,
  isRecord,
  modulePlace,
  type Place,
  showInstruction,
} from "./value_checks.ts";

/**
 * What {@linkcode validateProgram} checks a program against.
 *
 * @example
 * ```ts
 * import type { ValidateProgramOptions } from "./validate_program.ts";
 * const options: ValidateProgramOptions = { source: "derived decoder" };
 * ```
 */
export interface ValidateProgramOptions {
  /** Where the program comes from, for error messages (default: the module's name only). */
  readonly source?: string;
  /**
   * The programs a `{ program }` source may name (default: the module's programs). Pass the
   * module's programs plus the other derived programs when several are sent together.
   */
  readonly programs?: Readonly<Record<string, Program>>;
}

/**
 * The names buffers, streams and queues may have.
 *
 * @example
 * ```ts
 * import { OPERAND_NAME_PATTERN } from "./validate_program.ts";
 * console.log(OPERAND_NAME_PATTERN.test("local5"), OPERAND_NAME_PATTERN.test("a b")); // true false
 * ```
 */
export const OPERAND_NAME_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

const MAX_INSTRUCTIONS = 100_000;

/**
 * What program validation needs to know about the module around the program.
 *
 * @example
 * ```ts
 * import type { ProgramScope } from "./validate_program.ts";
 * const scope: ProgramScope = { field: 8, n: 16, streamPrograms: new Map([["enc_node0", true]]) };
 * ```
 */
export interface ProgramScope {
  /** The module's field. */
  readonly field: FieldWidth;
  /** The module's number of nodes. */
  readonly n: number;
  /** The programs `{ program }` sources may name, and whether each is a stream program. */
  readonly streamPrograms: ReadonlyMap<string, boolean>;
}

function validateSource(
  place: Place,
  value: unknown,
  scope: ProgramScope,
  self: string,
): StreamSource {
  const source = expectRecord(place, value, "read");
  if ("program" in source) {
    checkKeys(place, source, ["program"], "a { program } source");
    const program = expectName(place, source.program, PROGRAM_NAME_PATTERN, "source program");
    if (program === self) place.fail(`the program reads its own output`);
    const isStream = scope.streamPrograms.get(program);
    if (isStream === undefined) place.fail(`source program '${program}' does not exist`);
    if (!isStream) {
      place.fail(`source program '${program}' is not a stream program (it has no output)`);
    }
    return Object.freeze({ program });
  }
  if (!("block" in source)) place.fail(`read must have "block" or "program"`);
  checkKeys(place, source, ["block", "node"], "a { block } source");
  const block = expectTemplate(place, source.block, "block");
  if (source.node === undefined) return Object.freeze({ block });
  return Object.freeze({ block, node: expectNode(place, source.node, scope.n, "node") });
}

function validateStreams(
  place: Place,
  value: unknown,
  scope: ProgramScope,
  self: string,
): StreamDeclaration[] {
  const list = expectArray(place, value, "streams");
  const seen = new Set<string>();
  return list.map((entry, index) => {
    let here: Place = place.at(`, stream ${index}`);
    const declaration = expectRecord(here, entry, "a stream declaration");
    const name = expectName(here, declaration.name, OPERAND_NAME_PATTERN, "stream name");
    here = place.at(`, stream ${index} ('${name}')`);
    if (seen.has(name)) here.fail(`stream name '${name}' is declared twice`);
    seen.add(name);
    const reads = "read" in declaration;
    const writes = "write" in declaration;
    if (reads === writes) here.fail(`a stream has exactly one of "read" and "write"`);
    if (reads) {
      checkKeys(here, declaration, ["name", "read"], "a stream declaration");
      return Object.freeze({ name, read: validateSource(here, declaration.read, scope, self) });
    }
    checkKeys(here, declaration, ["name", "write"], "a stream declaration");
    return Object.freeze({ name, write: expectTemplate(here, declaration.write, "write") });
  });
}

/** The state of a buffer name during the static walk over one step. */
const enum BufferState {
  Defined,
  /** WRITTEN or PUSHed: its bytes are in flight, it may be read or rebound, not modified. */
  Frozen,
}

function validateInstructions(
  place: Place,
  value: unknown,
  streams: readonly StreamDeclaration[],
  output: string | undefined,
  field: FieldWidth,
): Instruction[] {
  const list = expectArray(place, value, "instructions");
  if (list.length === 0) place.fail(`the program has no instructions`);
  if (list.length > MAX_INSTRUCTIONS) {
    place.fail(`the program has ${list.length} instructions, the limit is ${MAX_INSTRUCTIONS}`);
  }
  const inputs = new Map<string, number>();
  const outputs = new Map<string, number>();
  for (const s of streams) ("read" in s ? inputs : outputs).set(s.name, 0);
  const buffers = new Map<string, BufferState>();
  const maxCoefficient = field === 8 ? 255 : 65535;

  const instructions = list.map((entry, index): Instruction => {
    const here: Place = place.at(`, instruction ${index} (${showInstruction(entry)})`);
    const tuple = expectArray(here, entry, "an instruction");
    const opcode = tuple[0];
    if (typeof opcode !== "string" || !(OPCODES as readonly string[]).includes(opcode)) {
      here.fail(
        `unknown instruction ${
          typeof opcode === "string" ? quoteForMessage(opcode) : typeName(opcode)
        } (known: ${OPCODES.join(", ")})`,
      );
    }
    const arity = opcode === "MULT" || opcode === "MULADD" ? 4 : 3;
    if (tuple.length !== arity) {
      here.fail(`${opcode} takes ${arity - 1} operands, got ${tuple.length - 1}`);
    }
    const name = (at: number, what: string): string =>
      expectName(here, tuple[at], OPERAND_NAME_PATTERN, what);
    const read = (buffer: string): void => {
      if (!buffers.has(buffer)) {
        here.fail(`buffer '${buffer}' is read before it is defined in the step`);
      }
    };
    const modify = (buffer: string, how: string): void => {
      if (buffers.get(buffer) === BufferState.Frozen) {
        here.fail(
          `buffer '${buffer}' is ${how} after it was written or pushed in this step ` +
            `(its bytes may still be in flight: COPY it first)`,
        );
      }
    };
    const coefficient = (at: number): number => {
      const c = tuple[at];
      if (typeof c !== "number" || !Number.isInteger(c)) {
        here.fail(
          `coefficient ${typeof c === "number" ? c : typeName(c)} is not an integer`,
        );
      }
      if (c < 0 || c > maxCoefficient) {
        here.fail(`coefficient ${c} is outside GF(2^${field}) (0..${maxCoefficient})`);
      }
      return c;
    };
    const stream = (at: number, direction: "input" | "output"): string => {
      const s = name(at, "stream name");
      const mine = direction === "input" ? inputs : outputs;
      const other = direction === "input" ? outputs : inputs;
      const count = mine.get(s);
      if (count === undefined) {
        if (other.has(s)) {
          here.fail(
            direction === "input"
              ? `LOAD from output stream '${s}' (it is declared with "write")`
              : `WRITE to input stream '${s}' (it is declared with "read")`,
          );
        }
        here.fail(`stream '${s}' is not declared`);
      }
      if (count > 0) {
        here.fail(
          `stream '${s}' is ${
            direction === "input" ? "LOADed" : "WRITTEN"
          } twice in one step (each stream advances by one step length per step)`,
        );
      }
      mine.set(s, 1);
      return s;
    };

    switch (opcode) {
      case "LOAD": {
        const buffer = name(1, "buffer name");
        const s = stream(2, "input");
        buffers.set(buffer, BufferState.Defined);
        return Object.freeze(["LOAD", buffer, s] as const);
      }
      case "WRITE": {
        const buffer = name(1, "buffer name");
        const s = stream(2, "output");
        read(buffer);
        buffers.set(buffer, BufferState.Frozen);
        return Object.freeze(["WRITE", buffer, s] as const);
      }
      case "PUSH": {
        const queue = name(1, "queue name");
        const buffer = name(2, "buffer name");
        read(buffer);
        buffers.set(buffer, BufferState.Frozen);
        return Object.freeze(["PUSH", queue, buffer] as const);
      }
      case "POP": {
        const queue = name(1, "queue name");
        const buffer = name(2, "buffer name");
        buffers.set(buffer, BufferState.Defined);
        return Object.freeze(["POP", queue, buffer] as const);
      }
      case "COPY":
      case "IADD": {
        const dst = name(1, "destination buffer name");
        const src = name(2, "source buffer name");
        read(src);
        if (opcode === "COPY") {
          if (dst === src) here.fail(`COPY of buffer '${dst}' onto itself`);
          modify(dst, "overwritten");
        } else {
          read(dst);
          modify(dst, "modified");
        }
        buffers.set(dst, BufferState.Defined);
        return Object.freeze([opcode, dst, src] as const);
      }
      default: {
        // MULT and MULADD.
        const dst = name(1, "destination buffer name");
        const c = coefficient(2);
        const src = name(3, "source buffer name");
        read(src);
        if (opcode === "MULADD") read(dst);
        modify(dst, opcode === "MULT" ? "overwritten" : "modified");
        buffers.set(dst, BufferState.Defined);
        return Object.freeze([opcode as "MULT" | "MULADD", dst, c, src] as const);
      }
    }
  });

  for (const [s, count] of inputs) {
    if (count === 0) place.fail(`input stream '${s}' is never LOADed`);
  }
  for (const [s, count] of outputs) {
    if (count === 0) place.fail(`output stream '${s}' is never WRITTEN`);
  }
  if (output !== undefined && !buffers.has(output)) {
    place.fail(`output buffer '${output}' is not defined at the end of the step`);
  }
  return instructions;
}

/**
 * Validates a program of a module whose other programs are known by `scope`; returns a
 * deep-frozen copy.
 *
 * @example
 * ```ts
 * import { validateProgramIn } from "./validate_program.ts";
 * import { Place } from "./value_checks.ts";
 * const program = validateProgramIn(new Place("coding module 'm': program 'p'"), "p", {
 *   node: 0,
 *   streams: [{ name: "a", read: { block: "{id}.a" } }, { name: "b", write: "{id}.b" }],
 *   instructions: [["LOAD", "x", "a"], ["WRITE", "x", "b"]],
 * }, { field: 8, n: 1, streamPrograms: new Map() });
 * console.log(program.instructions.length); // 2
 * ```
 *
 * @param place Where the program is, for messages.
 * @param name The program's name.
 * @param value The candidate program.
 * @param scope The module around it.
 * @returns The program, validated and frozen.
 * @throws {CdfsError} `BAD_REQUEST` naming the instruction and operand.
 */
export function validateProgramIn(
  place: Place,
  name: string,
  value: unknown,
  scope: ProgramScope,
): Program {
  const program = expectRecord(place, value, "a program");
  checkKeys(place, program, ["node", "streams", "output", "instructions"], "a program");
  const node = expectNode(place, program.node, scope.n, "node");
  const streams = validateStreams(place, program.streams, scope, name);
  const output = program.output === undefined
    ? undefined
    : expectName(place, program.output, OPERAND_NAME_PATTERN, "output buffer name");
  const instructions = validateInstructions(
    place,
    program.instructions,
    streams,
    output,
    scope.field,
  );
  const result: Program = output === undefined
    ? { node, streams: Object.freeze(streams), instructions: Object.freeze(instructions) }
    : { node, streams: Object.freeze(streams), output, instructions: Object.freeze(instructions) };
  return Object.freeze(result);
}

function programSources(program: Program): string[] {
  // `programs` may hold candidates not validated yet (a request's inline programs are checked
  // one at a time, each against all the others), so their shape is not trusted here: a
  // malformed one fails its own validation.
  const streams: unknown = program.streams;
  const names: string[] = [];
  if (!Array.isArray(streams)) return names;
  for (const s of streams) {
    if (isRecord(s) && isRecord(s.read) && typeof s.read.program === "string") {
      names.push(s.read.program);
    }
  }
  return names;
}
/**
 * Refuses a cycle of `{ program }` sources starting at `start` (it would never run).
 *
 * @example
 * ```ts
 * import { checkNoCycle } from "./validate_program.ts";
 * import { Place } from "./value_checks.ts";
 * checkNoCycle(new Place("coding module 'm'"), "p", new Map()); // nothing to pull: no cycle
 * ```
 *
 * @param place Where the program is, for messages.
 * @param start The program's name.
 * @param programs Every program a source may name.
 * @throws {CdfsError} `BAD_REQUEST` naming the cycle.
 */
export function checkNoCycle(
  place: Place,
  start: string,
  programs: ReadonlyMap<string, Program>,
): void {
  const onPath: string[] = [];
  const done = new Set<string>();
  const visit = (name: string): void => {
    if (done.has(name)) return;
    const at = onPath.indexOf(name);
    if (at >= 0) {
      place.fail(
        `program sources form a cycle: ${[...onPath.slice(at), name].join(" -> ")}`,
      );
    }
    const program = programs.get(name);
    if (program === undefined) return;
    onPath.push(name);
    for (const source of programSources(program)) visit(source);
    onPath.pop();
    done.add(name);
  };
  visit(start);
}

/**
 * Validates one program against a (validated) module: the same rules as for the module's own
 * programs. Used for derived decode and repair programs, which are sent inline.
 *
 * @example
 * ```ts
 * import { validateProgram } from "./validate_program.ts";
 * import { validateModule } from "./validate.ts";
 * const module = validateModule({
 *   name: "one", description: "c0 = 3·part0", field: 8, n: 1, k: 1,
 *   parts: [{ block: "{id}.part0", nodes: [0] }], coded: [{ block: "{id}.coded0", node: 0 }],
 *   encode: "enc",
 *   programs: {
 *     enc: {
 *       node: 0,
 *       streams: [{ name: "p", read: { block: "{id}.part0" } }, { name: "c", write: "{id}.coded0" }],
 *       instructions: [["LOAD", "b", "p"], ["MULT", "b", 3, "b"], ["WRITE", "b", "c"]],
 *     },
 *   },
 * }, "example");
 * const decode = validateProgram(module, "decode", {
 *   node: 0,
 *   streams: [{ name: "c0", read: { block: "{id}.coded0" } }, { name: "o0", write: "{id}.part0" }],
 *   instructions: [["LOAD", "b", "c0"], ["MULT", "b", 244, "b"], ["WRITE", "b", "o0"]],
 * }, { source: "derived decoder" });
 * console.log(decode.instructions.length); // 3
 * ```
 *
 * @param module The validated module the program belongs to.
 * @param name The program's name.
 * @param program The candidate program.
 * @param options Where it comes from and which programs it may pull.
 * @returns The program, validated and frozen.
 * @throws {CdfsError} `BAD_REQUEST` naming module, program, instruction and operand.
 */
export function validateProgram(
  module: CodingModule,
  name: string,
  program: unknown,
  options: ValidateProgramOptions = {},
): Program {
  const place = modulePlace(module.name, options.source ?? "")
    .at(`: program ${typeof name === "string" ? quoteForMessage(name) : "?"}`);
  expectName(place, name, PROGRAM_NAME_PATTERN, "program name");
  const others = options.programs ?? module.programs;
  const streamPrograms = new Map<string, boolean>();
  for (const [other, p] of Object.entries(others)) {
    streamPrograms.set(other, p.output !== undefined);
  }
  const here = modulePlace(module.name, options.source ?? "").at(`: program '${name}'`);
  const checked = validateProgramIn(here, name, program, {
    field: module.field,
    n: module.n,
    streamPrograms,
  });
  const all = new Map<string, Program>(Object.entries(others));
  all.set(name, checked);
  checkNoCycle(here, name, all);
  return checked;
}
