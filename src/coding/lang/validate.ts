/**
 * Validation of coding modules and programs: everything the interpreter relies on is checked
 * once, when a module is loaded (or a derived program arrives inline), with errors that name
 * the module, the program, the instruction index (0-based) and the offending operand, e.g.
 * `coding module 'x' (coding/x.ts): program 'enc_node3', instruction 4 (MULADD prev 300 local):
 * coefficient 300 is outside GF(2^8) (0..255)`.
 *
 * Rules (see notes/coding_design.md): known properties only; names are identifiers; block
 * templates contain `{id}` and expand to valid block ids; node indices are in 0..n-1; stream
 * names are unique; `{ program }` sources name existing stream programs and form no cycle;
 * coefficients are integers of the field; within a step a buffer is defined (LOAD, POP, COPY,
 * MULT) before it is read or accumulated into (IADD, MULADD, WRITE, PUSH); a buffer WRITTEN or
 * PUSHed is not modified later in the step (its bytes are still being written or sent); every
 * input is LOADed and every output WRITTEN exactly once per step (so every stream advances by
 * the step length); a stream program's output buffer is defined at the end of the step; a
 * module's POPped queues are PUSHed by a program of the same node.
 *
 * @module
 */

import { isValidBlockId, validateBlockId } from "../../core/block_id.ts";
import { quoteForMessage, typeName } from "../../core/quote.ts";
import { CdfsError } from "../../core/errors.ts";
import {
  type CodingModule,
  type FieldWidth,
  type Instruction,
  OPCODES,
  type Program,
  type StreamDeclaration,
  type StreamSource,
} from "./program.ts";

/**
 * What {@linkcode validateProgram} checks a program against.
 *
 * @example
 * ```ts
 * import type { ValidateProgramOptions } from "./validate.ts";
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
 * The names programs may have (they travel on the wire as the CODING operation's program).
 *
 * @example
 * ```ts
 * import { PROGRAM_NAME_PATTERN } from "./validate.ts";
 * console.log(PROGRAM_NAME_PATTERN.test("dec_node0_aux")); // true
 * ```
 */
export const PROGRAM_NAME_PATTERN: RegExp = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * The names buffers, streams and queues may have.
 *
 * @example
 * ```ts
 * import { OPERAND_NAME_PATTERN } from "./validate.ts";
 * console.log(OPERAND_NAME_PATTERN.test("local5"), OPERAND_NAME_PATTERN.test("a b")); // true false
 * ```
 */
export const OPERAND_NAME_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** The placeholder for the object id in block name templates. */
const ID_PLACEHOLDER = "{id}";
const MODULE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
/** A generous bound: GF(2^16) codes could in principle be long, but not absurdly. */
const MAX_BLOCKS = 4096;
const MAX_INSTRUCTIONS = 100_000;

/** Builds messages that say where in the module a problem is. */
class Place {
  constructor(readonly prefix: string) {}
  at(what: string): Place {
    return new Place(`${this.prefix}${what}`);
  }
  fail(message: string): never {
    throw new CdfsError("BAD_REQUEST", `${this.prefix}: ${message}`);
  }
}

function modulePlace(name: unknown, source: string): Place {
  const shown = typeof name === "string" ? `'${name.slice(0, 64)}'` : "?";
  return new Place(source === "" ? `coding module ${shown}` : `coding module ${shown} (${source})`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function expectRecord(place: Place, value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) place.fail(`${what} must be an object, got ${typeName(value)}`);
  return value;
}

function expectArray(place: Place, value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) place.fail(`${what} must be an array, got ${typeName(value)}`);
  return value;
}

function checkKeys(
  place: Place,
  value: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      place.fail(
        `${what} has an unknown property ${quoteForMessage(key)} (allowed: ${allowed.join(", ")})`,
      );
    }
  }
}

function expectString(place: Place, value: unknown, what: string): string {
  if (typeof value !== "string") place.fail(`${what} must be a string, got ${typeName(value)}`);
  return value;
}

function expectName(place: Place, value: unknown, pattern: RegExp, what: string): string {
  const name = expectString(place, value, what);
  if (!pattern.test(name)) {
    place.fail(`${what} ${quoteForMessage(name)} is not a valid name (${pattern.source})`);
  }
  return name;
}

function expectInteger(
  place: Place,
  value: unknown,
  min: number,
  max: number,
  what: string,
): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    place.fail(
      `${what} must be an integer, got ${typeof value === "number" ? value : typeName(value)}`,
    );
  }
  if (value < min || value > max) place.fail(`${what} ${value} is outside ${min}..${max}`);
  return value;
}

function expectNode(place: Place, value: unknown, n: number, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    place.fail(
      `${what} must be an integer, got ${typeof value === "number" ? value : typeName(value)}`,
    );
  }
  if (value < 0 || value >= n) place.fail(`${what} ${value} is outside 0..${n - 1} (n = ${n})`);
  return value;
}

function expectTemplate(place: Place, value: unknown, what: string): string {
  const template = expectString(place, value, what);
  if (!template.includes(ID_PLACEHOLDER)) {
    place.fail(`${what} ${quoteForMessage(template)} does not contain ${ID_PLACEHOLDER}`);
  }
  // Expanded with a one-character id, the template must be a valid block id; any longer id
  // is checked when the template is expanded.
  if (!isValidBlockId(template.replaceAll(ID_PLACEHOLDER, "x"))) {
    place.fail(
      `${what} ${quoteForMessage(template)} does not make a valid block id ` +
        `(only A-Z a-z 0-9 . _ - and ${ID_PLACEHOLDER}, no "..", at most 200 characters)`,
    );
  }
  return template;
}

/**
 * Expands a block name template (`"{id}.part3"`) for an object id and checks that the result
 * is a valid block id.
 *
 * @example
 * ```ts
 * import { expandBlockName } from "./validate.ts";
 * console.log(expandBlockName("{id}.part3", "movie")); // "movie.part3"
 * ```
 *
 * @param template A template containing `{id}`.
 * @param objectId The object id.
 * @returns The block id.
 * @throws {CdfsError} `BAD_REQUEST` when the result is not a valid block id.
 */
export function expandBlockName(template: string, objectId: string): string {
  return validateBlockId(
    template.replaceAll(ID_PLACEHOLDER, objectId),
    `block id for template ${quoteForMessage(template)} and object ${quoteForMessage(objectId)}`,
  );
}

/** Renders an instruction for messages: `MULADD prev 300 local`. */
function showInstruction(value: unknown): string {
  if (!Array.isArray(value)) return typeName(value);
  const text = value.map((x) => typeof x === "string" ? x : JSON.stringify(x) ?? String(x))
    .join(" ");
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

/** What program validation needs to know about the module around the program. */
interface ProgramScope {
  readonly field: FieldWidth;
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

function validateProgramIn(
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
  const names: string[] = [];
  for (const s of program.streams) {
    if ("read" in s && "program" in s.read) names.push(s.read.program);
  }
  return names;
}

/** Refuses a cycle of `{ program }` sources starting at `start` (it would never run). */
function checkNoCycle(
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

function validateParts(place: Place, value: unknown, k: number, n: number): CodingModule["parts"] {
  const list = expectArray(place, value, "parts");
  if (list.length !== k) place.fail(`parts has ${list.length} entries, k is ${k}`);
  const seen = new Set<string>();
  return Object.freeze(list.map((entry, index) => {
    const here: Place = place.at(`, parts[${index}]`);
    const record = expectRecord(here, entry, "an entry of parts");
    checkKeys(here, record, ["block", "nodes"], "an entry of parts");
    const block = expectTemplate(here, record.block, "block");
    if (seen.has(block)) here.fail(`block ${quoteForMessage(block)} is listed twice`);
    seen.add(block);
    const nodes = expectArray(here, record.nodes, "nodes");
    if (nodes.length === 0) here.fail(`nodes is empty: a part must be placed somewhere`);
    const checked = nodes.map((x) => expectNode(here, x, n, "node"));
    if (new Set(checked).size !== checked.length) here.fail(`nodes lists a node twice`);
    return Object.freeze({ block, nodes: Object.freeze(checked) });
  }));
}

function validateCoded(place: Place, value: unknown, n: number): CodingModule["coded"] {
  const list = expectArray(place, value, "coded");
  if (list.length !== n) place.fail(`coded has ${list.length} entries, n is ${n}`);
  const seen = new Set<string>();
  return Object.freeze(list.map((entry, index) => {
    const here: Place = place.at(`, coded[${index}]`);
    const record = expectRecord(here, entry, "an entry of coded");
    checkKeys(here, record, ["block", "node"], "an entry of coded");
    const block = expectTemplate(here, record.block, "block");
    const node = expectNode(here, record.node, n, "node");
    const key = `${node}/${block}`;
    if (seen.has(key)) here.fail(`block ${quoteForMessage(block)} on node ${node} is listed twice`);
    seen.add(key);
    return Object.freeze({ block, node });
  }));
}

/**
 * Validates a coding module (a module's `codingModule` export, or parsed JSON) and returns a
 * deep-frozen copy of it. Unknown properties are refused (a typo must not be ignored).
 *
 * @example
 * ```ts
 * import { validateModule } from "./validate.ts";
 * const mirror = validateModule({
 *   name: "mirror", description: "two copies", field: 8, n: 2, k: 1,
 *   parts: [{ block: "{id}.part0", nodes: [0] }],
 *   coded: [{ block: "{id}.part0", node: 0 }, { block: "{id}.copy1", node: 1 }],
 *   encode: "copy1",
 *   programs: {
 *     copy1: {
 *       node: 1,
 *       streams: [{ name: "src", read: { block: "{id}.part0", node: 0 } }, { name: "dst", write: "{id}.copy1" }],
 *       instructions: [["LOAD", "b", "src"], ["WRITE", "b", "dst"]],
 *     },
 *   },
 * }, "coding/mirror.ts");
 * console.log(mirror.n); // 2
 * ```
 *
 * @param value The candidate module.
 * @param source Where it comes from (a path), named in error messages.
 * @returns The module, validated and frozen.
 * @throws {CdfsError} `BAD_REQUEST` naming module, program, instruction and operand.
 */
export function validateModule(value: unknown, source: string): CodingModule {
  const place: Place = modulePlace(isRecord(value) ? value.name : undefined, source);
  const module = expectRecord(place, value, "the module");
  checkKeys(
    place,
    module,
    ["name", "description", "field", "n", "k", "parts", "coded", "encode", "programs"],
    "the module",
  );
  const name = expectName(place, module.name, MODULE_NAME_PATTERN, "name");
  const description = expectString(place, module.description, "description");
  if (/[\r\n]/.test(description)) place.fail(`description must be one line`);
  if (module.field !== 8 && module.field !== 16) {
    place.fail(`field must be 8 or 16 (GF(2^8) or GF(2^16)), got ${JSON.stringify(module.field)}`);
  }
  const field: FieldWidth = module.field;
  const n = expectInteger(place, module.n, 1, MAX_BLOCKS, "n");
  const k = expectInteger(place, module.k, 1, n, "k");
  const parts = validateParts(place, module.parts, k, n);
  const coded = validateCoded(place, module.coded, n);

  const rawPrograms = expectRecord(place, module.programs, "programs");
  const names = Object.keys(rawPrograms);
  if (names.length === 0) place.fail(`programs is empty`);
  const streamPrograms = new Map<string, boolean>();
  for (const programName of names) {
    expectName(place, programName, PROGRAM_NAME_PATTERN, "program name");
    const raw = rawPrograms[programName];
    streamPrograms.set(programName, isRecord(raw) && raw.output !== undefined);
  }
  const scope: ProgramScope = { field, n, streamPrograms };
  const programs = new Map<string, Program>();
  for (const programName of names) {
    const here = place.at(`: program '${programName}'`);
    programs.set(
      programName,
      validateProgramIn(here, programName, rawPrograms[programName], scope),
    );
  }
  for (const programName of names) {
    checkNoCycle(place.at(`: program '${programName}'`), programName, programs);
  }
  checkQueues(place, programs);

  let encode: string | readonly string[];
  if (typeof module.encode === "string") {
    encode = module.encode;
    if (!programs.has(encode)) place.fail(`encode program '${encode}' does not exist`);
  } else {
    const list = expectArray(place, module.encode, "encode (a program name or a list of them)");
    if (list.length === 0) place.fail(`encode is an empty list`);
    const checked = list.map((x) => expectString(place, x, "encode program"));
    for (const e of checked) {
      if (!programs.has(e)) place.fail(`encode program '${e}' does not exist`);
    }
    if (new Set(checked).size !== checked.length) place.fail(`encode lists a program twice`);
    encode = Object.freeze(checked);
  }
  return Object.freeze({
    name,
    description,
    field,
    n,
    k,
    parts,
    coded,
    encode,
    programs: Object.freeze(Object.fromEntries(programs)),
  });
}

/** A queue POPped on a node must be PUSHed by some program of that node, or POP waits forever. */
function checkQueues(place: Place, programs: ReadonlyMap<string, Program>): void {
  const pushed = new Set<string>();
  for (const program of programs.values()) {
    for (const i of program.instructions) {
      if (i[0] === "PUSH") pushed.add(`${program.node}/${i[1]}`);
    }
  }
  for (const [name, program] of programs) {
    program.instructions.forEach((i, index) => {
      if (i[0] === "POP" && !pushed.has(`${program.node}/${i[1]}`)) {
        place.at(`: program '${name}', instruction ${index} (${showInstruction(i)})`).fail(
          `queue '${i[1]}' is never PUSHed by a program of node ${program.node}`,
        );
      }
    });
  }
}

/**
 * Validates one program against a (validated) module: the same rules as for the module's own
 * programs. Used for derived decode and repair programs, which are sent inline.
 *
 * @example
 * ```ts
 * import { validateModule, validateProgram } from "./validate.ts";
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
