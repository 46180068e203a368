/**
 * CODING: runs one program of a coding module for one object and one run (docs/protocol.md,
 * CODING). The op validates the request, finds the module among those the node serves, and
 * hands the request to the coding runtime: `src/coding/runtime/request_executors.ts` finds and
 * compiles the program, `src/coding/runtime/served_run.ts` runs it (its inputs pulled or pushed
 * from the other nodes of the run) and carries out the exchange with the requester, to the
 * commit.
 *
 * @module
 */
import type { CodingModule } from "../../coding/lang/program.ts";
import { listCodingModules, loadCodingModule } from "../../coding/lang/loader.ts";
import type { CodingRunServices } from "../../coding/runtime/coding_session.ts";
import { CommittedRuns } from "../../coding/runtime/committed_runs.ts";
import { RequestExecutors } from "../../coding/runtime/request_executors.ts";
import { RunRegistry } from "../../coding/runtime/run_registry.ts";
import { serveCodingRun } from "../../coding/runtime/served_run.ts";
import { CdfsError } from "../../core/errors.ts";
import { type OpHandler, parseRequestAs } from "../op.ts";
import type { TrafficCounters } from "../traffic.ts";

/**
 * What the CODING operation of a node works with: the modules it serves, and what its runs
 * share (run registry, connection timeouts, traffic counters).
 *
 * @example
 * ```ts
 * import { RunRegistry } from "../../coding/runtime/run_registry.ts";
 * import type { CodingServices } from "./coding.ts";
 * const services: CodingServices = { runs: new RunRegistry(), client: { frameTimeoutMs: 5000 } };
 * ```
 */
export interface CodingServices extends CodingRunServices {
  /**
   * The modules the node serves, by name (`cdfs datanode serve --coding`). Default: every
   * built-in module, loaded on the first CODING request.
   */
  readonly modules?: ReadonlyMap<string, CodingModule>;
  /**
   * The user directories the served modules came from: a family spec (`rs:k=6,m=3`) whose
   * family's file is served (`rs`) is built from them, then the built-in ones.
   */
  readonly codingDirs?: readonly string[];
  /** The node's traffic counters: connections to other nodes count as the run's (upstream). */
  readonly traffic?: TrafficCounters;
}

/**
 * Makes the CODING handler of a node.
 *
 * @example
 * ```ts
 * import { RunRegistry } from "../../coding/runtime/run_registry.ts";
 * import { createCodingOp } from "./coding.ts";
 * const handler = createCodingOp({ runs: new RunRegistry() });
 * console.log(handler.op); // "CODING"
 * ```
 *
 * @param services The modules served, the run registry, connection timeouts.
 * @returns The handler.
 */
export function createCodingOp(services: CodingServices): OpHandler {
  // One memory of committed programs per handler (per node), unless given.
  if (services.committed === undefined) {
    services = { ...services, committed: new CommittedRuns() };
  }
  let modules: Promise<ReadonlyMap<string, CodingModule>> | undefined;
  const catalog = (): Promise<ReadonlyMap<string, CodingModule>> => {
    if (services.modules !== undefined) return Promise.resolve(services.modules);
    modules ??= loadServedModules();
    modules.catch(() => modules = undefined); // try again on the next request
    return modules;
  };
  const executors = new RequestExecutors();
  return {
    op: "CODING",
    clientStreams: false,
    async run(ctx, raw) {
      const request = parseRequestAs("CODING", raw);
      ctx.block = request.object;
      // A producer's stream follows its push-mode request: after any error, even one in the
      // request, the connection cannot find the next request.
      if (request.push?.length !== undefined) ctx.streaming = true;
      const served = await catalog();
      const module = served.get(request.module) ??
        await familyModule(request.module, served, services.codingDirs);
      if (module === undefined) {
        throw new CdfsError(
          "BAD_REQUEST",
          `coding module '${request.module}' is not served here (served: ${
            [...served.keys()].join(", ") || "none"
          })`,
        );
      }
      const { executor, programs } = executors.forRequest(module, request);
      await serveCodingRun(ctx, services, request, executor, programs);
    },
  };
}

/**
 * The module of a family spec whose family (its file's plain module) the node serves, built
 * (once per process, by the loader) from the node's coding directories; `undefined` otherwise.
 */
async function familyModule(
  spec: string,
  served: ReadonlyMap<string, CodingModule>,
  codingDirs: readonly string[] | undefined,
): Promise<CodingModule | undefined> {
  const colon = spec.indexOf(":");
  if (colon < 0 || !served.has(spec.slice(0, colon))) return undefined;
  return await loadCodingModule(spec, codingDirs === undefined ? {} : { codingDirs });
}

/**
 * The CODING handler of the standard op table: every built-in module (loaded on first use)
 * and a run registry of its own. A server replaces it with one made for its options
 * (`DataNodeServerOptions.coding`).
 */
export const codingOp: OpHandler = createCodingOp({ runs: new RunRegistry() });

/**
 * Loads the modules a node serves: the built-in ones and those of `codingDirs` (a user module
 * hides a built-in one of the same name), all of them or only `names`.
 *
 * @example
 * ```ts
 * import { loadServedModules } from "./coding.ts";
 * const modules = await loadServedModules({ names: ["rapidraid", "rs"] });
 * console.log([...modules.keys()]); // ["rapidraid", "rs"]
 * ```
 *
 * @param options The module names (default: all found) and user directories.
 * @returns The modules by name.
 * @throws {CdfsError} `NOT_FOUND` for a name no directory has (or a missing directory),
 * `BAD_REQUEST` for a module that does not load or validate.
 */
export async function loadServedModules(
  options: { names?: readonly string[]; codingDirs?: readonly string[] } = {},
): Promise<Map<string, CodingModule>> {
  const search = options.codingDirs === undefined ? {} : { codingDirs: options.codingDirs };
  // Every module found must load: a broken one is an error at start-up, not a surprise later.
  const names = options.names ?? (await listCodingModules(search)).map((listing) => listing.name);
  const modules = new Map<string, CodingModule>();
  for (const name of names) modules.set(name, await loadCodingModule(name, search));
  return modules;
}
