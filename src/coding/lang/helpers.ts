/**
 * Small typed helpers for writing coding modules (`coding/<name>.ts`): stream declarations,
 * programs without `undefined` fields, block names, and checked coefficient tables. A module
 * stays plain data; these only make loops that build it shorter and typo-proof.
 *
 * @module
 */

import * as gf256 from "../../gf/gf256.ts";
import * as gf65536 from "../../gf/gf65536.ts";
import type {
  FieldWidth,
  Instruction,
  Program,
  StreamDeclaration,
  StreamSource,
} from "./program.ts";

/**
 * An input stream declaration whose name is known to the type checker (`readBlock`, `pull`), so
 * that `defineProgram` (`builders.ts`) can reject a LOAD from a stream that is not declared.
 *
 * @example
 * ```ts
 * import { type InputStream, readBlock } from "./helpers.ts";
 * const part0: InputStream<"part0"> = readBlock("part0", "{id}.part0");
 * ```
 */
export interface InputStream<N extends string = string> {
  /** The stream's name, used by LOAD. */
  readonly name: N;
  /** Where it is read from. */
  readonly read: StreamSource;
}

/**
 * An output stream declaration whose name is known to the type checker (`writeBlock`).
 *
 * @example
 * ```ts
 * import { type OutputStream, writeBlock } from "./helpers.ts";
 * const coded0: OutputStream<"coded0"> = writeBlock("coded0", "{id}.coded0");
 * ```
 */
export interface OutputStream<N extends string = string> {
  /** The stream's name, used by WRITE. */
  readonly name: N;
  /** The block template it writes on the program's node. */
  readonly write: string;
}

/**
 * The block template of data part `j`: `"{id}.part<j>"`.
 *
 * @example
 * ```ts
 * import { partBlock } from "./helpers.ts";
 * console.log(partBlock(3)); // "{id}.part3"
 * ```
 *
 * @param j The part index.
 * @returns The template.
 */
export function partBlock(j: number): string {
  return `{id}.part${j}`;
}

/**
 * The block template of coded block `i`: `"{id}.coded<i>"`.
 *
 * @example
 * ```ts
 * import { codedBlock } from "./helpers.ts";
 * console.log(codedBlock(15)); // "{id}.coded15"
 * ```
 *
 * @param i The coded block index.
 * @returns The template.
 */
export function codedBlock(i: number): string {
  return `{id}.coded${i}`;
}

/**
 * The block template of decoded part `j`: `"{id}.orig<j>"`.
 *
 * @example
 * ```ts
 * import { origBlock } from "./helpers.ts";
 * console.log(origBlock(0)); // "{id}.orig0"
 * ```
 *
 * @param j The part index.
 * @returns The template.
 */
export function origBlock(j: number): string {
  return `{id}.orig${j}`;
}

/**
 * An input stream reading a block: stored on the program's own node when `node` is absent,
 * else on logical node `node` (read over the network).
 *
 * @example
 * ```ts
 * import { readBlock } from "./helpers.ts";
 * console.log(readBlock("d0", "{id}.part0", 0)); // { name: "d0", read: { block: "{id}.part0", node: 0 } }
 * ```
 *
 * @param name The stream name used by LOAD.
 * @param block The block template.
 * @param node The logical node holding the block, when not the program's own.
 * @returns The declaration.
 */
export function readBlock<const N extends string>(
  name: N,
  block: string,
  node?: number,
): InputStream<N> {
  return { name, read: node === undefined ? { block } : { block, node } };
}

/**
 * An input stream that pulls the output of another program of the module (run on the node that
 * program names). The stream is named after the program unless `name` is given.
 *
 * @example
 * ```ts
 * import { pull } from "./helpers.ts";
 * console.log(pull("enc_node3")); // { name: "enc_node3", read: { program: "enc_node3" } }
 * ```
 *
 * @param program The program to pull.
 * @param name The stream name used by LOAD (default: the program's name).
 * @returns The declaration.
 */
export function pull<const P extends string, const N extends string = P>(
  program: P,
  name?: N,
): InputStream<N> {
  // Without `name`, N defaults to P: the stream is named after the program.
  return { name: (name ?? program) as N, read: { program } };
}

/**
 * An output stream writing a block on the program's node.
 *
 * @example
 * ```ts
 * import { writeBlock } from "./helpers.ts";
 * console.log(writeBlock("coded0", "{id}.coded0")); // { name: "coded0", write: "{id}.coded0" }
 * ```
 *
 * @param name The stream name used by WRITE.
 * @param block The block template.
 * @returns The declaration.
 */
export function writeBlock<const N extends string>(name: N, block: string): OutputStream<N> {
  return { name, write: block };
}

/**
 * A program. `output` names the buffer streamed back each step (a stream program); leave it
 * out for a local program.
 *
 * @example
 * ```ts
 * import { program, readBlock, writeBlock } from "./helpers.ts";
 * const copy = program(1, [readBlock("src", "{id}.part0", 0), writeBlock("dst", "{id}.coded1")], [
 *   ["LOAD", "b", "src"],
 *   ["WRITE", "b", "dst"],
 * ]);
 * console.log(copy.output); // undefined
 * ```
 *
 * @param node The logical node that runs it.
 * @param streams Its streams, in the order they are opened.
 * @param instructions The instructions of one step.
 * @param output The buffer streamed back each step, for a stream program.
 * @returns The program.
 */
export function program(
  node: number,
  streams: readonly StreamDeclaration[],
  instructions: readonly Instruction[],
  output?: string,
): Program {
  return output === undefined
    ? { node, streams, instructions }
    : { node, streams, output, instructions };
}

/**
 * A coefficient table, checked: every entry must be an element of the field (an integer in
 * 0..255 or 0..65535), nonzero unless `allowZero`. Returns a frozen copy. The values may be
 * given as one string of decimal numbers separated by white space (newlines included), so
 * that a published table stays a few lines of source however `deno fmt` lays out arrays.
 *
 * @example
 * ```ts
 * import { coefficientTable } from "./helpers.ts";
 * const psis = coefficientTable(8, "psis", [129, 207, 158]);
 * const same = coefficientTable(8, "psis", "129 207 158");
 * console.log(psis[1], same[1]); // 207 207
 * ```
 *
 * @param field The field width.
 * @param name The table's name, for error messages.
 * @param values The coefficients, as numbers or as white-space-separated decimal numbers.
 * @param allowZero Whether 0 is allowed (a zero coefficient usually means a lost part).
 * @returns The frozen table.
 * @throws {RangeError} When an entry is outside the field (or 0 when not allowed).
 */
export function coefficientTable(
  field: FieldWidth,
  name: string,
  values: readonly number[] | string,
  allowZero = false,
): readonly number[] {
  const max = field === 8 ? 255 : 65535;
  const list = typeof values === "string" ? parseNumbers(name, values) : values;
  list.forEach((v, i) => {
    if (!Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > max) {
      throw new RangeError(
        `${name}[${i}] = ${v} is not a ${allowZero ? "" : "nonzero "}element of GF(2^${field})`,
      );
    }
  });
  return Object.freeze([...list]);
}

/** The decimal numbers of a white-space-separated list; anything else is an error. */
function parseNumbers(name: string, text: string): number[] {
  const words = text.trim() === "" ? [] : text.trim().split(/\s+/);
  return words.map((word, i) => {
    if (!/^\d+$/.test(word)) {
      throw new RangeError(`${name}[${i}] = ${JSON.stringify(word)} is not a decimal number`);
    }
    return Number(word);
  });
}

/**
 * The table of multiplicative inverses of a coefficient table (the original's `xisi` from
 * `xis`), computed rather than copied.
 *
 * @example
 * ```ts
 * import { inverseTable } from "./helpers.ts";
 * console.log(inverseTable(8, [141])[0]); // 105
 * ```
 *
 * @param field The field width.
 * @param values Nonzero field elements.
 * @returns The frozen table of their inverses.
 * @throws {RangeError} When an entry is 0 or outside the field.
 */
export function inverseTable(field: FieldWidth, values: readonly number[]): readonly number[] {
  const inv = field === 8 ? gf256.inv : gf65536.inv;
  return Object.freeze(values.map((v) => inv(v)));
}
