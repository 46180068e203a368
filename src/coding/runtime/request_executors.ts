/**
 * The program a CODING request runs, compiled: a program of the module (compiled once per
 * module and name, then reused by every request) or a derived program sent inline (validated
 * against the module's programs and each other, compiled for that request).
 *
 * @module
 */
import type { CodingModule, Program } from "../lang/program.ts";
import { validateProgram } from "../lang/validate_program.ts";
import { CdfsError } from "../../core/errors.ts";
import type { CodingRequest } from "../../protocol/requests.ts";
import { Executor } from "./interpreter.ts";

/**
 * A request's compiled program, and the programs its `{ program }` sources are looked up in.
 *
 * @example
 * ```ts
 * import type { RequestProgram } from "./request_executors.ts";
 * const describe = (p: RequestProgram): string => `${p.executor.name} on node ${p.executor.program.node}`;
 * ```
 */
export interface RequestProgram {
  /** The compiled program. */
  readonly executor: Executor;
  /** The module's programs, plus the request's inline ones. */
  readonly programs: Readonly<Record<string, Program>>;
}

/**
 * The compiled programs of the modules a node serves, by module and name.
 *
 * @example
 * ```ts
 * import { RequestExecutors } from "./request_executors.ts";
 * import { codingModule } from "../../../coding/replication.ts";
 * import { validateModule } from "../lang/validate.ts";
 * const module = validateModule(codingModule, "coding/replication.ts");
 * const executors = new RequestExecutors();
 * const request = {
 *   op: "CODING" as const, module: module.name, program: Object.keys(module.programs)[0]!,
 *   object: "obj", run: "0123456789abcdef0123456789abcdef", chunkSize: 65536,
 *   nodes: Array.from({ length: module.n }, (_, i) => `127.0.0.1:${13100 + i}`),
 * };
 * const { executor } = executors.forRequest(module, request);
 * console.log(executors.forRequest(module, request).executor === executor); // true
 * ```
 */
export class RequestExecutors {
  readonly #cache = new WeakMap<CodingModule, Map<string, Executor>>();

  /**
   * Finds (or validates, for inline programs) the request's program and compiles it.
   *
   * @param module The module the request names.
   * @param request The validated request.
   * @returns The compiled program and the programs of the run.
   * @throws {CdfsError} `BAD_REQUEST` for an unknown program, an invalid inline program, or a
   * node list that does not fit the module.
   */
  forRequest(module: CodingModule, request: CodingRequest): RequestProgram {
    return executorFor(module, request, this.#cache);
  }
}

function executorFor(
  module: CodingModule,
  request: CodingRequest,
  cache: WeakMap<CodingModule, Map<string, Executor>>,
): { executor: Executor; programs: Readonly<Record<string, Program>> } {
  const name = request.program;
  if (request.inline === undefined) {
    let executors = cache.get(module);
    if (executors === undefined) cache.set(module, executors = new Map());
    let executor = executors.get(name);
    if (executor === undefined) {
      if (!Object.hasOwn(module.programs, name)) {
        throw new CdfsError(
          "BAD_REQUEST",
          `coding module '${module.name}' has no program '${name}'`,
        );
      }
      executor = new Executor(module, name);
      executors.set(name, executor);
    }
    checkNodes(module, name, executor.program, request);
    return { executor, programs: module.programs };
  }
  // Derived programs: validated here, against the module's programs and each other.
  const raw = request.inline;
  for (const inlineName of Object.keys(raw)) {
    if (Object.hasOwn(module.programs, inlineName)) {
      throw new CdfsError(
        "BAD_REQUEST",
        `inline program '${inlineName}' has the name of a program of module '${module.name}'`,
      );
    }
  }
  const unchecked = { ...module.programs, ...raw } as Record<string, Program>;
  const programs: Record<string, Program> = { ...module.programs };
  for (const [inlineName, candidate] of Object.entries(raw)) {
    programs[inlineName] = validateProgram(module, inlineName, candidate, {
      source: "inline",
      programs: unchecked,
    });
  }
  const program = programs[name];
  if (program === undefined || !Object.hasOwn(programs, name)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `coding module '${module.name}' has no program '${name}' (nor has the request inline)`,
    );
  }
  checkNodes(module, name, program, request);
  return { executor: new Executor(module, name, { program, programs }), programs };
}

function checkNodes(
  module: CodingModule,
  name: string,
  program: Program,
  request: CodingRequest,
): void {
  if (request.nodes.length !== module.n) {
    throw new CdfsError(
      "BAD_REQUEST",
      `coding module '${module.name}' runs on ${module.n} nodes, the request lists ${request.nodes.length}`,
    );
  }
  if (program.node >= request.nodes.length) {
    throw new CdfsError(
      "BAD_REQUEST",
      `program '${name}' runs on node ${program.node}, the request lists ${request.nodes.length} nodes`,
    );
  }
}
