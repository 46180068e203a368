/**
 * Push mode: the same programs, driven from the other end of the pipeline.
 *
 * In pull mode (the original's) a client starts the last program of a pipeline, which pulls
 * its `{ program }` input from the node before it, and so on down to the first. In push mode
 * the client starts the first program, and each node sends its output stream to the node of
 * the program that reads it. The programs are the same: a program's one `{ program }` input is
 * filled by the data its producer pushes instead of a request to the producer, so the coded
 * blocks are the same, bit for bit.
 *
 * Push mode needs a *chain*: the first program reads no other program, every other one reads
 * exactly one (the one before it), and the last is a local program (it writes blocks and
 * streams nothing back). RapidRAID's encode is one. A module whose encode pulls several
 * programs into one (fan-in) or starts no pipeline at all (the RS encode: independent
 * programs reading blocks) runs in pull mode only.
 *
 * @module
 */
import { CdfsError } from "../../core/errors.ts";
import type { Program } from "../lang/program.ts";

/** The most programs a push chain may have (a request carries the whole chain). */
export const MAX_PUSH_CHAIN = 256;

/**
 * The chain of programs that ends with `last`, first program first: follows each program's
 * one `{ program }` input back to a program that reads none.
 *
 * @example
 * ```ts
 * import { codingModule } from "../../../coding/rapidraid.ts";
 * import { pushChain } from "./push_chain.ts";
 * const chain = pushChain(codingModule.programs, "enc_node15");
 * console.log(chain[0], chain.length); // enc_node0 16
 * ```
 *
 * @param programs The programs the chain's names refer to.
 * @param last The program at the end of the pipeline (the one pull mode starts).
 * @returns The chain, producer first.
 * @throws {CdfsError} `BAD_REQUEST` naming the program that makes push mode impossible.
 */
export function pushChain(programs: Readonly<Record<string, Program>>, last: string): string[] {
  const chain = [last];
  const seen = new Set(chain);
  for (let name = last;;) {
    const upstream = programInputs(programs, name);
    if (upstream.length === 0) break;
    if (upstream.length > 1) {
      throw new CdfsError(
        "BAD_REQUEST",
        `push mode needs a chain of programs, but '${name}' reads ${upstream.length} programs (${
          upstream.join(", ")
        })`,
      );
    }
    name = upstream[0]!;
    if (seen.has(name) || chain.length >= MAX_PUSH_CHAIN) {
      throw new CdfsError("BAD_REQUEST", `push mode: the programs before '${last}' form no chain`);
    }
    seen.add(name);
    chain.push(name);
  }
  if (chain.length === 1) {
    throw new CdfsError(
      "BAD_REQUEST",
      `push mode needs a pipeline, but '${last}' reads no other program's stream`,
    );
  }
  chain.reverse();
  checkPushChain(programs, chain);
  return chain;
}

/**
 * Checks a chain as a node receives it: 2..{@linkcode MAX_PUSH_CHAIN} distinct programs, the
 * first reading no program, each other reading exactly the one before it, all but the last
 * stream programs, the last a local program.
 *
 * @example
 * ```ts
 * import { codingModule } from "../../../coding/rapidraid.ts";
 * import { checkPushChain } from "./push_chain.ts";
 * try {
 *   checkPushChain(codingModule.programs, ["enc_node0", "enc_node1"]);
 * } catch (e) {
 *   console.log((e as Error).message); // push chain: ... the last program 'enc_node1' is a stream program ...
 * }
 * ```
 *
 * @param programs The programs the names refer to.
 * @param chain The chain, producer first.
 * @throws {CdfsError} `BAD_REQUEST` naming the first program that breaks a rule.
 */
export function checkPushChain(
  programs: Readonly<Record<string, Program>>,
  chain: readonly string[],
): void {
  if (chain.length < 2 || chain.length > MAX_PUSH_CHAIN) {
    throw new CdfsError(
      "BAD_REQUEST",
      `a push chain has 2..${MAX_PUSH_CHAIN} programs, got ${chain.length}`,
    );
  }
  if (new Set(chain).size !== chain.length) {
    throw new CdfsError("BAD_REQUEST", "a push chain names a program twice");
  }
  chain.forEach((name, i) => {
    const program = lookup(programs, name);
    const inputs = programInputs(programs, name);
    const expected = i === 0 ? [] : [chain[i - 1]!];
    if (inputs.length !== expected.length || inputs[0] !== expected[0]) {
      throw new CdfsError(
        "BAD_REQUEST",
        `push chain: program '${name}' reads ${describe(inputs)}, its place in the chain needs ${
          describe(expected)
        }`,
      );
    }
    const last = i === chain.length - 1;
    if (last === (program.output !== undefined)) {
      throw new CdfsError(
        "BAD_REQUEST",
        last
          ? `push chain: the last program '${name}' is a stream program; it must be a local one`
          : `push chain: program '${name}' streams nothing to '${chain[i + 1]}'`,
      );
    }
  });
}

/**
 * The programs a program reads as `{ program }` inputs, in declaration order.
 *
 * @example
 * ```ts
 * import { codingModule } from "../../../coding/rapidraid.ts";
 * import { programInputs } from "./push_chain.ts";
 * console.log(programInputs(codingModule.programs, "enc_node3")); // [ "enc_node2" ]
 * ```
 *
 * @param programs The programs the names refer to.
 * @param name The program.
 * @returns The names of the programs it reads.
 * @throws {CdfsError} `BAD_REQUEST` when there is no such program.
 */
export function programInputs(
  programs: Readonly<Record<string, Program>>,
  name: string,
): string[] {
  const inputs: string[] = [];
  for (const stream of lookup(programs, name).streams) {
    if ("read" in stream && "program" in stream.read) inputs.push(stream.read.program);
  }
  return inputs;
}

function lookup(programs: Readonly<Record<string, Program>>, name: string): Program {
  const program = Object.hasOwn(programs, name) ? programs[name] : undefined;
  if (program === undefined) throw new CdfsError("BAD_REQUEST", `no program '${name}'`);
  return program;
}

function describe(names: readonly string[]): string {
  return names.length === 0 ? "no program" : names.map((n) => `'${n}'`).join(", ");
}
