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
 * This module checks the module's shape (its parts, coded blocks, encode programs and queues);
 * each program is checked by `validate_program.ts`, with the value checks of `value_checks.ts`.
 * Module and program names follow the rules of `src/core/names.ts`.
 *
 * @module
 */

import { validateBlockId } from "../../core/block_id.ts";
import { quoteForMessage, typeName } from "../../core/quote.ts";
import { CODING_MODULE_SPEC_PATTERN, PROGRAM_NAME_PATTERN } from "../../core/names.ts";
import type { CodingModule, FieldWidth, Program } from "./program.ts";
import { checkNoCycle, type ProgramScope, validateProgramIn } from "./validate_program.ts";
import {
  checkKeys,
  expectArray,
  expectInteger,
  expectName,
  expectNode,
  expectRecord,
  expectString,
  expectTemplate,
  ID_PLACEHOLDER,
  isRecord,
  modulePlace,
  nameForMessage,
  type Place,
  showInstruction,
} from "./value_checks.ts";

/** A generous bound: GF(2^16) codes could in principle be long, but not absurdly. */
const MAX_BLOCKS = 4096;

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
  const name = expectName(place, module.name, CODING_MODULE_SPEC_PATTERN, "name");
  const description = expectString(place, module.description, "description");
  if (/[\r\n]/.test(description)) place.fail(`description must be one line`);
  if (module.field !== 8 && module.field !== 16) {
    const got = typeof module.field === "number" ? String(module.field) : typeName(module.field);
    place.fail(`field must be 8 or 16 (GF(2^8) or GF(2^16)), got ${got}`);
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
    if (!programs.has(encode)) {
      place.fail(`encode program ${nameForMessage(encode)} does not exist`);
    }
  } else {
    const list = expectArray(place, module.encode, "encode (a program name or a list of them)");
    if (list.length === 0) place.fail(`encode is an empty list`);
    const checked = list.map((x) => expectString(place, x, "encode program"));
    for (const e of checked) {
      if (!programs.has(e)) place.fail(`encode program ${nameForMessage(e)} does not exist`);
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
